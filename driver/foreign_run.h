// Running artifacts modelc cannot load into its own process (another ISA, a
// wasm module, a GPU target): through the runner built beside their library
// (targets/runner.h), with tensors in and out. `modelc run`, `bench` and
// `report` call these for every target whose profile does not run natively.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "lang/tensor.h"
#include "reports/results.h"
#include "targets/device_profile.h"
#include "targets/roofline.h"
#include "targets/runner.h"

namespace modelc::driver {

struct ForeignRun {
  std::vector<lang::Tensor> outputs;  // in the model's output order
  std::vector<double> samples_ms;     // the timed runs the options asked for
  std::string how;                    // e.g. "emulated by qemu-aarch64 (correctness only)"
};

// Runs the artifact in `artifact_dir` on `inputs` (model input order)
// through its runner, in a scratch folder that is removed afterwards.
ForeignRun run_foreign(const targets::DeviceProfile& profile, const std::filesystem::path& artifact_dir,
                       const std::vector<lang::Tensor>& inputs, const targets::RunnerOptions& options);

// The roofline of an artifact's summary, as results.json holds it (nullopt without peak figures).
std::optional<reports::RooflineResult> roofline_result(const targets::DeviceProfile& profile,
                                                       const std::optional<targets::RooflineEstimate>& estimate);

}  // namespace modelc::driver
