// The statistics every latency figure of a report is made of: order
// statistics of the timed runs, a confidence interval for a median and for
// the ratio of two medians, and MLPerf LoadGen's early-stopping bound for a
// tail percentile (reports/early_stopping.h).
//
// Intervals come from a percentile bootstrap over *rounds*, not over single
// runs: runs within a round share the machine's state (frequency, caches,
// whatever else ran then), so the round is the unit that varies
// independently. A resample draws as many rounds as were measured, with
// replacement, pools their runs and takes the statistic; the 2.5th and 97.5th
// percentiles of kBootstrapResamples such statistics bound the 95 % interval.
// Two implementations measured in the same rounds are resampled with the same
// round indices (paired), so drift that hit both cancels in their ratio.
// The random numbers come from splitmix64 with a fixed seed: the same samples
// always give the same interval.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace modelc::reports {

// samples_ms[r]: the timed runs of round r, in run order.
using RoundSamples = std::vector<std::vector<double>>;

inline constexpr int kBootstrapResamples = 2000;
inline constexpr uint64_t kBootstrapSeed = 0x6d6f64656c63;  // "modelc"
inline constexpr double kConfidence = 0.95;

struct Interval {
  double low = 0;
  double high = 0;

  bool contains(double x) const { return low <= x && x <= high; }
  bool operator==(const Interval&) const = default;
};

// MLPerf LoadGen's early-stopping estimate for one percentile (see
// reports/early_stopping.h): the latency that the `percentile` of runs stays
// under with 99 % confidence, given how many runs were taken.
struct EarlyStoppingBound {
  double percentile = 0;      // 0.90, 0.99
  int64_t samples_needed = 0;  // fewer runs give no bound (64 for p90, 662 for p99)
  std::optional<double> bound_ms;

  bool operator==(const EarlyStoppingBound&) const = default;
};

// Order statistics use linear interpolation between closest ranks (numpy's
// default percentile); stddev is the sample standard deviation (n - 1), 0 for
// a single sample.
struct LatencyStats {
  int warmup = 0;          // untimed runs before the first sample
  int repeats = 0;         // timed runs (samples), all rounds together
  int rounds = 1;          // rounds the runs were taken in
  int runs_per_round = 0;  // 0: not measured in rounds
  double median_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  double min_ms = 0;
  double max_ms = 0;
  double mean_ms = 0;
  double stddev_ms = 0;
  double throughput_per_s = 0;  // runs per second of busy time: 1000 / mean_ms
  std::optional<Interval> median_interval;  // 95 %, bootstrap over rounds; needs two rounds
  std::optional<EarlyStoppingBound> p90_bound;
  std::optional<EarlyStoppingBound> p99_bound;

  bool operator==(const LatencyStats&) const = default;
};

// Summary of samples in milliseconds; throws modelc::Error when empty.
LatencyStats summarize_latency(std::span<const double> samples_ms, int warmup = 0);
// The same over rounds, with the median's interval and the early-stopping
// bounds of p90 and p99; throws modelc::Error when there is no sample.
LatencyStats summarize_rounds(const RoundSamples& samples_ms, int warmup);

// Percentile p in [0, 100] of ascending samples (linear interpolation).
double percentile_of_sorted(std::span<const double> sorted, double p);

// All runs of all rounds, in round order.
std::vector<double> pooled(const RoundSamples& samples_ms);

// 95 % interval of the median; nullopt with fewer than two non-empty rounds.
std::optional<Interval> median_interval(const RoundSamples& samples_ms);

// How much faster `row` is than `against`: median(against) / median(row),
// above 1 when `row` is faster. `paired`: both were measured in the same
// rounds (same count, round r of each taken back to back).
struct Speedup {
  double value = 0;
  std::optional<Interval> interval;  // nullopt with fewer than two rounds on a side
  bool paired = false;

  // The interval holds 1: the data cannot tell the two apart. (Without an
  // interval nothing is known either way; renderers say so.)
  bool within_noise() const { return interval && interval->contains(1.0); }
  bool operator==(const Speedup&) const = default;
};
// Throws modelc::Error when a side has no sample, or `paired` with different round counts.
Speedup speedup(const RoundSamples& row, const RoundSamples& against, bool paired);

}  // namespace modelc::reports
