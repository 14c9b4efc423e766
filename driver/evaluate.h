// Running compiled artifacts and checking their outputs: `modelc run` uses
// these, and driver/measure.h builds `bench` and `report` on them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "driver/pipeline.h"
#include "lang/tensor.h"
#include "reports/results.h"

namespace modelc::driver {

// The input the recipe names (report.input, a .npy per model input: one file
// for a single-input model), else deterministic pseudo-random N(0, 1) data.
std::vector<lang::Tensor> benchmark_inputs(const spec::Recipe& recipe, const lang::Module& module);

lang::Tensor read_npy_tensor(const std::filesystem::path& path);
void write_npy_tensor(const std::filesystem::path& path, const lang::Tensor& tensor);

// Runs an artifact once on `inputs` (model input order) and returns its outputs.
std::vector<lang::Tensor> run_artifact(const std::filesystem::path& artifact_dir, const std::vector<lang::Tensor>& inputs,
                                       int threads);

// The reference interpreter's outputs on the benchmark inputs: the oracle of
// every artifact's accuracy.
struct ReferenceRun {
  std::vector<lang::Tensor> outputs;
  std::vector<std::string> names;  // the model's output names, in order
  // An int8 model (kInt8RoundingTolerance): the relative error ||a - r|| / ||r||
  // of each float output accepted when elements differ beyond the usual
  // tolerance. Its integer kernels match the reference exactly, but a float op
  // that feeds a quantize (a transformer's GELU, softmax) differs from the
  // reference's in the last bit, and a value on a rounding boundary then
  // moves one step, and the layers after carry the step on. 0: none.
  // A bf16 model (kBfloat16RoundingTolerance) likewise: its matrix products
  // round their activations to bfloat16 (8 significant bits), and a value
  // that float32 reassociation moves across a rounding boundary moves by
  // 2^-8 of itself; the layers after carry it on.
  double rounding_tolerance = 0;
  std::string rounding;  // "int8" or "bfloat16": whose rounding (the note's words)
  // An int8 model whose float ops feed quantizes: how far the reference's own
  // outputs move (the largest relative error) when every such float value is
  // nudged by about one unit in the last place; the tolerance is then at
  // least kInt8SensitivityFactor times that (a deep network's steps carry
  // further than a constant allows: EfficientNet-B0's 65 swish activations).
  double sensitivity = 0;
};
inline constexpr double kInt8SensitivityFactor = 3;
inline constexpr double kInt8RoundingTolerance = 1e-2;
inline constexpr double kBfloat16RoundingTolerance = 1e-2;
// `rounding_tolerance` is kInt8RoundingTolerance for an int8 `recipe` (or
// kInt8SensitivityFactor times its measured sensitivity when larger: one more
// reference run where a quantize reads a float op's value),
// kBfloat16RoundingTolerance for a bf16 one.
ReferenceRun run_reference(const lang::Module& reference_module, const std::vector<lang::Tensor>& inputs,
                           const spec::Recipe* recipe = nullptr);

// How far one output of a quantized model is from the float model's, over
// several inputs: absolute and relative error, cosine similarity per input,
// and for classifier outputs ([batch, classes]) top-1 and top-5 agreement.
struct OutputAgreement {
  std::string name;
  double max_abs = 0, sum_abs = 0, sum_sq_diff = 0, sum_sq_float = 0;
  size_t elements = 0;
  double cosine_sum = 0, cosine_min = 1;
  size_t samples = 0;
  size_t rows = 0, top1 = 0, top5 = 0;  // classifier outputs only

  // One input's output: `quantized` against `float_model` (same type).
  void add(const lang::Tensor& quantized, const lang::Tensor& float_model);
  double cosine_mean() const { return samples ? cosine_sum / static_cast<double>(samples) : 1.0; }
  double mean_abs() const { return elements ? sum_abs / static_cast<double>(elements) : 0.0; }
  double relative_error() const;  // ||q - f|| / ||f||
};

// "vs the float model: ..." for a quantized model's reference outputs
// against the float model's: the largest absolute error and the cosine
// similarity of each float output.
std::string quantization_error(const ReferenceRun& quantized, const ReferenceRun& float_model);

// A quantized artifact against the float build of the same model and target
// (both run here, natively) on held-out inputs (driver/calibration.h): per
// float output, top-1 and top-5 agreement when it is a classifier's
// ([batch, classes]: the float build's top class among the quantized one's
// top 1 and top 5, per row), the mean and smallest cosine similarity, the
// largest and mean absolute error and the relative error ||q - f|| / ||f||
// over all inputs. One line, for the report row's note.
std::string held_out_comparison(const std::filesystem::path& quantized_dir, const std::filesystem::path& float_dir,
                                const std::string& float_variant, const std::vector<std::vector<lang::Tensor>>& inputs,
                                int threads);

// The module whose reference run checks an artifact of `recipe` built with
// activations in `layout` (activation_layout): the imported model; for int8
// the model after the pass pipeline (quantized, activations NCHW), so that an
// int8 artifact is held to the integer reference kernels instead of to the
// float model it only approximates (quantization_error says how far it is
// from that); for bf16/fp16 the pipeline in the artifact's own layout, whose
// weights are rounded in the form its kernels read them (packed, transposed,
// Winograd-transformed: a transform changes what rounding loses).
lang::Module reference_module(const spec::Recipe& recipe, const lang::Module& imported, const std::string& layout);
// Whether reference_module depends on the layout (bf16/fp16).
bool reference_depends_on_layout(const spec::Recipe& recipe);

// An artifact's result before any timing: its compile time and sizes, and
//  - status compiled (with a note) when this machine cannot run its device;
//  - else, after one run on `inputs`, accuracy against the reference outputs
//    and status ok, or failed with a note naming the first output that
//    differs and how (a wrong artifact's speed means nothing: it is not timed).
reports::VariantResult check_artifact(const CompiledArtifact& artifact, const std::vector<lang::Tensor>& inputs,
                                      const ReferenceRun& reference, int threads);

// Every output, every dtype: floats within rtol 1e-3 and atol 1e-4 (the
// error of reassociated float32 sums over layers; wider for 16-bit floats,
// see reports::tolerance_for), integers and bools exactly. `got_names` and
// `want_names` may be empty when a side does not know them.
reports::AccuracyResult compare_outputs(const std::vector<lang::Tensor>& got, const std::vector<std::string>& got_names,
                                        const std::vector<lang::Tensor>& want, const std::vector<std::string>& want_names,
                                        const std::string& against, std::string* disagreement = nullptr);

// The bytes of each input, as an artifact timer takes them (reports/artifact_timer.h).
std::vector<std::vector<std::byte>> input_bytes(const std::vector<lang::Tensor>& inputs);

// threads <= 0: every core.
int resolve_threads(int requested);

// Header of a results document (recipe, environment, benchmark settings).
reports::Results results_for(const spec::Recipe& recipe, const spec::BenchmarkSpec& benchmark);

}  // namespace modelc::driver
