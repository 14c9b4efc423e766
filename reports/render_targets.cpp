#include "reports/render_targets.h"

#include <set>
#include <sstream>

#include "reports/format.h"

namespace modelc::reports {
namespace {

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
  if (r.status != RunStatus::ok || !r.latency) return kNoValue;
  return format_ms(r.latency->median_ms);
}

std::string roofline_cell(const VariantResult& r) {
  if (!r.roofline) return kNoValue;
  const RooflineResult& e = *r.roofline;
  return format_ms(e.milliseconds) + (e.compute_ms >= e.memory_ms ? " (compute)" : " (memory)");
}

std::string error_cell(const VariantResult& r) {
  if (!r.accuracy) return kNoValue;
  std::string text = format_error(r.accuracy->max_abs_error);
  if (r.accuracy->allclose) text += *r.accuracy->allclose ? " ✓" : " ✗";
  return text;
}

}  // namespace

bool has_cross_targets(const Results& results) {
  std::set<std::string> devices;
  for (const VariantResult& r : results.results) {
    devices.insert(r.device);
    if (r.status == RunStatus::emulated || r.status == RunStatus::compiled || r.roofline) return true;
  }
  return devices.size() > 1;
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
        << (r.status == RunStatus::ok ? "measured" : status_text(r.status)) << " | " << latency_cell(r) << " | "
        << roofline_cell(r) << " | " << (r.sizes.code_bytes ? format_bytes(r.sizes.code_bytes) : kNoValue) << " | "
        << (r.sizes.weight_bytes ? format_bytes(r.sizes.weight_bytes) : kNoValue) << " | "
        << format_seconds(r.compile.seconds) << " | " << error_cell(r) << " |\n";
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
