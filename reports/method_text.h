// "How measured", written from what actually ran: the warm-up, rounds, batch
// sizes and threads each row recorded in results.json, and the statistics
// that turned runs into figures. Markdown and HTML both render it.
#pragma once

#include <string>
#include <vector>

#include "reports/results.h"

namespace modelc::reports {

// How one measured row was timed.
struct RowTiming {
  RowId row;
  int threads = 0;  // 0: not recorded
  int warmup = 0;
  int rounds = 0;
  int runs_per_round = 0;  // 0: not measured in rounds (an older results file)
  int repeats = 0;         // timed runs in all
};

struct MethodDescription {
  std::vector<RowTiming> timings;       // every row with a latency, in report order
  std::vector<std::string> paragraphs;  // plain text
};

MethodDescription describe_method(const Results& results);

// The environment's core-to-core figures in words: "31.2 GB/s reading 512 KiB
// another core just wrote, 160.4 GB/s its own (measured in this run)".
std::string core_transfer_text(const CoreTransferFigures& transfer);

}  // namespace modelc::reports
