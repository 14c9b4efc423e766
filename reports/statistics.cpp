#include "reports/statistics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "reports/early_stopping.h"
#include "support/diagnostic.h"

namespace modelc::reports {
namespace {

// splitmix64 (Steele, Lea, Flood 2014): tiny, fast and the same everywhere,
// unlike the std:: distributions, whose output the standard leaves open.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); the modulo bias is below 2^-50 for the round counts used.
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }

 private:
  uint64_t state_;
};

// Rounds sorted once, so that a quantile of any resample (round r taken
// weights[r] times) is a binary search instead of a sort of the pooled runs.
class SortedRounds {
 public:
  explicit SortedRounds(const RoundSamples& samples) : rounds_(samples) {
    for (std::vector<double>& round : rounds_) std::sort(round.begin(), round.end());
    all_ = pooled(rounds_);
    std::sort(all_.begin(), all_.end());
  }

  size_t count() const { return rounds_.size(); }
  bool empty() const { return all_.empty(); }

  // numpy's linear-interpolation quantile q in [0, 1] of the weighted pool.
  std::optional<double> quantile(std::span<const int> weights, double q) const {
    uint64_t total = 0;
    for (size_t r = 0; r < rounds_.size(); ++r) total += static_cast<uint64_t>(weights[r]) * rounds_[r].size();
    if (total == 0) return std::nullopt;
    const double position = q * static_cast<double>(total - 1);
    const auto k = static_cast<uint64_t>(std::floor(position));
    const double low = kth(weights, k);
    const double high = k + 1 < total ? kth(weights, k + 1) : low;
    return low + (high - low) * (position - static_cast<double>(k));
  }

 private:
  // How many runs of the weighted pool are <= value.
  uint64_t count_at_most(std::span<const int> weights, double value) const {
    uint64_t n = 0;
    for (size_t r = 0; r < rounds_.size(); ++r) {
      if (weights[r] == 0) continue;
      const auto end = std::upper_bound(rounds_[r].begin(), rounds_[r].end(), value);
      n += static_cast<uint64_t>(weights[r]) * static_cast<uint64_t>(end - rounds_[r].begin());
    }
    return n;
  }

  // The k-th smallest (0-based) run of the weighted pool: every run of the
  // pool is one of all_, so it is the first of all_ with more than k at most it.
  double kth(std::span<const int> weights, uint64_t k) const {
    size_t low = 0, high = all_.size() - 1;
    while (low < high) {
      const size_t middle = low + (high - low) / 2;
      if (count_at_most(weights, all_[middle]) > k) high = middle;
      else low = middle + 1;
    }
    return all_[low];
  }

  RoundSamples rounds_;
  std::vector<double> all_;
};

void draw_rounds(SplitMix64& random, std::vector<int>& weights) {
  std::fill(weights.begin(), weights.end(), 0);
  for (size_t i = 0; i < weights.size(); ++i) ++weights[random.below(weights.size())];
}

size_t non_empty_rounds(const RoundSamples& samples) {
  return static_cast<size_t>(std::count_if(samples.begin(), samples.end(), [](const auto& r) { return !r.empty(); }));
}

std::optional<Interval> percentile_interval(std::vector<double> statistics) {
  if (statistics.empty()) return std::nullopt;
  std::sort(statistics.begin(), statistics.end());
  const double tail = (1 - kConfidence) / 2 * 100;
  return Interval{percentile_of_sorted(statistics, tail), percentile_of_sorted(statistics, 100 - tail)};
}

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

LatencyStats summarize_rounds(const RoundSamples& samples_ms, int warmup) {
  std::vector<double> all = pooled(samples_ms);
  LatencyStats stats = summarize_latency(all, warmup);
  stats.rounds = static_cast<int>(samples_ms.size());
  size_t most = 0;
  for (const auto& round : samples_ms) most = std::max(most, round.size());
  stats.runs_per_round = static_cast<int>(most);
  stats.median_interval = median_interval(samples_ms);
  std::sort(all.begin(), all.end());
  stats.p90_bound = early_stopping_bound(all, 0.90);
  stats.p99_bound = early_stopping_bound(all, 0.99);
  return stats;
}

std::vector<double> pooled(const RoundSamples& samples_ms) {
  std::vector<double> all;
  for (const auto& round : samples_ms) all.insert(all.end(), round.begin(), round.end());
  return all;
}

std::optional<Interval> median_interval(const RoundSamples& samples_ms) {
  if (non_empty_rounds(samples_ms) < 2) return std::nullopt;
  const SortedRounds rounds(samples_ms);
  SplitMix64 random(kBootstrapSeed);
  std::vector<int> weights(rounds.count());
  std::vector<double> medians;
  medians.reserve(kBootstrapResamples);
  for (int b = 0; b < kBootstrapResamples; ++b) {
    draw_rounds(random, weights);
    if (const auto m = rounds.quantile(weights, 0.5)) medians.push_back(*m);
  }
  return percentile_interval(std::move(medians));
}

Speedup speedup(const RoundSamples& row, const RoundSamples& against, bool paired) {
  const SortedRounds a(row), b(against);
  if (a.empty() || b.empty()) throw Error("a speed-up needs samples on both sides");
  if (paired && a.count() != b.count()) {
    throw Error("paired rounds need the same number of rounds (" + std::to_string(a.count()) + " and " +
                std::to_string(b.count()) + ")");
  }
  Speedup out;
  out.paired = paired;
  const std::vector<int> all_a(a.count(), 1), all_b(b.count(), 1);
  out.value = *b.quantile(all_b, 0.5) / *a.quantile(all_a, 0.5);
  if (non_empty_rounds(row) < 2 || non_empty_rounds(against) < 2) return out;

  SplitMix64 random(kBootstrapSeed);
  std::vector<int> weights_a(a.count()), weights_b(b.count());
  std::vector<double> ratios;
  ratios.reserve(kBootstrapResamples);
  for (int i = 0; i < kBootstrapResamples; ++i) {
    draw_rounds(random, weights_a);
    if (paired) weights_b = weights_a;
    else draw_rounds(random, weights_b);
    const auto ma = a.quantile(weights_a, 0.5);
    const auto mb = b.quantile(weights_b, 0.5);
    if (ma && mb && *ma > 0) ratios.push_back(*mb / *ma);
  }
  out.interval = percentile_interval(std::move(ratios));
  return out;
}

}  // namespace modelc::reports
