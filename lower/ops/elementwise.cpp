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

Expr apply_binary(lang::BinaryOp op, Expr a, Expr b) {
  switch (op) {
    case lang::BinaryOp::add: return a + b;
    case lang::BinaryOp::subtract: return a - b;
    case lang::BinaryOp::multiply: return a * b;
    case lang::BinaryOp::divide: return a / b;
    case lang::BinaryOp::maximum: return Halide::max(a, b);
    case lang::BinaryOp::minimum: return Halide::min(a, b);
    case lang::BinaryOp::power: return a.type().is_float() ? Halide::pow(a, b) : Halide::cast(a.type(), Halide::pow(Halide::cast<float>(a), Halide::cast<float>(b)));
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

// erf(x) = sign(x) (1 - erfc(|x|)), with the Chebyshev fit of erfc from
// Numerical Recipes (fractional error below 1.2e-7 everywhere): Halide has no erf.
Expr erf_approx(Expr x) {
  Expr z = Halide::abs(x);
  Expr t = 1.f / (1.f + 0.5f * z);
  Expr poly = -z * z - 1.26551223f +
              t * (1.00002368f +
                   t * (0.37409196f +
                        t * (0.09678418f +
                             t * (-0.18628806f +
                                  t * (0.27886807f +
                                       t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));
  Expr erfc = t * Halide::exp(poly);
  return Halide::select(x >= 0, 1.f - erfc, erfc - 1.f);
}

}  // namespace

void register_elementwise_lowerings(LoweringRegistry& r) {
  for (lang::BinaryOp op : lang::kBinaryOps) r.add(lang::binary_op_name(op), binary_rule(op));
  r.add("nn.relu", unary_rule([](Expr x) { return Halide::max(x, 0.f); }));
  r.add("sigmoid", unary_rule([](Expr x) { return 1.f / (1.f + Halide::exp(-x)); }));
  r.add("tanh", unary_rule([](Expr x) { return Halide::tanh(x); }));
  r.add("exp", unary_rule([](Expr x) { return Halide::exp(x); }));
  r.add("log", unary_rule([](Expr x) { return Halide::log(x); }));
  r.add("sqrt", unary_rule([](Expr x) { return Halide::sqrt(x); }));
  r.add("negative", unary_rule([](Expr x) { return -x; }));
  r.add("abs", unary_rule([](Expr x) { return Halide::abs(x); }));
  r.add("erf", unary_rule(erf_approx));
  r.add("clip", [](std::span<const TensorFunc> args, const LowerContext& ctx) {
    const auto& a = lang::attrs_as<lang::ClipAttrs>(*ctx.binding.attrs);
    const auto lo = static_cast<float>(a.a_min), hi = static_cast<float>(a.a_max);
    return unary_rule([lo, hi](Expr x) { return Halide::clamp(x, lo, hi); })(args, ctx);
  });
  r.add("nn.leaky_relu", [](std::span<const TensorFunc> args, const LowerContext& ctx) {
    const auto alpha = static_cast<float>(lang::attrs_as<lang::LeakyReluAttrs>(*ctx.binding.attrs).alpha);
    return unary_rule([alpha](Expr x) { return Halide::select(x > 0, x, x * alpha); })(args, ctx);
  });
}

}  // namespace modelc::lower
