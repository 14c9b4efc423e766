// ONNX normalization converters: BatchNormalization, LayerNormalization,
// InstanceNormalization and MeanVarianceNormalization (LRN, a window op, stays
// with the others in onnx_ops.cpp).
#include "lang/frontends/onnx_node.h"
#include "lang/ops/nn.h"
#include "lang/ops/normalization.h"
#include "lang/ops/op_helpers.h"
#include "lang/ops/reduce.h"
#include "support/diagnostic.h"

namespace modelc::lang::frontends {
namespace {

using ops::normalize_axis;

// Mean and 1 / sqrt(variance + epsilon) over `axes` (kept as size-1 axes).
std::pair<ValueRef, ValueRef> moments(NodeContext& c, const ValueRef& x, std::vector<int64_t> axes, double epsilon) {
  ReduceAttrs a;
  a.axes = std::move(axes);
  const ValueRef mean = c.call("mean", {x}, make_attrs(a));
  const ValueRef d = c.call("subtract", {x, mean});
  const ValueRef var = c.call("mean", {c.call("multiply", {d, d})}, make_attrs(a));
  const ValueRef inv = c.call("divide", {c.scalar(1.f), c.call("sqrt", {c.call("add", {var, c.scalar(static_cast<float>(epsilon))})})});
  return {mean, inv};
}

// LayerNormalization (opset 17): nn.layer_norm, plus the optional Mean and
// InvStdDev outputs computed beside it.
std::vector<ValueRef> convert_layer_norm(NodeContext& c) {
  const ValueRef x = c.input(0);
  const TensorType t = c.type(x);
  if (c.attr_int("stash_type", 1) != 1) throw Error("stash_type other than float32 is not supported");
  LayerNormAttrs a;
  a.axis = normalize_axis(c.attr_int("axis", -1), t.rank());
  a.epsilon = c.attr_float("epsilon", 1e-5);
  const ValueRef beta = c.has_input(2) ? c.input(2) : c.scalar(0.f);
  std::vector<ValueRef> out{c.call("nn.layer_norm", {x, c.input(1), beta}, make_attrs(a))};
  const bool wants_stats = (c.node().output_size() > 1 && !c.node().output(1).empty()) ||
                           (c.node().output_size() > 2 && !c.node().output(2).empty());
  if (!wants_stats) return out;
  std::vector<int64_t> axes;
  for (auto d = static_cast<size_t>(a.axis); d < t.rank(); ++d) axes.push_back(static_cast<int64_t>(d));
  const auto [mean, inv] = moments(c, x, axes, a.epsilon);
  out.push_back(mean);
  out.push_back(inv);
  return out;
}

std::vector<ValueRef> convert_instance_norm(NodeContext& c) {
  const ValueRef x = c.input(0);
  const TensorType t = c.type(x);
  if (t.rank() < 3) throw Error("expects an input of shape [N, C, D1, ...], found " + t.str());
  std::vector<int64_t> axes, channel_shape(t.rank() - 1, 1);
  for (size_t d = 2; d < t.rank(); ++d) axes.push_back(static_cast<int64_t>(d));
  channel_shape[0] = t.shape[1];
  const auto [mean, inv] = moments(c, x, axes, c.attr_float("epsilon", 1e-5));
  const ValueRef normalized = c.call("multiply", {c.call("subtract", {x, mean}), inv});
  const ValueRef scale = c.call("reshape", {c.input(1)}, reshape_to(channel_shape));
  const ValueRef bias = c.call("reshape", {c.input(2)}, reshape_to(channel_shape));
  return {c.call("add", {c.call("multiply", {normalized, scale}), bias})};
}

std::vector<ValueRef> convert_mean_variance_normalization(NodeContext& c) {
  const ValueRef x = c.input(0);
  const auto [mean, inv] = moments(c, x, c.attr_ints("axes", {0, 2, 3}), 1e-9);
  return {c.call("multiply", {c.call("subtract", {x, mean}), inv})};
}

std::vector<ValueRef> convert_batch_norm(NodeContext& c) {
  if (c.attr_int("training_mode", 0) != 0) throw Error("training_mode=1 is not supported (inference only)");
  for (int i = 1; i < c.node().output_size(); ++i)
    if (!c.node().output(i).empty()) throw Error("the running statistics outputs are not supported (inference only)");
  BatchNormAttrs a;
  a.axis = 1;
  a.epsilon = c.attr_float("epsilon", 1e-5);
  return {c.call("nn.batch_norm", {c.input(0), c.input(1), c.input(2), c.input(3), c.input(4)}, make_attrs(a))};
}

}  // namespace

void add_onnx_normalization_converters(std::map<std::string, NodeConverter, std::less<>>& table) {
  table.emplace("BatchNormalization", convert_batch_norm);
  table.emplace("LayerNormalization", convert_layer_norm);
  table.emplace("InstanceNormalization", convert_instance_norm);
  table.emplace("MeanVarianceNormalization", convert_mean_variance_normalization);
}

}  // namespace modelc::lang::frontends
