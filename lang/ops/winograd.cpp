// nn.conv2d_winograd: a stride-1 convolution over weights transformed at
// compile time (see winograd.h), with its shape rule and a reference kernel
// that runs the same algorithm in double precision.
#include "lang/ops/winograd.h"

#include <algorithm>
#include <cmath>
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
  w.r = 3;
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
  w.r = 3;
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

WinogradMatrices make_identity() {
  WinogradMatrices w;
  w.m = w.r = w.a = 1;
  w.bt = w.g = w.at = {1};
  return w;
}

// F(m, r) by Toom-Cook. The correlation y = F(m, r)(d, g) is the transpose
// of the linear convolution s = u * g of polynomials u (m terms) and g (r
// terms), which evaluation at a = m + r - 1 points (the finite points p_j
// and infinity, where a polynomial's value is its leading coefficient) and
// interpolation compute as s = V^-1 [(E_m u) (.) (E_r g)], E_k[j][i] = p_j^i
// and V = E_a. So y = E_m^T [(E_r g) (.) (V^-T d)]: A^T = E_m^T, G = E_r,
// B^T = V^-T. Row j of B^T is scaled by the Lagrange denominator
// prod_(l != j) (p_j - p_l) and row j of G divided by it, which makes B^T's
// entries small integers and halves (the input transform runs in float32 in
// every kernel; G's runs once, in double, at compile time).
WinogradMatrices make_toom_cook(int m, int r) {
  static constexpr double kPoints[] = {0, 1, -1, 2, -2, 0.5, -0.5};
  WinogradMatrices w;
  w.m = m;
  w.r = r;
  w.a = m + r - 1;
  const size_t a = static_cast<size_t>(w.a), finite = a - 1;
  if (finite > std::size(kPoints)) throw Error("Winograd F(m, r): too many interpolation points");
  auto power_row = [&](size_t j, size_t terms) {  // row j of E_terms
    std::vector<double> row(terms, 0.0);
    if (j == finite) {
      row.back() = 1.0;
      return row;
    }
    double p = 1.0;
    for (size_t i = 0; i < terms; ++i, p *= kPoints[j]) row[i] = p;
    return row;
  };
  // V^-1 by Gauss-Jordan elimination with partial pivoting (a <= 8).
  std::vector<std::vector<double>> v(a), inv(a, std::vector<double>(a, 0.0));
  for (size_t j = 0; j < a; ++j) {
    v[j] = power_row(j, a);
    inv[j][j] = 1.0;
  }
  for (size_t c = 0; c < a; ++c) {
    size_t pivot = c;
    for (size_t j = c + 1; j < a; ++j)
      if (std::fabs(v[j][c]) > std::fabs(v[pivot][c])) pivot = j;
    std::swap(v[c], v[pivot]);
    std::swap(inv[c], inv[pivot]);
    const double d = v[c][c];
    for (size_t k = 0; k < a; ++k) {
      v[c][k] /= d;
      inv[c][k] /= d;
    }
    for (size_t j = 0; j < a; ++j) {
      const double f = v[j][c];
      if (j == c || f == 0.0) continue;
      for (size_t k = 0; k < a; ++k) {
        v[j][k] -= f * v[c][k];
        inv[j][k] -= f * inv[c][k];
      }
    }
  }
  const size_t rs = static_cast<size_t>(r), ms = static_cast<size_t>(m);
  w.bt.assign(a * a, 0.0);
  w.g.assign(a * rs, 0.0);
  w.at.assign(ms * a, 0.0);
  for (size_t j = 0; j < a; ++j) {
    double scale = 1.0;
    for (size_t l = 0; l < finite && j < finite; ++l)
      if (l != j) scale *= kPoints[j] - kPoints[l];
    // B^T[j][i] = V^-1[i][j], rounded off the elimination's last bits (the
    // exact entries are multiples of 1/4 once scaled).
    for (size_t i = 0; i < a; ++i) w.bt[j * a + i] = std::round(inv[i][j] * scale * 64.0) / 64.0;
    const std::vector<double> gr = power_row(j, rs), ar = power_row(j, ms);
    for (size_t k = 0; k < rs; ++k) w.g[j * rs + k] = gr[k] / scale;
    for (size_t i = 0; i < ms; ++i) w.at[i * a + j] = ar[i];
  }
  return w;
}

// The F(m, r) that the kernels use, or null.
const WinogradMatrices* find_matrices(int64_t m, int64_t r) {
  static const std::vector<WinogradMatrices> all{make_identity(),     make_f2(),           make_f4(),
                                                 make_toom_cook(2, 5), make_toom_cook(4, 5), make_toom_cook(2, 7)};
  for (const WinogradMatrices& w : all)
    if (w.m == m && w.r == r) return &w;
  return nullptr;
}

int64_t block_of(const std::string& layout, const char* what) {
  const Layout l = Layout::parse(layout);
  if (l.primal() != "NCHW" || l.rank() != 5 || !l.factor_of('C'))
    type_error(std::string("conv2d_winograd: ") + what + " layout " + layout + " is not a blocked NCHW<k>c");
  return l.factor_of('C');
}

// x [N, C/ki, H, W, ki], u [ah * aw, K/ko, C/ki, ki, ko] -> [N, K/ko, OH, OW, ko].
std::vector<TensorType> winograd_type(std::span<const TensorType> args, const Attrs& attrs) {
  const auto& a = attrs_as<Conv2DWinogradAttrs>(attrs);
  if (a.kernel.size() != 2) type_error("conv2d_winograd: kernel must have 2 values");
  const WinogradAxes w = winograd_axes(a.tile, a.kernel[0], a.kernel[1]);
  const int64_t ki = block_of(a.data_layout, "data"), ko = block_of(a.out_layout, "result");
  const TensorType& x = args[0];
  const TensorType& u = args[1];
  expect_float(x, "input");
  ops::expect_float_weight(u, "transformed weight");
  if (x.rank() != 5 || x.shape[4] != ki) type_error("conv2d_winograd: input " + x.str() + " is not " + a.data_layout);
  if (u.rank() != 5 || u.shape[0] != w.h.a * w.w.a || u.shape[2] != x.shape[1] || u.shape[3] != ki || u.shape[4] != ko)
    type_error("conv2d_winograd: transformed weight " + u.str() + " does not match input " + x.str() + " for F(" +
               std::to_string(w.h.m) + "x" + std::to_string(w.w.m) + ", " + std::to_string(a.kernel[0]) + "x" +
               std::to_string(a.kernel[1]) + ") with " + a.out_layout + " results");
  if (a.padding.size() != 4) type_error("conv2d_winograd: padding must have 4 values");
  for (int64_t p : a.padding)
    if (p < 0) type_error("conv2d_winograd: padding must be >= 0");
  const int64_t oh = x.shape[2] + a.padding[0] + a.padding[2] - a.kernel[0] + 1,
                ow = x.shape[3] + a.padding[1] + a.padding[3] - a.kernel[1] + 1;
  if (oh < 1 || ow < 1)
    type_error("conv2d_winograd: the " + std::to_string(a.kernel[0]) + "x" + std::to_string(a.kernel[1]) +
               " kernel does not fit the padded input " + x.str());
  return {TensorType{{x.shape[0], u.shape[1], oh, ow, ko}, x.dtype}};
}

// out = L in R^T for an lr x lc matrix L, an lc x rc `in` and an rr x rc
// matrix R: the two-sided transforms Bh^T d Bw, Ah^T M Aw and Gh g Gw^T.
std::vector<double> two_sided(const std::vector<double>& l, int lr, int lc, const std::vector<double>& in,
                              const std::vector<double>& r, int rr, int rc) {
  std::vector<double> half(static_cast<size_t>(lr * rc), 0.0);  // L in
  for (int i = 0; i < lr; ++i)
    for (int k = 0; k < lc; ++k)
      for (int j = 0; j < rc; ++j) half[static_cast<size_t>(i * rc + j)] += l[static_cast<size_t>(i * lc + k)] * in[static_cast<size_t>(k * rc + j)];
  std::vector<double> out(static_cast<size_t>(lr * rr), 0.0);  // (L in) R^T
  for (int i = 0; i < lr; ++i)
    for (int j = 0; j < rr; ++j)
      for (int k = 0; k < rc; ++k) out[static_cast<size_t>(i * rr + j)] += half[static_cast<size_t>(i * rc + k)] * r[static_cast<size_t>(j * rc + k)];
  return out;
}

std::vector<Tensor> winograd_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& at = attrs_as<Conv2DWinogradAttrs>(attrs);
  const WinogradAxes w = winograd_axes(at.tile, at.kernel.at(0), at.kernel.at(1));
  const int mh = w.h.m, ah = w.h.a, mw = w.w.m, aw = w.w.a;
  const auto& xs = args[0].type().shape;  // N, CB, H, W, ki
  const auto& us = args[1].type().shape;  // ah*aw, KB, CB, ki, ko
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
  const int64_t tiles_y = (OH + mh - 1) / mh, tiles_x = (OW + mw - 1) / mw;
  std::vector<std::vector<double>> v(static_cast<size_t>(C));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t ty = 0; ty < tiles_y; ++ty)
      for (int64_t tx = 0; tx < tiles_x; ++tx) {
        for (int64_t c = 0; c < C; ++c) {
          std::vector<double> d(static_cast<size_t>(ah * aw));
          for (int j = 0; j < ah; ++j)
            for (int i = 0; i < aw; ++i)
              d[static_cast<size_t>(j * aw + i)] = x_at(n, c, ty * mh - at.padding[0] + j, tx * mw - at.padding[1] + i);
          v[static_cast<size_t>(c)] = two_sided(w.h.bt, ah, ah, d, w.w.bt, aw, aw);
        }
        for (int64_t k = 0; k < K; ++k) {
          std::vector<double> mm(static_cast<size_t>(ah * aw), 0.0);
          for (int e = 0; e < ah * aw; ++e)
            for (int64_t c = 0; c < C; ++c) mm[static_cast<size_t>(e)] += u_at(e, k, c) * v[static_cast<size_t>(c)][static_cast<size_t>(e)];
          const std::vector<double> y = two_sided(w.h.at, mh, ah, mm, w.w.at, mw, aw);
          for (int j = 0; j < mh; ++j)
            for (int i = 0; i < mw; ++i) {
              const int64_t oy = ty * mh + j, ox = tx * mw + i;
              if (oy < OH && ox < OW)
                o[(((n * KB + k / ko) * OH + oy) * OW + ox) * ko + k % ko] = static_cast<float>(y[static_cast<size_t>(j * mw + i)]);
            }
        }
      }
  return {std::move(out)};
}

}  // namespace

bool has_winograd_matrices(int64_t m, int64_t r) { return find_matrices(m, r) != nullptr; }

const WinogradMatrices& winograd_matrices(int64_t m, int64_t r) {
  if (const WinogradMatrices* w = find_matrices(m, r)) return *w;
  throw Error("Winograd convolution F(" + std::to_string(m) + ", " + std::to_string(r) +
              "): supported are F(2, 3), F(4, 3), F(2, 5), F(4, 5) and F(2, 7)");
}

bool has_winograd(int64_t tile, int64_t kh, int64_t kw) {
  // Square kernels transform both axes: 5x5 only with tiles of 2 (see winograd.h).
  if (kh == kw) return (kh == 3 || (kh == 5 && tile == 2)) && has_winograd_matrices(tile, kh);
  if (kh == 1) return has_winograd_matrices(tile, kw);
  return kw == 1 && has_winograd_matrices(tile, kh);
}

WinogradAxes winograd_axes(int64_t tile, int64_t kh, int64_t kw) {
  if (!has_winograd(tile, kh, kw))
    throw Error("Winograd convolution: no form with tiles of " + std::to_string(tile) + " for a " + std::to_string(kh) +
                "x" + std::to_string(kw) + " kernel (3x3 and 5x5, 1 x r and r x 1 with r = 3, 5, 7)");
  return {winograd_matrices(kh == 1 ? 1 : tile, kh), winograd_matrices(kw == 1 ? 1 : tile, kw)};
}

Tensor winograd_transform_weights(const Tensor& weight, int64_t m, int64_t ki, int64_t ko) {
  const auto& s = weight.type().shape;
  const bool packed = s.size() == 6;  // K/ko, C/ki, kh, kw, ki, ko
  const bool fits = packed ? s[4] == ki && s[5] == ko : s.size() == 4 && s[0] % ko == 0 && s[1] % ki == 0;
  if (!fits)
    throw Error("Winograd weight transform: expected a [K, C, kh, kw] weight with K divisible by " + std::to_string(ko) +
                " and C by " + std::to_string(ki) + ", or one packed OIHW" + std::to_string(ki) + "i" + std::to_string(ko) +
                "o, found " + weight.type().str());
  const int kh = static_cast<int>(s[2]), kw = static_cast<int>(s[3]);
  const WinogradAxes w = winograd_axes(m, kh, kw);
  const int ah = w.h.a, aw = w.w.a;
  const int64_t K = packed ? s[0] * ko : s[0], C = packed ? s[1] * ki : s[1], KB = K / ko, CB = C / ki;
  Tensor u(TensorType{{int64_t{ah} * aw, KB, CB, ki, ko}, DType::float32});
  const float* g = weight.values<float>().data();
  float* out = u.mutable_values<float>().data();
  const double* Gh = w.h.g.data();
  const double* Gw = w.w.g.data();
  if (ah > 8 || aw > 8 || kw > 8) throw Error("Winograd weight transform: tile too large");
  const int64_t plane = KB * CB * ki * ko;  // elements per transformed position e
  // Tap (r, s) of the pair (k, c) is `tap` elements after its first; the
  // pairs (k, c) and (k + 1, c) of one output block are `lane` apart.
  const int64_t taps = int64_t{kh} * kw, tap = packed ? ki * ko : 1, lane = packed ? 1 : C * taps;
  // In the order of the result, so that each of its ah x aw planes is written
  // sequentially (in k, c order the 36 planes' lines were evicted between
  // the writes that fill them: 0.2 s of ResNet-18's compile). A row of the
  // result is one (kb, cb, c % ki) and its ko pairs of consecutive k, taken
  // a few lanes at a time: the per-pair indexing (four divisions) had cost
  // as much as the arithmetic. The sums are the same, in the same order.
  constexpr int64_t kLanes = 16;
  auto transform = [&](int64_t begin, int64_t end) {  // rows [begin, end)
    for (int64_t row = begin; row < end; ++row) {
      const int64_t kb = row / (CB * ki), cb = (row / ki) % CB, ci = row % ki;
      const float* first = packed ? g + ((kb * CB + cb) * taps * ki + ci) * ko : g + (kb * ko * C + cb * ki + ci) * taps;
      for (int64_t l0 = 0; l0 < ko; l0 += kLanes) {
        const int64_t lanes = std::min(kLanes, ko - l0);
        const float* kernel = first + l0 * lane;
        double left[8 * 8][kLanes];  // Gh [ah x kh] * kernel [kh x kw], per lane
        for (int i = 0; i < ah; ++i)
          for (int j = 0; j < kw; ++j)
            for (int64_t l = 0; l < lanes; ++l) {
              double sum = 0.0;
              for (int t = 0; t < kh; ++t) sum += Gh[i * kh + t] * static_cast<double>(kernel[(t * kw + j) * tap + l * lane]);
              left[i * kw + j][l] = sum;
            }
        float* o = out + row * ko + l0;  // the pairs' place in each plane
        for (int i = 0; i < ah; ++i)
          for (int j = 0; j < aw; ++j)
            for (int64_t l = 0; l < lanes; ++l) {
              double sum = 0.0;
              for (int t = 0; t < kw; ++t) sum += left[i * kw + t][l] * Gw[j * kw + t];
              o[(i * aw + j) * plane + l] = static_cast<float>(sum);
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
// element: C x kh x kw), so that a kernel's GFLOP/s compare with a direct
// convolution's and with the core's peak: the "effective" rate, which can
// exceed the peak since Winograd does fewer multiplies than it counts.
int64_t winograd_multiply_adds(std::span<const TensorType> args, const Attrs& attrs, std::span<const TensorType> results) {
  const auto& u = args[1].shape;  // [ah*aw, K/ko, C/ki, ki, ko]
  const auto& kernel = attrs_as<Conv2DWinogradAttrs>(attrs).kernel;  // [kh, kw]: the type rule checked it
  return u.size() == 5 ? results[0].element_count() * u[2] * u[3] * kernel.at(0) * kernel.at(1) : 0;
}

}  // namespace

void register_winograd_ops(OpRegistry& r) {
  r.add({"nn.conv2d_winograd",
         "stride-1 convolution (3x3, 5x5, 1 x r, r x 1), Winograd F(m x m, r x r) or F(m, r), over weights transformed at compile time (NCHW<k>c)", 2, 2,
         OpPattern::out_elemwise_fusable, [] { return std::make_unique<Conv2DWinogradAttrs>(); }, winograd_type,
         winograd_reference, winograd_multiply_adds});
}

}  // namespace modelc::lang
