// Elementwise operators: broadcast binary arithmetic, comparisons and logic,
// unary math, activations, casts, select.
#include "lang/ops/elementwise.h"

#include <algorithm>
#include <cmath>

#include "lang/ops/op_helpers.h"

namespace modelc::lang {

const char* binary_op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::add: return "add";
    case BinaryOp::subtract: return "subtract";
    case BinaryOp::multiply: return "multiply";
    case BinaryOp::divide: return "divide";
    case BinaryOp::maximum: return "maximum";
    case BinaryOp::minimum: return "minimum";
    case BinaryOp::power: return "power";
    case BinaryOp::floor_mod: return "floor_mod";
    case BinaryOp::trunc_mod: return "trunc_mod";
    case BinaryOp::left_shift: return "left_shift";
    case BinaryOp::right_shift: return "right_shift";
    case BinaryOp::prelu: return "nn.prelu";
    case BinaryOp::equal: return "equal";
    case BinaryOp::not_equal: return "not_equal";
    case BinaryOp::less: return "less";
    case BinaryOp::less_equal: return "less_equal";
    case BinaryOp::greater: return "greater";
    case BinaryOp::greater_equal: return "greater_equal";
    case BinaryOp::logical_and: return "logical_and";
    case BinaryOp::logical_or: return "logical_or";
    case BinaryOp::logical_xor: return "logical_xor";
  }
  return "?";
}

bool is_comparison(BinaryOp op) { return op >= BinaryOp::equal && op <= BinaryOp::greater_equal; }
bool is_logical(BinaryOp op) { return op >= BinaryOp::logical_and; }

namespace {

double apply_binary(BinaryOp op, double a, double b, bool integer) {
  switch (op) {
    case BinaryOp::add: return a + b;
    case BinaryOp::subtract: return a - b;
    case BinaryOp::multiply: return a * b;
    case BinaryOp::divide: return integer ? (b == 0 ? 0 : std::trunc(a / b)) : a / b;
    case BinaryOp::maximum: return std::max(a, b);
    case BinaryOp::minimum: return std::min(a, b);
    case BinaryOp::power: return std::pow(a, b);
    case BinaryOp::floor_mod: {
      if (b == 0) return 0;
      const double r = std::fmod(a, b);
      return r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
    }
    case BinaryOp::trunc_mod: return b == 0 ? 0 : std::fmod(a, b);
    case BinaryOp::left_shift: return static_cast<double>(static_cast<uint64_t>(a) << static_cast<uint64_t>(b));
    case BinaryOp::right_shift: return static_cast<double>(static_cast<uint64_t>(a) >> static_cast<uint64_t>(b));
    case BinaryOp::prelu: return a < 0 ? a * b : a;
    case BinaryOp::equal: return a == b;
    case BinaryOp::not_equal: return a != b;
    case BinaryOp::less: return a < b;
    case BinaryOp::less_equal: return a <= b;
    case BinaryOp::greater: return a > b;
    case BinaryOp::greater_equal: return a >= b;
    case BinaryOp::logical_and: return a != 0 && b != 0;
    case BinaryOp::logical_or: return a != 0 || b != 0;
    case BinaryOp::logical_xor: return (a != 0) != (b != 0);
  }
  return 0;
}

std::vector<TensorType> binary_type(BinaryOp op, std::span<const TensorType> args) {
  const TensorType& a = args[0];
  const TensorType& b = args[1];
  // Pow's exponent may have another type; the result has the base's.
  if (op != BinaryOp::power && a.dtype != b.dtype)
    ops::type_error("operands have different dtypes: " + a.str() + " and " + b.str());
  if (is_logical(op) && a.dtype != DType::boolean) ops::type_error("expects bool operands, found " + a.str());
  if ((op == BinaryOp::left_shift || op == BinaryOp::right_shift) && (is_float(a.dtype) || a.dtype == DType::boolean))
    ops::type_error("expects integer operands, found " + a.str());
  const DType result = is_comparison(op) || is_logical(op) ? DType::boolean : a.dtype;
  return {TensorType{ops::broadcast_shapes(a.shape, b.shape), result}};
}

void add_binary_op(OpRegistry& r, BinaryOp op) {
  OpDef def;
  def.name = binary_op_name(op);
  def.summary = std::string("elementwise ") + def.name + " with numpy broadcasting";
  def.min_args = def.max_args = 2;
  def.pattern = OpPattern::broadcast;
  def.infer_type = [op](std::span<const TensorType> args, const Attrs&) { return binary_type(op, args); };
  def.reference = [op](std::span<const Tensor> args, const Attrs&, std::span<const TensorType> types) {
    const bool integer = !is_float(args[0].type().dtype);
    if (types[0].dtype == DType::float32) {
      // Single-precision arithmetic, as the compiled kernels do it.
      return std::vector<Tensor>{ops::map_broadcast(args, types[0], [op](std::span<const double> v) {
        return static_cast<double>(static_cast<float>(
            apply_binary(op, static_cast<float>(v[0]), static_cast<float>(v[1]), false)));
      })};
    }
    return std::vector<Tensor>{ops::map_broadcast(
        args, types[0], [op, integer](std::span<const double> v) { return apply_binary(op, v[0], v[1], integer); })};
  };
  r.add(std::move(def));
}

float sigmoid(float x) { return 1.f / (1.f + std::exp(-x)); }

// An elementwise op y = f(x, attrs) on float tensors.
template <typename A>
void add_float_activation(OpRegistry& r, std::string name, std::string summary,
                          std::function<float(float, const A&)> f) {
  OpDef def;
  def.name = std::move(name);
  def.summary = std::move(summary);
  def.pattern = OpPattern::elemwise;
  def.make_attrs = [] { return std::make_unique<A>(); };
  def.infer_type = [](std::span<const TensorType> args, const Attrs&) {
    ops::expect_float(args[0], "input");
    return std::vector<TensorType>{args[0]};
  };
  def.reference = [f](std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType>) {
    const A& a = attrs_as<A>(attrs);
    return std::vector<Tensor>{ops::map_unary_float(args[0], [&](float x) { return f(x, a); })};
  };
  r.add(std::move(def));
}

// An elementwise op whose result has the argument's type, for any non-bool
// dtype; computed in double by the reference (exact for the IR's integers).
void add_unary_numeric_op(OpRegistry& r, std::string name, std::string summary, std::function<double(double)> f) {
  OpDef def;
  def.name = std::move(name);
  def.summary = std::move(summary);
  def.pattern = OpPattern::elemwise;
  def.infer_type = [](std::span<const TensorType> args, const Attrs&) {
    if (args[0].dtype == DType::boolean) ops::type_error("expects a numeric input, found " + args[0].str());
    return std::vector<TensorType>{args[0]};
  };
  def.reference = [f](std::span<const Tensor> args, const Attrs&, std::span<const TensorType> types) {
    return std::vector<Tensor>{ops::map_broadcast(args, types[0], [&](std::span<const double> v) { return f(v[0]); })};
  };
  r.add(std::move(def));
}

void register_unary_math(OpRegistry& r) {
  ops::add_unary_float_op(r, "nn.relu", "max(x, 0)", [](float x) { return std::max(x, 0.f); });
  ops::add_unary_float_op(r, "sigmoid", "1 / (1 + exp(-x))", sigmoid);
  ops::add_unary_float_op(r, "tanh", "hyperbolic tangent", [](float x) { return std::tanh(x); });
  ops::add_unary_float_op(r, "exp", "e^x", [](float x) { return std::exp(x); });
  ops::add_unary_float_op(r, "log", "natural logarithm", [](float x) { return std::log(x); });
  ops::add_unary_float_op(r, "sqrt", "square root", [](float x) { return std::sqrt(x); });
  ops::add_unary_float_op(r, "erf", "Gauss error function", [](float x) { return std::erf(x); });
  ops::add_unary_float_op(r, "floor", "largest integer <= x", [](float x) { return std::floor(x); });
  ops::add_unary_float_op(r, "ceil", "smallest integer >= x", [](float x) { return std::ceil(x); });
  ops::add_unary_float_op(r, "round", "nearest integer, halves to even", [](float x) { return std::nearbyint(x); });
  ops::add_unary_float_op(r, "reciprocal", "1 / x", [](float x) { return 1.f / x; });
  ops::add_unary_float_op(r, "sin", "sine", [](float x) { return std::sin(x); });
  ops::add_unary_float_op(r, "cos", "cosine", [](float x) { return std::cos(x); });
  ops::add_unary_float_op(r, "tan", "tangent", [](float x) { return std::tan(x); });
  ops::add_unary_float_op(r, "asin", "arcsine", [](float x) { return std::asin(x); });
  ops::add_unary_float_op(r, "acos", "arccosine", [](float x) { return std::acos(x); });
  ops::add_unary_float_op(r, "atan", "arctangent", [](float x) { return std::atan(x); });
  ops::add_unary_float_op(r, "sinh", "hyperbolic sine", [](float x) { return std::sinh(x); });
  ops::add_unary_float_op(r, "cosh", "hyperbolic cosine", [](float x) { return std::cosh(x); });
  ops::add_unary_float_op(r, "asinh", "inverse hyperbolic sine", [](float x) { return std::asinh(x); });
  ops::add_unary_float_op(r, "acosh", "inverse hyperbolic cosine", [](float x) { return std::acosh(x); });
  ops::add_unary_float_op(r, "atanh", "inverse hyperbolic tangent", [](float x) { return std::atanh(x); });
  ops::add_unary_float_op(r, "nn.softplus", "log(1 + exp(x))", [](float x) {
    return x > 20.f ? x : std::log1p(std::exp(x));
  });
  ops::add_unary_float_op(r, "nn.softsign", "x / (1 + |x|)", [](float x) { return x / (1.f + std::fabs(x)); });
  // SimplifyExpr's form of multiply(x, sigmoid(x)): the reference computes
  // just that, so an import's two ops and this one give the same values.
  ops::add_unary_float_op(r, "nn.silu", "x * sigmoid(x) (SiLU, swish)", [](float x) { return x * sigmoid(x); });
  // SimplifyExpr's form of x * 0.5 * (1 + erf(x / sqrt 2)), computed in double.
  ops::add_unary_float_op(r, "nn.gelu", "x * (1 + erf(x / sqrt(2))) / 2 (GELU)", [](float x) {
    const double d = x;
    return static_cast<float>(0.5 * d * (1.0 + std::erf(d * std::sqrt(0.5))));
  });
  ops::add_unary_float_op(r, "nn.hard_swish", "x * max(0, min(1, x / 6 + 1 / 2))", [](float x) {
    return x * std::max(0.f, std::min(1.f, x / 6.f + 0.5f));
  });
  add_unary_numeric_op(r, "negative", "-x", [](double x) { return -x; });
  add_unary_numeric_op(r, "abs", "|x|", [](double x) { return std::fabs(x); });
  add_unary_numeric_op(r, "sign", "-1, 0 or 1 by the sign of x", [](double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; });
}

void register_activations(OpRegistry& r) {
  OpDef clip;
  clip.name = "clip";
  clip.summary = "min(max(x, a_min), a_max)";
  clip.pattern = OpPattern::elemwise;
  clip.make_attrs = [] { return std::make_unique<ClipAttrs>(); };
  clip.infer_type = [](std::span<const TensorType> args, const Attrs& attrs) {
    if (args[0].dtype == DType::boolean) ops::type_error("expects a numeric input, found " + args[0].str());
    const auto& a = attrs_as<ClipAttrs>(attrs);
    if (a.a_min > a.a_max) ops::type_error("clip bounds are reversed: a_min > a_max");
    return std::vector<TensorType>{args[0]};
  };
  clip.reference = [](std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
    const auto& a = attrs_as<ClipAttrs>(attrs);
    if (types[0].dtype == DType::float32) {
      const auto lo = static_cast<float>(a.a_min), hi = static_cast<float>(a.a_max);
      return std::vector<Tensor>{ops::map_unary_float(args[0], [lo, hi](float x) { return std::min(std::max(x, lo), hi); })};
    }
    return std::vector<Tensor>{ops::map_broadcast(args, types[0], [&](std::span<const double> v) {
      return std::min(std::max(v[0], a.a_min), a.a_max);
    })};
  };
  r.add(std::move(clip));

  add_float_activation<LeakyReluAttrs>(r, "nn.leaky_relu", "x if x > 0 else alpha * x",
                                       [](float x, const LeakyReluAttrs& a) { return x > 0 ? x : static_cast<float>(a.alpha) * x; });
  add_float_activation<ActivationAttrs>(r, "nn.elu", "x if x > 0 else alpha * (exp(x) - 1)", [](float x, const ActivationAttrs& a) {
    return x > 0 ? x : static_cast<float>(a.alpha) * (std::exp(x) - 1.f);
  });
  add_float_activation<ActivationAttrs>(r, "nn.celu", "max(0, x) + min(0, alpha * (exp(x / alpha) - 1))",
                                        [](float x, const ActivationAttrs& a) {
                                          const auto alpha = static_cast<float>(a.alpha);
                                          return std::max(0.f, x) + std::min(0.f, alpha * (std::exp(x / alpha) - 1.f));
                                        });
  add_float_activation<ActivationAttrs>(r, "nn.selu", "beta * (x if x > 0 else alpha * (exp(x) - 1)), beta the scale (gamma)",
                                        [](float x, const ActivationAttrs& a) {
                                          const float y = x > 0 ? x : static_cast<float>(a.alpha) * (std::exp(x) - 1.f);
                                          return static_cast<float>(a.beta) * y;
                                        });
  add_float_activation<ActivationAttrs>(r, "nn.hard_sigmoid", "max(0, min(1, alpha * x + beta))", [](float x, const ActivationAttrs& a) {
    return std::max(0.f, std::min(1.f, static_cast<float>(a.alpha) * x + static_cast<float>(a.beta)));
  });
  add_float_activation<ActivationAttrs>(r, "nn.thresholded_relu", "x if x > alpha else 0", [](float x, const ActivationAttrs& a) {
    return x > static_cast<float>(a.alpha) ? x : 0.f;
  });
  add_float_activation<ActivationAttrs>(r, "nn.shrink", "x - beta if x > alpha, x + beta if x < -alpha, else 0 (alpha the lambda, beta the bias)",
                                        [](float x, const ActivationAttrs& a) {
                                          const auto lambd = static_cast<float>(a.alpha), bias = static_cast<float>(a.beta);
                                          return x < -lambd ? x + bias : x > lambd ? x - bias : 0.f;
                                        });
}

void register_conversions(OpRegistry& r) {
  OpDef cast;
  cast.name = "cast";
  cast.summary = "converts to `dtype` (floats truncate toward zero into integers; bool is x != 0)";
  cast.pattern = OpPattern::elemwise;
  cast.make_attrs = [] { return std::make_unique<CastAttrs>(); };
  cast.infer_type = [](std::span<const TensorType> args, const Attrs& attrs) {
    return std::vector<TensorType>{TensorType{args[0].shape, attrs_as<CastAttrs>(attrs).dtype}};
  };
  cast.reference = [](std::span<const Tensor> args, const Attrs&, std::span<const TensorType> types) {
    Tensor out(types[0]);
    for (size_t i = 0; i < static_cast<size_t>(types[0].element_count()); ++i) {
      const double v = args[0].element_as_double(i);
      out.set_element(i, is_float(types[0].dtype) || types[0].dtype == DType::boolean ? v : std::trunc(v));
    }
    return std::vector<Tensor>{std::move(out)};
  };
  r.add(std::move(cast));

  OpDef logical_not;
  logical_not.name = "logical_not";
  logical_not.summary = "!x on bool tensors";
  logical_not.pattern = OpPattern::elemwise;
  logical_not.infer_type = [](std::span<const TensorType> args, const Attrs&) {
    if (args[0].dtype != DType::boolean) ops::type_error("expects a bool input, found " + args[0].str());
    return std::vector<TensorType>{args[0]};
  };
  logical_not.reference = [](std::span<const Tensor> args, const Attrs&, std::span<const TensorType> types) {
    return std::vector<Tensor>{ops::map_broadcast(args, types[0], [](std::span<const double> v) { return v[0] == 0 ? 1.0 : 0.0; })};
  };
  r.add(std::move(logical_not));

  OpDef isnan;
  isnan.name = "isnan";
  isnan.summary = "x is not a number -> bool";
  isnan.pattern = OpPattern::elemwise;
  isnan.infer_type = [](std::span<const TensorType> args, const Attrs&) {
    ops::expect_float(args[0], "input");
    return std::vector<TensorType>{TensorType{args[0].shape, DType::boolean}};
  };
  isnan.reference = [](std::span<const Tensor> args, const Attrs&, std::span<const TensorType> types) {
    return std::vector<Tensor>{ops::map_broadcast(args, types[0], [](std::span<const double> v) { return std::isnan(v[0]) ? 1.0 : 0.0; })};
  };
  r.add(std::move(isnan));

  OpDef isinf;
  isinf.name = "isinf";
  isinf.summary = "x is +inf (detect_positive) or -inf (detect_negative) -> bool";
  isinf.pattern = OpPattern::elemwise;
  isinf.make_attrs = [] { return std::make_unique<IsInfAttrs>(); };
  isinf.infer_type = [](std::span<const TensorType> args, const Attrs&) {
    ops::expect_float(args[0], "input");
    return std::vector<TensorType>{TensorType{args[0].shape, DType::boolean}};
  };
  isinf.reference = [](std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
    const auto& a = attrs_as<IsInfAttrs>(attrs);
    return std::vector<Tensor>{ops::map_broadcast(args, types[0], [&](std::span<const double> v) {
      return (std::isinf(v[0]) && ((v[0] > 0 && a.detect_positive) || (v[0] < 0 && a.detect_negative))) ? 1.0 : 0.0;
    })};
  };
  r.add(std::move(isinf));

  OpDef where;
  where.name = "where";
  where.summary = "x where cond else y, with numpy broadcasting of all three";
  where.min_args = where.max_args = 3;
  where.pattern = OpPattern::broadcast;
  where.infer_type = [](std::span<const TensorType> args, const Attrs&) {
    if (args[0].dtype != DType::boolean) ops::type_error("expects a bool condition, found " + args[0].str());
    if (args[1].dtype != args[2].dtype)
      ops::type_error("the two branches have different dtypes: " + args[1].str() + " and " + args[2].str());
    const auto shape = ops::broadcast_shapes(ops::broadcast_shapes(args[0].shape, args[1].shape), args[2].shape);
    return std::vector<TensorType>{TensorType{shape, args[1].dtype}};
  };
  where.reference = [](std::span<const Tensor> args, const Attrs&, std::span<const TensorType> types) {
    return std::vector<Tensor>{ops::map_broadcast(args, types[0], [](std::span<const double> v) { return v[0] != 0 ? v[1] : v[2]; })};
  };
  r.add(std::move(where));
}

}  // namespace

void register_elementwise_ops(OpRegistry& r) {
  for (BinaryOp op : kBinaryOps) add_binary_op(r, op);
  register_unary_math(r);
  register_activations(r);
  register_conversions(r);
}

}  // namespace modelc::lang
