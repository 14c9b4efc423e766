// `modelc tune`: measures the knobs of each kernel's schedule on this
// machine and keeps, per kernel, the fastest setting in a tuning log that
// the tuned strategy (optimize.schedule: {strategy: tuned, log: FILE}) builds
// with.
//
// For each variant x target that runs natively here: the model is built once
// with every template schedule and then once per trial, trial i giving every
// kernel its i-th candidate knobs (lower::schedule_candidates: the cost
// model's ranking of register tiles), and each build is profiled kernel by
// kernel in whole-model runs (reports/kernel_profile.h), so each kernel is
// timed with the caches and threads it has in the model. A kernel keeps the
// fastest knobs when they beat its template by a margin; then the tuned and
// the template builds are profiled again, alternately, and a kernel whose
// gain does not hold is dropped; when the tuned model is not faster than the
// template one as a whole, nothing is kept. So a tuned build is never slower
// than the untuned one by this machine's measurement.
#pragma once

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "driver/pipeline.h"
#include "driver/tuning_log.h"

namespace modelc::driver {

struct TuneOptions {
  std::optional<std::string> only_target;
  std::optional<std::string> only_variant;
  size_t candidates = 6;       // schedules measured per kernel, the template's included
  int runs = 0;                // profiled runs per build; 0: about a second's worth (at least 10)
  std::optional<int> threads;  // overrides every target's
  bool use_cache = true;       // the kernel cache (trial kernels are cached too)
  ProgressFn progress;   // live status
  ProgressFn milestone;  // one line per build profiled, for a log
  ProgressFn warning;
};

struct TuneResult {
  std::string text;                  // per artifact: a table of kernels, template vs best, and the whole model
  std::vector<TuningEntry> entries;  // the kernels kept (for merge_tuning_log)
  std::set<TuningKey> measured;      // every kernel measured, kept or not
};

TuneResult tune(const spec::Recipe& recipe, const TuneOptions& options);

}  // namespace modelc::driver
