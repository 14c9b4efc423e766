// Latency measurement: the one harness that times modelc artifacts and the
// in-process baselines, so every figure in a report means the same thing.
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

#include "spec/recipe.h"

namespace modelc::reports {

inline constexpr int kMaxTimedRuns = 100000;

// Order statistics use linear interpolation between closest ranks (numpy's
// default percentile); stddev is the sample standard deviation (n - 1), 0 for
// a single sample.
struct LatencyStats {
  int warmup = 0;   // untimed runs before the first sample
  int repeats = 0;  // timed runs (samples)
  double median_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  double min_ms = 0;
  double max_ms = 0;
  double mean_ms = 0;
  double stddev_ms = 0;
  double throughput_per_s = 0;  // runs per second of busy time: 1000 / mean_ms

  bool operator==(const LatencyStats&) const = default;
};

// Summary of samples in milliseconds; throws modelc::Error when empty.
LatencyStats summarize_latency(std::span<const double> samples_ms, int warmup = 0);

// Percentile p in [0, 100] of ascending samples (linear interpolation).
double percentile_of_sorted(std::span<const double> sorted, double p);

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
