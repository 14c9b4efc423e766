// qnn.* operators: quantize, dequantize, requantize, add and the integer
// anchors (conv2d, dense, batch_matmul). lang/ops/qnn.h states the arithmetic.
#include "lang/ops/qnn.h"

#include <cmath>

#include "lang/ops/layout.h"
#include "lang/ops/nn.h"
#include "lang/ops/op_helpers.h"

namespace modelc::lang {

FixedPointMultiplier fixed_point_multiplier(double m) {
  if (!std::isfinite(m) || m < 0) ops::type_error("a requantization multiplier of " + std::to_string(m) + " is not a finite non-negative number");
  if (m == 0) return {0, 31};
  int exponent = 0;
  const double fraction = std::frexp(m, &exponent);  // m = fraction * 2^exponent, fraction in [0.5, 1)
  auto multiplier = static_cast<int64_t>(std::nearbyint(std::ldexp(fraction, kFixedPointBits)));
  if (multiplier == (int64_t{1} << kFixedPointBits)) {
    multiplier /= 2;
    ++exponent;
  }
  const int shift = kFixedPointBits - exponent;
  if (shift < 1) {
    // From 2^23 on, the smallest shift and a wider multiplier (below 2^31),
    // so that multipliers up to 2^30 are taken as before they had 24 bits.
    if (m >= std::ldexp(1.0, 30))
      ops::type_error("a requantization multiplier of " + std::to_string(m) + " is too large (at most 2^30)");
    return {static_cast<int64_t>(std::nearbyint(std::ldexp(m, 1))), 1};
  }
  if (shift > 62) return {0, 31};  // below 2^-39: every product of 32-bit values rounds to 0
  return {multiplier, shift};
}

int64_t rounding_shift_right_even(int64_t value, int shift) {
  const int64_t floor = value >> shift;
  const int64_t rest = value - (floor << shift);
  const int64_t half = int64_t{1} << (shift - 1);
  return floor + ((rest > half || (rest == half && (floor & 1))) ? 1 : 0);
}

int64_t fixed_point_scale(int64_t value, const FixedPointMultiplier& m) {
  return rounding_shift_right_even(value * m.multiplier, m.shift);
}

int64_t dtype_min(DType dtype) {
  switch (dtype) {
    case DType::int8: return -128;
    case DType::uint8: return 0;
    case DType::int32: return std::numeric_limits<int32_t>::min();
    default: ops::type_error("expects an int8, uint8 or int32 quantized type, found " + std::string(dtype_name(dtype)));
  }
}

int64_t dtype_max(DType dtype) {
  switch (dtype) {
    case DType::int8: return 127;
    case DType::uint8: return 255;
    case DType::int32: return std::numeric_limits<int32_t>::max();
    default: ops::type_error("expects an int8, uint8 or int32 quantized type, found " + std::string(dtype_name(dtype)));
  }
}

int64_t quantize_value(float x, float scale, int64_t zero_point, DType dtype) {
  const float scaled = std::nearbyint(x / scale);  // the default rounding mode: half to even
  const double lo = static_cast<double>(dtype_min(dtype)), hi = static_cast<double>(dtype_max(dtype));
  if (std::isnan(scaled)) return std::clamp<int64_t>(zero_point, dtype_min(dtype), dtype_max(dtype));
  const double q = std::clamp(static_cast<double>(scaled) + static_cast<double>(zero_point), lo, hi);
  return static_cast<int64_t>(q);
}

bool kernel_fits_bits(std::span<const int64_t> values, int64_t bits) {
  const int64_t lo = -(int64_t{1} << (bits - 1)), hi = (int64_t{1} << (bits - 1)) - 1;
  for (int64_t v : values)
    if (v < lo || v > hi) return false;
  return true;
}

namespace {

using ops::type_error;

bool is_8bit(DType d) { return d == DType::int8 || d == DType::uint8; }

void expect_quantized(const TensorType& t, const char* what, bool allow_int32) {
  if (is_8bit(t.dtype) || (allow_int32 && t.dtype == DType::int32)) return;
  type_error(std::string("expects ") + what + " of type int8 or uint8" + (allow_int32 ? " or int32" : "") + ", found " + t.str());
}

// Scales and zero points: one each, or one per index along `axis`.
int64_t check_params(const TensorType& t, size_t scales, size_t zero_points, int64_t axis, const char* what) {
  if (scales == 0) type_error(std::string(what) + " has no scale");
  if (scales != zero_points)
    type_error(std::string(what) + " has " + std::to_string(scales) + " scales and " + std::to_string(zero_points) + " zero points");
  if (scales == 1) return 0;
  const int64_t a = ops::normalize_axis(axis, t.rank());
  if (t.shape[static_cast<size_t>(a)] != static_cast<int64_t>(scales))
    type_error(std::string(what) + " has " + std::to_string(scales) + " scales, axis " + std::to_string(a) + " of " + t.str() +
               " has " + std::to_string(t.shape[static_cast<size_t>(a)]) + " elements");
  return a;
}

void check_zero_point(int64_t zp, DType dtype, const char* what) {
  if (zp < dtype_min(dtype) || zp > dtype_max(dtype))
    type_error(std::string(what) + " " + std::to_string(zp) + " is out of range for " + std::string(dtype_name(dtype)));
}

void check_scales(const std::vector<double>& scales, const char* what) {
  for (double s : scales)
    if (!(s > 0) || !std::isfinite(s)) type_error(std::string(what) + " " + std::to_string(s) + " is not a positive finite number");
}

// For element i of a tensor of `shape`, its index along `axis` (0 for per-tensor parameters).
struct ChannelOf {
  int64_t inner = 1, extent = 1;
  ChannelOf(const std::vector<int64_t>& shape, int64_t axis, size_t params) {
    if (params == 1) return;
    extent = shape[static_cast<size_t>(axis)];
    for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
  }
  size_t operator()(size_t i) const { return static_cast<size_t>((static_cast<int64_t>(i) / inner) % extent); }
};

int64_t saturate(int64_t v, DType dtype, int64_t out_min, int64_t out_max) {
  return std::clamp(v, std::max(dtype_min(dtype), out_min), std::min(dtype_max(dtype), out_max));
}

// ---- quantize / dequantize / requantize ----

void register_conversions(OpRegistry& r) {
  OpDef quantize;
  quantize.name = "qnn.quantize";
  quantize.summary = "float32 -> int8/uint8/int32: clamp(round_half_even(x / scale) + zero_point)";
  quantize.pattern = OpPattern::elemwise;
  quantize.make_attrs = [] { return std::make_unique<QuantizeAttrs>(); };
  quantize.infer_type = [](std::span<const TensorType> args, const Attrs& attrs) {
    const auto& a = attrs_as<QuantizeAttrs>(attrs);
    ops::expect_float(args[0], "input");
    check_params(args[0], a.scale.size(), a.zero_point.size(), a.axis, "qnn.quantize");
    check_scales(a.scale, "scale");
    expect_quantized(TensorType{{}, a.out_dtype}, "out_dtype", true);
    for (int64_t zp : a.zero_point) check_zero_point(zp, a.out_dtype, "zero point");
    return std::vector<TensorType>{TensorType{args[0].shape, a.out_dtype}};
  };
  quantize.reference = [](std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
    const auto& a = attrs_as<QuantizeAttrs>(attrs);
    const ChannelOf channel(types[0].shape, a.scale.size() > 1 ? ops::normalize_axis(a.axis, types[0].rank()) : 0, a.scale.size());
    Tensor out(types[0]);
    const auto x = args[0].values<float>();
    for (size_t i = 0; i < x.size(); ++i) {
      const size_t c = channel(i);
      out.set_element(i, static_cast<double>(quantize_value(x[i], static_cast<float>(a.scale[c]), a.zero_point[c], a.out_dtype)));
    }
    return std::vector<Tensor>{std::move(out)};
  };
  r.add(std::move(quantize));

  OpDef dequantize;
  dequantize.name = "qnn.dequantize";
  dequantize.summary = "int8/uint8/int32 -> float32: float32(q - zero_point) * scale";
  dequantize.pattern = OpPattern::elemwise;
  dequantize.make_attrs = [] { return std::make_unique<DequantizeAttrs>(); };
  dequantize.infer_type = [](std::span<const TensorType> args, const Attrs& attrs) {
    const auto& a = attrs_as<DequantizeAttrs>(attrs);
    expect_quantized(args[0], "input", true);
    check_params(args[0], a.scale.size(), a.zero_point.size(), a.axis, "qnn.dequantize");
    check_scales(a.scale, "scale");
    for (int64_t zp : a.zero_point) check_zero_point(zp, args[0].dtype, "zero point");
    return std::vector<TensorType>{TensorType{args[0].shape, DType::float32}};
  };
  dequantize.reference = [](std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
    const auto& a = attrs_as<DequantizeAttrs>(attrs);
    const ChannelOf channel(types[0].shape, a.scale.size() > 1 ? ops::normalize_axis(a.axis, types[0].rank()) : 0, a.scale.size());
    Tensor out(types[0]);
    auto o = out.mutable_values<float>();
    for (size_t i = 0; i < o.size(); ++i) {
      const size_t c = channel(i);
      o[i] = static_cast<float>(args[0].element_as_int(i) - a.zero_point[c]) * static_cast<float>(a.scale[c]);
    }
    return std::vector<Tensor>{std::move(out)};
  };
  r.add(std::move(dequantize));

  OpDef requantize;
  requantize.name = "qnn.requantize";
  requantize.summary = "int -> int at another scale: fixed-point multiply, round half to even, saturate";
  requantize.pattern = OpPattern::elemwise;
  requantize.make_attrs = [] { return std::make_unique<RequantizeAttrs>(); };
  requantize.infer_type = [](std::span<const TensorType> args, const Attrs& attrs) {
    const auto& a = attrs_as<RequantizeAttrs>(attrs);
    expect_quantized(args[0], "input", true);
    check_params(args[0], a.input_scale.size(), a.input_scale.size(), a.axis, "qnn.requantize");
    check_scales(a.input_scale, "input scale");
    check_scales({a.output_scale}, "output scale");
    expect_quantized(TensorType{{}, a.out_dtype}, "out_dtype", true);
    check_zero_point(a.input_zero_point, args[0].dtype, "input zero point");
    check_zero_point(a.output_zero_point, a.out_dtype, "output zero point");
    for (double s : a.input_scale) fixed_point_multiplier(s / a.output_scale);
    return std::vector<TensorType>{TensorType{args[0].shape, a.out_dtype}};
  };
  requantize.reference = [](std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
    const auto& a = attrs_as<RequantizeAttrs>(attrs);
    const size_t params = a.input_scale.size();
    const ChannelOf channel(types[0].shape, params > 1 ? ops::normalize_axis(a.axis, types[0].rank()) : 0, params);
    std::vector<FixedPointMultiplier> m;
    for (double s : a.input_scale) m.push_back(fixed_point_multiplier(s / a.output_scale));
    Tensor out(types[0]);
    for (size_t i = 0; i < static_cast<size_t>(types[0].element_count()); ++i) {
      const int64_t v = fixed_point_scale(args[0].element_as_int(i) - a.input_zero_point, m[channel(i)]) + a.output_zero_point;
      out.set_element(i, static_cast<double>(saturate(v, a.out_dtype, a.out_min, a.out_max)));
    }
    return std::vector<Tensor>{std::move(out)};
  };
  r.add(std::move(requantize));

  OpDef add;
  add.name = "qnn.add";
  add.summary = "quantized a + b: each operand rescaled to the output scale in fixed point, then added";
  add.min_args = add.max_args = 2;
  add.pattern = OpPattern::broadcast;
  add.make_attrs = [] { return std::make_unique<QnnAddAttrs>(); };
  add.infer_type = [](std::span<const TensorType> args, const Attrs& attrs) {
    const auto& a = attrs_as<QnnAddAttrs>(attrs);
    expect_quantized(args[0], "lhs", false);
    expect_quantized(args[1], "rhs", false);
    check_scales({a.lhs_scale, a.rhs_scale, a.output_scale}, "scale");
    check_zero_point(a.lhs_zero_point, args[0].dtype, "lhs zero point");
    check_zero_point(a.rhs_zero_point, args[1].dtype, "rhs zero point");
    expect_quantized(TensorType{{}, a.out_dtype}, "out_dtype", false);
    check_zero_point(a.output_zero_point, a.out_dtype, "output zero point");
    fixed_point_multiplier(a.lhs_scale / a.output_scale);
    fixed_point_multiplier(a.rhs_scale / a.output_scale);
    return std::vector<TensorType>{TensorType{ops::broadcast_shapes(args[0].shape, args[1].shape), a.out_dtype}};
  };
  add.reference = [](std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
    const auto& a = attrs_as<QnnAddAttrs>(attrs);
    const FixedPointMultiplier ml = fixed_point_multiplier(a.lhs_scale / a.output_scale);
    const FixedPointMultiplier mr = fixed_point_multiplier(a.rhs_scale / a.output_scale);
    const auto li = ops::broadcast_index_map(args[0].type().shape, types[0].shape);
    const auto ri = ops::broadcast_index_map(args[1].type().shape, types[0].shape);
    Tensor out(types[0]);
    for (size_t i = 0; i < li.size(); ++i) {
      const int64_t l = fixed_point_scale(args[0].element_as_int(static_cast<size_t>(li[i])) - a.lhs_zero_point, ml);
      const int64_t rr = fixed_point_scale(args[1].element_as_int(static_cast<size_t>(ri[i])) - a.rhs_zero_point, mr);
      out.set_element(i, static_cast<double>(saturate(l + rr + a.output_zero_point, a.out_dtype, a.out_min, a.out_max)));
    }
    return std::vector<Tensor>{std::move(out)};
  };
  r.add(std::move(add));
}

// ---- the integer anchors ----

void check_kernel_zero_points(const std::vector<int64_t>& zps, int64_t outputs, DType dtype) {
  if (zps.size() != 1 && static_cast<int64_t>(zps.size()) != outputs)
    type_error("expects one kernel zero point or one per output channel (" + std::to_string(outputs) + "), found " +
               std::to_string(zps.size()));
  for (int64_t zp : zps) check_zero_point(zp, dtype, "kernel zero point");
}

void check_bias(std::span<const TensorType> args, size_t index, int64_t outputs) {
  if (args.size() <= index) return;
  const TensorType& b = args[index];
  if (b.dtype != DType::int32 || b.rank() != 1 || b.shape[0] != outputs)
    type_error("expects an int32 bias of shape [" + std::to_string(outputs) + "], found " + b.str());
}

// Values widened to int64 for the reference loops.
std::vector<int64_t> widened(const Tensor& t) {
  std::vector<int64_t> out(static_cast<size_t>(t.type().element_count()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = t.element_as_int(i);
  return out;
}

void check_kernel_bits(int64_t bits, DType weight) {
  if (bits != 7 && bits != 8) type_error("kernel_bits must be 7 or 8, found " + std::to_string(bits));
  if (bits == 7 && weight != DType::int8) type_error("kernel_bits=7 applies to int8 weights, found " + std::string(dtype_name(weight)));
}

// The reference implementations hold kernel_bits 7 to its word: a weight
// outside its range is an error, not a result the kernels would differ on
// (8 promises nothing: any int8 or uint8 weight).
void expect_kernel_bits(std::span<const int64_t> w, int64_t bits) {
  if (bits < 8 && !kernel_fits_bits(w, bits))
    throw Error("a weight lies outside the " + std::to_string(bits) + "-bit range that kernel_bits=" + std::to_string(bits) +
                " promises");
}

int64_t kernel_zp(const std::vector<int64_t>& zps, int64_t channel) {
  return zps.size() == 1 ? zps[0] : zps[static_cast<size_t>(channel)];
}

// int32 wrap-around, as documented in qnn.h (no defined model reaches it).
double wrap_int32(int64_t v) { return static_cast<double>(static_cast<int32_t>(static_cast<uint32_t>(v))); }

std::vector<TensorType> qnn_conv2d_type(std::span<const TensorType> args, const Attrs& attrs) {
  const auto& a = attrs_as<QnnConv2DAttrs>(attrs);
  const TensorType& x = args[0];
  ops::expect_rank(x, 4, "input (NCHW)");
  const TensorType w = qnn_conv2d_oihw_weight(args[1], a);
  expect_quantized(x, "input", false);
  expect_quantized(w, "weight", false);
  check_zero_point(a.input_zero_point, x.dtype, "input zero point");
  check_kernel_zero_points(a.kernel_zero_point, w.shape[0], w.dtype);
  check_kernel_bits(a.kernel_bits, w.dtype);
  if (a.strides.size() != 2 || a.dilation.size() != 2 || a.padding.size() != 4)
    type_error("expects 2 strides, 2 dilations and 4 paddings");
  for (int64_t v : a.strides)
    if (v < 1) type_error("strides must be >= 1");
  for (int64_t v : a.dilation)
    if (v < 1) type_error("dilation must be >= 1");
  for (int64_t v : a.padding)
    if (v < 0) type_error("padding must be >= 0");
  if (a.groups < 1 || x.shape[1] % a.groups != 0 || w.shape[0] % a.groups != 0 || w.shape[1] * a.groups != x.shape[1])
    type_error("weight " + w.str() + " with groups=" + std::to_string(a.groups) + " does not fit the input " + x.str());
  const int64_t oh = window_output_extent(x.shape[2], w.shape[2], a.strides[0], a.dilation[0], a.padding[0], a.padding[2], false);
  const int64_t ow = window_output_extent(x.shape[3], w.shape[3], a.strides[1], a.dilation[1], a.padding[1], a.padding[3], false);
  if (oh < 1 || ow < 1) type_error("the kernel " + w.str() + " does not fit the padded input " + x.str());
  check_bias(args, 2, w.shape[0]);
  return {TensorType{{x.shape[0], w.shape[0], oh, ow}, DType::int32}};
}

std::vector<Tensor> qnn_conv2d_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& a = attrs_as<QnnConv2DAttrs>(attrs);
  const Tensor weight = a.kernel_layout == "OIHW" ? args[1]
                                                  : transform_layout(args[1], Layout::parse(a.kernel_layout), Layout::parse("OIHW"));
  const auto& xs = args[0].type().shape;
  const auto& ws = weight.type().shape;
  const auto& os = types[0].shape;
  const std::vector<int64_t> x = widened(args[0]), w = widened(weight);
  expect_kernel_bits(w, a.kernel_bits);
  const std::vector<int64_t> bias = args.size() > 2 ? widened(args[2]) : std::vector<int64_t>(static_cast<size_t>(ws[0]), 0);
  const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
  const int64_t K = ws[0], CG = ws[1], R = ws[2], S = ws[3], OH = os[2], OW = os[3];
  const int64_t KG = K / a.groups;
  Tensor out(types[0]);
  size_t i = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) {
      const int64_t wzp = kernel_zp(a.kernel_zero_point, k), g = k / KG;
      for (int64_t oy = 0; oy < OH; ++oy)
        for (int64_t ox = 0; ox < OW; ++ox) {
          int64_t acc = bias[static_cast<size_t>(k)];
          for (int64_t c = 0; c < CG; ++c)
            for (int64_t r = 0; r < R; ++r)
              for (int64_t s = 0; s < S; ++s) {
                const int64_t iy = oy * a.strides[0] - a.padding[0] + r * a.dilation[0];
                const int64_t ix = ox * a.strides[1] - a.padding[1] + s * a.dilation[1];
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;  // the padding holds the zero point
                const int64_t xv = x[static_cast<size_t>(((n * C + g * CG + c) * H + iy) * W + ix)] - a.input_zero_point;
                acc += xv * (w[static_cast<size_t>(((k * CG + c) * R + r) * S + s)] - wzp);
              }
          out.set_element(i++, wrap_int32(acc));
        }
    }
  return {std::move(out)};
}

}  // namespace

TensorType qnn_dense_nk_weight(const TensorType& w, const QnnMatmulAttrs& a) {
  if (a.kernel_layout == "NK") {
    ops::expect_rank(w, 2, "weight [units, in_features]");
    return w;
  }
  const bool pairs = a.kernel_layout == kQnnDensePairLayout;
  if (a.kernel_layout != kQnnDenseQuadLayout && !pairs)
    type_error("kernel_layout '" + a.kernel_layout + "' is not NK, " + kQnnDenseQuadLayout + " or " + kQnnDensePairLayout);
  const int64_t group = pairs ? 2 : 4;
  if (w.rank() != 3 || w.shape[2] != group)
    type_error("a weight in " + a.kernel_layout + " is [in_features/" + std::to_string(group) + ", units, " +
               std::to_string(group) + "], found " + w.str());
  return TensorType{{w.shape[1], w.shape[0] * group}, w.dtype};
}

namespace {

std::vector<TensorType> qnn_dense_type(std::span<const TensorType> args, const Attrs& attrs) {
  const auto& a = attrs_as<QnnMatmulAttrs>(attrs);
  ops::expect_rank(args[0], 2, "input");
  const TensorType w = qnn_dense_nk_weight(args[1], a);
  expect_quantized(args[0], "input", false);
  expect_quantized(w, "weight", false);
  if (args[0].shape[1] != w.shape[1])
    type_error("input " + args[0].str() + " has " + std::to_string(args[0].shape[1]) + " features, weight " + args[1].str() +
               " expects " + std::to_string(w.shape[1]));
  check_zero_point(a.input_zero_point, args[0].dtype, "input zero point");
  check_kernel_zero_points(a.kernel_zero_point, w.shape[0], w.dtype);
  check_kernel_bits(a.kernel_bits, w.dtype);
  check_bias(args, 2, w.shape[0]);
  return {TensorType{{args[0].shape[0], w.shape[0]}, DType::int32}};
}

std::vector<Tensor> qnn_dense_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& a = attrs_as<QnnMatmulAttrs>(attrs);
  const int64_t M = types[0].shape[0], N = types[0].shape[1], K = args[0].type().shape[1];
  const std::vector<int64_t> x = widened(args[0]);
  const std::vector<int64_t> w = widened(a.kernel_layout == "NK" ? args[1]
                                                                 : transform_layout(args[1], Layout::parse(a.kernel_layout), Layout::parse("NK")));
  expect_kernel_bits(w, a.kernel_bits);
  Tensor out(types[0]);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      int64_t acc = args.size() > 2 ? args[2].element_as_int(static_cast<size_t>(n)) : 0;
      const int64_t wzp = kernel_zp(a.kernel_zero_point, n);
      for (int64_t k = 0; k < K; ++k)
        acc += (x[static_cast<size_t>(m * K + k)] - a.input_zero_point) * (w[static_cast<size_t>(n * K + k)] - wzp);
      out.set_element(static_cast<size_t>(m * N + n), wrap_int32(acc));
    }
  return {std::move(out)};
}

std::vector<TensorType> qnn_batch_matmul_type(std::span<const TensorType> args, const Attrs& attrs) {
  const auto& a = attrs_as<QnnMatmulAttrs>(attrs);
  const TensorType& x = args[0];
  const TensorType& y = args[1];
  if (a.kernel_layout != "NK") type_error("kernel_layout '" + a.kernel_layout + "' applies to qnn.dense only");
  if (x.rank() < 2 || y.rank() < 2) type_error("expects operands of rank >= 2, found " + x.str() + " and " + y.str());
  expect_quantized(x, "lhs", false);
  expect_quantized(y, "rhs", false);
  if (x.shape.back() != y.shape[y.rank() - 2])
    type_error(x.str() + " has " + std::to_string(x.shape.back()) + " columns, " + y.str() + " has " +
               std::to_string(y.shape[y.rank() - 2]) + " rows");
  check_zero_point(a.input_zero_point, x.dtype, "lhs zero point");
  check_kernel_zero_points(a.kernel_zero_point, y.shape.back(), y.dtype);
  std::vector<int64_t> shape = ops::broadcast_shapes({x.shape.begin(), x.shape.end() - 2}, {y.shape.begin(), y.shape.end() - 2});
  shape.push_back(x.shape[x.rank() - 2]);
  shape.push_back(y.shape.back());
  return {TensorType{shape, DType::int32}};
}

std::vector<Tensor> qnn_batch_matmul_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& a = attrs_as<QnnMatmulAttrs>(attrs);
  const auto& xs = args[0].type().shape;
  const auto& ys = args[1].type().shape;
  const auto& os = types[0].shape;
  const int64_t M = os[os.size() - 2], N = os.back(), K = xs.back();
  const std::vector<int64_t> batch(os.begin(), os.end() - 2);
  const auto x_batch = ops::broadcast_index_map({xs.begin(), xs.end() - 2}, batch);
  const auto y_batch = ops::broadcast_index_map({ys.begin(), ys.end() - 2}, batch);
  const std::vector<int64_t> x = widened(args[0]), y = widened(args[1]);
  Tensor out(types[0]);
  for (size_t b = 0; b < x_batch.size(); ++b)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        int64_t acc = 0;
        const int64_t yzp = kernel_zp(a.kernel_zero_point, n);
        for (int64_t k = 0; k < K; ++k)
          acc += (x[static_cast<size_t>(x_batch[b] * M * K + m * K + k)] - a.input_zero_point) *
                 (y[static_cast<size_t>(y_batch[b] * K * N + k * N + n)] - yzp);
        out.set_element(static_cast<size_t>((static_cast<int64_t>(b) * M + m) * N + n), wrap_int32(acc));
      }
  return {std::move(out)};
}

// Integer multiply-adds (lang/cost.h counts them apart from float ones):
// every output position multiplies the whole weight (in either kernel
// layout, as many elements as in OIHW); each product
// element is a dot product along x's last axis.
int64_t qnn_conv2d_multiply_adds(std::span<const TensorType> args, const Attrs&, std::span<const TensorType> results) {
  const auto& shape = results[0].shape;  // N, K, OH, OW
  return shape.size() == 4 ? shape[0] * shape[2] * shape[3] * args[1].element_count() : 0;
}

int64_t qnn_matmul_multiply_adds(std::span<const TensorType> args, const Attrs&, std::span<const TensorType> results) {
  return args[0].shape.empty() ? 0 : results[0].element_count() * args[0].shape.back();
}

void register_anchors(OpRegistry& r) {
  OpDef conv;
  conv.name = "qnn.conv2d";
  conv.summary = "int8/uint8 NCHW x OIHW convolution accumulated in int32, optional int32 bias";
  conv.min_args = 2;
  conv.max_args = 3;
  conv.pattern = OpPattern::out_elemwise_fusable;
  conv.make_attrs = [] { return std::make_unique<QnnConv2DAttrs>(); };
  conv.infer_type = qnn_conv2d_type;
  conv.reference = qnn_conv2d_reference;
  conv.multiply_adds = qnn_conv2d_multiply_adds;
  r.add(std::move(conv));

  OpDef dense;
  dense.name = "qnn.dense";
  dense.summary = "int8/uint8 x[M, K] . w[N, K]^T accumulated in int32, optional int32 bias";
  dense.min_args = 2;
  dense.max_args = 3;
  dense.pattern = OpPattern::out_elemwise_fusable;
  dense.make_attrs = [] { return std::make_unique<QnnMatmulAttrs>(); };
  dense.infer_type = qnn_dense_type;
  dense.reference = qnn_dense_reference;
  dense.multiply_adds = qnn_matmul_multiply_adds;
  r.add(std::move(dense));

  OpDef bmm;
  bmm.name = "qnn.batch_matmul";
  bmm.summary = "int8/uint8 x[..., M, K] . y[..., K, N] accumulated in int32, batch axes broadcast";
  bmm.min_args = bmm.max_args = 2;
  bmm.pattern = OpPattern::out_elemwise_fusable;
  bmm.make_attrs = [] { return std::make_unique<QnnMatmulAttrs>(); };
  bmm.infer_type = qnn_batch_matmul_type;
  bmm.reference = qnn_batch_matmul_reference;
  bmm.multiply_adds = qnn_matmul_multiply_adds;
  r.add(std::move(bmm));
}

}  // namespace

void register_qnn_ops(OpRegistry& r) {
  register_conversions(r);
  register_anchors(r);
}

std::string blocked_quad_weight_layout(int64_t block) { return "OIHW" + std::to_string(block) + "o4i"; }

int64_t blocked_quad_weight_block(const std::string& kernel_layout) {
  for (const int64_t block : {int64_t{8}, kQnnQuadWeightBlock})
    if (kernel_layout == blocked_quad_weight_layout(block)) return block;
  return 0;
}

TensorType qnn_conv2d_oihw_weight(const TensorType& w, const QnnConv2DAttrs& a) {
  if (a.kernel_layout == "OIHW") {
    ops::expect_rank(w, 4, "weight (OIHW)");
    return w;
  }
  if (const int64_t block = blocked_quad_weight_block(a.kernel_layout)) {
    ops::expect_rank(w, 6, ("weight (" + a.kernel_layout + ")").c_str());
    if (w.shape[4] != block || w.shape[5] != 4 || a.groups != 1)
      type_error("a weight in " + a.kernel_layout + " holds quads of input channels in blocks of " + std::to_string(block) +
                 " output channels, groups 1");
    return TensorType{{w.shape[0] * block, w.shape[1] * 4, w.shape[2], w.shape[3]}, w.dtype};
  }
  if (a.kernel_layout == kQnnBlockedPairWeightLayout) {
    ops::expect_rank(w, 6, "weight (OIHW8o2i)");
    if (w.shape[4] != kQnnPairWeightBlock || w.shape[5] != 2 || a.groups != 1)
      type_error("a weight in " + a.kernel_layout + " holds pairs of input channels in blocks of 8 output channels, groups 1");
    return TensorType{{w.shape[0] * kQnnPairWeightBlock, w.shape[1] * 2, w.shape[2], w.shape[3]}, w.dtype};
  }
  if (a.kernel_layout != kQnnQuadWeightLayout)
    type_error("kernel_layout must be OIHW, " + std::string(kQnnQuadWeightLayout) + ", " + blocked_quad_weight_layout(8) +
               ", " + kQnnBlockedQuadWeightLayout + " or " + kQnnBlockedPairWeightLayout + ", not " + a.kernel_layout);
  ops::expect_rank(w, 5, "weight (IHWO4i)");
  if (w.shape[4] != 4) type_error("a weight in " + std::string(kQnnQuadWeightLayout) + " holds quads of input channels");
  return TensorType{{w.shape[3], w.shape[0] * 4, w.shape[1], w.shape[2]}, w.dtype};
}

}  // namespace modelc::lang
