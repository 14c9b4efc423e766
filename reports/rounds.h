// Interleaved rounds: the harness every report figure comes from. All the
// implementations of a report (each artifact, the reference interpreter,
// ONNX Runtime) are timed in turns, so that whatever the machine does
// meanwhile (clock changes, another build, a noisy neighbour) falls on all of
// them alike and cancels in their ratios.
//
//   warm-up     each implementation, one after the other: `warmup` untimed
//               runs (at least one), whose median time sets its batch size
//   round r     each implementation runs one batch of back-to-back timed
//               runs, in an order rotated by r (round 0: A B C, round 1:
//               B C A, ...), so no implementation always runs first or
//               right after the same neighbour
//
// A batch holds enough runs that all rounds together give at least `repeats`
// runs and `min_seconds` of timed work per implementation, capped by
// max_runs_per_round (the reference interpreter runs once per round, after a
// single warm-up run) and by kMaxTimedRuns in all.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "reports/benchmark.h"
#include "reports/statistics.h"
#include "spec/recipe.h"

namespace modelc::reports {

struct TimedImplementation {
  std::string label;  // for progress and errors: "1-host / host / modelc"
  // Runs the implementation `runs` times back to back; the latency of each
  // run in ms. Throws modelc::Error when it fails.
  std::function<std::vector<double>(int runs)> run_batch;
  int max_runs_per_round = 1 << 30;
  int max_warmup = 1 << 30;  // the reference interpreter warms up with one run
};

// An in-process run_batch: std::chrono::steady_clock around each call.
std::function<std::vector<double>(int runs)> timed_in_process(std::function<void()> run_once);

struct RoundsMeasurement {
  int warmup = 0;          // untimed runs before round 0
  int runs_per_round = 0;  // the batch size
  RoundSamples samples_ms;  // one entry per round
  std::string error;       // non-empty: it failed (in warm-up or a round) and was left out of later rounds
};

struct RoundsProgress {
  enum class Phase { warmup, round };
  Phase phase = Phase::warmup;
  int done = 0;   // implementations warmed up, or rounds finished
  int total = 0;
};

// One measurement per implementation, in the order given. spec.rounds < 1 is
// taken as 1. Errors of one implementation never stop the others.
std::vector<RoundsMeasurement> measure_in_rounds(const std::vector<TimedImplementation>& implementations,
                                                 const spec::BenchmarkSpec& spec,
                                                 const std::function<void(const RoundsProgress&)>& progress = {});

// The batch size for an implementation whose run takes `run_ms` (see above).
int runs_per_round(double run_ms, const spec::BenchmarkSpec& spec, int max_runs_per_round);

}  // namespace modelc::reports
