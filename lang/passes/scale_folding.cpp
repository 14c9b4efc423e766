#include "lang/passes/scale_folding.h"

#include "lang/ops/nn.h"
#include "lang/passes/function_builder.h"

namespace modelc::lang {
namespace {

bool is_default_layout_conv(const Binding& b) {
  if (!b.is_op("nn.conv2d")) return false;
  const auto& a = attrs_as<Conv2DAttrs>(*b.attrs);
  return a.data_layout == "NCHW" && a.kernel_layout == "OIHW" && a.out_layout == "NCHW";
}

// The constant operand and the other operand of a binary op, if exactly one is constant.
std::optional<std::pair<ValueRef, ValueRef>> constant_and_value(const Binding& b) {
  if (b.args.size() != 2) return std::nullopt;
  if (b.args[1].is_constant() && b.args[0].is_binding()) return std::make_pair(b.args[1], b.args[0]);
  if (b.args[0].is_constant() && b.args[1].is_binding()) return std::make_pair(b.args[0], b.args[1]);
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<float>> per_axis_scale(const Tensor& scale, const TensorType& target, size_t axis) {
  const TensorType& s = scale.type();
  if (s.dtype != DType::float32 || !scale.has_data() || s.rank() > target.rank()) return std::nullopt;
  const size_t offset = target.rank() - s.rank();
  for (size_t d = 0; d < s.rank(); ++d) {
    const size_t t = d + offset;
    if (s.shape[d] != 1 && !(t == axis && s.shape[d] == target.shape[axis])) return std::nullopt;
  }
  const auto values = scale.values<float>();
  std::vector<float> out(static_cast<size_t>(target.shape[axis]));
  for (size_t k = 0; k < out.size(); ++k) out[k] = values.size() == 1 ? values[0] : values[k];
  return out;
}

Tensor scale_outer_axis(const Tensor& weight, const std::vector<float>& scale) {
  Tensor out = weight;
  auto w = out.mutable_values<float>();
  const size_t per_channel = w.size() / scale.size();
  for (size_t i = 0; i < w.size(); ++i) w[i] *= scale[i / per_channel];
  return out;
}

std::vector<OutputScaleFold> find_output_scale_folds(
    const Module& m, const Function& fn,
    const std::function<bool(const TensorType& scale, const TensorType& anchor_output)>& accept) {
  const std::vector<int> uses = count_uses(fn);
  std::vector<OutputScaleFold> folds;
  for (uint32_t i = 0; i < fn.body.size(); ++i) {
    const Binding& mul = fn.body[i];
    if (!mul.is_op("multiply") || mul.types.size() != 1) continue;
    const auto operands = constant_and_value(mul);
    if (!operands) continue;
    const auto& [scale_ref, value] = *operands;
    OutputScaleFold fold;
    fold.multiply = i;
    uint32_t producer = value.index;
    if (uses[producer] != 1 || fn.body[producer].types.size() != 1 || fn.body[producer].types[0] != mul.types[0]) continue;
    if (fn.body[producer].is_op("nn.bias_add")) {
      const Binding& bias = fn.body[producer];
      if (!bias.args[0].is_binding() || !bias.args[1].is_constant() || attrs_as<AxisAttrs>(*bias.attrs).axis != 1) continue;
      fold.bias_add = producer;
      producer = bias.args[0].index;
      if (uses[producer] != 1) continue;
    }
    const Binding& anchor = fn.body[producer];
    if (!(is_default_layout_conv(anchor) || anchor.is_op("nn.dense")) || !anchor.args[1].is_constant()) continue;
    if (!m.constant(anchor.args[1].constant).has_data()) continue;
    const Tensor& scale = m.constant(scale_ref.constant);
    if (!accept(scale.type(), anchor.types.at(0))) continue;
    auto per_channel = per_axis_scale(scale, anchor.types.at(0), 1);
    if (!per_channel) continue;
    fold.anchor = producer;
    fold.scale = std::move(*per_channel);
    folds.push_back(std::move(fold));
  }
  return folds;
}

Function apply_output_scale_folds(Module& m, const Function& fn, const std::vector<OutputScaleFold>& folds) {
  std::vector<const OutputScaleFold*> by_binding(fn.body.size(), nullptr);
  for (const OutputScaleFold& f : folds) {
    by_binding[f.anchor] = &f;
    if (f.bias_add) by_binding[*f.bias_add] = &f;
    by_binding[f.multiply] = &f;
  }
  FunctionBuilder builder(fn);
  for (uint32_t i = 0; i < fn.body.size(); ++i) {
    const OutputScaleFold* fold = by_binding[i];
    if (!fold) {
      builder.keep(i);
      continue;
    }
    const Binding& b = fn.body[i];
    if (i == fold->multiply) {
      const ValueRef producer = b.args[0].is_binding() ? b.args[0] : b.args[1];
      builder.replace(i, 0, builder.map(producer));
      continue;
    }
    // The anchor's weight or the bias: argument 1 in both cases, scaled per output channel.
    Binding scaled = b;
    scaled.args = builder.map_all(b.args);
    const std::string& name = b.args[1].constant;
    scaled.args[1] = ValueRef::constant_named(m.add_constant(name + ".scaled", scale_outer_axis(m.constant(name), fold->scale)));
    builder.replace(i, 0, builder.emit(std::move(scaled)));
  }
  return builder.finish();
}

}  // namespace modelc::lang
