// `modelc sensitivity`: how much each quantized layer alone costs in
// accuracy, to guide quantization.skip.
//
// For an int8 recipe with held-out inputs (quantization.evaluation), the
// float model and the fully quantized one run on those inputs, then, for
// each conv2d or dense layer the Quantize pass quantizes, a model in which
// only that layer (and the adds it feeds) is quantized. Calibration runs once:
// every run shares its ranges (lang::QuantizeOptions::range_cache). The
// models run through Halide's JIT on this machine (lower/jit_module.h), each
// distinct kernel compiled once.
#pragma once

#include <string>
#include <vector>

#include "driver/evaluate.h"
#include "driver/pipeline.h"

namespace modelc::driver {

struct LayerSensitivity {
  std::string layer;          // the binding's origin ("ONNX node '/conv1/Conv' (Conv)"; lang::origin_name gives the name)
  std::string op;             // qnn.conv2d, qnn.dense
  OutputAgreement agreement;  // the model's first float output against the float model's
};

struct SensitivityTable {
  std::string variant;
  size_t inputs = 0;
  OutputAgreement all;                   // every layer quantized (the recipe's model)
  std::vector<LayerSensitivity> layers;  // most sensitive (lowest mean cosine) first
};

// modelc::Error, located at the recipe, for a recipe that does not quantize
// to int8 or has no held-out inputs. At most `max_inputs` held-out inputs.
SensitivityTable layer_sensitivity(const spec::Variant& variant, size_t max_inputs, const ProgressFn& progress);

// A Markdown table: one row per layer, most sensitive first, the whole
// quantized model last.
std::string render_sensitivity(const SensitivityTable& table);

}  // namespace modelc::driver
