// Tuning logs: what `modelc tune` measured, and what the tuned schedule
// strategy (optimize.schedule: {strategy: tuned, log: FILE}) builds with.
//
// A log is JSON lines, one kernel per line, keyed by its workload (the
// kernel's hash without knobs: the function's printed body and the Halide
// target, lower::kernel_hash), the Halide target string and the thread
// count it was measured with (a tile that wins on one core may lose on two). One log may hold
// entries of many models and targets; a build takes the entries of its own
// target whose workloads it has, and every other kernel keeps its template
// schedule. The lockfile hashes the log (it is a recipe input).
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "lower/lowering.h"
#include "spec/recipe.h"

namespace modelc::driver {

struct TuningEntry {
  std::string workload;       // lower::kernel_hash with empty knobs
  std::string halide_target;  // the target string the kernel was built and measured for
  lower::ScheduleKnobs knobs;
  // What was measured, for people and for later tuning runs (not read by builds):
  std::string ops;                   // the kernel's ops, "nn.conv2d+nn.relu"
  std::string template_knobs;        // the template's choice, "tile 3x4"
  double ms = 0;                     // median per run of the kernel with `knobs`
  double template_ms = 0;            // the same with the template's schedule
  int threads = 1;                   // what the kernel ran with (part of the key)
  std::string machine;               // CPU model name
  std::string date;                  // UTC, ISO 8601
};

// Every entry of a log, in order. modelc::Error naming the file and line for
// a line that is not an entry.
std::vector<TuningEntry> read_tuning_log(const std::filesystem::path& path);

// (workload, Halide target, threads)
using TuningKey = std::tuple<std::string, std::string, int>;

// Writes `entries` after the entries of `path` (when it exists) whose key is
// neither theirs nor in `measured` (kernels measured again, whose template
// won this time); atomic.
void merge_tuning_log(const std::filesystem::path& path, const std::vector<TuningEntry>& entries,
                      const std::set<TuningKey>& measured = {});

// The knobs measured for `halide_target` with `threads`, by workload (a
// later entry wins).
std::map<std::string, lower::ScheduleKnobs> knobs_for_target(const std::vector<TuningEntry>& entries,
                                                            const std::string& halide_target, int threads);

// The tuned strategy's log: the entries of optimize.schedule.log; empty for
// other strategies. An error located at the recipe when the log is missing.
std::vector<TuningEntry> recipe_tuning_log(const spec::Recipe& recipe);

// Where `modelc tune` writes: optimize.schedule.log when the recipe names
// one, else tuning.jsonl beside the recipe.
std::filesystem::path default_tuning_log(const spec::Recipe& recipe);

}  // namespace modelc::driver
