// The Quantize pass's options (from the recipe's `quantization` block) and
// its calibration step, which other stages may call on their own.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "lang/module.h"

namespace modelc::lang {

// The range [lo, hi] a value takes over the calibration set.
struct ValueRange {
  double lo = 0, hi = 0;
};

struct QuantizeOptions {
  std::string mode = "none";           // none | int8 (Quantize) | bf16 | fp16 (ReducePrecision)
  bool per_channel_weights = true;     // else one scale per weight tensor
  int weight_bits = 8;                 // 8: weights in [-127, 127]; 7: in [-63, 63]
  bool symmetric_activations = false;  // int8 with zero point 0; else uint8 with a zero point
  std::string method = "minmax";       // minmax | percentile | entropy
  double percentile = 99.99;
  // One entry per sample, each with one tensor per parameter of @main.
  std::vector<std::vector<Tensor>> calibration;
  // ONNX node names (binding origins) or op names (nn.conv2d, nn.dense, add) kept in float.
  std::vector<std::string> skip;
  // When set: only the conv2d or dense layer of this ONNX node name (binding
  // origin) is quantized, with the adds it feeds (a per-layer sensitivity run).
  std::string only;
  // Calibrated ranges by value, shared by runs of the pass over one and the
  // same module (the per-layer runs): values found here are not calibrated
  // again, values calibrated are added.
  std::shared_ptr<std::map<std::string, ValueRange>> range_cache;
};

// How a value with calibrated range `range` is stored in 8 bits: uint8 with a
// zero point over [min(lo, 0), max(hi, 0)], or with `symmetric` int8 with
// zero point 0 over [-bound, bound].
struct QuantParams {
  double scale = 1;
  int64_t zero_point = 0;
  DType dtype = DType::uint8;
};
QuantParams activation_quant_params(const ValueRange& range, bool symmetric);

// The bounds of `b` when it is a ReLU or a Clip (lower bound <= 0) of
// `from`: the activations a quantized layer or add absorbs into its
// requantization's clamp.
std::optional<std::pair<double, double>> activation_clamp(const Binding& b, const ValueRef& from);

// Float32 weights to symmetric int8 in [-127, 127] (`bits` 8) or [-63, 63]
// (`bits` 7) with one scale per index of `axis` (per_channel) or one in all;
// `scales` gets the scales (one when not per channel). A channel of zeros
// gets scale 1.
Tensor quantize_weights(const Tensor& w, bool per_channel, int64_t axis, std::vector<double>& scales, int bits = 8);

// Runs @main of `module` (typed) in the reference interpreter on every sample
// and returns the range of each of `values` (values of @main) by `method`:
// minmax takes the extremes over all samples; percentile takes, per sample,
// the `percentile`-th and (100 - `percentile`)-th percentiles and averages
// them over the samples; entropy clips each value's range at the threshold
// whose 8-bit quantization loses the least information (smallest KL
// divergence between the histogram of |x| over all samples and its
// quantized form, see entropy_threshold). Throws modelc::Error when there are no samples or a
// sample does not match @main's parameters.
std::vector<ValueRange> calibrate(const Module& module, const std::vector<ValueRef>& values, const QuantizeOptions& options);

// The entropy method's clipping threshold for a histogram of |x| (`bins`
// equal bins from 0 to `edge`) quantized to `levels` steps: for each
// candidate i (levels .. bins), P is the first i bins with the mass beyond
// folded into the last, Q the first i bins without it, merged into `levels`
// groups and spread back over each group's non-empty bins; the threshold is
// the i with the least KL(P || Q), times the bin width (`edge` when nothing
// is clipped).
double entropy_threshold(std::span<const double> bins, double edge, int levels);

}  // namespace modelc::lang
