// The comparison a report shows: its rows (variant x target x
// implementation, on one machine or several merged), and how much faster
// each measured row is than the chosen reference row and, for modelc, than
// each baseline measured beside it. Renderers read rows and comparisons from
// here, so Markdown, HTML, CSV and `modelc bench` say the same thing.
//
// Only rows that ran here and were timed get ratios: a target that was only
// compiled, or only emulated (correctness only), never does.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "reports/results.h"

namespace modelc::reports {

struct ReportRow {
  RowId id;
  const VariantResult* result = nullptr;    // the variant x target it belongs to
  const BaselineResult* baseline = nullptr;  // null for the modelc row
  RunStatus status = RunStatus::ok;
  int threads = 0;
  const std::optional<LatencyStats>* latency = nullptr;
  const RoundSamples* samples = nullptr;
  const std::optional<AccuracyResult>* accuracy = nullptr;
  std::string note;

  bool is_modelc() const { return baseline == nullptr; }
  // Timed here: has a median, and a status whose timings mean something.
  bool measured() const { return status == RunStatus::ok && latency->has_value(); }
};

// Every row of `results`, in order: for each variant x target, modelc first,
// then its baselines. The pointers point into `results`.
std::vector<ReportRow> report_rows(const Results& results);

// What `results.compare_to` names, filled in: an empty variant or target is
// the first result's.
RowId resolve_compare_to(const Results& results, const spec::CompareToSpec& spec);

// Speed-ups of every measured row against results.compare_to, and of each
// modelc row against each of its measured baselines. Paired when both rows
// were measured in the same rounds (same machine, same round count).
std::vector<Comparison> compare_rows(const Results& results);

// The comparison of `row` against `against`, if there is one.
const Comparison* find_comparison(const Results& results, const RowId& row, const RowId& against);

// The row of `results` with this id, if any.
std::optional<ReportRow> find_row(const Results& results, const RowId& id);

}  // namespace modelc::reports
