// nn.conv2d_winograd: a stride-1 3x3 convolution over weights transformed
// at compile time (see winograd.h), with its shape rule and a reference
// kernel that runs the same algorithm in double precision.
#include "lang/ops/winograd.h"

#include <algorithm>
#include <thread>
#include <vector>

#include "lang/op.h"
#include "lang/ops/layout.h"
#include "lang/ops/op_helpers.h"
#include "support/diagnostic.h"

namespace modelc::lang {
namespace {

using ops::expect_float;
using ops::type_error;

WinogradMatrices make_f2() {
  WinogradMatrices w;
  w.m = 2;
  w.a = 4;
  w.bt = {1, 0, -1, 0,  //
          0, 1, 1, 0,   //
          0, -1, 1, 0,  //
          0, 1, 0, -1};
  w.g = {1, 0, 0,           //
         0.5, 0.5, 0.5,     //
         0.5, -0.5, 0.5,    //
         0, 0, 1};
  w.at = {1, 1, 1, 0,  //
          0, 1, -1, -1};
  return w;
}

WinogradMatrices make_f4() {
  WinogradMatrices w;
  w.m = 4;
  w.a = 6;
  w.bt = {4, 0, -5, 0, 1, 0,    //
          0, -4, -4, 1, 1, 0,   //
          0, 4, -4, -1, 1, 0,   //
          0, -2, -1, 2, 1, 0,   //
          0, 2, -1, -2, 1, 0,   //
          0, 4, 0, -5, 0, 1};
  w.g = {1.0 / 4, 0, 0,                     //
         -1.0 / 6, -1.0 / 6, -1.0 / 6,      //
         -1.0 / 6, 1.0 / 6, -1.0 / 6,       //
         1.0 / 24, 1.0 / 12, 1.0 / 6,       //
         1.0 / 24, -1.0 / 12, 1.0 / 6,      //
         0, 0, 1};
  w.at = {1, 1, 1, 1, 1, 0,    //
          0, 1, -1, 2, -2, 0,  //
          0, 1, 1, 4, 4, 0,    //
          0, 1, -1, 8, -8, 1};
  return w;
}

int64_t block_of(const std::string& layout, const char* what) {
  const Layout l = Layout::parse(layout);
  if (l.primal() != "NCHW" || l.rank() != 5 || !l.factor_of('C'))
    type_error(std::string("conv2d_winograd: ") + what + " layout " + layout + " is not a blocked NCHW<k>c");
  return l.factor_of('C');
}

// x [N, C/ki, H, W, ki], u [(m+2)^2, K/ko, C/ki, ki, ko] -> [N, K/ko, OH, OW, ko].
std::vector<TensorType> winograd_type(std::span<const TensorType> args, const Attrs& attrs) {
  const auto& a = attrs_as<Conv2DWinogradAttrs>(attrs);
  const WinogradMatrices& w = winograd_matrices(a.tile);
  const int64_t ki = block_of(a.data_layout, "data"), ko = block_of(a.out_layout, "result");
  const TensorType& x = args[0];
  const TensorType& u = args[1];
  expect_float(x, "input");
  ops::expect_float_weight(u, "transformed weight");
  if (x.rank() != 5 || x.shape[4] != ki) type_error("conv2d_winograd: input " + x.str() + " is not " + a.data_layout);
  if (u.rank() != 5 || u.shape[0] != w.a * w.a || u.shape[2] != x.shape[1] || u.shape[3] != ki || u.shape[4] != ko)
    type_error("conv2d_winograd: transformed weight " + u.str() + " does not match input " + x.str() + " for F(" +
               std::to_string(w.m) + "x" + std::to_string(w.m) + ", 3x3) with " + a.out_layout + " results");
  if (a.padding.size() != 4) type_error("conv2d_winograd: padding must have 4 values");
  for (int64_t p : a.padding)
    if (p < 0) type_error("conv2d_winograd: padding must be >= 0");
  const int64_t oh = x.shape[2] + a.padding[0] + a.padding[2] - 2, ow = x.shape[3] + a.padding[1] + a.padding[3] - 2;
  if (oh < 1 || ow < 1) type_error("conv2d_winograd: the 3x3 kernel does not fit the padded input " + x.str());
  return {TensorType{{x.shape[0], u.shape[1], oh, ow, ko}, x.dtype}};
}

// out = T in * T^T for a t x n matrix T and an n x n `in`: the two-sided
// transforms B^T d B, A^T M A (and G g G^T with an n x 3 input, see below).
std::vector<double> two_sided(const std::vector<double>& t, int rows, int n, const std::vector<double>& in, int in_cols,
                              int in_rows) {
  std::vector<double> left(static_cast<size_t>(rows * in_cols), 0.0);  // T [rows x in_rows] * in [in_rows x in_cols]
  for (int i = 0; i < rows; ++i)
    for (int k = 0; k < in_rows; ++k)
      for (int j = 0; j < in_cols; ++j) left[i * in_cols + j] += t[i * n + k] * in[k * in_cols + j];
  std::vector<double> out(static_cast<size_t>(rows * rows), 0.0);  // left * T^T
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < rows; ++j)
      for (int k = 0; k < in_cols; ++k) out[i * rows + j] += left[i * in_cols + k] * t[j * n + k];
  return out;
}

std::vector<Tensor> winograd_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& at = attrs_as<Conv2DWinogradAttrs>(attrs);
  const WinogradMatrices& w = winograd_matrices(at.tile);
  const int m = w.m, a = w.a;
  const auto& xs = args[0].type().shape;  // N, CB, H, W, ki
  const auto& us = args[1].type().shape;  // a*a, KB, CB, ki, ko
  const auto& os = types[0].shape;        // N, KB, OH, OW, ko
  const int64_t N = xs[0], CB = xs[1], H = xs[2], W = xs[3], ki = xs[4], KB = us[1], ko = us[4];
  const int64_t C = CB * ki, K = KB * ko, OH = os[2], OW = os[3];
  const Tensor weight = ops::as_float32(args[1]);
  const float* x = args[0].values<float>().data();
  const float* u = weight.values<float>().data();
  Tensor out(types[0]);
  float* o = out.mutable_values<float>().data();
  auto x_at = [&](int64_t n, int64_t c, int64_t y, int64_t xx) -> double {
    if (y < 0 || y >= H || xx < 0 || xx >= W) return 0.0;
    return x[(((n * CB + c / ki) * H + y) * W + xx) * ki + c % ki];
  };
  auto u_at = [&](int64_t e, int64_t k, int64_t c) -> double {
    return u[(((e * KB + k / ko) * CB + c / ki) * ki + c % ki) * ko + k % ko];
  };
  const int64_t tiles_y = (OH + m - 1) / m, tiles_x = (OW + m - 1) / m;
  std::vector<std::vector<double>> v(static_cast<size_t>(C));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t ty = 0; ty < tiles_y; ++ty)
      for (int64_t tx = 0; tx < tiles_x; ++tx) {
        for (int64_t c = 0; c < C; ++c) {
          std::vector<double> d(static_cast<size_t>(a * a));
          for (int j = 0; j < a; ++j)
            for (int i = 0; i < a; ++i) d[j * a + i] = x_at(n, c, ty * m - at.padding[0] + j, tx * m - at.padding[1] + i);
          v[static_cast<size_t>(c)] = two_sided(w.bt, a, a, d, a, a);
        }
        for (int64_t k = 0; k < K; ++k) {
          std::vector<double> mm(static_cast<size_t>(a * a), 0.0);
          for (int e = 0; e < a * a; ++e)
            for (int64_t c = 0; c < C; ++c) mm[e] += u_at(e, k, c) * v[static_cast<size_t>(c)][e];
          const std::vector<double> y = two_sided(w.at, m, a, mm, a, a);
          for (int j = 0; j < m; ++j)
            for (int i = 0; i < m; ++i) {
              const int64_t oy = ty * m + j, ox = tx * m + i;
              if (oy < OH && ox < OW) o[(((n * KB + k / ko) * OH + oy) * OW + ox) * ko + k % ko] = static_cast<float>(y[j * m + i]);
            }
        }
      }
  return {std::move(out)};
}

}  // namespace

const WinogradMatrices& winograd_matrices(int64_t m) {
  static const WinogradMatrices f2 = make_f2(), f4 = make_f4();
  if (m == 2) return f2;
  if (m == 4) return f4;
  throw Error("Winograd convolution F(" + std::to_string(m) + "x" + std::to_string(m) + ", 3x3): tile must be 2 or 4");
}

Tensor winograd_transform_weights(const Tensor& weight, int64_t m, int64_t ki, int64_t ko) {
  const WinogradMatrices& w = winograd_matrices(m);
  const auto& s = weight.type().shape;
  const bool packed = s.size() == 6;  // K/ko, C/ki, 3, 3, ki, ko
  const bool fits = packed ? s[2] == 3 && s[3] == 3 && s[4] == ki && s[5] == ko
                           : s.size() == 4 && s[2] == 3 && s[3] == 3 && s[0] % ko == 0 && s[1] % ki == 0;
  if (!fits)
    throw Error("Winograd weight transform: expected a [K, C, 3, 3] weight with K divisible by " + std::to_string(ko) +
                " and C by " + std::to_string(ki) + ", or one packed OIHW" + std::to_string(ki) + "i" + std::to_string(ko) +
                "o, found " + weight.type().str());
  const int64_t K = packed ? s[0] * ko : s[0], C = packed ? s[1] * ki : s[1], a = w.a, KB = K / ko, CB = C / ki;
  Tensor u(TensorType{{a * a, KB, CB, ki, ko}, DType::float32});
  const float* g = weight.values<float>().data();
  float* out = u.mutable_values<float>().data();
  const double* G = w.g.data();
  if (a > 8) throw Error("Winograd weight transform: tile too large");
  const int64_t plane = KB * CB * ki * ko;  // elements per transformed position e
  // Tap (r, s) of the pair (k, c) is `tap` elements after its first; the
  // pairs (k, c) and (k + 1, c) of one output block are `lane` apart.
  const int64_t tap = packed ? ki * ko : 1, lane = packed ? 1 : C * 9;
  // In the order of the result, so that each of its a x a planes is written
  // sequentially (in k, c order the 36 planes' lines were evicted between
  // the writes that fill them: 0.2 s of ResNet-18's compile). A row of the
  // result is one (kb, cb, c % ki) and its ko pairs of consecutive k, taken
  // a few lanes at a time: the per-pair indexing (four divisions) had cost
  // as much as the arithmetic. The sums are the same, in the same order.
  constexpr int64_t kLanes = 16;
  auto transform = [&](int64_t begin, int64_t end) {  // rows [begin, end)
    for (int64_t row = begin; row < end; ++row) {
      const int64_t kb = row / (CB * ki), cb = (row / ki) % CB, ci = row % ki;
      const float* first = packed ? g + ((kb * CB + cb) * 9 * ki + ci) * ko : g + (kb * ko * C + cb * ki + ci) * 9;
      for (int64_t l0 = 0; l0 < ko; l0 += kLanes) {
        const int64_t lanes = std::min(kLanes, ko - l0);
        const float* kernel = first + l0 * lane;
        double left[8 * 3][kLanes];  // G [a x 3] * kernel [3 x 3], per lane
        for (int64_t i = 0; i < a; ++i)
          for (int j = 0; j < 3; ++j)
            for (int64_t l = 0; l < lanes; ++l) {
              double sum = 0.0;
              for (int t = 0; t < 3; ++t) sum += G[i * 3 + t] * static_cast<double>(kernel[(t * 3 + j) * tap + l * lane]);
              left[i * 3 + j][l] = sum;
            }
        float* o = out + row * ko + l0;  // the pairs' place in each plane
        for (int64_t i = 0; i < a; ++i)
          for (int64_t j = 0; j < a; ++j)
            for (int64_t l = 0; l < lanes; ++l) {
              double sum = 0.0;
              for (int t = 0; t < 3; ++t) sum += left[i * 3 + t][l] * G[j * 3 + t];
              o[(i * a + j) * plane + l] = static_cast<float>(sum);
            }
      }
    }
  };
  // The rows are independent: split over the cores (ResNet-18's 1.2 million
  // pairs took 0.2 s of a 1.2 s compile on one).
  const int64_t rows = KB * CB * ki;
  const int64_t threads =
      std::clamp<int64_t>(rows * ko / 16384, 1, std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> helpers;
  for (int64_t t = 1; t < threads; ++t) helpers.emplace_back(transform, rows * t / threads, rows * (t + 1) / threads);
  transform(0, rows / threads);
  for (std::thread& h : helpers) h.join();
  return u;
}

namespace {

// The multiply-adds of the direct convolution it replaces (every output
// element: C x 3 x 3), so that a kernel's GFLOP/s compare with a direct
// convolution's and with the core's peak: the "effective" rate, which can
// exceed the peak since Winograd does fewer multiplies than it counts.
int64_t winograd_multiply_adds(std::span<const TensorType> args, const Attrs&, std::span<const TensorType> results) {
  const auto& u = args[1].shape;  // [a*a, K/ko, C/ki, ki, ko]
  return u.size() == 5 ? results[0].element_count() * u[2] * u[3] * 9 : 0;
}

}  // namespace

void register_winograd_ops(OpRegistry& r) {
  r.add({"nn.conv2d_winograd",
         "stride-1 3x3 convolution, Winograd F(m x m, 3 x 3), over weights transformed at compile time (NCHW<k>c)", 2, 2,
         OpPattern::out_elemwise_fusable, [] { return std::make_unique<Conv2DWinogradAttrs>(); }, winograd_type,
         winograd_reference, winograd_multiply_adds});
}

}  // namespace modelc::lang
