// Latency of one implementation on its own: a loop of timed runs, for
// measuring a kernel or a single artifact. Reports compare implementations
// with reports/rounds.h instead, which interleaves them.
//
// A measurement is `warmup` untimed runs, then timed runs (std::chrono::
// steady_clock around each) until both `repeats` runs and `min_seconds` have
// passed, capped at kMaxTimedRuns so a microsecond model with a long
// min_seconds cannot grow the sample vector without bound.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "reports/statistics.h"
#include "spec/recipe.h"

namespace modelc::reports {

inline constexpr int kMaxTimedRuns = 100000;

struct BenchmarkProgress {
  enum class Phase { warmup, timed };
  Phase phase = Phase::warmup;
  int runs_done = 0;        // within the phase
  int runs_planned = 0;     // warm-up count, or the minimum number of timed runs
  double elapsed_seconds = 0;  // since the phase started
};
using ProgressCallback = std::function<void(const BenchmarkProgress&)>;

struct LatencyMeasurement {
  LatencyStats stats;
  std::vector<double> samples_ms;  // in run order
};

// Exceptions thrown by run_once propagate unchanged. `progress` (optional) is
// called after each warm-up run and about every 100 ms of timed runs.
LatencyMeasurement measure_latency_samples(const std::function<void()>& run_once,
                                           const spec::BenchmarkSpec& spec,
                                           const ProgressCallback& progress = {});

LatencyStats measure_latency(const std::function<void()>& run_once, const spec::BenchmarkSpec& spec,
                             const ProgressCallback& progress = {});

}  // namespace modelc::reports
