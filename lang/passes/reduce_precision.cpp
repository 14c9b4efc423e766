// ReducePrecision (`quantization.mode: bf16 | fp16`): stores the constant
// weights of convolutions and matrix products in bfloat16 or float16, rounded
// to nearest even, and leaves everything else in float32.
//
// Convolutions and dense layers store only: the kernels widen the reduced
// weights to float32 (once per row of pixel tiles, lower/tensor_func.h), so
// activations, accumulation and every other op (softmax, normalization,
// reductions, elementwise) stay in float32. A batch_matmul with a bfloat16
// weight (dense layers over several rows) multiplies bfloat16 values: its
// activations are rounded too (its reference, lang/ops/nn.cpp), on AMX tiles
// where the target has them. The weights take half the bytes (in the
// library, in memory, through the caches); bfloat16 keeps 8 significant
// bits, float16 11 (see docs/quantization.md).
//
// Runs after the weights have their final form (ConvertLayout's packing,
// AlterOpLayout's transposes, Winograd's transform, FoldConstant), so that no
// compile-time transform computes on rounded values: conv2d, conv2d_winograd,
// dense and batch_matmul with a constant float32 weight (second operand).
// quantization.skip keeps layers (ONNX node / YAML layer names) or op kinds
// in float32: nn.conv2d names every convolution (its Winograd form too),
// nn.dense and nn.batch_matmul every matrix product with a constant weight
// (AlterOpLayout computes dense layers as matrix products). A no-op unless
// quantization.mode is bf16 or fp16.
#include <cmath>
#include <cstdio>

#include "lang/pass.h"
#include "support/diagnostic.h"

namespace modelc::lang {
namespace {

bool is_weighted_anchor(const Binding& b) {
  return b.is_op("nn.conv2d") || b.is_op("nn.conv2d_winograd") || b.is_op("nn.dense") || b.is_op("nn.batch_matmul");
}

// Whether a skip entry names this binding: its layer, or its op kind.
bool skipped(const Binding& b, const std::vector<std::string>& skip) {
  const std::string op = b.op->name;
  const bool conv = op == "nn.conv2d" || op == "nn.conv2d_winograd";
  for (const std::string& s : skip) {
    if (s == origin_name(b.origin) || s == op) return true;
    if (conv && s == "nn.conv2d") return true;
    if (!conv && (s == "nn.dense" || s == "nn.batch_matmul")) return true;
  }
  return false;
}

// float16 keeps magnitudes up to 65504: a larger weight would become an
// infinity, and the layer's outputs infinities or NaN, in silence.
void check_float16_range(const Binding& b, std::span<const float> values) {
  constexpr double kLargestHalf = 65504.0;
  double largest = 0;
  for (float v : values) largest = std::max(largest, std::fabs(static_cast<double>(v)));
  if (largest < kLargestHalf + 16) return;  // what rounds to 65504 at most
  char shown[32];
  std::snprintf(shown, sizeof shown, "%.6g", largest);
  const std::string layer = origin_name(b.origin);
  throw Error(Diagnostic{Severity::error, {}, "/quantization/mode",
                         "fp16: a weight of " + (b.origin.empty() ? b.op->name : b.origin) + " reaches " + shown +
                             ", beyond float16's largest value (65504): it would become infinite",
                         "keep the layer in float32 (quantization.skip: [" + (layer.empty() ? b.op->name : layer) +
                             "]) or use bf16, which has float32's range"});
}

}  // namespace

Module reduce_precision(const Module& module, const PassContext& context) {
  const QuantizeOptions& o = context.quantize;
  if (o.mode != "bf16" && o.mode != "fp16") return module;
  const DType dtype = o.mode == "bf16" ? DType::bfloat16 : DType::float16;
  const std::string suffix = "." + o.mode;
  Module out = module;
  Function& main = out.main();
  for (Binding& b : main.body) {
    if (!b.is_op_call() || !is_weighted_anchor(b) || b.args.size() < 2 || !b.args[1].is_constant()) continue;
    if (out.type_of(main, b.args[0]).dtype != DType::float32 || skipped(b, o.skip)) continue;
    const std::string& name = b.args[1].constant;
    const Tensor& weight = out.constant(name);
    if (weight.type().dtype != DType::float32) continue;
    const std::string reduced = name + suffix;
    if (!out.constants.count(reduced)) {
      Tensor r(TensorType{weight.type().shape, dtype});
      const auto values = weight.values<float>();
      if (dtype == DType::float16) check_float16_range(b, values);
      for (size_t i = 0; i < values.size(); ++i) r.set_element(i, values[i]);
      out.constants.emplace(reduced, std::move(r));
    }
    b.args[1] = ValueRef::constant_named(reduced);
  }
  return infer_type(dead_code_elimination(out, context), context);
}

}  // namespace modelc::lang
