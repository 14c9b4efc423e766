#include "reports/render_text.h"

#include <algorithm>
#include <sstream>

#include "reports/comparison.h"
#include "reports/format.h"
#include "reports/method_text.h"

namespace modelc::reports {
namespace {

// Display width: the multiplication sign and the dashes are one column each, two bytes or three in UTF-8.
size_t width_of(const std::string& text) {
  size_t columns = 0;
  for (const unsigned char c : text) columns += (c & 0xC0) != 0x80;
  return columns;
}

std::string padded(const std::string& text, size_t width, bool right) {
  const size_t w = width_of(text);
  const std::string pad(w < width ? width - w : 0, ' ');
  return right ? pad + text : text + pad;
}

}  // namespace

std::string render_text(const Results& results) {
  const std::vector<ReportRow> rows = report_rows(results);
  std::vector<std::vector<std::string>> table{
      {"row", "threads", "median ms [95% CI]", "p90 ms", "speed-up vs " + to_string(results.compare_to)}};
  std::vector<std::string> notes;
  for (const ReportRow& row : rows) {
    std::vector<std::string> cells{to_string(row.id), row.threads > 0 ? std::to_string(row.threads) : kNoValue};
    if (row.measured()) {
      const LatencyStats& l = **row.latency;
      cells.push_back(format_ms_with_interval(l.median_ms, l.median_interval));
      cells.push_back(format_ms(l.p90_ms));
    } else {
      cells.push_back(status_text(row.status));
      cells.push_back(kNoValue);
    }
    std::string speedup = kNoValue;
    if (row.id == results.compare_to) speedup = "reference row";
    else if (const Comparison* c = find_comparison(results, row.id, results.compare_to)) speedup = format_speedup(c->speedup);
    if (!row.is_modelc() && row.baseline->call_overhead)
      speedup += "  (call overhead " + format_ms(row.baseline->call_overhead->median_ms) + " ms)";
    if (row.is_modelc() && row.accuracy->has_value())
      speedup += "  (max abs error " + format_error((*row.accuracy)->max_abs_error) + ")";
    cells.push_back(speedup);
    table.push_back(std::move(cells));
    if (!row.note.empty() && !row.measured()) notes.push_back(to_string(row.id) + ": " + row.note);
  }
  std::vector<size_t> widths(table.front().size(), 0);
  for (const auto& cells : table)
    for (size_t i = 0; i < cells.size(); ++i) widths[i] = std::max(widths[i], width_of(cells[i]));
  std::ostringstream out;
  for (const auto& cells : table) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      const bool last = i + 1 == cells.size();
      line += (i ? "  " : "") + (last ? cells[i] : padded(cells[i], widths[i], i == 1 || i == 2 || i == 3));
    }
    out << line << "\n";
  }
  for (const std::string& note : notes) out << "  " << note << "\n";
  // Rows on several threads depend on how fast data moves between cores here, now.
  const bool several = std::any_of(rows.begin(), rows.end(), [](const ReportRow& r) { return r.threads > 1; });
  if (several && results.environment.core_transfer)
    out << "core to core: " << core_transfer_text(*results.environment.core_transfer) << "\n";
  return out.str();
}

}  // namespace modelc::reports
