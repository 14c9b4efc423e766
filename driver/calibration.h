// The recipe's quantization block as the Quantize pass's options, with the
// calibration samples loaded (lang/passes/quantize.h).
#pragma once

#include <filesystem>
#include <vector>

#include "lang/frontends/onnx_qdq.h"
#include "lang/module.h"
#include "lang/passes/quantize.h"
#include "spec/recipe.h"

namespace modelc::driver {

// For mode int8: the samples of quantization.activations.calibration.data (a
// folder of .npy files, or one file, whose first axis holds samples of the
// model's single input, batch included), or, when the recipe asks for them by
// name (calibration.random_seed), seeded standard-normal samples. At most
// calibration.samples of them. Throws modelc::Error located at the recipe.
lang::QuantizeOptions quantize_options(const spec::Recipe& recipe, const lang::Module& module);

// For a quantized recipe with quantization.evaluation.samples > 0: that many
// held-out inputs, from evaluation.data or seeded standard-normal ones
// (evaluation.random_seed, refused when its seeds overlap calibration's).
// Empty otherwise. Throws modelc::Error located at the recipe.
std::vector<std::vector<lang::Tensor>> held_out_inputs(const spec::Recipe& recipe, const lang::Module& module);

// The QDQ form of an int8 recipe's ONNX model, calibrated as the Quantize
// pass calibrates it (lang/frontends/onnx_qdq.h), written to `out`: what ONNX
// Runtime runs as the int8 baseline. Throws modelc::Error when the recipe is
// not int8 or its model is not an ONNX file.
lang::QdqSummary write_qdq_model(const spec::Recipe& recipe, const std::filesystem::path& out);

// Whether the recipe calibrates on seeded random samples (reports say so first).
bool calibrates_on_random_data(const spec::Recipe& recipe);

}  // namespace modelc::driver
