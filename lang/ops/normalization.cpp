// Normalising operators: nn.log_softmax along one axis and nn.layer_norm over
// the trailing axes. Their references accumulate in double.
#include "lang/ops/normalization.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "lang/ops/nn.h"
#include "lang/ops/op_helpers.h"

namespace modelc::lang {
namespace {

// ---- log_softmax: x - max - log(sum(exp(x - max))) along an axis ----

std::vector<TensorType> log_softmax_type(std::span<const TensorType> args, const Attrs& attrs) {
  ops::normalize_axis(attrs_as<AxisAttrs>(attrs).axis, args[0].rank());
  ops::expect_float(args[0], "input");
  return {args[0]};
}

std::vector<Tensor> log_softmax_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType>) {
  Tensor out = args[0];
  ops::for_each_line(out, attrs_as<AxisAttrs>(attrs).axis, [](float* p, int64_t n, int64_t stride) {
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < n; ++i) m = std::max(m, p[i * stride]);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(p[i * stride] - m));
    const double log_sum = std::log(sum);
    for (int64_t i = 0; i < n; ++i) p[i * stride] = static_cast<float>(static_cast<double>(p[i * stride] - m) - log_sum);
  });
  return {std::move(out)};
}

// ---- layer_norm(x, gamma, beta) ----

std::vector<TensorType> layer_norm_type(std::span<const TensorType> args, const Attrs& attrs) {
  ops::normalize_axis(attrs_as<LayerNormAttrs>(attrs).axis, args[0].rank());
  ops::expect_float(args[0], "input");
  ops::expect_float(args[1], "gamma");  // the kernel reads every operand as float32
  ops::expect_float(args[2], "beta");
  for (size_t i = 1; i < 3; ++i)
    if (ops::broadcast_shapes(args[0].shape, args[i].shape) != args[0].shape)
      ops::type_error((i == 1 ? "gamma " : "beta ") + args[i].str() + " does not broadcast to the input " + args[0].str());
  return {args[0]};
}

std::vector<Tensor> layer_norm_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& a = attrs_as<LayerNormAttrs>(attrs);
  const auto& shape = types[0].shape;
  const auto axis = static_cast<size_t>(ops::normalize_axis(a.axis, shape.size()));
  int64_t outer = 1, n = 1;
  for (size_t d = 0; d < axis; ++d) outer *= shape[d];
  for (size_t d = axis; d < shape.size(); ++d) n *= shape[d];
  const auto gamma = ops::broadcast_index_map(args[1].type().shape, shape);
  const auto beta = ops::broadcast_index_map(args[2].type().shape, shape);
  const float* x = args[0].values<float>().data();
  Tensor out(types[0]);
  float* o = out.mutable_values<float>().data();
  for (int64_t r = 0; r < outer; ++r) {
    const float* row = x + r * n;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < n; ++i) mean += row[i];
    mean /= static_cast<double>(n);
    for (int64_t i = 0; i < n; ++i) var += (row[i] - mean) * (row[i] - mean);
    var /= static_cast<double>(n);
    const double inv = 1 / std::sqrt(var + a.epsilon);
    for (int64_t i = 0; i < n; ++i) {
      const auto k = static_cast<size_t>(r * n + i);
      o[k] = static_cast<float>((row[i] - mean) * inv * args[1].values<float>()[static_cast<size_t>(gamma[k])] +
                                args[2].values<float>()[static_cast<size_t>(beta[k])]);
    }
  }
  return {std::move(out)};
}

}  // namespace

void register_normalization_ops(OpRegistry& r) {
  r.add({"nn.log_softmax", "log of softmax along `axis`", 1, 1, OpPattern::opaque,
         [] { return std::make_unique<AxisAttrs>(); }, log_softmax_type, log_softmax_reference});
  r.add({"nn.layer_norm", "(x - mean) / sqrt(var + epsilon) * gamma + beta over the axes from `axis` on", 3, 3,
         OpPattern::opaque, [] { return std::make_unique<LayerNormAttrs>(); }, layer_norm_type, layer_norm_reference});
}

}  // namespace modelc::lang
