#include "reports/benchmark.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "support/diagnostic.h"

namespace modelc::reports {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

constexpr double kProgressIntervalSeconds = 0.1;

}  // namespace

double percentile_of_sorted(std::span<const double> sorted, double p) {
  if (sorted.empty()) throw Error("percentile of an empty sample");
  const double rank = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto lower = static_cast<size_t>(std::floor(rank));
  const size_t upper = std::min(lower + 1, sorted.size() - 1);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (rank - static_cast<double>(lower));
}

LatencyStats summarize_latency(std::span<const double> samples_ms, int warmup) {
  if (samples_ms.empty()) throw Error("cannot summarize a latency measurement without samples");
  std::vector<double> sorted(samples_ms.begin(), samples_ms.end());
  std::sort(sorted.begin(), sorted.end());

  const auto n = static_cast<double>(sorted.size());
  const double mean = std::accumulate(sorted.begin(), sorted.end(), 0.0) / n;
  double squares = 0;
  for (const double x : sorted) squares += (x - mean) * (x - mean);

  LatencyStats stats;
  stats.warmup = warmup;
  stats.repeats = static_cast<int>(sorted.size());
  stats.median_ms = percentile_of_sorted(sorted, 50);
  stats.p90_ms = percentile_of_sorted(sorted, 90);
  stats.p99_ms = percentile_of_sorted(sorted, 99);
  stats.min_ms = sorted.front();
  stats.max_ms = sorted.back();
  stats.mean_ms = mean;
  stats.stddev_ms = sorted.size() > 1 ? std::sqrt(squares / (n - 1)) : 0.0;
  stats.throughput_per_s = mean > 0 ? 1000.0 / mean : 0.0;
  return stats;
}

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
