#include "reports/render_targets.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace modelc::reports {
namespace {

constexpr const char* kNone = "–";

std::string fixed(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

// Three significant digits: 34.8, 4.90, 0.0480, 1234.
std::string milliseconds(double ms) {
  if (!std::isfinite(ms)) return kNone;
  if (ms >= 100) return fixed("%.0f", ms);
  if (ms <= 0) return "0";
  const int decimals = std::max(0, 2 - static_cast<int>(std::floor(std::log10(ms))));
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, ms);
  return buffer;
}

std::string bytes(uint64_t n) {
  if (n < 1024) return std::to_string(n) + " B";
  if (n < 1024 * 1024) return fixed("%.1f KiB", static_cast<double>(n) / 1024);
  return fixed("%.1f MiB", static_cast<double>(n) / (1024.0 * 1024.0));
}

std::string cell(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

std::string latency_cell(const VariantResult& r) {
  if (r.status == RunStatus::emulated) return "emulated";
  if (r.status == RunStatus::compiled) return "compile only";
  if (r.status != RunStatus::ok || !r.latency) return kNone;
  return milliseconds(r.latency->median_ms);
}

std::string roofline_cell(const VariantResult& r) {
  if (!r.roofline) return kNone;
  const RooflineResult& e = *r.roofline;
  return milliseconds(e.milliseconds) + (e.compute_ms >= e.memory_ms ? " (compute)" : " (memory)");
}

std::string error_cell(const VariantResult& r) {
  if (!r.accuracy) return kNone;
  std::string text = r.accuracy->max_abs_error == 0 ? "0" : fixed("%.2g", r.accuracy->max_abs_error);
  if (r.accuracy->allclose) text += *r.accuracy->allclose ? " ✓" : " ✗";
  return text;
}

}  // namespace

std::string status_text(RunStatus status) {
  switch (status) {
    case RunStatus::ok: return "measured";
    case RunStatus::compiled: return "compile only";
    case RunStatus::emulated: return "emulated — correctness only";
    case RunStatus::estimated: return "estimated";
    case RunStatus::failed: return "failed";
    case RunStatus::skipped: return "skipped";
    case RunStatus::unavailable: return "unavailable";
  }
  return "failed";
}

std::string render_targets_table(const Results& results) {
  if (results.results.empty()) return "";
  std::ostringstream out;
  out << "## Targets\n\n";
  out << "| variant | target | device | status | median ms (here) | roofline ms (device) | code | weights | compile "
         "| max abs error |\n";
  out << "|---|---|---|---|---:|---:|---:|---:|---:|---|\n";
  bool any_roofline = false;
  for (const VariantResult& r : results.results) {
    any_roofline = any_roofline || r.roofline.has_value();
    out << "| " << cell(r.variant) << " | " << cell(r.target) << " | " << cell(r.device) << " | "
        << status_text(r.status) << " | " << latency_cell(r) << " | " << roofline_cell(r) << " | "
        << (r.sizes.code_bytes ? bytes(r.sizes.code_bytes) : kNone) << " | "
        << (r.sizes.weight_bytes ? bytes(r.sizes.weight_bytes) : kNone) << " | "
        << fixed(r.compile.seconds < 10 ? "%.2f s" : "%.0f s", r.compile.seconds) << " | " << error_cell(r) << " |\n";
  }
  out << "\n\"median ms (here)\" is measured on this machine, natively only: an emulated target (qemu-user, node, "
         "PoCL) runs to check its outputs against the reference interpreter (✓: within rtol 1e-3, atol 1e-4), and "
         "its time says nothing of the device. ";
  if (any_roofline)
    out << "\"roofline ms (device)\" is an estimate for the device its profile describes: each kernel call takes the "
           "longer of its multiply-adds at the device's peak FLOP/s and its bytes at its peak bandwidth (which bound "
           "the model as a whole is in parentheses); `modelc devices` and results.json name the source of each "
           "device's figures. ";
  out << "Code is the static library without its weights.\n\n";
  return out.str();
}

}  // namespace modelc::reports
