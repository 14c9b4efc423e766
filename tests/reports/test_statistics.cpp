#include <doctest/doctest.h>

#include <vector>

#include "reports/early_stopping.h"
#include "reports/statistics.h"
#include "sample_results.h"
#include "support/diagnostic.h"

using namespace modelc::reports;
using modelc::reports::testing::rounds_around;

TEST_CASE("early stopping: LoadGen's sample floors at 99 % confidence") {
  // The SingleStream floors LoadGen states: 64 queries for p90, 662 for p99.
  CHECK(min_passing_runs(1, 0.90) + 1 == 64);
  CHECK(min_passing_runs(1, 0.99) + 1 == 662);
  // With no overs at all: ceil(log(0.01) / log(0.99)) = 459 for p99 (LoadGen's first step).
  CHECK(min_passing_runs(0, 0.99) == 459);
  // More overs need more runs under, at least p / (1 - p) more per over.
  CHECK(min_passing_runs(10, 0.90) > min_passing_runs(9, 0.90) + 8);
}

TEST_CASE("early stopping: no bound below the floor, a conservative one above it") {
  std::vector<double> sorted;
  for (int i = 1; i <= 63; ++i) sorted.push_back(i);
  EarlyStoppingBound bound = early_stopping_bound(sorted, 0.90);
  CHECK(bound.samples_needed == 64);
  CHECK_FALSE(bound.bound_ms);

  sorted.clear();
  for (int i = 1; i <= 1000; ++i) sorted.push_back(i);  // the empirical p90 is 900.1
  bound = early_stopping_bound(sorted, 0.90);
  REQUIRE(bound.bound_ms);
  CHECK(*bound.bound_ms > 900);  // claims a little more than the empirical percentile...
  CHECK(*bound.bound_ms < 950);  // ...by what 1000 runs leave uncertain
  // Exactly the LoadGen rule: the t-th slowest run for the largest t with h(t) + t <= n.
  const auto t = static_cast<int64_t>(1001 - *bound.bound_ms);
  CHECK(min_passing_runs(t, 0.90) + t <= 1000);
  CHECK(min_passing_runs(t + 1, 0.90) + t + 1 > 1000);
}

TEST_CASE("summarize_rounds: pooled order statistics, the median's interval and the bounds") {
  const RoundSamples samples = rounds_around(2.0, 10, 10);
  const LatencyStats stats = summarize_rounds(samples, 3);
  CHECK(stats.warmup == 3);
  CHECK(stats.rounds == 10);
  CHECK(stats.runs_per_round == 10);
  CHECK(stats.repeats == 100);
  CHECK(stats.median_ms == doctest::Approx(2.0));
  REQUIRE(stats.median_interval);
  CHECK(stats.median_interval->contains(2.0));
  REQUIRE(stats.p90_bound);
  CHECK(stats.p90_bound->bound_ms);
  REQUIRE(stats.p99_bound);
  CHECK_FALSE(stats.p99_bound->bound_ms);  // 100 runs < 662
}

TEST_CASE("median_interval needs two rounds") {
  CHECK_FALSE(median_interval({{1, 2, 3}}));
  CHECK_FALSE(median_interval({{1, 2, 3}, {}}));
  CHECK(median_interval({{1, 2, 3}, {2, 3, 4}}));
}

TEST_CASE("speedup: the ratio of medians, and a deterministic interval") {
  const RoundSamples fast = rounds_around(1.0, 8, 15, 0.01);
  const RoundSamples slow = rounds_around(2.0, 8, 15, -0.01);
  const Speedup s = speedup(fast, slow, true);
  CHECK(s.value == doctest::Approx(2.0).epsilon(0.05));
  REQUIRE(s.interval);
  CHECK(s.interval->low <= s.value);
  CHECK(s.interval->high >= s.value);
  CHECK_FALSE(s.within_noise());
  CHECK(speedup(fast, slow, true) == s);  // fixed seed: the same samples give the same interval
  CHECK(speedup(slow, fast, true).value == doctest::Approx(1 / s.value));
}

TEST_CASE("speedup: the same implementation twice is within noise") {
  const RoundSamples a = rounds_around(1.0, 10, 10, 0.02);
  const Speedup s = speedup(a, a, false);
  CHECK(s.value == 1.0);
  REQUIRE(s.interval);
  CHECK(s.within_noise());
}

TEST_CASE("speedup: pairing rounds cancels drift that hit both implementations") {
  // Both slow down 3 % per round, in step: paired, the ratio barely moves between resamples.
  const RoundSamples a = rounds_around(1.0, 10, 10, 0.03);
  const RoundSamples b = rounds_around(1.1, 10, 10, 0.03);
  const Speedup paired = speedup(a, b, true);
  const Speedup unpaired = speedup(a, b, false);
  REQUIRE(paired.interval);
  REQUIRE(unpaired.interval);
  CHECK(paired.interval->high - paired.interval->low < unpaired.interval->high - unpaired.interval->low);
  CHECK_FALSE(paired.within_noise());
}

TEST_CASE("speedup: no interval from one round; errors for no samples or unequal pairing") {
  CHECK_FALSE(speedup({{1, 2}}, {{2, 3}}, true).interval);
  CHECK_FALSE(speedup({{1, 2}}, {{2, 3}}, true).within_noise());  // nothing known either way
  CHECK_THROWS_AS(speedup({}, {{1}}, false), modelc::Error);
  CHECK_THROWS_AS(speedup({{1}, {2}}, {{1}}, true), modelc::Error);
}
