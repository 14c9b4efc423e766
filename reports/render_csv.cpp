#include "reports/render_csv.h"

#include <charconv>
#include <cmath>
#include <optional>

#include "reports/comparison.h"

namespace modelc::reports {
namespace {

std::string number(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return error == std::errc() ? std::string(buffer, end) : std::string();
}

std::string field(std::string_view text) {
  if (text.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

// value, low, high, within_noise
std::vector<std::string> speedup_cells(const Comparison* c) {
  if (c == nullptr) return {"", "", "", ""};
  const auto& i = c->speedup.interval;
  return {number(c->speedup.value), i ? number(i->low) : "", i ? number(i->high) : "",
          i ? (c->speedup.within_noise() ? "true" : "false") : ""};
}

std::string bound_cell(const std::optional<EarlyStoppingBound>& bound) {
  return bound && bound->bound_ms ? number(*bound->bound_ms) : std::string();
}

void write_row(std::string& out, const Results& results, const ReportRow& row) {
  const VariantResult& r = *row.result;
  const std::optional<LatencyStats>& l = *row.latency;
  const std::optional<AccuracyResult>& a = *row.accuracy;
  const auto stat = [&](double LatencyStats::*member) { return l ? number((*l).*member) : std::string(); };
  const auto count = [](uint64_t v) { return std::to_string(v); };
  const bool artifact = row.is_modelc();

  std::vector<std::string> cells{
      field(r.variant),
      field(r.target),
      std::to_string(r.machine),
      field(r.device),
      std::to_string(row.threads),
      field(row.id.implementation),
      to_string(row.status),
      stat(&LatencyStats::median_ms),
      l && l->median_interval ? number(l->median_interval->low) : "",
      l && l->median_interval ? number(l->median_interval->high) : "",
      stat(&LatencyStats::p90_ms),
      stat(&LatencyStats::p99_ms),
      l ? bound_cell(l->p90_bound) : "",
      l ? bound_cell(l->p99_bound) : "",
      stat(&LatencyStats::min_ms),
      stat(&LatencyStats::max_ms),
      stat(&LatencyStats::mean_ms),
      stat(&LatencyStats::stddev_ms),
      l ? std::to_string(l->warmup) : std::string(),
      l ? std::to_string(l->rounds) : std::string(),
      l ? std::to_string(l->runs_per_round) : std::string(),
      l ? std::to_string(l->repeats) : std::string(),
      stat(&LatencyStats::throughput_per_s),
  };
  for (std::string& c : speedup_cells(row.id == results.compare_to ? nullptr : find_comparison(results, row.id, results.compare_to)))
    cells.push_back(std::move(c));
  const RowId modelc{row.id.variant, row.id.target, "modelc", row.id.machine};
  for (std::string& c : speedup_cells(artifact ? nullptr : find_comparison(results, modelc, row.id))) cells.push_back(std::move(c));
  const std::vector<std::string> rest{
      !artifact && row.baseline->call_overhead ? number(row.baseline->call_overhead->median_ms) : std::string(),
      a ? number(a->max_abs_error) : std::string(),
      a ? number(a->max_rel_error) : std::string(),
      a ? field(a->reference) : std::string(),
      artifact ? number(r.compile.seconds) : std::string(),
      artifact ? count(r.sizes.code_bytes) : std::string(),
      artifact ? count(r.sizes.weight_bytes) : std::string(),
      artifact ? count(r.sizes.arena_bytes) : std::string(),
      field(row.note),
  };
  cells.insert(cells.end(), rest.begin(), rest.end());
  for (size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + cells[i];
  out += "\r\n";
}

}  // namespace

const std::vector<std::string>& csv_columns() {
  static const std::vector<std::string> columns{
      "variant", "target", "machine", "device", "threads", "implementation", "status", "median_ms", "median_low_ms",
      "median_high_ms", "p90_ms", "p99_ms", "p90_bound_ms", "p99_bound_ms", "min_ms", "max_ms", "mean_ms", "stddev_ms",
      "warmup", "rounds", "runs_per_round", "repeats", "throughput_per_s", "speedup_vs_reference", "speedup_low",
      "speedup_high", "within_noise", "speedup_of_modelc", "speedup_of_modelc_low", "speedup_of_modelc_high",
      "speedup_of_modelc_within_noise", "call_overhead_ms", "max_abs_error", "max_rel_error", "accuracy_reference",
      "compile_seconds", "code_bytes", "weight_bytes", "arena_bytes", "note"};
  return columns;
}

std::string render_csv(const Results& results) {
  std::string out;
  for (size_t i = 0; i < csv_columns().size(); ++i) out += (i ? "," : "") + csv_columns()[i];
  out += "\r\n";
  for (const ReportRow& row : report_rows(results)) write_row(out, results, row);
  return out;
}

}  // namespace modelc::reports
