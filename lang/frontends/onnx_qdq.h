// The QDQ form of an ONNX model: the model with QuantizeLinear /
// DequantizeLinear pairs around the values modelc's int8 quantization keeps
// in 8 bits and its weights stored as int8 initializers, with the same
// calibrated ranges and weight scales. It is what ONNX Runtime runs as its own
// int8 version of a model (it fuses DQ -> Conv -> Q into QLinearConv and the
// like), the baseline an int8 variant is measured against.
#pragma once

#include <filesystem>

#include "lang/frontends/onnx.h"
#include "lang/passes/quantize.h"

namespace modelc::lang {

struct QdqSummary {
  int layers = 0;        // Conv, Gemm and MatMul nodes given int8 weights
  int float_layers = 0;  // those with an initializer weight left in float (skipped, or not qualifying)
  int activations = 0;   // tensors given a QuantizeLinear / DequantizeLinear pair
};

// Writes to `out` the QDQ form of the ONNX model `file`, which `imported`
// must be the import_onnx_values() of. What is quantized follows the Quantize
// pass (lang/passes/quantize.cpp): Conv with a float initializer weight, Gemm
// (alpha 1, not transposing A) and MatMul with a 2-D float initializer
// weight, each with its ReLU or Clip when that is its only consumer; an Add of
// two float activations one of which is quantized (a residual), with its ReLU;
// MaxPool of a quantized value (at its input's scale). Their activation inputs
// and results (a layer's only where a quantized op reads it: the pass leaves
// the others float) get QuantizeLinear / DequantizeLinear pairs at the ranges
// `options` calibrates (the same samples and method as the pass), weights
// symmetric int8 per output channel (or per tensor), Conv and Gemm biases
// int32 at input scale x weight scale. Layers named in options.skip stay in
// float. Throws modelc::Error naming the file when the model's opset is older
// than 10 (no QuantizeLinear), when calibration fails, or when the result
// does not pass the ONNX checker.
QdqSummary write_qdq_onnx(const std::filesystem::path& file, const OnnxImport& imported, const QuantizeOptions& options,
                          const std::filesystem::path& out);

}  // namespace modelc::lang
