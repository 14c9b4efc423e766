// ONNX NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss, decomposed into
// IR ops the way the ONNX function bodies define them. The class picked by
// each target is found with a one-hot mask (target == class index), so
// targets equal to ignore_index, or outside [0, C), pick nothing and weigh 0.
//
//   input  [N, C, d1..dk]  scores (log-probabilities for NLL)
//   target [N, d1..dk]     integer class per position
//   loss_i = -input[n, target_i, d..] * weight[target_i]
//   reduction none: loss;  sum: sum(loss);  mean: sum(loss) / sum(weight[target_i])
#include "lang/frontends/onnx_node.h"
#include "lang/ops/elementwise.h"
#include "lang/ops/nn.h"
#include "lang/ops/reduce.h"
#include "support/diagnostic.h"

namespace modelc::lang::frontends {

namespace {

// [1, C, 1, .., 1] int64 class indices, to compare with targets reshaped to [N, 1, d1..dk].
ValueRef class_indices(NodeContext& c, int64_t classes, size_t rank) {
  std::vector<int64_t> shape(rank, 1);
  shape[1] = classes;
  Tensor indices(TensorType{shape, DType::int64});
  for (int64_t k = 0; k < classes; ++k) indices.set_element(static_cast<size_t>(k), static_cast<double>(k));
  return c.add_constant(std::move(indices));
}

ValueRef sum_over(NodeContext& c, const ValueRef& x, std::vector<int64_t> axes, bool keepdims) {
  ReduceAttrs a;
  a.axes = std::move(axes);
  a.keepdims = keepdims;
  return c.call("sum", {x}, make_attrs(a));
}

ValueRef negative_log_likelihood(NodeContext& c, const ValueRef& input, const ValueRef& target,
                                 const std::optional<ValueRef>& weight) {
  const TensorType in = c.type(input), tt = c.type(target);
  if (in.rank() < 2) throw Error("expects input of shape [N, C, ...], found " + in.str());
  if (is_float(tt.dtype)) throw Error("expects integer targets, found " + tt.str());
  std::vector<int64_t> expected = in.shape;
  expected.erase(expected.begin() + 1);
  if (tt.shape != expected)
    throw Error("the target is " + tt.str() + "; for input " + in.str() + " it must have shape " + shape_str(expected));
  const int64_t classes = in.shape[1];

  // One-hot mask of the picked class at each position: [N, C, d1..dk].
  std::vector<int64_t> with_class = tt.shape;
  with_class.insert(with_class.begin() + 1, 1);
  ValueRef target64 = target;
  if (tt.dtype != DType::int64) {
    CastAttrs cast;
    cast.dtype = DType::int64;
    target64 = c.call("cast", {target}, make_attrs(cast));
  }
  const ValueRef labels = c.call("reshape", {target64}, reshape_to(with_class));
  ValueRef mask = c.call("equal", {labels, class_indices(c, classes, in.rank())});
  if (c.has_attr("ignore_index")) {
    Tensor ignored(TensorType{{}, DType::int64});
    ignored.set_element(0, static_cast<double>(c.attr_int("ignore_index", 0)));
    const ValueRef kept = c.call("not_equal", {labels, c.add_constant(std::move(ignored))});
    mask = c.call("logical_and", {mask, kept});
  }
  const ValueRef zero = c.scalar(0.f);
  const ValueRef picked = sum_over(c, c.call("where", {mask, input, zero}), {1}, false);

  // Weight of each position's class (1, or 0 where ignored).
  std::vector<int64_t> weight_shape(in.rank(), 1);
  weight_shape[1] = classes;
  const ValueRef class_weight = weight ? c.call("reshape", {*weight}, reshape_to(weight_shape)) : c.scalar(1.f);
  const ValueRef weights = sum_over(c, c.call("where", {mask, class_weight, zero}), {1}, false);

  const ValueRef loss = c.call("negative", {c.call("multiply", {picked, weights})});
  const std::string reduction = c.attr_string("reduction", "mean");
  if (reduction == "none") return loss;
  const ValueRef total = sum_over(c, loss, {}, false);
  if (reduction == "sum") return total;
  if (reduction == "mean") return c.call("divide", {total, sum_over(c, weights, {}, false)});
  throw Error("reduction '" + reduction + "' is not one of none, sum, mean");
}

std::optional<ValueRef> optional_input(NodeContext& c, size_t i) {
  return c.has_input(i) ? std::optional<ValueRef>(c.input(i)) : std::nullopt;
}

}  // namespace

std::vector<ValueRef> convert_nll_loss(NodeContext& c) {
  return {negative_log_likelihood(c, c.input(0), c.input(1), optional_input(c, 2))};
}

std::vector<ValueRef> convert_softmax_cross_entropy(NodeContext& c) {
  const ValueRef scores = c.input(0);
  if (c.type(scores).rank() < 2) throw Error("expects scores of shape [N, C, ...], found " + c.type(scores).str());
  const ValueRef log_prob = c.call("nn.log_softmax", {scores}, along_axis(1));
  return {negative_log_likelihood(c, log_prob, c.input(1), optional_input(c, 2)), log_prob};
}

}  // namespace modelc::lang::frontends
