// Runs an artifact through its runner program (runtime/modelc_runner.c,
// built beside the library for every target with a C library here), for
// targets whose code modelc cannot load into its own process: another ISA
// under qemu-user, wasm under node's WASI, a GPU target on its driver (PoCL
// or CUDA). The runner reads .npy inputs, writes .npy outputs and times
// repeated runs inside the target, so that no copy of inputs or process
// start-up is timed.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "targets/device_profile.h"

namespace modelc::targets {

struct RunnerOptions {
  int threads = 0;    // 0: every core of the machine (or emulator) that runs it
  int warmup = 0;     // untimed runs after the first, checked one
  int repeats = 0;    // timed runs (0: none)
  double min_ms = 0;  // keep timing until this much time has passed
};

struct RunnerResult {
  std::vector<std::filesystem::path> outputs;  // output_<i>.npy in output_dir, in the model's output order
  std::vector<double> samples_ms;              // one per timed run
  std::string command;                         // what was run, for messages
};

// The argv that starts the runner of the artifact in `artifact_dir` here,
// before the runner's own arguments. Throws modelc::Error saying why when
// this machine cannot run it (see runs_here) or the artifact has no runner.
std::vector<std::string> runner_command(const DeviceProfile& profile, const std::filesystem::path& artifact_dir);

// Runs the model once on `inputs` (one .npy per model input, in order),
// writing its outputs to `output_dir`, then the timed runs `options` asks
// for. Throws modelc::Error with the runner's message when it fails.
RunnerResult run_with_runner(const DeviceProfile& profile, const std::filesystem::path& artifact_dir,
                             const std::vector<std::filesystem::path>& inputs, const std::filesystem::path& output_dir,
                             const RunnerOptions& options);

}  // namespace modelc::targets
