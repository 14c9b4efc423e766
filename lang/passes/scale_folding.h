// Folding a per-output-channel scale into the weights of the conv2d or dense
// that produces the scaled value. Shared by SimplifyExpr (scalar scales) and
// FoldScaleAxis (per-channel scales); internal to lang/passes.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "lang/module.h"

namespace modelc::lang {

// multiply(anchor [-> bias_add], scale) where the anchor (conv2d in NCHW/OIHW,
// or dense) has a constant weight and each value of the chain has one use.
struct OutputScaleFold {
  uint32_t multiply = 0;
  uint32_t anchor = 0;
  std::optional<uint32_t> bias_add;
  std::vector<float> scale;  // one per output channel
};

// Finds the folds whose constant scale `accept` takes (it sees the scale's
// type and the anchor's output type). Requires InferType.
std::vector<OutputScaleFold> find_output_scale_folds(
    const Module& m, const Function& fn,
    const std::function<bool(const TensorType& scale, const TensorType& anchor_output)>& accept);

// Rewrites `fn`: scaled copies of the weights (and biases) replace the
// originals in the folded anchors, and each multiply disappears.
Function apply_output_scale_folds(Module& m, const Function& fn, const std::vector<OutputScaleFold>& folds);

// The scale of a constant that broadcasts against a tensor of type `target`
// only along `axis` (or not at all): one value per index of `axis`, or nullopt.
std::optional<std::vector<float>> per_axis_scale(const Tensor& scale, const TensorType& target, size_t axis);

// weight[k, ...] *= scale[k] for each index k of the outermost axis.
Tensor scale_outer_axis(const Tensor& weight, const std::vector<float>& scale);

}  // namespace modelc::lang
