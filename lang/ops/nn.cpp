// nn.* operators: convolution, dense, pooling, normalisation, softmax.
#include "lang/ops/nn.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "lang/ops/layout.h"
#include "lang/ops/op_helpers.h"

namespace modelc::lang {

void check_window_attrs(std::initializer_list<int64_t> values) {
  for (const int64_t v : values)
    if (v > kMaxWindowAttr || v < -kMaxWindowAttr)
      ops::type_error("a window attribute (kernel size, stride, dilation or padding) of " + std::to_string(v) +
                      " is out of range: at most 2^31 in magnitude");
}

int64_t window_output_extent(int64_t input, int64_t window, int64_t stride, int64_t dilation, int64_t pad_before,
                             int64_t pad_after, bool ceil_mode) {
  check_window_attrs({window, stride, dilation, pad_before, pad_after});
  using Wide = __int128;  // exact here: every term is bounded by 2^63
  const Wide effective = (Wide{window} - 1) * dilation + 1;
  const Wide span = Wide{input} + pad_before + pad_after - effective;
  if (span < 0) return 0;
  Wide out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  // A window that would start entirely inside the end padding is dropped (ONNX/PyTorch ceil_mode rule).
  if (ceil_mode && (out - 1) * stride >= Wide{input} + pad_before) --out;
  if (out > std::numeric_limits<int64_t>::max()) ops::type_error("the window's output extent does not fit in 64 bits");
  return static_cast<int64_t>(out);
}

namespace {

using ops::expect_float;
using ops::expect_float_weight;
using ops::expect_rank;
using ops::type_error;

void check_pair(const std::vector<int64_t>& v, const char* name, int64_t min_value) {
  if (v.size() != 2) type_error(std::string(name) + " must have 2 values, found " + std::to_string(v.size()));
  for (int64_t x : v)
    if (x < min_value) type_error(std::string(name) + " must be >= " + std::to_string(min_value));
}

void check_padding(const std::vector<int64_t>& p) {
  if (p.size() != 4) type_error("padding must have 4 values (top, left, bottom, right), found " + std::to_string(p.size()));
  for (int64_t x : p)
    if (x < 0) type_error("padding must be >= 0");
}

// ---- conv2d (NCHW data, OIHW weights, or other layouts of them) ----

const Layout& nchw() {
  static const Layout layout = Layout::parse("NCHW");
  return layout;
}

const Layout& oihw() {
  static const Layout layout = Layout::parse("OIHW");
  return layout;
}

// The type of `t` stored in `layout` seen in the logical layout `logical`.
TensorType logical_type(const TensorType& t, const std::string& layout, const Layout& logical, const char* what) {
  const Layout l = Layout::parse(layout);
  if (!l.convertible_to(logical)) type_error(std::string(what) + " layout " + layout + " is not a layout of " + logical.str());
  if (t.rank() != l.rank())
    type_error(std::string("expects ") + what + " (" + layout + ") of rank " + std::to_string(l.rank()) + ", found " + t.str());
  return TensorType{convert_shape(t.shape, l, logical), t.dtype};
}

TensorType physical_type(const TensorType& logical_type, const Layout& logical, const std::string& layout, const char* what) {
  const Layout l = Layout::parse(layout);
  if (!l.convertible_to(logical)) type_error(std::string(what) + " layout " + layout + " is not a layout of " + logical.str());
  return TensorType{convert_shape(logical_type.shape, logical, l), logical_type.dtype};
}

std::vector<TensorType> conv2d_type(std::span<const TensorType> args, const Attrs& attrs) {
  const auto& a = attrs_as<Conv2DAttrs>(attrs);
  const TensorType x = logical_type(args[0], a.data_layout, nchw(), "input");
  const TensorType w = logical_type(args[1], a.kernel_layout, oihw(), "weight");
  expect_float(x, "input");
  expect_float_weight(w, "weight");
  check_pair(a.strides, "strides", 1);
  check_pair(a.dilation, "dilation", 1);
  check_padding(a.padding);
  if (a.groups < 1 || x.shape[1] % a.groups != 0 || w.shape[0] % a.groups != 0)
    type_error("groups=" + std::to_string(a.groups) + " must divide input channels " + std::to_string(x.shape[1]) +
               " and output channels " + std::to_string(w.shape[0]));
  if (checked_mul(w.shape[1], a.groups) != x.shape[1])
    type_error("weight " + w.str() + " with groups=" + std::to_string(a.groups) + " does not fit the input channels of " + x.str());
  const int64_t oh = window_output_extent(x.shape[2], w.shape[2], a.strides[0], a.dilation[0], a.padding[0], a.padding[2], false);
  const int64_t ow = window_output_extent(x.shape[3], w.shape[3], a.strides[1], a.dilation[1], a.padding[1], a.padding[3], false);
  if (oh < 1 || ow < 1) type_error("the kernel " + w.str() + " does not fit the padded input " + x.str());
  return {physical_type(TensorType{{x.shape[0], w.shape[0], oh, ow}, x.dtype}, nchw(), a.out_layout, "result")};
}

std::vector<Tensor> conv2d_nchw_reference(std::span<const Tensor> args, const Conv2DAttrs& a, std::span<const TensorType> types) {
  const auto& xs = args[0].type().shape;
  const auto& ws = args[1].type().shape;
  const auto& os = types[0].shape;
  Tensor out(types[0]);
  const Tensor weight = ops::as_float32(args[1]);
  const float* x = args[0].values<float>().data();
  const float* w = weight.values<float>().data();
  float* o = out.mutable_values<float>().data();
  const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
  const int64_t K = ws[0], CG = ws[1], R = ws[2], S = ws[3];
  const int64_t OH = os[2], OW = os[3];
  const int64_t KG = K / a.groups;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) {
      const int64_t g = k / KG;
      float* oplane = o + ((n * K + k) * OH) * OW;
      for (int64_t c = 0; c < CG; ++c) {
        const float* xplane = x + ((n * C + g * CG + c) * H) * W;
        for (int64_t r = 0; r < R; ++r)
          for (int64_t s = 0; s < S; ++s) {
            const float wv = w[((k * CG + c) * R + r) * S + s];
            for (int64_t oy = 0; oy < OH; ++oy) {
              const int64_t iy = oy * a.strides[0] - a.padding[0] + r * a.dilation[0];
              if (iy < 0 || iy >= H) continue;
              const float* xrow = xplane + iy * W;
              float* orow = oplane + oy * OW;
              for (int64_t ox = 0; ox < OW; ++ox) {
                const int64_t ix = ox * a.strides[1] - a.padding[1] + s * a.dilation[1];
                if (ix >= 0 && ix < W) orow[ox] += wv * xrow[ix];
              }
            }
          }
      }
    }
  return {std::move(out)};
}

// Other layouts: through NCHW / OIHW (the oracle favours obviously right over fast).
std::vector<Tensor> conv2d_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& a = attrs_as<Conv2DAttrs>(attrs);
  if (a.data_layout == "NCHW" && a.kernel_layout == "OIHW" && a.out_layout == "NCHW")
    return conv2d_nchw_reference(args, a, types);
  const Layout out_layout = Layout::parse(a.out_layout);
  const std::vector<Tensor> logical_args{transform_layout(args[0], Layout::parse(a.data_layout), nchw()),
                                         transform_layout(args[1], Layout::parse(a.kernel_layout), oihw())};
  const TensorType logical_result{convert_shape(types[0].shape, out_layout, nchw()), types[0].dtype};
  std::vector<Tensor> out = conv2d_nchw_reference(logical_args, a, std::span<const TensorType>(&logical_result, 1));
  return {transform_layout(out[0], nchw(), out_layout)};
}

// ---- dense: x[M, K] . w[N, K]^T -> [M, N] ----

std::vector<TensorType> dense_type(std::span<const TensorType> args, const Attrs&) {
  expect_rank(args[0], 2, "input");
  expect_rank(args[1], 2, "weight [units, in_features]");
  expect_float(args[0], "input");
  expect_float_weight(args[1], "weight");  // the kernel reads both as float32
  if (args[0].shape[1] != args[1].shape[1])
    type_error("input " + args[0].str() + " has " + std::to_string(args[0].shape[1]) + " features, weight " +
               args[1].str() + " expects " + std::to_string(args[1].shape[1]));
  return {TensorType{{args[0].shape[0], args[1].shape[0]}, args[0].dtype}};
}

std::vector<Tensor> dense_reference(std::span<const Tensor> args, const Attrs&, std::span<const TensorType> types) {
  Tensor out(types[0]);
  const int64_t M = args[0].type().shape[0], K = args[0].type().shape[1], N = args[1].type().shape[0];
  const Tensor weight = ops::as_float32(args[1]);
  const float* x = args[0].values<float>().data();
  const float* w = weight.values<float>().data();
  float* o = out.mutable_values<float>().data();
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += static_cast<double>(x[m * K + k]) * w[n * K + k];
      o[m * N + n] = static_cast<float>(acc);
    }
  return {std::move(out)};
}

// ---- batch_matmul: x[..., M, K] . y[..., K, N] -> [..., M, N], batch axes broadcast ----

std::vector<TensorType> batch_matmul_type(std::span<const TensorType> args, const Attrs&) {
  const TensorType& x = args[0];
  const TensorType& y = args[1];
  if (x.rank() < 2 || y.rank() < 2) type_error("expects operands of rank >= 2, found " + x.str() + " and " + y.str());
  expect_float(x, "input");
  expect_float_weight(y, "right operand");
  if (x.shape.back() != y.shape[y.rank() - 2])
    type_error(x.str() + " has " + std::to_string(x.shape.back()) + " columns, " + y.str() + " has " +
               std::to_string(y.shape[y.rank() - 2]) + " rows");
  std::vector<int64_t> shape = ops::broadcast_shapes({x.shape.begin(), x.shape.end() - 2}, {y.shape.begin(), y.shape.end() - 2});
  shape.push_back(x.shape[x.rank() - 2]);
  shape.push_back(y.shape.back());
  return {TensorType{shape, x.dtype}};
}

std::vector<Tensor> batch_matmul_reference(std::span<const Tensor> args, const Attrs&, std::span<const TensorType> types) {
  const auto& xs = args[0].type().shape;
  const auto& ys = args[1].type().shape;
  const auto& os = types[0].shape;
  const int64_t M = os[os.size() - 2], N = os.back(), K = xs.back();
  const std::vector<int64_t> batch(os.begin(), os.end() - 2);
  const auto x_batch = ops::broadcast_index_map({xs.begin(), xs.end() - 2}, batch);
  const auto y_batch = ops::broadcast_index_map({ys.begin(), ys.end() - 2}, batch);
  Tensor out(types[0]);
  const Tensor right = ops::as_float32(args[1]);
  // A bfloat16 weight makes the products bfloat16's: x is rounded to
  // bfloat16 too (to nearest even), as the kernels' tiles read it.
  Tensor left = args[0];
  if (args[1].type().dtype == DType::bfloat16) {
    Tensor half(TensorType{xs, DType::bfloat16});
    const auto values = args[0].values<float>();
    for (size_t i = 0; i < values.size(); ++i) half.set_element(i, values[i]);
    left = ops::as_float32(half);
  }
  const float* x = left.values<float>().data();
  const float* y = right.values<float>().data();
  float* o = out.mutable_values<float>().data();
  for (size_t b = 0; b < x_batch.size(); ++b) {
    const float* xb = x + x_batch[b] * M * K;
    const float* yb = y + y_batch[b] * K * N;
    float* ob = o + static_cast<int64_t>(b) * M * N;
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k) acc += static_cast<double>(xb[m * K + k]) * yb[k * N + n];
        ob[m * N + n] = static_cast<float>(acc);
      }
  }
  return {std::move(out)};
}

// ---- packed_matmul: x[..., M, K] . W, W packed as [N/c, K, c] or, in
// pairs of rows, [N/c, K/2, c, 2] -> [..., M, N] ----

std::vector<TensorType> packed_matmul_type(std::span<const TensorType> args, const Attrs&) {
  const TensorType& x = args[0];
  const TensorType& w = args[1];
  const bool pairs = w.rank() == 4;
  if (x.rank() < 2 || (w.rank() != 3 && !pairs) || (pairs && w.shape[3] != 2))
    type_error("expects an input of rank >= 2 and a [N/c, K, c] or [N/c, K/2, c, 2] weight, found " + x.str() + " and " +
               w.str());
  expect_float(x, "input");
  expect_float_weight(w, "weight");
  if (pairs && w.dtype != DType::bfloat16) type_error("a weight in pairs of rows " + w.str() + " must be bfloat16");
  const int64_t rows = pairs ? w.shape[1] * 2 : w.shape[1];
  if (x.shape.back() != rows)
    type_error(x.str() + " has " + std::to_string(x.shape.back()) + " columns, the weight " + w.str() + " has " +
               std::to_string(rows) + " rows");
  std::vector<int64_t> shape = x.shape;
  shape.back() = w.shape[0] * w.shape[2];
  return {TensorType{shape, x.dtype}};
}

std::vector<Tensor> packed_matmul_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const std::vector<Tensor> operands{args[0], unpack_matmul_panels(args[1])};
  return batch_matmul_reference(operands, attrs, types);
}

// ---- bias_add: x + bias broadcast along `axis` ----

std::vector<TensorType> bias_add_type(std::span<const TensorType> args, const Attrs& attrs) {
  const int64_t axis = ops::normalize_axis(attrs_as<AxisAttrs>(attrs).axis, args[0].rank());
  expect_rank(args[1], 1, "bias");
  expect_float(args[0], "input");  // the kernel reads both as float32
  expect_float(args[1], "bias");
  if (args[1].shape[0] != args[0].shape[static_cast<size_t>(axis)])
    type_error("bias " + args[1].str() + " does not match axis " + std::to_string(axis) + " of " + args[0].str());
  return {args[0]};
}

std::vector<Tensor> bias_add_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& shape = types[0].shape;
  const auto axis = static_cast<size_t>(ops::normalize_axis(attrs_as<AxisAttrs>(attrs).axis, shape.size()));
  int64_t inner = 1;
  for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
  Tensor out = args[0];
  auto o = out.mutable_values<float>();
  auto b = args[1].values<float>();
  for (size_t i = 0; i < o.size(); ++i) o[i] += b[static_cast<size_t>((static_cast<int64_t>(i) / inner) % shape[axis])];
  return {std::move(out)};
}

// ---- batch_norm (inference): (x - mean) / sqrt(var + eps) * gamma + beta ----

std::vector<TensorType> batch_norm_type(std::span<const TensorType> args, const Attrs& attrs) {
  const int64_t axis = ops::normalize_axis(attrs_as<BatchNormAttrs>(attrs).axis, args[0].rank());
  expect_float(args[0], "input");  // the kernel reads every operand as float32
  for (size_t i = 1; i < 5; ++i) {
    expect_rank(args[i], 1, "scale/bias/mean/variance");
    expect_float(args[i], "scale/bias/mean/variance");
    if (args[i].shape[0] != args[0].shape[static_cast<size_t>(axis)])
      type_error("parameter " + args[i].str() + " does not match channels of " + args[0].str());
  }
  return {args[0]};
}

std::vector<Tensor> batch_norm_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& a = attrs_as<BatchNormAttrs>(attrs);
  const auto& shape = types[0].shape;
  const auto axis = static_cast<size_t>(ops::normalize_axis(a.axis, shape.size()));
  int64_t inner = 1;
  for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
  Tensor out = args[0];
  auto o = out.mutable_values<float>();
  auto gamma = args[1].values<float>(), beta = args[2].values<float>();
  auto mean = args[3].values<float>(), var = args[4].values<float>();
  for (size_t i = 0; i < o.size(); ++i) {
    const auto c = static_cast<size_t>((static_cast<int64_t>(i) / inner) % shape[axis]);
    o[i] = static_cast<float>((o[i] - mean[c]) / std::sqrt(var[c] + a.epsilon) * gamma[c] + beta[c]);
  }
  return {std::move(out)};
}

// ---- pooling (NCHW, or another layout of it) ----

bool eight_bit(DType d) { return d == DType::uint8 || d == DType::int8; }

// Max pooling also takes 8-bit integers (a quantized value: the maximum of
// dequantized values is the dequantized maximum); average pooling float32.
template <bool kMax>
std::vector<TensorType> pool2d_type(std::span<const TensorType> args, const Attrs& attrs) {
  const auto& a = attrs_as<Pool2DAttrs>(attrs);
  const TensorType x = logical_type(args[0], a.data_layout, nchw(), "input");
  if (!(kMax && eight_bit(x.dtype))) expect_float(x, kMax ? "input (or uint8/int8)" : "input");
  check_pair(a.pool_size, "pool_size", 1);
  check_pair(a.strides, "strides", 1);
  check_pair(a.dilation, "dilation", 1);
  check_padding(a.padding);
  const auto& s = x.shape;
  const int64_t oh = window_output_extent(s[2], a.pool_size[0], a.strides[0], a.dilation[0], a.padding[0], a.padding[2], a.ceil_mode);
  const int64_t ow = window_output_extent(s[3], a.pool_size[1], a.strides[1], a.dilation[1], a.padding[1], a.padding[3], a.ceil_mode);
  if (oh < 1 || ow < 1) type_error("the pooling window does not fit the padded input " + args[0].str());
  return {physical_type(TensorType{{s[0], s[1], oh, ow}, x.dtype}, nchw(), a.data_layout, "result")};
}

template <bool kMax>
std::vector<Tensor> pool2d_nchw_reference(std::span<const Tensor> args, const Pool2DAttrs& a, std::span<const TensorType> types) {
  const auto& s = args[0].type().shape;
  const auto& os = types[0].shape;
  Tensor out(types[0]);
  const float* x = args[0].values<float>().data();
  float* o = out.mutable_values<float>().data();
  const int64_t H = s[2], W = s[3];
  for (int64_t plane = 0; plane < s[0] * s[1]; ++plane)
    for (int64_t oy = 0; oy < os[2]; ++oy)
      for (int64_t ox = 0; ox < os[3]; ++ox) {
        float acc = kMax ? -std::numeric_limits<float>::infinity() : 0.f;
        int64_t count = 0;
        for (int64_t r = 0; r < a.pool_size[0]; ++r)
          for (int64_t c = 0; c < a.pool_size[1]; ++c) {
            const int64_t iy = oy * a.strides[0] - a.padding[0] + r * a.dilation[0];
            const int64_t ix = ox * a.strides[1] - a.padding[1] + c * a.dilation[1];
            const bool inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
            // Padding counts for averages only up to the padded extent (not the ceil_mode overhang).
            const bool in_padded = iy < H + a.padding[2] && ix < W + a.padding[3];
            if (inside) {
              const float v = x[(plane * H + iy) * W + ix];
              acc = kMax ? std::max(acc, v) : acc + v;
              ++count;
            } else if (!kMax && a.count_include_pad && in_padded) {
              ++count;
            }
          }
        o[(plane * os[2] + oy) * os[3] + ox] = kMax ? acc : (count ? acc / static_cast<float>(count) : 0.f);
      }
  return {std::move(out)};
}

template <bool kMax>
std::vector<Tensor> pool2d_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& a = attrs_as<Pool2DAttrs>(attrs);
  if (eight_bit(args[0].type().dtype)) {
    // 8-bit values are exact in float32 and the maximum is one of them.
    Tensor x(TensorType{args[0].type().shape, DType::float32});
    for (size_t i = 0; i < static_cast<size_t>(x.type().element_count()); ++i) x.set_element(i, args[0].element_as_double(i));
    const TensorType t{types[0].shape, DType::float32};
    const Tensor y = pool2d_reference<kMax>(std::span<const Tensor>(&x, 1), attrs, std::span<const TensorType>(&t, 1)).at(0);
    Tensor out(types[0]);
    for (size_t i = 0; i < static_cast<size_t>(out.type().element_count()); ++i) out.set_element(i, y.element_as_double(i));
    return {std::move(out)};
  }
  if (a.data_layout == "NCHW") return pool2d_nchw_reference<kMax>(args, a, types);
  const Layout layout = Layout::parse(a.data_layout);
  const Tensor logical = transform_layout(args[0], layout, nchw());
  const TensorType logical_result{convert_shape(types[0].shape, layout, nchw()), types[0].dtype};
  std::vector<Tensor> out = pool2d_nchw_reference<kMax>(std::span<const Tensor>(&logical, 1), a, std::span<const TensorType>(&logical_result, 1));
  return {transform_layout(out[0], nchw(), layout)};
}

std::vector<TensorType> global_pool_type(std::span<const TensorType> args, const Attrs& attrs) {
  const Layout layout = Layout::parse(attrs_as<GlobalPool2DAttrs>(attrs).data_layout);
  if (layout.primal() != "NCHW" && layout.primal() != "NHWC")
    ops::type_error("global_avg_pool2d: data_layout " + layout.str() + " is not a layout of NCHW");
  const std::string what = "input (" + layout.str() + ")";
  expect_rank(args[0], layout.rank(), what.c_str());
  expect_float(args[0], "input");
  std::vector<int64_t> shape = args[0].shape;
  shape[static_cast<size_t>(layout.position_of('H'))] = 1;
  shape[static_cast<size_t>(layout.position_of('W'))] = 1;
  return {TensorType{shape, args[0].dtype}};
}

std::vector<Tensor> global_avg_pool_nchw_reference(const Tensor& x, const TensorType& type) {
  const auto& s = x.type().shape;
  Tensor out(type);
  const float* in = x.values<float>().data();
  float* o = out.mutable_values<float>().data();
  const int64_t hw = s[2] * s[3];
  for (int64_t plane = 0; plane < s[0] * s[1]; ++plane) {
    double acc = 0;
    for (int64_t i = 0; i < hw; ++i) acc += in[plane * hw + i];
    o[plane] = static_cast<float>(acc / static_cast<double>(hw));
  }
  return {std::move(out)};
}

std::vector<Tensor> global_avg_pool_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const std::string& data_layout = attrs_as<GlobalPool2DAttrs>(attrs).data_layout;
  if (data_layout == "NCHW") return global_avg_pool_nchw_reference(args[0], types[0]);
  const Layout layout = Layout::parse(data_layout);
  const Tensor logical = transform_layout(args[0], layout, nchw());
  const TensorType logical_result{convert_shape(types[0].shape, layout, nchw()), types[0].dtype};
  return {transform_layout(global_avg_pool_nchw_reference(logical, logical_result)[0], nchw(), layout)};
}

// ---- softmax along an axis ----

std::vector<TensorType> softmax_type(std::span<const TensorType> args, const Attrs& attrs) {
  ops::normalize_axis(attrs_as<AxisAttrs>(attrs).axis, args[0].rank());
  expect_float(args[0], "input");
  return {args[0]};
}

std::vector<Tensor> softmax_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType>) {
  Tensor out = args[0];
  ops::for_each_line(out, attrs_as<AxisAttrs>(attrs).axis, [](float* p, int64_t n, int64_t stride) {
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < n; ++i) m = std::max(m, p[i * stride]);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(p[i * stride] - m));
    for (int64_t i = 0; i < n; ++i) p[i * stride] = static_cast<float>(std::exp(static_cast<double>(p[i * stride] - m)) / sum);
  });
  return {std::move(out)};
}

// Every output position (N, OH, OW) multiplies the whole weight tensor
// (K x C/groups x R x S) into its K channels, in any layout: the weight's
// element count does not change when AlterOpLayout packs it.
int64_t conv2d_multiply_adds(std::span<const TensorType> args, const Attrs& attrs, std::span<const TensorType> results) {
  const auto& a = attrs_as<Conv2DAttrs>(attrs);
  const Layout out = Layout::parse(a.out_layout);
  const auto& shape = results[0].shape;
  const int n = out.position_of('N'), h = out.position_of('H'), w = out.position_of('W');
  if (n < 0 || h < 0 || w < 0) return 0;
  return shape[static_cast<size_t>(n)] * shape[static_cast<size_t>(h)] * shape[static_cast<size_t>(w)] *
         args[1].element_count();
}

// Each result element is a dot product along x's last axis.
int64_t matmul_multiply_adds(std::span<const TensorType> args, const Attrs&, std::span<const TensorType> results) {
  return args[0].shape.empty() ? 0 : results[0].element_count() * args[0].shape.back();
}

template <typename A>
std::function<std::unique_ptr<Attrs>()> attrs_factory() {
  return [] { return std::make_unique<A>(); };
}

}  // namespace

// Both move rows of c elements (of c pairs with `pairs`), byte for byte:
// panel p's row k is columns [p c, p c + c) of row k of [K, N]; in pairs,
// panel p's pair row i interleaves those of rows 2i and 2i + 1.
namespace {
void move_panel_rows(const Tensor& from, Tensor& to, int64_t K, int64_t P, int64_t c, bool pack, bool pairs) {
  const size_t bytes = dtype_bytes(from.type().dtype), row = static_cast<size_t>(c) * bytes;
  const std::byte* src = from.bytes().data();
  std::byte* dst = to.mutable_bytes().data();
  for (int64_t p = 0; p < P; ++p)
    for (int64_t k = 0; k < K; ++k) {
      const size_t matrix = static_cast<size_t>(k * P + p) * row;
      if (!pairs) {
        const size_t panel = static_cast<size_t>(p * K + k) * row;
        std::memcpy(dst + (pack ? panel : matrix), src + (pack ? matrix : panel), row);
        continue;
      }
      for (int64_t j = 0; j < c; ++j) {
        const size_t panel = (static_cast<size_t>(((p * (K / 2) + k / 2) * c + j) * 2 + k % 2)) * bytes;
        const size_t element = matrix + static_cast<size_t>(j) * bytes;
        std::memcpy(dst + (pack ? panel : element), src + (pack ? element : panel), bytes);
      }
    }
}
}  // namespace

Tensor pack_matmul_panels(const Tensor& kn, int64_t c, bool pairs) {
  const auto& s = kn.type().shape;
  if (s.size() != 2 || c < 1 || s[1] % c != 0 || (pairs && s[0] % 2 != 0))
    throw std::logic_error("pack_matmul_panels: needs [K, N] with c | N (and K even for pairs)");
  Tensor out(pairs ? TensorType{{s[1] / c, s[0] / 2, c, 2}, kn.type().dtype} : TensorType{{s[1] / c, s[0], c}, kn.type().dtype});
  move_panel_rows(kn, out, s[0], s[1] / c, c, true, pairs);
  return out;
}

Tensor unpack_matmul_panels(const Tensor& panels) {
  const auto& s = panels.type().shape;
  const bool pairs = s.size() == 4;
  const int64_t K = pairs ? s[1] * 2 : s[1];
  Tensor out(TensorType{{K, s[0] * s[2]}, panels.type().dtype});
  move_panel_rows(panels, out, K, s[0], s[2], false, pairs);
  return out;
}

void register_nn_ops(OpRegistry& r) {
  r.add({"nn.conv2d", "2-D convolution, NCHW input, OIHW weight, grouped/depthwise via groups", 2, 2,
         OpPattern::out_elemwise_fusable, attrs_factory<Conv2DAttrs>(), conv2d_type, conv2d_reference,
         conv2d_multiply_adds});
  r.add({"nn.dense", "x[M, K] times the transpose of weight[N, K]", 2, 2, OpPattern::out_elemwise_fusable,
         attrs_factory<NoAttrs>(), dense_type, dense_reference, matmul_multiply_adds});
  r.add({"nn.batch_matmul", "x[..., M, K] times y[..., K, N], batch axes broadcast", 2, 2,
         OpPattern::out_elemwise_fusable, attrs_factory<NoAttrs>(), batch_matmul_type, batch_matmul_reference,
         matmul_multiply_adds});
  r.add({"nn.packed_matmul",
         "x[..., M, K] times W[K, N] stored as N/c panels [N/c, K, c], or of row pairs [N/c, K/2, c, 2] (PackMatmulWeights)", 2,
         2, OpPattern::out_elemwise_fusable, attrs_factory<NoAttrs>(), packed_matmul_type, packed_matmul_reference,
         matmul_multiply_adds});
  r.add({"nn.bias_add", "adds a 1-D bias along `axis`", 2, 2, OpPattern::broadcast, attrs_factory<AxisAttrs>(),
         bias_add_type, bias_add_reference});
  r.add({"nn.batch_norm", "inference batch normalisation (x, gamma, beta, mean, var)", 5, 5, OpPattern::broadcast,
         attrs_factory<BatchNormAttrs>(), batch_norm_type, batch_norm_reference});
  r.add({"nn.max_pool2d", "2-D max pooling, NCHW (float32, or 8-bit integers)", 1, 1, OpPattern::out_elemwise_fusable, attrs_factory<Pool2DAttrs>(),
         pool2d_type<true>, pool2d_reference<true>});
  r.add({"nn.avg_pool2d", "2-D average pooling, NCHW", 1, 1, OpPattern::out_elemwise_fusable, attrs_factory<Pool2DAttrs>(),
         pool2d_type<false>, pool2d_reference<false>});
  r.add({"nn.global_avg_pool2d", "mean over H and W, NCHW -> N,C,1,1 (or in data_layout)", 1, 1,
         OpPattern::out_elemwise_fusable, attrs_factory<GlobalPool2DAttrs>(), global_pool_type, global_avg_pool_reference});
  r.add({"nn.softmax", "softmax along `axis`", 1, 1, OpPattern::opaque, attrs_factory<AxisAttrs>(), softmax_type,
         softmax_reference});
}

}  // namespace modelc::lang
