// `modelc sensitivity`: how much each quantized layer alone costs in
// accuracy, to guide quantization.skip.
//
// For an int8 recipe with held-out inputs (quantization.evaluation), the
// float model and the fully quantized one run on those inputs, then, for
// each conv2d or dense layer the Quantize pass quantizes, a model in which
// only that layer (and the adds it feeds) is quantized. Calibration runs once:
// every run shares its ranges (lang::QuantizeOptions::range_cache). The
// models run through Halide's JIT on this machine (lower/jit_module.h), each
// distinct kernel compiled once. The table goes into the report of each
// int8 variant that asks for it (quantization.evaluation.sensitivity;
// reports::render_sensitivity_markdown).
#pragma once

#include "driver/pipeline.h"
#include "reports/results.h"

namespace modelc::driver {

// modelc::Error, located at the recipe, for a recipe that does not quantize
// to int8 or has no held-out inputs. At most `max_inputs` held-out inputs.
// Layers are named as quantization.skip takes them (lang::origin_name).
reports::SensitivityResult layer_sensitivity(const spec::Variant& variant, size_t max_inputs, const ProgressFn& progress);

}  // namespace modelc::driver
