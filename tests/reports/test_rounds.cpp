#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "reports/core_transfer.h"
#include "reports/machine.h"
#include "reports/peak.h"
#include "reports/rounds.h"
#include "support/diagnostic.h"

using namespace modelc::reports;

namespace {

// An implementation that records when it ran and answers a fixed time per run.
TimedImplementation fake(const std::string& name, double ms, std::vector<std::string>& log, int max_per_round = 1 << 30) {
  return {name,
          [name, ms, &log](int runs) {
            log.push_back(name + ":" + std::to_string(runs));
            return std::vector<double>(static_cast<size_t>(runs), ms);
          },
          max_per_round};
}

}  // namespace

TEST_CASE("measure_in_rounds: warm-up once each, then one batch per round in rotated order") {
  std::vector<std::string> log;
  const modelc::spec::BenchmarkSpec spec{.warmup = 2, .repeats = 6, .min_seconds = 0, .rounds = 3};
  const auto measured = measure_in_rounds({fake("A", 1, log), fake("B", 1, log), fake("C", 1, log)}, spec);
  // 6 runs over 3 rounds: batches of 2.
  CHECK(log == std::vector<std::string>{"A:2", "B:2", "C:2",            // warm-up
                                        "A:2", "B:2", "C:2",            // round 0
                                        "B:2", "C:2", "A:2",            // round 1: rotated
                                        "C:2", "A:2", "B:2"});          // round 2
  REQUIRE(measured.size() == 3);
  for (const RoundsMeasurement& m : measured) {
    CHECK(m.error.empty());
    CHECK(m.warmup == 2);
    CHECK(m.runs_per_round == 2);
    REQUIRE(m.samples_ms.size() == 3);
    CHECK(m.samples_ms[0].size() == 2);
  }
}

TEST_CASE("runs_per_round: enough for repeats and min_seconds, within the caps") {
  const modelc::spec::BenchmarkSpec spec{.warmup = 1, .repeats = 50, .min_seconds = 1.0, .rounds = 10};
  CHECK(runs_per_round(100.0, spec, 1 << 30) == 5);    // slow: repeats decide (50 / 10)
  CHECK(runs_per_round(0.1, spec, 1 << 30) == 1000);   // fast: 100 ms per round / 0.1 ms
  CHECK(runs_per_round(0.1, spec, 1) == 1);            // the reference interpreter: once per round
  CHECK(runs_per_round(1e-6, spec, 1 << 30) == kMaxTimedRuns / 10);  // capped in all
  CHECK(runs_per_round(0.0, spec, 1 << 30) == 5);
}

TEST_CASE("measure_in_rounds: an implementation that fails is left out, the others go on") {
  std::vector<std::string> log;
  int calls = 0;
  TimedImplementation flaky{"flaky", [&](int runs) {
                              if (++calls == 3) throw modelc::Error("node exited");
                              return std::vector<double>(static_cast<size_t>(runs), 1.0);
                            }};
  const modelc::spec::BenchmarkSpec spec{.warmup = 1, .repeats = 4, .min_seconds = 0, .rounds = 4};
  const auto measured = measure_in_rounds({fake("A", 1, log), flaky}, spec);
  CHECK(measured[0].error.empty());
  CHECK(measured[0].samples_ms.size() == 4);
  CHECK(measured[1].error == "node exited");
  CHECK(measured[1].samples_ms.empty());
  CHECK(calls == 3);  // not asked again after it failed
}

TEST_CASE("measure_in_rounds reports progress for the warm-up and each round") {
  std::vector<std::string> log;
  std::vector<std::string> seen;
  const modelc::spec::BenchmarkSpec spec{.warmup = 0, .repeats = 2, .min_seconds = 0, .rounds = 2};
  measure_in_rounds({fake("A", 1, log)}, spec, [&](const RoundsProgress& p) {
    std::string tag(p.phase == RoundsProgress::Phase::warmup ? "w" : "r");
    tag += std::to_string(p.done) + "/" + std::to_string(p.total);
    seen.push_back(tag);
  });
  CHECK(seen == std::vector<std::string>{"w1/1", "r1/2", "r2/2"});
  CHECK(log.front() == "A:1");  // no warm-up asked, one calibration run all the same
}

TEST_CASE("timed_in_process times each call") {
  int calls = 0;
  const auto run = timed_in_process([&] { ++calls; });
  const std::vector<double> samples = run(5);
  CHECK(calls == 5);
  REQUIRE(samples.size() == 5);
  for (const double ms : samples) CHECK(ms >= 0);
}

TEST_CASE("measure_fp32_peak: an FMA loop of the widest ISA here, a positive rate") {
  // Not a timed test: it checks that the loop runs and gives a rate, never how fast.
  const Fp32Peak one = measure_fp32_peak_detail(1);
  CHECK_FALSE(one.isa.empty());
  CHECK(one.threads == 1);
  CHECK(one.gflops > 0);
  const Fp32Peak two = measure_fp32_peak_detail(2);
  CHECK(two.threads == 2);
  CHECK(two.gflops > 0);
  CHECK(measure_fp32_peak(1) > 0);
}

TEST_CASE("measure_core_transfer: both reads of the buffer asked for give a positive rate") {
  // Not a timed test: it checks that both threads ran and the figures are rates of that buffer.
  const std::optional<CoreTransferFigures> transfer = measure_core_transfer(256 * 1024);
  if (allowed_cpus().size() < 2) {
    CHECK_FALSE(transfer);
    return;
  }
  REQUIRE(transfer);
  CHECK(transfer->bytes == 256 * 1024);
  CHECK(transfer->own_gb_per_s > 0);
  CHECK(transfer->other_gb_per_s > 0);
}

TEST_CASE("measure_in_rounds: a slow implementation warms up and runs within its own caps") {
  std::vector<std::string> log;
  TimedImplementation reference = fake("R", 500, log, 1);
  reference.max_warmup = 1;
  const modelc::spec::BenchmarkSpec spec{.warmup = 10, .repeats = 50, .min_seconds = 0, .rounds = 2};
  const auto measured = measure_in_rounds({fake("A", 0.01, log), reference}, spec);
  CHECK(log == std::vector<std::string>{"A:10", "R:1", "A:25", "R:1", "R:1", "A:25"});
  CHECK(measured[1].warmup == 1);
  CHECK(measured[1].runs_per_round == 1);
}
