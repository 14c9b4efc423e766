#include "reports/render_csv.h"

#include <charconv>
#include <cmath>
#include <optional>

#include "reports/render_markdown.h"

namespace modelc::reports {
namespace {

std::string number(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return error == std::errc() ? std::string(buffer, end) : std::string();
}

std::string optional_number(const std::optional<double>& value) { return value ? number(*value) : std::string(); }

std::string field(std::string_view text) {
  if (text.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

// The columns every row shares: who ran, how fast, how accurate.
struct Row {
  const VariantResult* result = nullptr;
  std::string implementation;
  RunStatus status = RunStatus::ok;
  const std::optional<LatencyStats>* latency = nullptr;
  std::optional<double> speedup;
  const std::optional<AccuracyResult>* accuracy = nullptr;
  bool artifact = false;  // compile time and sizes belong to modelc's row only
  std::string note;
};

void write_row(std::string& out, const Row& row) {
  const VariantResult& r = *row.result;
  const std::optional<LatencyStats>& l = *row.latency;
  const std::optional<AccuracyResult>& a = *row.accuracy;
  const auto stat = [&](double LatencyStats::*member) { return l ? number((*l).*member) : std::string(); };
  const auto count = [](uint64_t v) { return std::to_string(v); };

  const std::vector<std::string> cells{
      field(r.variant),
      field(r.target),
      field(r.device),
      std::to_string(r.threads),
      field(row.implementation),
      to_string(row.status),
      stat(&LatencyStats::median_ms),
      stat(&LatencyStats::p90_ms),
      stat(&LatencyStats::p99_ms),
      stat(&LatencyStats::min_ms),
      stat(&LatencyStats::max_ms),
      stat(&LatencyStats::mean_ms),
      stat(&LatencyStats::stddev_ms),
      l ? std::to_string(l->warmup) : std::string(),
      l ? std::to_string(l->repeats) : std::string(),
      stat(&LatencyStats::throughput_per_s),
      optional_number(row.speedup),
      a ? number(a->max_abs_error) : std::string(),
      a ? number(a->max_rel_error) : std::string(),
      a ? field(a->reference) : std::string(),
      row.artifact ? number(r.compile.seconds) : std::string(),
      row.artifact ? count(r.sizes.code_bytes) : std::string(),
      row.artifact ? count(r.sizes.weight_bytes) : std::string(),
      row.artifact ? count(r.sizes.arena_bytes) : std::string(),
      field(row.note),
  };
  for (size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + cells[i];
  out += "\r\n";
}

}  // namespace

const std::vector<std::string>& csv_columns() {
  static const std::vector<std::string> columns{
      "variant", "target", "device", "threads", "implementation", "status", "median_ms", "p90_ms", "p99_ms",
      "min_ms", "max_ms", "mean_ms", "stddev_ms", "warmup", "repeats", "throughput_per_s", "speedup_of_modelc",
      "max_abs_error", "max_rel_error", "accuracy_reference", "compile_seconds", "code_bytes", "weight_bytes",
      "arena_bytes", "note"};
  return columns;
}

std::string render_csv(const Results& results) {
  std::string out;
  for (size_t i = 0; i < csv_columns().size(); ++i) out += (i ? "," : "") + csv_columns()[i];
  out += "\r\n";
  for (const VariantResult& r : results.results) {
    write_row(out, {&r, "modelc", r.status, &r.latency, std::nullopt, &r.accuracy, true, r.note});
    for (const BaselineResult& b : r.baselines) {
      write_row(out, {&r, b.name, b.status, &b.latency, speedup_over(b, r), &b.accuracy, false, b.note});
    }
  }
  return out;
}

}  // namespace modelc::reports
