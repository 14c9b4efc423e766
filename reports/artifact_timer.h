// A compiled artifact set up for timed runs: one model instance, its inputs
// copied in, its output buffers allocated, so that a timed run is exactly
// one call of the artifact's run function, without checks or allocation.
// The in-process half of the harness of reports/rounds.h.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <vector>

#include "reports/artifact.h"

namespace modelc::reports {

// Runs through run_observed: per run, its whole time and each step's, in ms.
// On one thread the clock is that thread's CPU time (a shared machine's other
// work is not counted), on several the steady wall clock.
struct StepSamples {
  bool thread_cpu_time = false;
  std::vector<double> run_ms;
  std::vector<std::vector<double>> step_ms;
};

class ArtifactTimer {
 public:
  // `inputs`: the bytes of each model input, in the artifact's input order.
  // Throws modelc::Error when the artifact cannot be opened or the inputs do
  // not fit it.
  ArtifactTimer(const std::filesystem::path& folder, int threads, std::vector<std::vector<std::byte>> inputs);

  // `runs` back-to-back runs, the latency of each in ms; throws modelc::Error
  // (with the artifact's last error) when a run fails.
  std::vector<double> run_batch(int runs);
  // `runs` runs through run_observed, each step timed (see StepSamples); with
  // `in_place`, each step's kernel called once untimed before its timed call
  // (MODELC_OBSERVE_IN_PLACE).
  StepSamples run_steps(int runs, bool in_place = false);

  const LoadedArtifact& artifact() const { return artifact_; }

 private:
  LoadedArtifact artifact_;
  ModelInstance model_;
  int threads_ = 0;
  std::vector<std::vector<std::byte>> inputs_;
  std::vector<std::vector<std::byte>> outputs_;
  std::vector<modelc_buffer> in_;
  std::vector<modelc_buffer> out_;
};

}  // namespace modelc::reports
