// Elementwise operators: broadcast binary arithmetic and unary activations.
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
  }
  return "?";
}

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
  }
  return 0;
}

void add_binary_op(OpRegistry& r, BinaryOp op) {
  OpDef def;
  def.name = binary_op_name(op);
  def.summary = std::string("elementwise ") + def.name + " with numpy broadcasting";
  def.min_args = def.max_args = 2;
  def.pattern = OpPattern::broadcast;
  def.infer_type = [](std::span<const TensorType> args, const Attrs&) {
    if (args[0].dtype != args[1].dtype)
      ops::type_error("operands have different dtypes: " + args[0].str() + " and " + args[1].str());
    return std::vector<TensorType>{TensorType{ops::broadcast_shapes(args[0].shape, args[1].shape), args[0].dtype}};
  };
  def.reference = [op](std::span<const Tensor> args, const Attrs&, std::span<const TensorType> types) {
    const bool integer = !is_float(types[0].dtype);
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

}  // namespace

void register_elementwise_ops(OpRegistry& r) {
  for (BinaryOp op : kBinaryOps) add_binary_op(r, op);

  ops::add_unary_float_op(r, "nn.relu", "max(x, 0)", [](float x) { return std::max(x, 0.f); });
  ops::add_unary_float_op(r, "sigmoid", "1 / (1 + exp(-x))", sigmoid);
  ops::add_unary_float_op(r, "tanh", "hyperbolic tangent", [](float x) { return std::tanh(x); });
  ops::add_unary_float_op(r, "exp", "e^x", [](float x) { return std::exp(x); });
  ops::add_unary_float_op(r, "log", "natural logarithm", [](float x) { return std::log(x); });
  ops::add_unary_float_op(r, "sqrt", "square root", [](float x) { return std::sqrt(x); });
  ops::add_unary_float_op(r, "negative", "-x", [](float x) { return -x; });
  ops::add_unary_float_op(r, "abs", "|x|", [](float x) { return std::fabs(x); });
  ops::add_unary_float_op(r, "erf", "Gauss error function", [](float x) { return std::erf(x); });

  OpDef clip;
  clip.name = "clip";
  clip.summary = "min(max(x, a_min), a_max)";
  clip.pattern = OpPattern::elemwise;
  clip.make_attrs = [] { return std::make_unique<ClipAttrs>(); };
  clip.infer_type = [](std::span<const TensorType> args, const Attrs& attrs) {
    ops::expect_float(args[0], "input");
    const auto& a = attrs_as<ClipAttrs>(attrs);
    if (a.a_min > a.a_max) ops::type_error("clip bounds are reversed: a_min > a_max");
    return std::vector<TensorType>{args[0]};
  };
  clip.reference = [](std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType>) {
    const auto& a = attrs_as<ClipAttrs>(attrs);
    const auto lo = static_cast<float>(a.a_min), hi = static_cast<float>(a.a_max);
    return std::vector<Tensor>{ops::map_unary_float(args[0], [lo, hi](float x) { return std::min(std::max(x, lo), hi); })};
  };
  r.add(std::move(clip));

  OpDef leaky;
  leaky.name = "nn.leaky_relu";
  leaky.summary = "x if x > 0 else alpha * x";
  leaky.pattern = OpPattern::elemwise;
  leaky.make_attrs = [] { return std::make_unique<LeakyReluAttrs>(); };
  leaky.infer_type = [](std::span<const TensorType> args, const Attrs&) {
    ops::expect_float(args[0], "input");
    return std::vector<TensorType>{args[0]};
  };
  leaky.reference = [](std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType>) {
    const auto alpha = static_cast<float>(attrs_as<LeakyReluAttrs>(attrs).alpha);
    return std::vector<Tensor>{ops::map_unary_float(args[0], [alpha](float x) { return x > 0 ? x : alpha * x; })};
  };
  r.add(std::move(leaky));
}

}  // namespace modelc::lang
