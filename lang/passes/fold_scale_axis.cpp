// FoldScaleAxis: folds per-channel scales into convolution (and dense) weights.
//
// Forward: multiply(conv2d(x, W) [+ bias_add(b)], s) with a constant s that
// varies only along the output channels (shape [K, 1, 1], [1, K, 1, 1], [K]
// for dense, or a scalar) becomes conv2d(x, W * s[k]) [+ bias_add(b * s)].
// Backward: conv2d(multiply(x, s), W) with s varying only along the input
// channels becomes conv2d(x, W * s[c]); zero padding stays zero, so this is
// exact for every padding, stride, dilation and group count.
//
// Why: exporters leave such scales behind (folded normalisation, layer scale,
// a scaled input); folded, they cost nothing per inference.
//
// Assumes typed IR with NCHW/OIHW convolutions (it runs before ConvertLayout),
// constant weights with data, and a single use of each value it removes.
#include "lang/ops/nn.h"
#include "lang/pass.h"
#include "lang/passes/function_builder.h"
#include "lang/passes/scale_folding.h"

namespace modelc::lang {
namespace {

struct InputScaleFold {
  uint32_t multiply = 0;
  ValueRef unscaled;         // x, in old values
  std::vector<float> scale;  // one per input channel
};

// conv2d(multiply(x, s), W): the fold for the conv at `index`, if any.
std::optional<InputScaleFold> find_input_fold(const Module& m, const Function& fn, const std::vector<int>& uses, uint32_t index) {
  const Binding& conv = fn.body[index];
  if (!conv.is_op("nn.conv2d") || !conv.args[0].is_binding() || !conv.args[1].is_constant()) return std::nullopt;
  const auto& a = attrs_as<Conv2DAttrs>(*conv.attrs);
  if (a.data_layout != "NCHW" || a.kernel_layout != "OIHW" || a.out_layout != "NCHW") return std::nullopt;
  if (!m.constant(conv.args[1].constant).has_data()) return std::nullopt;
  const uint32_t mul_index = conv.args[0].index;
  const Binding& mul = fn.body[mul_index];
  if (!mul.is_op("multiply") || uses[mul_index] != 1 || mul.args.size() != 2) return std::nullopt;
  const int c = mul.args[1].is_constant() ? 1 : mul.args[0].is_constant() ? 0 : -1;
  if (c < 0 || mul.args[1 - c].is_constant()) return std::nullopt;
  const ValueRef x = mul.args[static_cast<size_t>(1 - c)];
  if (m.type_of(fn, x) != mul.types.at(0)) return std::nullopt;  // the multiply must not broadcast x
  auto scale = per_axis_scale(m.constant(mul.args[static_cast<size_t>(c)].constant), mul.types.at(0), 1);
  if (!scale) return std::nullopt;
  return InputScaleFold{mul_index, x, std::move(*scale)};
}

// W[k, c, r, s] *= scale[g * C/groups + c], g the group of output channel k.
Tensor scale_input_channels(const Tensor& weight, const std::vector<float>& scale, int64_t groups) {
  Tensor out = weight;
  const auto& shape = weight.type().shape;  // K, C/groups, R, S
  const int64_t K = shape[0], CG = shape[1], RS = shape[2] * shape[3];
  auto w = out.mutable_values<float>();
  for (int64_t k = 0; k < K; ++k) {
    const int64_t g = k / (K / groups);
    for (int64_t c = 0; c < CG; ++c)
      for (int64_t i = 0; i < RS; ++i) w[static_cast<size_t>((k * CG + c) * RS + i)] *= scale[static_cast<size_t>(g * CG + c)];
  }
  return out;
}

Function fold_input_scales(Module& m, const Function& fn) {
  const std::vector<int> uses = count_uses(fn);
  std::vector<std::optional<InputScaleFold>> folds(fn.body.size());
  std::vector<bool> removed(fn.body.size(), false);
  for (uint32_t i = 0; i < fn.body.size(); ++i) {
    folds[i] = find_input_fold(m, fn, uses, i);
    if (folds[i]) removed[folds[i]->multiply] = true;
  }
  FunctionBuilder builder(fn);
  for (uint32_t i = 0; i < fn.body.size(); ++i) {
    if (removed[i]) continue;  // its only user, the conv, reads x instead
    if (!folds[i]) {
      builder.keep(i);
      continue;
    }
    const Binding& b = fn.body[i];
    Binding conv = b;
    conv.args = {builder.map(folds[i]->unscaled), b.args[1]};
    const Tensor& weight = m.constant(b.args[1].constant);
    const int64_t groups = attrs_as<Conv2DAttrs>(*b.attrs).groups;
    conv.args[1] = ValueRef::constant_named(
        m.add_constant(b.args[1].constant + ".scaled", scale_input_channels(weight, folds[i]->scale, groups)));
    builder.replace(i, 0, builder.emit(std::move(conv)));
  }
  return builder.finish();
}

}  // namespace

Module fold_scale_axis(const Module& module, const PassContext& context) {
  Module out = module;
  for (Function& fn : out.functions) {
    if (fn.primitive) continue;
    const auto folds = find_output_scale_folds(out, fn, [](const TensorType&, const TensorType&) { return true; });
    fn = apply_output_scale_folds(out, fn, folds);
    fn = fold_input_scales(out, fn);
  }
  return infer_type(dead_code_elimination(out, context), context);
}

}  // namespace modelc::lang
