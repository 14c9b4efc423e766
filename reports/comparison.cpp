#include "reports/comparison.h"

#include <algorithm>

namespace modelc::reports {
namespace {

bool same_rounds(const ReportRow& a, const ReportRow& b) {
  return a.id.machine == b.id.machine && a.samples->size() == b.samples->size();
}

std::optional<Comparison> compare(const ReportRow& row, const ReportRow& against) {
  if (!row.measured() || !against.measured() || row.samples->empty() || against.samples->empty()) return std::nullopt;
  if (pooled(*row.samples).empty() || pooled(*against.samples).empty()) return std::nullopt;
  return Comparison{row.id, against.id, speedup(*row.samples, *against.samples, same_rounds(row, against))};
}

}  // namespace

std::vector<ReportRow> report_rows(const Results& results) {
  std::vector<ReportRow> rows;
  for (const VariantResult& r : results.results) {
    rows.push_back({{r.variant, r.target, "modelc", r.machine}, &r, nullptr, r.status, r.threads, &r.latency,
                    &r.samples_ms, &r.accuracy, r.note});
    for (const BaselineResult& b : r.baselines) {
      rows.push_back({{r.variant, r.target, b.name, r.machine}, &r, &b, b.status, b.threads, &b.latency,
                      &b.samples_ms, &b.accuracy, b.note});
    }
  }
  return rows;
}

RowId resolve_compare_to(const Results& results, const spec::CompareToSpec& spec) {
  RowId row;
  row.implementation = spec.implementation.empty() ? "modelc" : spec.implementation;
  row.variant = spec.variant;
  if (row.variant.empty() && !results.results.empty()) row.variant = results.results.front().variant;
  row.target = spec.target;
  if (row.target.empty()) {
    for (const VariantResult& r : results.results) {
      if (r.variant == row.variant) {
        row.target = r.target;
        break;
      }
    }
  }
  return row;
}

std::optional<ReportRow> find_row(const Results& results, const RowId& id) {
  for (const ReportRow& row : report_rows(results))
    if (row.id == id) return row;
  return std::nullopt;
}

std::vector<Comparison> compare_rows(const Results& results) {
  const std::vector<ReportRow> rows = report_rows(results);
  std::vector<Comparison> out;
  const auto reference = std::find_if(rows.begin(), rows.end(), [&](const ReportRow& r) { return r.id == results.compare_to; });
  for (const ReportRow& row : rows) {
    if (reference != rows.end() && !(row.id == reference->id)) {
      if (auto c = compare(row, *reference)) out.push_back(std::move(*c));
    }
  }
  for (const ReportRow& row : rows) {
    if (!row.is_modelc()) continue;
    for (const ReportRow& baseline : rows) {
      if (baseline.is_modelc() || baseline.result != row.result) continue;
      if (baseline.id == results.compare_to) continue;  // already compared above
      if (auto c = compare(row, baseline)) out.push_back(std::move(*c));
    }
  }
  return out;
}

const Comparison* find_comparison(const Results& results, const RowId& row, const RowId& against) {
  for (const Comparison& c : results.comparisons)
    if (c.row == row && c.against == against) return &c;
  return nullptr;
}

}  // namespace modelc::reports
