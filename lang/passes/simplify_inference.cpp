// SimplifyInference: removes batch normalisation for inference.
//
// With constant statistics, BN(x) = x * scale + shift per channel, where
// scale = gamma / sqrt(var + eps) and shift = beta - mean * scale. When x comes
// straight from a conv2d (optionally through bias_add) with a constant weight
// and nothing else uses it, scale folds into the weight and shift into the
// bias, so the BN costs nothing at run time. Otherwise BN becomes a
// multiply-add with per-channel constants; with non-constant statistics it is
// written out in elementwise ops.
#include <cmath>
#include <cstring>

#include "lang/ops/nn.h"
#include "lang/pass.h"
#include "lang/passes/function_builder.h"

namespace modelc::lang {
namespace {

struct BatchNormFold {
  uint32_t conv = 0;                   // binding index of the conv2d
  std::optional<uint32_t> bias_add;    // binding index of bias_add between conv and BN
  std::vector<float> scale, shift;
};

bool all_constant(const Binding& bn) {
  for (size_t i = 1; i < 5; ++i)
    if (!bn.args[i].is_constant()) return false;
  return true;
}

std::pair<std::vector<float>, std::vector<float>> scale_and_shift(const Module& m, const Binding& bn) {
  const double eps = attrs_as<BatchNormAttrs>(*bn.attrs).epsilon;
  auto gamma = m.constant(bn.args[1].constant).values<float>();
  auto beta = m.constant(bn.args[2].constant).values<float>();
  auto mean = m.constant(bn.args[3].constant).values<float>();
  auto var = m.constant(bn.args[4].constant).values<float>();
  std::vector<float> scale(gamma.size()), shift(gamma.size());
  for (size_t c = 0; c < gamma.size(); ++c) {
    scale[c] = static_cast<float>(gamma[c] / std::sqrt(static_cast<double>(var[c]) + eps));
    shift[c] = beta[c] - mean[c] * scale[c];
  }
  return {scale, shift};
}

// Finds the conv2d (and bias_add) a BN can fold into, if any.
std::optional<BatchNormFold> find_fold(const Module& m, const Function& fn, const std::vector<int>& uses, const Binding& bn) {
  if (attrs_as<BatchNormAttrs>(*bn.attrs).axis != 1 || !all_constant(bn) || !bn.args[0].is_binding()) return std::nullopt;
  BatchNormFold fold;
  uint32_t producer = bn.args[0].index;
  if (uses[producer] != 1) return std::nullopt;
  if (fn.body[producer].is_op("nn.bias_add")) {
    const Binding& bias = fn.body[producer];
    if (!bias.args[0].is_binding() || !bias.args[1].is_constant() || attrs_as<AxisAttrs>(*bias.attrs).axis != 1)
      return std::nullopt;
    fold.bias_add = producer;
    producer = bias.args[0].index;
    if (uses[producer] != 1) return std::nullopt;
  }
  const Binding& conv = fn.body[producer];
  if (!conv.is_op("nn.conv2d") || !conv.args[1].is_constant()) return std::nullopt;
  fold.conv = producer;
  std::tie(fold.scale, fold.shift) = scale_and_shift(m, bn);
  return fold;
}

// "conv1.weight" -> "conv1": a name for constants derived from a layer's weight.
std::string layer_prefix(const std::string& constant) {
  const size_t dot = constant.rfind('.');
  return dot == std::string::npos ? constant : constant.substr(0, dot);
}

Tensor channel_constant(const std::vector<float>& values, size_t rank, size_t axis) {
  std::vector<int64_t> shape(rank - axis, 1);
  shape[0] = static_cast<int64_t>(values.size());
  return Tensor::from_floats(shape, values);
}

Function simplify(Module& m, const Function& fn) {
  const std::vector<int> uses = count_uses(fn);
  std::vector<std::optional<BatchNormFold>> folds(fn.body.size());
  std::vector<int> fold_of_conv(fn.body.size(), -1), fold_of_bias(fn.body.size(), -1);
  for (uint32_t i = 0; i < fn.body.size(); ++i) {
    if (!fn.body[i].is_op("nn.batch_norm")) continue;
    folds[i] = find_fold(m, fn, uses, fn.body[i]);
    if (!folds[i]) continue;
    fold_of_conv[folds[i]->conv] = static_cast<int>(i);
    if (folds[i]->bias_add) fold_of_bias[*folds[i]->bias_add] = static_cast<int>(i);
  }

  FunctionBuilder builder(fn);
  for (uint32_t i = 0; i < fn.body.size(); ++i) {
    const Binding& b = fn.body[i];
    if (fold_of_conv[i] >= 0) {
      // conv2d with its weight scaled per output channel.
      const BatchNormFold& fold = *folds[static_cast<size_t>(fold_of_conv[i])];
      Tensor weight = m.constant(b.args[1].constant);
      auto w = weight.mutable_values<float>();
      const size_t per_channel = w.size() / fold.scale.size();
      for (size_t k = 0; k < w.size(); ++k) w[k] *= fold.scale[k / per_channel];
      Binding conv = b;
      conv.args = builder.map_all(b.args);
      conv.args[1] = ValueRef::constant_named(m.add_constant(b.args[1].constant + ".bn_folded", std::move(weight)));
      builder.replace(i, 0, builder.emit(std::move(conv)));
    } else if (fold_of_bias[i] >= 0) {
      builder.replace(i, 0, builder.map(b.args[0]));  // the bias is merged into the BN's shift below
    } else if (b.is_op("nn.batch_norm") && folds[i]) {
      const BatchNormFold& fold = *folds[i];
      std::vector<float> shift = fold.shift;
      const std::string name = layer_prefix(fn.body[fold.conv].args[1].constant);
      if (fold.bias_add) {
        auto bias = m.constant(fn.body[*fold.bias_add].args[1].constant).values<float>();
        for (size_t c = 0; c < shift.size(); ++c) shift[c] += bias[c] * fold.scale[c];
      }
      auto bias_attrs = std::make_shared<AxisAttrs>();
      bias_attrs->axis = 1;
      const std::string bias_name = m.add_constant(name + ".bias.bn_folded", Tensor::from_floats({static_cast<int64_t>(shift.size())}, shift));
      builder.replace(i, 0, builder.emit(make_op_call("nn.bias_add", {builder.map(b.args[0]), ValueRef::constant_named(bias_name)},
                                                      bias_attrs, b.origin)));
    } else if (b.is_op("nn.batch_norm") && all_constant(b)) {
      const auto& a = attrs_as<BatchNormAttrs>(*b.attrs);
      const size_t rank = b.types.at(0).rank();
      const auto axis = static_cast<size_t>(a.axis < 0 ? a.axis + static_cast<int64_t>(rank) : a.axis);
      auto [scale, shift] = scale_and_shift(m, b);
      const std::string name = layer_prefix(b.args[1].constant);
      const std::string scale_name = m.add_constant(name + ".scale", channel_constant(scale, rank, axis));
      const std::string shift_name = m.add_constant(name + ".shift", channel_constant(shift, rank, axis));
      const ValueRef scaled = builder.emit(make_op_call("multiply", {builder.map(b.args[0]), ValueRef::constant_named(scale_name)}, nullptr, b.origin));
      builder.replace(i, 0, builder.emit(make_op_call("add", {scaled, ValueRef::constant_named(shift_name)}, nullptr, b.origin)));
    } else {
      builder.keep(i);
    }
  }
  return builder.finish();
}

}  // namespace

Module simplify_inference(const Module& module, const PassContext&) {
  Module out = module;
  for (Function& fn : out.functions) fn = simplify(out, fn);
  return out;
}

}  // namespace modelc::lang
