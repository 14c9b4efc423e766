// Running and measuring compiled artifacts: `modelc run`, `bench` and
// `report` are built from these.
#pragma once

#include <filesystem>
#include <optional>
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

struct EvaluationOptions {
  spec::BenchmarkSpec benchmark;
  std::optional<int> threads;  // overrides the target's
  bool reference = true;       // time the reference interpreter too
  bool onnxruntime = false;    // run ONNX Runtime as a baseline (ONNX models)
  ProgressFn progress;
};

// Benchmarks one artifact and its baselines on `inputs`; accuracy is the
// artifact's largest error against the reference interpreter's output.
reports::VariantResult evaluate(const spec::Recipe& recipe, const lang::Module& reference_module,
                                const CompiledArtifact& artifact, const std::vector<lang::Tensor>& inputs,
                                const EvaluationOptions& options);

// Header of a results document (recipe, environment, benchmark settings).
reports::Results results_for(const spec::Recipe& recipe, const spec::BenchmarkSpec& benchmark);

}  // namespace modelc::driver
