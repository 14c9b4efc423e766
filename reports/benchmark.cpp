#include "reports/benchmark.h"

#include <algorithm>
#include <chrono>

namespace modelc::reports {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

constexpr double kProgressIntervalSeconds = 0.1;

}  // namespace

LatencyMeasurement measure_latency_samples(const std::function<void()>& run_once,
                                           const spec::BenchmarkSpec& spec,
                                           const ProgressCallback& progress) {
  const int warmup = std::max(spec.warmup, 0);
  const int min_runs = std::clamp(spec.repeats, 1, kMaxTimedRuns);
  const double min_seconds = std::max(spec.min_seconds, 0.0);

  const Clock::time_point warmup_start = Clock::now();
  for (int i = 0; i < warmup; ++i) {
    run_once();
    if (progress) {
      progress({BenchmarkProgress::Phase::warmup, i + 1, warmup, seconds_between(warmup_start, Clock::now())});
    }
  }

  LatencyMeasurement measurement;
  measurement.samples_ms.reserve(static_cast<size_t>(min_runs));
  const Clock::time_point start = Clock::now();
  Clock::time_point last_report = start;
  for (;;) {
    const Clock::time_point before = Clock::now();
    run_once();
    const Clock::time_point after = Clock::now();
    measurement.samples_ms.push_back(std::chrono::duration<double, std::milli>(after - before).count());

    const auto done = static_cast<int>(measurement.samples_ms.size());
    const double elapsed = seconds_between(start, after);
    const bool finished = (done >= min_runs && elapsed >= min_seconds) || done >= kMaxTimedRuns;
    if (progress && (finished || seconds_between(last_report, after) >= kProgressIntervalSeconds)) {
      progress({BenchmarkProgress::Phase::timed, done, min_runs, elapsed});
      last_report = after;
    }
    if (finished) break;
  }
  measurement.stats = summarize_latency(measurement.samples_ms, warmup);
  return measurement;
}

LatencyStats measure_latency(const std::function<void()>& run_once, const spec::BenchmarkSpec& spec,
                             const ProgressCallback& progress) {
  return measure_latency_samples(run_once, spec, progress).stats;
}

}  // namespace modelc::reports
