#include <doctest/doctest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "reports/benchmark.h"
#include "support/diagnostic.h"

using namespace modelc::reports;

TEST_CASE("summarize_latency on a known sample") {
  // 1..10 ms: median 5.5, p90 = 9.1 and p99 = 9.91 by linear interpolation
  // (numpy.percentile), sample stddev sqrt(110/12) = 3.02765.
  const std::vector<double> samples{7, 1, 10, 3, 5, 2, 9, 4, 8, 6};
  const LatencyStats stats = summarize_latency(samples, 3);
  CHECK(stats.warmup == 3);
  CHECK(stats.repeats == 10);
  CHECK(stats.median_ms == doctest::Approx(5.5));
  CHECK(stats.p90_ms == doctest::Approx(9.1));
  CHECK(stats.p99_ms == doctest::Approx(9.91));
  CHECK(stats.min_ms == 1);
  CHECK(stats.max_ms == 10);
  CHECK(stats.mean_ms == doctest::Approx(5.5));
  CHECK(stats.stddev_ms == doctest::Approx(3.0276503541));
  CHECK(stats.throughput_per_s == doctest::Approx(1000.0 / 5.5));
}

TEST_CASE("summarize_latency of one sample has no spread") {
  const std::vector<double> samples{2.5};
  const LatencyStats stats = summarize_latency(samples);
  CHECK(stats.median_ms == 2.5);
  CHECK(stats.p99_ms == 2.5);
  CHECK(stats.stddev_ms == 0);
  CHECK(stats.repeats == 1);
}

TEST_CASE("summarize_latency of odd-sized samples takes the middle one") {
  const std::vector<double> samples{3, 100, 1};
  CHECK(summarize_latency(samples).median_ms == 3);
}

TEST_CASE("summarize_latency refuses an empty sample") {
  CHECK_THROWS_AS(summarize_latency(std::vector<double>{}), modelc::Error);
}

TEST_CASE("measure_latency runs warm-up then at least `repeats` timed runs") {
  int calls = 0;
  const modelc::spec::BenchmarkSpec spec{.warmup = 4, .repeats = 25, .min_seconds = 0};
  const LatencyStats stats = measure_latency([&] { ++calls; }, spec);
  CHECK(calls == 4 + 25);
  CHECK(stats.warmup == 4);
  CHECK(stats.repeats == 25);
  CHECK(stats.min_ms >= 0);
  CHECK(stats.min_ms <= stats.median_ms);
  CHECK(stats.median_ms <= stats.max_ms);
}

TEST_CASE("measure_latency keeps going until min_seconds has passed") {
  // 2 ms per run and 60 ms minimum: at least ~30 runs although only 3 were asked for.
  const modelc::spec::BenchmarkSpec spec{.warmup = 0, .repeats = 3, .min_seconds = 0.06};
  const auto start = std::chrono::steady_clock::now();
  const LatencyMeasurement measured = measure_latency_samples(
      [] { std::this_thread::sleep_for(std::chrono::milliseconds(2)); }, spec);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(elapsed >= 0.06);
  CHECK(measured.stats.repeats > 3);
  CHECK(measured.samples_ms.size() == static_cast<size_t>(measured.stats.repeats));
  CHECK(measured.stats.min_ms >= 2.0);  // sleep_for never returns early
}

TEST_CASE("measure_latency stops at the cap however long min_seconds is") {
  int calls = 0;
  const modelc::spec::BenchmarkSpec spec{.warmup = 0, .repeats = 1, .min_seconds = 3600};
  const LatencyStats stats = measure_latency([&] { ++calls; }, spec);
  CHECK(stats.repeats == kMaxTimedRuns);
  CHECK(calls == kMaxTimedRuns);
}

TEST_CASE("measure_latency reports progress for both phases") {
  int warmup_reports = 0;
  int last_timed_done = 0;
  const modelc::spec::BenchmarkSpec spec{.warmup = 3, .repeats = 5, .min_seconds = 0};
  measure_latency([] {}, spec, [&](const BenchmarkProgress& progress) {
    if (progress.phase == BenchmarkProgress::Phase::warmup) {
      ++warmup_reports;
      CHECK(progress.runs_planned == 3);
    } else {
      last_timed_done = progress.runs_done;
    }
  });
  CHECK(warmup_reports == 3);
  CHECK(last_timed_done == 5);  // the final report is always made
}

TEST_CASE("measure_latency lets exceptions of the measured code through") {
  const modelc::spec::BenchmarkSpec spec{.warmup = 1, .repeats = 5, .min_seconds = 0};
  CHECK_THROWS_WITH_AS(measure_latency([] { throw modelc::Error("kernel failed"); }, spec), "error: kernel failed",
                       modelc::Error);
}
