// `modelc bench` and `modelc report`: every compiled artifact of a recipe
// and its baselines, checked against the reference interpreter, then timed
// together in interleaved rounds (reports/rounds.h). This file is glue: it
// turns artifacts, the reference interpreter (lang/) and ONNX Runtime
// sessions (reports/) into timed implementations and the measurements back
// into results.
#pragma once

#include <optional>
#include <vector>

#include "driver/pipeline.h"
#include "reports/results.h"

namespace modelc::driver {

struct MeasureOptions {
  spec::BenchmarkSpec benchmark;
  std::optional<int> threads;  // overrides every target's
  bool time_reference = true;  // time the reference interpreter (it always runs once, for accuracy)
  bool onnxruntime = false;    // ONNX Runtime as a baseline (ONNX models with one float32 input)
  bool measure_peak = true;    // this core's fp32 peak, into the environment
  bool sensitivity = false;    // per-layer sensitivity of int8 variants that ask for it (quantization.evaluation)
  ProgressFn progress;         // one line per step, for a terminal
};

// One result per artifact, in order. Baselines are measured once per model,
// input and thread count, and listed under every artifact they apply to.
// Only artifacts whose outputs agree with the reference interpreter are timed.
reports::Results measure_artifacts(const spec::Recipe& recipe, const std::vector<CompiledArtifact>& artifacts,
                                   const MeasureOptions& options);

struct KernelProfileOptions {
  std::optional<int> threads;  // overrides every target's
  int runs = 0;                // observed runs per artifact; 0: as many as fit in about a second (at least 10)
  size_t rows = 25;            // slowest kernels listed per artifact
  bool in_place = false;       // each kernel timed in place too (reports::profile_kernels)
  ProgressFn progress;
};

struct KernelProfileText {
  std::string text;    // one table per artifact, with this core's measured fp32 peak
  bool failed = false;  // an artifact's outputs differ from the reference: it is not profiled
};

// `modelc bench --kernels`: each artifact checked against the reference
// interpreter, then profiled kernel by kernel (reports/kernel_profile.h).
KernelProfileText profile_artifact_kernels(const spec::Recipe& recipe, const std::vector<CompiledArtifact>& artifacts,
                                           const KernelProfileOptions& options);

}  // namespace modelc::driver
