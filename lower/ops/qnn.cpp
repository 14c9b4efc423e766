// Compute rules of the elementwise qnn.* operators (quantize, dequantize,
// requantize, add), with the arithmetic of lang/ops/qnn.h written in Halide so
// that kernels and reference agree bit for bit. The integer anchors are in
// lower/ops/qnn_conv2d.cpp and lower/ops/qnn_matmul.cpp.
#include "lower/ops/qnn.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "lang/ops/qnn.h"

namespace modelc::lower {

using Halide::Expr;
using Halide::Var;

namespace {
Expr i64(int64_t v) { return Halide::Internal::make_const(Halide::Int(64), v); }
}  // namespace

// Adding half - 1, plus one more when the floor is odd, and shifting rounds a
// tie to the even neighbour and anything else to the nearest: the same value
// as lang's (floor, rest, compare) in five integer ops, no compares or blends
// (the epilogue of every int8 kernel runs it per output).
// The shift (1..62, lang's fixed_point_multiplier) is unsigned to Halide: a
// signed amount costs a left shift and a blend per shift for the negative
// case that never comes.
Expr rounding_shift_right_even(Expr value, Expr shift) {
  const Expr one = Halide::cast<int64_t>(1);
  const Expr amount = Halide::cast<uint64_t>(shift);
  const Expr odd = (value >> amount) & one;
  return (value + ((one << (amount - Halide::cast<uint64_t>(1))) - one) + odd) >> amount;
}

PerChannelMultiplier per_channel_multiplier(const std::vector<double>& input_scales, double output_scale,
                                            const std::string& name) {
  std::vector<lang::FixedPointMultiplier> m;
  for (double s : input_scales) m.push_back(lang::fixed_point_multiplier(s / output_scale));
  PerChannelMultiplier out;
  out.values = m;
  out.name = name;
  if (m.size() == 1) {
    out.multiplier = [v = m[0].multiplier](const Expr&) { return i64(v); };
    out.shift = [v = m[0].shift](const Expr&) { return i64(v); };
    return out;
  }
  Halide::Buffer<int64_t> multipliers(static_cast<int>(m.size()), name + "_multipliers");
  Halide::Buffer<int64_t> shifts(static_cast<int>(m.size()), name + "_shifts");
  for (size_t i = 0; i < m.size(); ++i) {
    multipliers(static_cast<int>(i)) = m[i].multiplier;
    shifts(static_cast<int>(i)) = m[i].shift;
  }
  out.multiplier = [multipliers](const Expr& c) { return Expr(multipliers(c)); };
  out.shift = [shifts](const Expr& c) { return Expr(shifts(c)); };
  return out;
}

Expr fixed_point_scale(Expr value, Expr multiplier, Expr shift) {
  return rounding_shift_right_even(Halide::cast<int64_t>(value) * multiplier, shift);
}

Expr saturate_to(Expr value, lang::DType dtype, int64_t out_min, int64_t out_max) {
  const int64_t lo = std::max(lang::dtype_min(dtype), out_min), hi = std::min(lang::dtype_max(dtype), out_max);
  return Halide::cast(halide_type(dtype), Halide::clamp(value, i64(lo), i64(hi)));
}

namespace {

// floor(n / d) and ceil(n / d) for d > 0.
int64_t floor_div(int64_t n, int64_t d) { return n >= 0 ? n / d : -((-n + d - 1) / d); }
int64_t ceil_div(int64_t n, int64_t d) { return -floor_div(-n, d); }

// A per-channel table of constants as a Halide expression of the channel.
std::function<Expr(const Expr&)> table(const std::vector<double>& values, const std::string& name) {
  if (values.size() == 1) return [v = static_cast<float>(values[0])](const Expr&) { return Expr(v); };
  Halide::Buffer<float> b(static_cast<int>(values.size()), name);
  for (size_t i = 0; i < values.size(); ++i) b(static_cast<int>(i)) = static_cast<float>(values[i]);
  return [b](const Expr& c) { return Expr(b(c)); };
}

// x * scale (float64) rounded half to even, as an int32, where the product
// is exact and below 2^31 in magnitude: adding 1.5 * 2^52 rounds it to an
// integer, ties to even (float64's spacing there is 1), and leaves it in the
// low bits: no rounding or conversion instruction (Halide's round split each
// vector in halves).
Expr round_exact_product(const Expr& x, const Expr& scale) {
  const Expr magic = Halide::Internal::make_const(Halide::Float(64), 6755399441055744.0);
  return Halide::cast<int32_t>(Halide::reinterpret(Halide::Int(64), Halide::cast<double>(x) * scale + magic));
}

// Whether the target's code generator fuses a float multiply and add into
// one FMA (Halide marks its float ops as contractible unless strict_float):
// x86 with FMA, where tests/lower/qnn_test.cpp checks that it does (ARM64
// would too, unchecked: it keeps the float64 forms).
bool fuses_multiply_add(const Halide::Target& target) {
  return target.arch == Halide::Target::X86 && target.has_feature(Halide::Target::FMA);
}

// 1.5 * 2^23 and its bits: a float32 in [2^23, 2^24) has spacing 1, so
// adding it rounds a value below 2^22 in magnitude to an integer, ties to
// even, left in the low bits.
constexpr float kRoundingMagic = 12582912.0f;
constexpr int32_t kRoundingMagicBits = 0x4B400000;

// The bits of fma(x, scale, 1.5 * 2^23) for an int32 x held exactly by a
// float32 (|x| < 2^24) and a float32 scale: kRoundingMagicBits plus
// x * scale rounded half to even, the exact product rounded once, where
// |x * scale| < 2^22.
Expr fused_rounding_bits(const Expr& x, const Expr& scale) {
  return Halide::reinterpret(Halide::Int(32), Halide::cast<float>(x) * scale + kRoundingMagic);
}

// multiplier * 2^-shift, where a float32 holds it exactly.
std::optional<float> float_scale(const lang::FixedPointMultiplier& f) {
  const double s = std::ldexp(static_cast<double>(f.multiplier), -f.shift);
  if (f.multiplier <= 0 || static_cast<double>(static_cast<float>(s)) != s) return std::nullopt;
  return static_cast<float>(s);
}

// The requantization of an int32 accumulator (no input zero point) to an
// 8-bit output in float64, where it is exact: the accumulator is first
// clamped to [acc_lo, acc_hi], outside which the output saturates anyway,
// and within it acc * multiplier has at most 53 significant bits, so its
// product by multiplier * 2^-shift (exact in float64) is exact, and rounding
// that to the nearest integer, ties to even, is the fixed-point result. Per
// 16 outputs that is about a dozen instructions where the int64 form takes
// twice as many (widening products of even and odd lanes, 64-bit shifts, the
// parity, narrowing). nullopt when a channel's shift or range is too wide.
struct ExactInDouble {
  std::function<Expr(const Expr&)> scale, acc_lo, acc_hi;
};

std::optional<ExactInDouble> exact_in_double(const PerChannelMultiplier& m, int64_t lo, int64_t hi) {
  const size_t n = m.values.size();
  if (n == 0) return std::nullopt;
  std::vector<double> scale(n);
  std::vector<int32_t> acc_lo(n), acc_hi(n);
  for (size_t i = 0; i < n; ++i) {
    const lang::FixedPointMultiplier f = m.values[i];
    if (f.multiplier <= 0 || f.shift > 44) return std::nullopt;
    // acc >= acc_hi gives acc * s >= hi, so the output saturates at hi; likewise at lo.
    const int64_t a_lo = floor_div(lo * (int64_t{1} << f.shift), f.multiplier);
    const int64_t a_hi = ceil_div(hi * (int64_t{1} << f.shift), f.multiplier);
    const int64_t widest = std::max(-a_lo, a_hi);
    if (widest >= (int64_t{1} << 31) || widest * f.multiplier >= (int64_t{1} << 53)) return std::nullopt;
    scale[i] = std::ldexp(static_cast<double>(f.multiplier), -f.shift);
    acc_lo[i] = static_cast<int32_t>(a_lo);
    acc_hi[i] = static_cast<int32_t>(a_hi);
  }
  ExactInDouble e;
  if (n == 1) {
    e.scale = [v = scale[0]](const Expr&) { return Expr(v); };
    e.acc_lo = [v = acc_lo[0]](const Expr&) { return Expr(v); };
    e.acc_hi = [v = acc_hi[0]](const Expr&) { return Expr(v); };
    return e;
  }
  Halide::Buffer<double> sb(static_cast<int>(n), m.name + "_scales");
  Halide::Buffer<int32_t> lb(static_cast<int>(n), m.name + "_acc_lo"), hb(static_cast<int>(n), m.name + "_acc_hi");
  for (size_t i = 0; i < n; ++i) {
    sb(static_cast<int>(i)) = scale[i];
    lb(static_cast<int>(i)) = acc_lo[i];
    hb(static_cast<int>(i)) = acc_hi[i];
  }
  e.scale = [sb](const Expr& c) { return Expr(sb(c)); };
  e.acc_lo = [lb](const Expr& c) { return Expr(lb(c)); };
  e.acc_hi = [hb](const Expr& c) { return Expr(hb(c)); };
  return e;
}

// The requantization of an int32 accumulator to an 8-bit output with one
// fused multiply-add in float32 (fused_rounding_bits), exact where each
// channel's scale s = multiplier * 2^-shift is a float32 (a multiplier of
// at most 24 bits) and s * 2^24 > bound + 1, bound the larger of -lo and hi:
// then every accumulator whose output does not saturate is below 2^24 in
// magnitude, so a float32 holds it, and its product is below 2^22. Farther
// out the FMA is monotone in acc and its bits, read as an int32, land beyond
// either clamp bound (a negative float's are negative), so clamping the bits
// saturates as the exact product would. Per 16 outputs: a conversion, the
// FMA, two clamps, a subtraction and the narrowing, where the float64 form
// takes about a dozen (MobileNetV2's int8 kernels: 2.99 -> 2.38 ms). The
// per-channel float32 scales, or nullopt where the target does not fuse or
// a channel does not fit.
std::optional<std::function<Expr(const Expr&)>> exact_in_float_scale(const PerChannelMultiplier& m, int64_t lo, int64_t hi,
                                                                   const Halide::Target& target) {
  if (!fuses_multiply_add(target) || m.values.empty()) return std::nullopt;
  const double bound = static_cast<double>(std::max(-lo, hi)) + 1;
  std::vector<double> scale;
  for (const lang::FixedPointMultiplier& f : m.values) {
    const std::optional<float> s = float_scale(f);
    if (!s || static_cast<double>(*s) * 16777216.0 <= bound) return std::nullopt;
    scale.push_back(*s);
  }
  return table(scale, m.name + "_scales");  // float32 tables: each value is one exactly
}

}  // namespace

Expr requantize_expr(Expr acc, const lang::RequantizeAttrs& a, const PerChannelMultiplier& m, Expr channel,
                     const Halide::Target& target) {
  const bool widening = acc.type() == Halide::Int(32) && a.input_zero_point == 0;
  const bool eight_bit = a.out_dtype == lang::DType::uint8 || a.out_dtype == lang::DType::int8;
  const int64_t lo = std::max(lang::dtype_min(a.out_dtype), a.out_min) - a.output_zero_point;
  const int64_t hi = std::min(lang::dtype_max(a.out_dtype), a.out_max) - a.output_zero_point;
  const auto narrow = [&](const Expr& q) {
    const Expr clamped = Halide::clamp(q, static_cast<int32_t>(lo), static_cast<int32_t>(hi));
    return Halide::cast(halide_type(a.out_dtype), clamped + static_cast<int32_t>(a.output_zero_point));
  };
  if (widening && eight_bit)
    if (const auto scale = exact_in_float_scale(m, lo, hi, target)) {
      const Expr bits = fused_rounding_bits(acc, (*scale)(channel));
      const Expr clamped = Halide::clamp(bits, kRoundingMagicBits + static_cast<int32_t>(lo),
                                         kRoundingMagicBits + static_cast<int32_t>(hi));
      return Halide::cast(halide_type(a.out_dtype), clamped - (kRoundingMagicBits - static_cast<int32_t>(a.output_zero_point)));
    }
  if (widening && eight_bit)
    if (const std::optional<ExactInDouble> e = exact_in_double(m, lo, hi)) {
      const Expr clamped = Halide::clamp(acc, e->acc_lo(channel), e->acc_hi(channel));
      return narrow(round_exact_product(clamped, e->scale(channel)));
    }
  // An int32 accumulator without a zero point times a multiplier below 2^31:
  // a widening 32 x 32 -> 64-bit product (vpmuldq), where an int64 x int64
  // one took three times the instructions in every int8 epilogue.
  const Expr product = widening ? Halide::Internal::widening_mul(acc, Halide::cast<int32_t>(m.multiplier(channel)))
                                : (Halide::cast<int64_t>(acc) - i64(a.input_zero_point)) * m.multiplier(channel);
  const Expr scaled = rounding_shift_right_even(product, m.shift(channel));
  // |acc * multiplier| < 2^(31 + kFixedPointBits), so shifted by
  // kFixedPointBits or more it fits in 32 bits: clamped and narrowed from
  // int32, where from int64 the casts took three rounds of packs and
  // permutes per vector.
  const bool narrow_shifts = std::all_of(m.values.begin(), m.values.end(), [](const lang::FixedPointMultiplier& f) {
    return f.shift >= lang::kFixedPointBits;
  });
  if (widening && narrow_shifts && eight_bit) return narrow(Halide::cast<int32_t>(scaled));
  return saturate_to(scaled + i64(a.output_zero_point), a.out_dtype, a.out_min, a.out_max);
}

namespace {

// The index along the parameters' axis of output index `v` (0 for per-tensor).
Expr channel_index(const std::vector<Var>& v, size_t params, int64_t axis) {
  if (params <= 1) return Expr(0);
  const auto rank = static_cast<int64_t>(v.size());
  return v[static_cast<size_t>(axis < 0 ? axis + rank : axis)];
}

std::function<Expr(const Expr&)> int_table(const std::vector<int64_t>& values, const std::string& name) {
  if (values.size() == 1) return [v = static_cast<int32_t>(values[0])](const Expr&) { return Expr(v); };
  Halide::Buffer<int32_t> b(static_cast<int>(values.size()), name);
  for (size_t i = 0; i < values.size(); ++i) b(static_cast<int>(i)) = static_cast<int32_t>(values[i]);
  return [b](const Expr& c) { return Expr(b(c)); };
}

LoweredOp lower_quantize(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = lang::attrs_as<lang::QuantizeAttrs>(*ctx.binding.attrs);
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto scale = table(a.scale, ctx.name + "_scale");
  const auto zero_point = int_table(a.zero_point, ctx.name + "_zero_point");
  const int64_t lo = lang::dtype_min(a.out_dtype), hi = lang::dtype_max(a.out_dtype);
  const bool eight_bit = hi - lo == 255;
  // NaN quantizes to the zero point (clamped to the type), as the reference
  // does: min and max turned it into the type's largest value. Told from the
  // input's bits (is_nan_bits: Halide::is_nan of the rounded quotient was
  // folded to false on an AVX2 host).
  std::vector<int64_t> nan_values;
  for (int64_t zp : a.zero_point) nan_values.push_back(std::clamp(zp, lo, hi));
  const auto nan_value = int_table(nan_values, ctx.name + "_nan");
  return {define(ctx.name, t,
                 [&](const std::vector<Var>& v) {
                   const Expr c = channel_index(v, a.scale.size(), a.axis);
                   // Halide's round is half to even, like the reference's nearbyint.
                   const Expr x = args[0].at({v.begin(), v.end()});
                   const Expr q = Halide::round(x / scale(c));
                   const Halide::Type out = halide_type(a.out_dtype);
                   // To 8 bits in float32: q is an integer, and q + zero point is
                   // exact below 2^24; above, it is clamped either way. (In float64
                   // the conversions took most of the quantization of an image.)
                   const Halide::Type work = eight_bit ? Halide::Float(32) : Halide::Float(64);
                   const Expr shifted = Halide::cast(work, q) + Halide::cast(work, zero_point(c));
                   const Expr clamped = Halide::clamp(shifted, Halide::Internal::make_const(work, static_cast<double>(lo)),
                                                      Halide::Internal::make_const(work, static_cast<double>(hi)));
                   return Halide::select(is_nan_bits(x), Halide::cast(out, nan_value(c)), Halide::cast(out, clamped));
                 }),
          {},
          {}};
}

LoweredOp lower_dequantize(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = lang::attrs_as<lang::DequantizeAttrs>(*ctx.binding.attrs);
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto scale = table(a.scale, ctx.name + "_scale");
  const auto zero_point = int_table(a.zero_point, ctx.name + "_zero_point");
  return {define(ctx.name, t,
                 [&](const std::vector<Var>& v) {
                   const Expr c = channel_index(v, a.scale.size(), a.axis);
                   const Expr q = Halide::cast<int32_t>(args[0].at({v.begin(), v.end()})) - zero_point(c);
                   return Halide::cast<float>(q) * scale(c);
                 }),
          {},
          {}};
}

LoweredOp lower_requantize(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = lang::attrs_as<lang::RequantizeAttrs>(*ctx.binding.attrs);
  const lang::TensorType t = ctx.binding.types.at(0);
  const PerChannelMultiplier m = per_channel_multiplier(a.input_scale, a.output_scale, ctx.name);
  return {define(ctx.name, t,
                 [&](const std::vector<Var>& v) {
                   return requantize_expr(args[0].at({v.begin(), v.end()}), a, m, channel_index(v, a.input_scale.size(), a.axis),
                                          ctx.target);
                 }),
          {},
          {}};
}

Expr broadcast_at(const TensorFunc& arg, const std::vector<Var>& v) {
  const size_t offset = v.size() - arg.type.rank();
  std::vector<Expr> idx;
  for (size_t d = 0; d < arg.type.rank(); ++d) idx.push_back(arg.type.shape[d] == 1 ? Expr(0) : Expr(v[offset + d]));
  return arg.at(idx);
}

// fixed_point_scale(value, m) of an int32 `value` in [-bound, bound] as an
// int32, computed in floating point where that is exact; the result is kept
// below 2^29 in magnitude, so that two of them and a zero point add in
// int32. nullopt otherwise. Where the target fuses multiply-adds and a
// float32 holds the scale: one FMA in float32 (fused_rounding_bits; bound
// below 2^24 and bound * scale below 2^22). Else in float64: value *
// multiplier has at most 53 significant bits (bound < 2^22), times 2^-shift
// it is still exact (round_exact_product). Per 16 lanes a conversion, the
// FMA and a subtraction in float32, twice the conversions and FMAs and the
// narrowing of 64-bit lanes in float64, where the int64 form took a 64-bit
// multiply (three uops), shifts, masks and three rounds of packs to narrow:
// qnn.add was half of ResNet-18's int8 residual epilogues.
std::optional<Expr> fixed_point_scale_exact(const Expr& value, int64_t bound, const lang::FixedPointMultiplier& m,
                                            const Halide::Target& target) {
  if (m.multiplier < 0 || bound < 0 || bound >= (int64_t{1} << 22) || m.shift < 0 || m.shift > 62) return std::nullopt;
  const double scale = std::ldexp(static_cast<double>(m.multiplier), -m.shift);
  if (static_cast<double>(bound) * scale >= static_cast<double>(int64_t{1} << 29)) return std::nullopt;
  // The value passes through a reinterpret, which Halide 14's intrinsic
  // matching does not see through: a product of a widened 8-bit value and a
  // scale that a narrower float holds exactly (0.5) became an integer
  // widening multiply by a float16 constant, which failed in codegen.
  const Expr opaque = Halide::reinterpret(Halide::Int(32), Halide::cast<uint32_t>(value));
  const std::optional<float> single = float_scale(m);
  if (fuses_multiply_add(target) && single && static_cast<double>(bound) * scale < static_cast<double>(1 << 22)) {
    // Less the magic's bits in uint32 (and back through a reinterpret): in
    // int32 the simplifier gathered both terms' constants of a sum into one
    // that overflows.
    const Expr offset = Halide::cast<uint32_t>(fused_rounding_bits(opaque, *single)) - Halide::Expr(static_cast<uint32_t>(kRoundingMagicBits));
    return Halide::reinterpret(Halide::Int(32), offset);
  }
  return round_exact_product(opaque, Halide::Internal::make_const(Halide::Float(64), scale));
}

// The largest |q - zero_point| of a value q of `dtype`.
int64_t offset_bound(lang::DType dtype, int64_t zero_point) {
  return std::max(lang::dtype_max(dtype) - zero_point, zero_point - lang::dtype_min(dtype));
}

LoweredOp lower_add(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = lang::attrs_as<lang::QnnAddAttrs>(*ctx.binding.attrs);
  const lang::TensorType t = ctx.binding.types.at(0);
  const lang::FixedPointMultiplier ml = lang::fixed_point_multiplier(a.lhs_scale / a.output_scale);
  const lang::FixedPointMultiplier mr = lang::fixed_point_multiplier(a.rhs_scale / a.output_scale);
  const int64_t lhs_bound = offset_bound(args[0].type.dtype, a.lhs_zero_point);
  const int64_t rhs_bound = offset_bound(args[1].type.dtype, a.rhs_zero_point);
  const int64_t lo = std::max(lang::dtype_min(a.out_dtype), a.out_min), hi = std::min(lang::dtype_max(a.out_dtype), a.out_max);
  const bool int32_sum = std::abs(a.output_zero_point) < (int64_t{1} << 29) && lo <= hi;
  return {define(ctx.name, t,
                 [&](const std::vector<Var>& v) {
                   const Expr l = Halide::cast<int32_t>(broadcast_at(args[0], v)) - static_cast<int32_t>(a.lhs_zero_point);
                   const Expr r = Halide::cast<int32_t>(broadcast_at(args[1], v)) - static_cast<int32_t>(a.rhs_zero_point);
                   const std::optional<Expr> dl = fixed_point_scale_exact(l, lhs_bound, ml, ctx.target);
                   const std::optional<Expr> dr = fixed_point_scale_exact(r, rhs_bound, mr, ctx.target);
                   if (dl && dr && int32_sum) {
                     // lo and hi lie within the 8-bit output type.
                     const Expr sum = *dl + *dr + static_cast<int32_t>(a.output_zero_point);
                     return Halide::cast(halide_type(a.out_dtype), Halide::clamp(sum, static_cast<int32_t>(lo), static_cast<int32_t>(hi)));
                   }
                   const Expr sum = fixed_point_scale(l, i64(ml.multiplier), i64(ml.shift)) +
                                    fixed_point_scale(r, i64(mr.multiplier), i64(mr.shift));
                   return saturate_to(sum + i64(a.output_zero_point), a.out_dtype, a.out_min, a.out_max);
                 }),
          {},
          {}};
}

}  // namespace

void register_qnn_lowerings(LoweringRegistry& r) {
  r.add("qnn.quantize", lower_quantize);
  r.add("qnn.dequantize", lower_dequantize);
  r.add("qnn.requantize", lower_requantize);
  r.add("qnn.add", lower_add);
  register_qnn_conv2d_lowerings(r);
  register_qnn_matmul_lowerings(r);
}

}  // namespace modelc::lower
