// `modelc diff OLD NEW`: how each row of a report changed between two
// results files, with an interval, and whether any regressed: the gate a
// pull request's CI runs against the main branch's results.
//
// A row's change is NEW median / OLD median, with a 95 % bootstrap interval
// over the rounds of each file (unpaired: the two runs did not share rounds).
// A modelc row regresses when the whole interval lies above 1 (beyond noise)
// and the change exceeds the threshold, or when it ran before and now fails.
// Baseline rows are shown for context (when they moved as much, the machine
// did) but never gate.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "reports/results.h"

namespace modelc::reports {

inline constexpr double kDefaultRegressionThreshold = 0.05;

struct RowChange {
  enum class Verdict {
    unchanged,     // within noise or within the threshold
    faster,        // beyond noise and the threshold, faster
    slower,        // beyond noise and the threshold, slower: a regression when `gates`
    now_failing,   // measured in OLD, failed in NEW: a regression when `gates`
    not_compared,  // not measured on both sides
    only_old,
    only_new,
  };
  RowId row;
  std::optional<double> old_median_ms;
  std::optional<double> new_median_ms;
  std::optional<Speedup> ratio;  // value = new / old median (above 1: slower), interval when both have rounds
  Verdict verdict = Verdict::not_compared;
  bool gates = false;  // a modelc row: its regression fails the diff
  std::string why;     // for not_compared and now_failing

  bool regressed() const { return gates && (verdict == Verdict::slower || verdict == Verdict::now_failing); }
};

struct ResultsDiff {
  std::vector<RowChange> rows;
  double threshold = kDefaultRegressionThreshold;
  bool same_recipe = true;

  bool regressed() const;
};

ResultsDiff diff_results(const Results& old_results, const Results& new_results,
                         double threshold = kDefaultRegressionThreshold);

// A Markdown summary for a pull request: the verdict first, then a row per change.
std::string render_diff_markdown(const ResultsDiff& diff, const std::string& old_name, const std::string& new_name);

}  // namespace modelc::reports
