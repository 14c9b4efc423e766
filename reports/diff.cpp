#include "reports/diff.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "reports/comparison.h"
#include "reports/format.h"

namespace modelc::reports {
namespace {

std::string percent(double ratio) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%+.1f", (ratio - 1) * 100);
  return buffer;
}

std::string change_cell(const RowChange& c) {
  if (!c.ratio) return kNoValue;
  std::string text = percent(c.ratio->value) + " %";
  if (c.ratio->interval) text += " [" + percent(c.ratio->interval->low) + ", " + percent(c.ratio->interval->high) + "]";
  else text += " (no interval)";
  return text;
}

const char* verdict_text(const RowChange& c) {
  switch (c.verdict) {
    case RowChange::Verdict::unchanged: return c.ratio && c.ratio->within_noise() ? "within noise" : "unchanged";
    case RowChange::Verdict::faster: return "faster";
    case RowChange::Verdict::slower: return c.gates ? "**regression**" : "slower (baseline)";
    case RowChange::Verdict::now_failing: return c.gates ? "**regression: now fails**" : "now fails (baseline)";
    case RowChange::Verdict::not_compared: return "not compared";
    case RowChange::Verdict::only_old: return "only in old";
    case RowChange::Verdict::only_new: return "only in new";
  }
  return "";
}

RowChange compare_row(const ReportRow& before, const ReportRow& after, double threshold) {
  RowChange c;
  c.row = after.id;
  c.gates = after.is_modelc();
  if (before.measured()) c.old_median_ms = (*before.latency)->median_ms;
  if (after.measured()) c.new_median_ms = (*after.latency)->median_ms;
  if (before.measured() && !after.measured()) {
    c.verdict = after.status == RunStatus::failed ? RowChange::Verdict::now_failing : RowChange::Verdict::not_compared;
    c.why = to_string(after.status) + (after.note.empty() ? "" : ": " + after.note);
    return c;
  }
  if (!c.old_median_ms || !c.new_median_ms) {
    c.verdict = RowChange::Verdict::not_compared;
    c.why = "not measured in " + std::string(!c.old_median_ms ? "old" : "new");
    return c;
  }
  if (!before.samples->empty() && !after.samples->empty()) {
    // speedup(row, against) is against / row: old as the row gives new / old.
    c.ratio = speedup(*before.samples, *after.samples, false);
  } else {
    c.ratio = Speedup{*c.new_median_ms / *c.old_median_ms, std::nullopt, false};
  }
  const Speedup& r = *c.ratio;
  const bool beyond_noise_slower = !r.interval || r.interval->low > 1;
  const bool beyond_noise_faster = !r.interval || r.interval->high < 1;
  if (r.value > 1 + threshold && beyond_noise_slower) c.verdict = RowChange::Verdict::slower;
  else if (r.value < 1 / (1 + threshold) && beyond_noise_faster) c.verdict = RowChange::Verdict::faster;
  else c.verdict = RowChange::Verdict::unchanged;
  return c;
}

}  // namespace

bool ResultsDiff::regressed() const {
  return std::any_of(rows.begin(), rows.end(), [](const RowChange& c) { return c.regressed(); });
}

ResultsDiff diff_results(const Results& old_results, const Results& new_results, double threshold) {
  ResultsDiff diff;
  diff.threshold = threshold;
  diff.same_recipe = old_results.recipe.sha256 == new_results.recipe.sha256;
  const std::vector<ReportRow> before = report_rows(old_results);
  const std::vector<ReportRow> after = report_rows(new_results);
  for (const ReportRow& a : after) {
    const auto b = std::find_if(before.begin(), before.end(), [&](const ReportRow& r) { return r.id == a.id; });
    if (b == before.end()) {
      RowChange c;
      c.row = a.id;
      c.verdict = RowChange::Verdict::only_new;
      if (a.measured()) c.new_median_ms = (*a.latency)->median_ms;
      diff.rows.push_back(std::move(c));
      continue;
    }
    diff.rows.push_back(compare_row(*b, a, threshold));
  }
  for (const ReportRow& b : before) {
    const bool kept = std::any_of(after.begin(), after.end(), [&](const ReportRow& r) { return r.id == b.id; });
    if (kept) continue;
    RowChange c;
    c.row = b.id;
    c.verdict = RowChange::Verdict::only_old;
    if (b.measured()) c.old_median_ms = (*b.latency)->median_ms;
    diff.rows.push_back(std::move(c));
  }
  return diff;
}

std::string render_diff_markdown(const ResultsDiff& diff, const std::string& old_name, const std::string& new_name) {
  std::ostringstream out;
  char threshold[32];
  std::snprintf(threshold, sizeof(threshold), "%g %%", diff.threshold * 100);
  out << "## modelc diff: `" << old_name << "` → `" << new_name << "`\n\n";
  const size_t regressions = static_cast<size_t>(
      std::count_if(diff.rows.begin(), diff.rows.end(), [](const RowChange& c) { return c.regressed(); }));
  if (regressions > 0) {
    out << "**" << regressions << (regressions == 1 ? " regression" : " regressions")
        << "** beyond noise and the " << threshold << " threshold.\n\n";
  } else {
    out << "No regression beyond noise and the " << threshold << " threshold.\n\n";
  }
  if (!diff.same_recipe) out << "Note: the two results were measured from different recipes (sha256 differs).\n\n";
  out << "| row | old median ms | new median ms | change [95 % CI] | verdict |\n|---|---:|---:|---:|---|\n";
  for (const RowChange& c : diff.rows) {
    out << "| " << to_string(c.row) << " | " << (c.old_median_ms ? format_ms(*c.old_median_ms) : kNoValue) << " | "
        << (c.new_median_ms ? format_ms(*c.new_median_ms) : kNoValue) << " | " << change_cell(c) << " | " << verdict_text(c);
    if (!c.why.empty()) out << " (" << c.why << ")";
    out << " |\n";
  }
  out << "\nChange = new median / old median − 1, with a 95 % bootstrap interval over the rounds of each file "
         "(resampled independently). A modelc row regresses when the whole interval lies above 0 and the change "
         "exceeds the threshold, or when it now fails; baseline rows are context and never gate.\n";
  return out.str();
}

}  // namespace modelc::reports
