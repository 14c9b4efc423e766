// Compute rules of the elementwise operators (numpy broadcasting for binary ops).
#include <cmath>

#include "lang/ops/elementwise.h"
#include "lower/tensor_func.h"

namespace modelc::lower {
namespace {

using Halide::Expr;
using Halide::Var;

// The element of `arg` that broadcasts to output index `v` (IR order).
Expr broadcast_at(const TensorFunc& arg, const std::vector<Var>& v) {
  const size_t offset = v.size() - arg.type.rank();
  std::vector<Expr> idx;
  for (size_t d = 0; d < arg.type.rank(); ++d)
    idx.push_back(arg.type.shape[d] == 1 ? Expr(0) : Expr(v[offset + d]));
  return arg.at(idx);
}

// Halide's integer % is Euclidean (the result is never negative); these turn
// it into Python's floor mod (the divisor's sign) and C's fmod (the dividend's).
Expr floor_mod(Expr a, Expr b) {
  if (a.type().is_float()) return a - b * Halide::floor(a / b);
  Expr r = a % b;
  return Halide::select(r != 0 && b < 0, r + b, r);
}

Expr trunc_mod(Expr a, Expr b) {
  if (a.type().is_float()) return a - b * Halide::trunc(a / b);
  Expr r = a % b;
  return Halide::select(r != 0 && a < 0, r - Halide::abs(Halide::cast(a.type(), b)), r);
}

Expr apply_binary(lang::BinaryOp op, Expr a, Expr b) {
  switch (op) {
    case lang::BinaryOp::add: return a + b;
    case lang::BinaryOp::subtract: return a - b;
    case lang::BinaryOp::multiply: return a * b;
    case lang::BinaryOp::divide: return a / b;
    case lang::BinaryOp::maximum: return Halide::max(a, b);
    case lang::BinaryOp::minimum: return Halide::min(a, b);
    case lang::BinaryOp::power:
      if (a.type().is_float()) return Halide::pow(a, Halide::cast(a.type(), b));
      // Integer powers: exact while the result fits a float's mantissa, rounded back.
      return Halide::cast(a.type(), Halide::round(Halide::pow(Halide::cast<double>(a), Halide::cast<double>(b))));
    case lang::BinaryOp::floor_mod: return floor_mod(a, b);
    case lang::BinaryOp::trunc_mod: return trunc_mod(a, b);
    case lang::BinaryOp::left_shift: return a << b;
    case lang::BinaryOp::right_shift: return a >> b;
    case lang::BinaryOp::prelu: return Halide::select(a < 0, a * b, a);
    case lang::BinaryOp::equal: return a == b;
    case lang::BinaryOp::not_equal: return a != b;
    case lang::BinaryOp::less: return a < b;
    case lang::BinaryOp::less_equal: return a <= b;
    case lang::BinaryOp::greater: return a > b;
    case lang::BinaryOp::greater_equal: return a >= b;
    case lang::BinaryOp::logical_and: return a != 0 && b != 0;
    case lang::BinaryOp::logical_or: return a != 0 || b != 0;
    case lang::BinaryOp::logical_xor: return (a != 0) != (b != 0);
  }
  return a;
}

ComputeRule binary_rule(lang::BinaryOp op) {
  return [op](std::span<const TensorFunc> args, const LowerContext& ctx) {
    const lang::TensorType t = ctx.binding.types.at(0);
    return LoweredOp{define(ctx.name, t, [&](const std::vector<Var>& v) {
                       Expr a = broadcast_at(args[0], v), b = broadcast_at(args[1], v);
                       // Integer division truncates toward zero as in C and ONNX (Halide floors).
                       if (op == lang::BinaryOp::divide && !a.type().is_float())
                         return Halide::select(b == 0, Halide::cast(a.type(), 0),
                                               Halide::cast(a.type(), Halide::cast<double>(a) / Halide::cast<double>(b)));
                       return apply_binary(op, a, b);
                     }),
                     {}, {}};
  };
}

ComputeRule unary_rule(std::function<Expr(Expr)> f) {
  return [f](std::span<const TensorFunc> args, const LowerContext& ctx) {
    return LoweredOp{define(ctx.name, ctx.binding.types.at(0), [&](const std::vector<Var>& v) {
                       std::vector<Expr> idx(v.begin(), v.end());
                       return f(args[0].at(idx));
                     }),
                     {}, {}};
  };
}

// An elementwise rule whose function reads the op's attributes.
template <typename A>
ComputeRule activation_rule(std::function<Expr(Expr, const A&)> f) {
  return [f](std::span<const TensorFunc> args, const LowerContext& ctx) {
    const A& a = lang::attrs_as<A>(*ctx.binding.attrs);
    return unary_rule([&](Expr x) { return f(x, a); })(args, ctx);
  };
}

Expr f32(double v) { return Expr(static_cast<float>(v)); }

// Clamps an integer to [lo, hi]; bounds beyond the type's range (a float
// clip's defaults) do not bound it.
Expr clamp_integer(Expr x, double lo, double hi) {
  const int bits = x.type().bits();
  const double type_min = x.type().is_int() ? -std::ldexp(1.0, bits - 1) : 0.0;
  const double type_max = x.type().is_int() ? std::ldexp(1.0, bits - 1) - 1 : std::ldexp(1.0, bits) - 1;
  Expr y = x;
  if (lo > type_min) y = Halide::max(y, Halide::cast(x.type(), Expr(static_cast<int64_t>(lo))));
  if (hi < type_max) y = Halide::min(y, Halide::cast(x.type(), Expr(static_cast<int64_t>(hi))));
  return y;
}

void register_unary_math(LoweringRegistry& r) {
  r.add("nn.relu", unary_rule([](Expr x) { return Halide::max(x, 0.f); }));
  r.add("sigmoid", unary_rule([](Expr x) { return sigmoid_bounded(x); }));
  r.add("nn.silu", unary_rule([](Expr x) { return silu_bounded(x); }));
  r.add("tanh", unary_rule([](Expr x) { return x.type() == Halide::Float(32) ? tanh_rational(x) : Halide::tanh(x); }));
  r.add("exp", unary_rule([](Expr x) { return Halide::exp(x); }));
  r.add("log", unary_rule([](Expr x) { return Halide::log(x); }));
  r.add("sqrt", unary_rule([](Expr x) { return Halide::sqrt(x); }));
  r.add("negative", unary_rule([](Expr x) { return -x; }));
  r.add("abs", unary_rule([](Expr x) { return Halide::abs(x); }));
  r.add("erf", unary_rule([](Expr x) { return erf_rational(x); }));
  r.add("nn.gelu", unary_rule([](Expr x) { return gelu_rational(x); }));
  r.add("floor", unary_rule([](Expr x) { return Halide::floor(x); }));
  r.add("ceil", unary_rule([](Expr x) { return Halide::ceil(x); }));
  r.add("round", unary_rule([](Expr x) { return Halide::round(x); }));  // halves to even, as ONNX
  r.add("reciprocal", unary_rule([](Expr x) { return 1.f / x; }));
  r.add("sin", unary_rule([](Expr x) { return Halide::sin(x); }));
  r.add("cos", unary_rule([](Expr x) { return Halide::cos(x); }));
  r.add("tan", unary_rule([](Expr x) { return Halide::tan(x); }));
  r.add("asin", unary_rule([](Expr x) { return Halide::asin(x); }));
  r.add("acos", unary_rule([](Expr x) { return Halide::acos(x); }));
  r.add("atan", unary_rule([](Expr x) { return Halide::atan(x); }));
  r.add("sinh", unary_rule([](Expr x) { return Halide::sinh(x); }));
  r.add("cosh", unary_rule([](Expr x) { return Halide::cosh(x); }));
  r.add("asinh", unary_rule([](Expr x) { return Halide::asinh(x); }));
  r.add("acosh", unary_rule([](Expr x) { return Halide::acosh(x); }));
  r.add("atanh", unary_rule([](Expr x) { return Halide::atanh(x); }));
  r.add("nn.softplus", unary_rule([](Expr x) { return Halide::select(x > 20.f, x, Halide::log(1.f + Halide::exp(x))); }));
  r.add("nn.softsign", unary_rule([](Expr x) { return x / (1.f + Halide::abs(x)); }));
  r.add("nn.hard_swish", unary_rule([](Expr x) { return x * Halide::clamp(x / 6.f + 0.5f, 0.f, 1.f); }));
  r.add("sign", unary_rule([](Expr x) {
    return Halide::select(x > 0, Halide::cast(x.type(), 1), x < 0, Halide::cast(x.type(), -1), Halide::cast(x.type(), 0));
  }));
}

void register_activations(LoweringRegistry& r) {
  r.add("clip", activation_rule<lang::ClipAttrs>([](Expr x, const lang::ClipAttrs& a) {
    return x.type().is_float() ? Halide::clamp(x, f32(a.a_min), f32(a.a_max)) : clamp_integer(x, a.a_min, a.a_max);
  }));
  r.add("nn.leaky_relu", activation_rule<lang::LeakyReluAttrs>([](Expr x, const lang::LeakyReluAttrs& a) {
    return Halide::select(x > 0, x, x * f32(a.alpha));
  }));
  r.add("nn.elu", activation_rule<lang::ActivationAttrs>([](Expr x, const lang::ActivationAttrs& a) {
    return Halide::select(x > 0, x, f32(a.alpha) * (Halide::exp(x) - 1.f));
  }));
  r.add("nn.celu", activation_rule<lang::ActivationAttrs>([](Expr x, const lang::ActivationAttrs& a) {
    return Halide::max(x, 0.f) + Halide::min(0.f, f32(a.alpha) * (Halide::exp(x / f32(a.alpha)) - 1.f));
  }));
  r.add("nn.selu", activation_rule<lang::ActivationAttrs>([](Expr x, const lang::ActivationAttrs& a) {
    return f32(a.beta) * Halide::select(x > 0, x, f32(a.alpha) * (Halide::exp(x) - 1.f));
  }));
  r.add("nn.hard_sigmoid", activation_rule<lang::ActivationAttrs>([](Expr x, const lang::ActivationAttrs& a) {
    return Halide::clamp(f32(a.alpha) * x + f32(a.beta), 0.f, 1.f);
  }));
  r.add("nn.thresholded_relu", activation_rule<lang::ActivationAttrs>([](Expr x, const lang::ActivationAttrs& a) {
    return Halide::select(x > f32(a.alpha), x, 0.f);
  }));
  r.add("nn.shrink", activation_rule<lang::ActivationAttrs>([](Expr x, const lang::ActivationAttrs& a) {
    return Halide::select(x < -f32(a.alpha), x + f32(a.beta), x > f32(a.alpha), x - f32(a.beta), 0.f);
  }));
}

void register_conversions(LoweringRegistry& r) {
  r.add("cast", [](std::span<const TensorFunc> args, const LowerContext& ctx) {
    const lang::DType to = lang::attrs_as<lang::CastAttrs>(*ctx.binding.attrs).dtype;
    return unary_rule([to](Expr x) {
      if (to == lang::DType::boolean) return Halide::cast(halide_type(to), x != Halide::cast(x.type(), 0));
      return Halide::cast(halide_type(to), x);
    })(args, ctx);
  });
  r.add("logical_not", unary_rule([](Expr x) { return x == 0; }));
  r.add("isnan", unary_rule([](Expr x) { return is_nan_bits(x); }));
  r.add("isinf", activation_rule<lang::IsInfAttrs>([](Expr x, const lang::IsInfAttrs& a) {
    Expr inf = Halide::is_inf(x);
    if (!a.detect_positive) inf = inf && x < 0;
    if (!a.detect_negative) inf = inf && x > 0;
    return inf;
  }));
  r.add("where", [](std::span<const TensorFunc> args, const LowerContext& ctx) {
    return LoweredOp{define(ctx.name, ctx.binding.types.at(0), [&](const std::vector<Var>& v) {
                       return Halide::select(broadcast_at(args[0], v) != 0, broadcast_at(args[1], v), broadcast_at(args[2], v));
                     }),
                     {}, {}};
  });
}

}  // namespace

void register_elementwise_lowerings(LoweringRegistry& r) {
  for (lang::BinaryOp op : lang::kBinaryOps) r.add(lang::binary_op_name(op), binary_rule(op));
  register_unary_math(r);
  register_activations(r);
  register_conversions(r);
}

}  // namespace modelc::lower
