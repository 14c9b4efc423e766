// Where one inference spends its time, kernel by kernel: an artifact run
// through run_observed (modelc.h), each step timed, the steps of each kernel
// summed per run, the median over runs kept. With the multiply-adds and bytes
// the manifest counts for each kernel (lang/cost.h), that gives each
// convolution and matrix product's GFLOP/s and share of the core's measured
// peak, and each memory-bound kernel's GB/s: the figures the schedules of
// lower/ are judged by (docs/performance.md). `modelc bench --kernels`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "reports/artifact_timer.h"
#include "reports/stream.h"

namespace modelc::reports {

struct KernelTiming {
  std::string kernel;             // symbol, as in manifest.json
  std::vector<std::string> ops;   // the ops it fuses
  int calls = 0;                  // steps per run that call it
  uint64_t multiply_adds = 0;     // per run, all calls: float
  uint64_t integer_multiply_adds = 0;  // per run, all calls: integer operands (qnn.*)
  uint64_t bytes = 0;             // per run, all calls
  double ms = 0;                  // median per run, all calls
  double in_place_ms = 0;         // the same with each call preceded by an untimed one (0: not measured)
  double stream_ms = 0;           // per run, all calls: a copy of its bytes (reports/stream.h; 0: not measured)
  double gflops() const { return ms > 0 ? 2.0 * static_cast<double>(multiply_adds) / (ms * 1e6) : 0; }
  double gops() const { return ms > 0 ? 2.0 * static_cast<double>(integer_multiply_adds) / (ms * 1e6) : 0; }
  double gbytes_per_s() const { return ms > 0 ? static_cast<double>(bytes) / (ms * 1e6) : 0; }
};

struct KernelProfile {
  std::vector<KernelTiming> kernels;  // slowest first
  int runs = 0;
  bool thread_cpu_time = false;  // the clock (reports/artifact_timer.h)
  double run_ms = 0;             // median of the observed runs' whole time
  double kernels_ms = 0;         // median of their sum of every step
  double outside_ms = 0;         // median of (whole - steps): the executor, output copies, the observer's calls
  // Measured in place too (profile_kernels' `in_place`): the median sum of
  // the steps when each step's kernel ran once just before its timed call.
  bool in_place = false;
  double in_place_kernels_ms = 0;
};

// Observed runs for a profile of about `seconds`, from three probe runs: at
// least 10, at most 2000.
int profile_runs_for(ArtifactTimer& timer, double seconds = 1.0);

// Times `runs` observed runs. With `in_place`, then `runs` more in which each
// step's kernel runs once untimed before its timed call
// (MODELC_OBSERVE_IN_PLACE): its inputs are then where its own parallel loop
// left them, not where the previous kernel's wrote them, and the difference
// is what moving data between cores costs it (none on one thread). Throws
// modelc::Error when the manifest does not name the kernel of every step.
KernelProfile profile_kernels(ArtifactTimer& timer, int runs, bool in_place = false);

// Sets each kernel's stream_ms: its calls times the time `streams` measures
// for one call's bytes.
void add_stream_times(KernelProfile& profile, StreamTimes& streams);

// A table for a terminal: one row per kernel (time, share, calls, GFLOP/s and
// % of `peak_gflops` where it does float multiply-adds, or GOP/s and % of
// `peak_int8_gops` (marked "i") where it does integer ones; GB/s), then the
// time spent outside kernels (the executor, output copies). A peak <= 0: no
// % for those kernels; both <= 0: no % column. With stream times
// (add_stream_times), each kernel's time over the time a copy of its bytes
// takes: near 1 where a memory-bound kernel moves its data as fast as a copy.
// A profile measured in place adds each kernel's time so and the ratio of the
// two.
std::string render_kernel_profile(const KernelProfile& profile, double peak_gflops, double peak_int8_gops,
                                  size_t max_rows);

}  // namespace modelc::reports
