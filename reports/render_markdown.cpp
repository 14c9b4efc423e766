#include "reports/render_markdown.h"

#include "reports/render_targets.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

namespace modelc::reports {
namespace {

constexpr const char* kNone = "–";

std::string printf_string(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

// Three significant digits without switching to exponents: 34.8, 4.90, 0.0480.
std::string format_ms(double ms) {
  if (!std::isfinite(ms)) return kNone;
  if (ms >= 100) return printf_string("%.0f", ms);
  if (ms <= 0) return "0";
  const int decimals = std::max(0, 2 - static_cast<int>(std::floor(std::log10(ms))));
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, ms);
  return buffer;
}

std::string format_error(double error) {
  if (std::isnan(error)) return "NaN";
  if (std::isinf(error)) return "inf";
  if (error == 0) return "0";
  return printf_string("%.2g", error);
}

std::string format_bytes(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  return printf_string("%.1f", value) + " " + units[unit];
}

// All zero: no artifact was built (a real one has at least code).
std::string size_cells(const ArtifactSizes& sizes) {
  if (sizes == ArtifactSizes{}) return std::string(kNone) + " | " + kNone + " | " + kNone;
  return format_bytes(sizes.code_bytes) + " | " + format_bytes(sizes.weight_bytes) + " | " +
         format_bytes(sizes.arena_bytes);
}

std::string format_seconds(double seconds) { return printf_string(seconds < 10 ? "%.2f s" : "%.0f s", seconds); }

// Table cells cannot hold '|' or line breaks.
std::string cell(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

std::string accuracy_cell(const std::optional<AccuracyResult>& accuracy) {
  if (!accuracy) return kNone;
  std::string text = format_error(accuracy->max_abs_error);
  if (!accuracy->reference.empty()) text += " vs " + cell(accuracy->reference);
  if (accuracy->allclose && !*accuracy->allclose) text += " (not allclose)";
  return text;
}

std::string latency_cells(const std::optional<LatencyStats>& latency) {
  if (!latency) return std::string(kNone) + " | " + kNone;
  return format_ms(latency->median_ms) + " | " + format_ms(latency->p90_ms);
}

void render_machine(std::ostringstream& out, const Results& results) {
  const Environment& env = results.environment;
  const MachineInfo& machine = env.machine;
  out << "## Machine\n\n| | |\n|---|---|\n";
  out << "| CPU | " << cell(machine.cpu_model.empty() ? "unknown" : machine.cpu_model);
  if (!machine.architecture.empty()) out << " (" << cell(machine.architecture) << ")";
  out << " |\n";
  out << "| Cores | " << machine.logical_cores << " logical";
  if (machine.available_cores > 0 && machine.available_cores != machine.logical_cores) {
    out << ", " << machine.available_cores << " available to the benchmark";
  }
  out << " |\n";
  std::string flags;
  for (const std::string& flag : machine.isa_flags) flags += (flags.empty() ? "" : " ") + flag;
  out << "| ISA extensions | " << (flags.empty() ? kNone : cell(flags)) << " |\n";
  if (!machine.os.empty()) out << "| OS | " << cell(machine.os) << " |\n";
  if (machine.memory_bytes > 0) out << "| Memory | " << format_bytes(machine.memory_bytes) << " |\n";
  out << "| Versions | modelc " << cell(env.modelc_version.empty() ? "?" : env.modelc_version) << ", Halide "
      << cell(env.halide_version.empty() ? "?" : env.halide_version) << ", LLVM "
      << cell(env.llvm_version.empty() ? "?" : env.llvm_version) << " |\n\n";
}

void render_target(std::ostringstream& out, const Results& results, const std::string& target) {
  std::string device;
  for (const VariantResult& r : results.results) {
    if (r.target == target && !r.device.empty()) device = r.device;
  }
  out << "## Target `" << target << "`";
  if (!device.empty()) out << " (" << cell(device) << ")";
  out << "\n\n";
  out << "| variant | implementation | status | median ms | p90 ms | speed-up of modelc | max abs error | compile "
         "| code | weights | arena |\n";
  out << "|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|\n";

  std::vector<std::string> notes;
  for (const VariantResult& r : results.results) {
    if (r.target != target) continue;
    const std::string variant = cell(r.variant);
    out << "| " << variant << " | **modelc** | " << to_string(r.status) << " | " << latency_cells(r.latency) << " | "
        << kNone << " | " << accuracy_cell(r.accuracy) << " | "
        << (r.compile.seconds > 0 ? format_seconds(r.compile.seconds) : kNone) << " | " << size_cells(r.sizes)
        << " |\n";
    if (!r.note.empty()) notes.push_back(r.variant + ", modelc: " + r.note);

    for (const BaselineResult& b : r.baselines) {
      const std::optional<double> speedup = speedup_over(b, r);
      out << "| " << variant << " | " << cell(b.name) << " | " << to_string(b.status) << " | "
          << latency_cells(b.latency) << " | " << (speedup ? printf_string("%.2f×", *speedup) : kNone) << " | "
          << accuracy_cell(b.accuracy) << " | | | | |\n";
      if (!b.note.empty()) notes.push_back(r.variant + ", " + b.name + ": " + b.note);
    }
  }
  out << "\n";
  for (const std::string& note : notes) out << "- " << note << "\n";
  if (!notes.empty()) out << "\n";
}

void render_method(std::ostringstream& out, const Results& results) {
  const spec::BenchmarkSpec& b = results.benchmark;
  std::set<int> threads;
  for (const VariantResult& r : results.results) threads.insert(r.threads);

  out << "## How measured\n\n";
  out << "Each implementation ran " << b.warmup << " untimed warm-up runs, then timed runs until at least "
      << b.repeats << " runs and " << printf_string("%g", b.min_seconds)
      << " s had passed; every run is timed on its own with a steady clock, and the median and percentiles are "
         "taken over those runs (batch 1, same input for all). ";
  if (threads.size() == 1) {
    const int t = *threads.begin();
    out << "modelc and the baselines ran with " << (t > 0 ? std::to_string(t) : std::string("all")) << " thread"
        << (t == 1 ? "" : "s") << ". ";
  } else if (!threads.empty()) {
    out << "Thread counts are those of each target's `threads` setting. ";
  }
  out << "Speed-up of modelc = baseline median / modelc median: above 1 means modelc is faster. Errors are the "
         "largest absolute difference from the named reference output, over every output: an artifact fails when "
         "the counts, names, dtypes or shapes of its outputs differ, when a floating output is not allclose (rtol, "
         "atol as stated in results.json), or when an integer or bool output differs at all.\n";
}

}  // namespace

std::optional<double> speedup_over(const BaselineResult& baseline, const VariantResult& modelc) {
  if (!baseline.latency || !modelc.latency || modelc.latency->median_ms <= 0) return std::nullopt;
  return baseline.latency->median_ms / modelc.latency->median_ms;
}

std::string render_markdown(const Results& results) {
  std::ostringstream out;
  out << "# " << cell(results.recipe.name);
  if (!results.recipe.version.empty()) out << " " << cell(results.recipe.version);
  out << " — modelc report\n\n";
  if (!results.recipe.file.empty()) {
    out << "Recipe `" << results.recipe.file << "`";
    if (!results.recipe.sha256.empty()) out << " (sha256 `" << results.recipe.sha256.substr(0, 12) << "`)";
    out << ".\n\n";
  }

  // A wrong artifact is the first thing a reader must see, not a cell in a table.
  std::vector<std::string> failed;
  for (const VariantResult& r : results.results)
    if (r.status == RunStatus::failed) failed.push_back(r.variant + " / " + r.target + (r.note.empty() ? "" : ": " + r.note));
  if (!failed.empty()) {
    out << "**" << failed.size() << (failed.size() == 1 ? " artifact" : " artifacts") << " failed:**\n\n";
    for (const std::string& f : failed) out << "- " << cell(f) << "\n";
    out << "\n";
  }

  std::vector<std::string> targets;
  for (const VariantResult& r : results.results) {
    if (std::find(targets.begin(), targets.end(), r.target) == targets.end()) targets.push_back(r.target);
  }
  if (targets.empty()) out << "No results.\n\n";
  out << render_targets_table(results);
  for (const std::string& target : targets) render_target(out, results, target);

  render_machine(out, results);
  render_method(out, results);
  return out.str();
}

}  // namespace modelc::reports
