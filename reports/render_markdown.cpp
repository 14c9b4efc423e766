#include "reports/render_markdown.h"

#include <algorithm>
#include <sstream>

#include "reports/comparison.h"
#include "reports/format.h"
#include "reports/method_text.h"
#include "reports/render_targets.h"

namespace modelc::reports {
namespace {

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
  if (!accuracy) return kNoValue;
  std::string text = format_error(accuracy->max_abs_error);
  if (!accuracy->reference.empty()) text += " vs " + cell(accuracy->reference);
  if (accuracy->allclose && !*accuracy->allclose) text += " (not allclose)";
  return text;
}

// All zero: no artifact was built (a real one has at least code).
std::string size_cells(const ArtifactSizes& sizes) {
  if (sizes == ArtifactSizes{}) return std::string(kNoValue) + " | " + kNoValue + " | " + kNoValue;
  return format_bytes(sizes.code_bytes) + " | " + format_bytes(sizes.weight_bytes) + " | " + format_bytes(sizes.arena_bytes);
}

std::string target_cell(const ReportRow& row, bool merged) {
  std::string text = cell(row.id.target);
  if (merged) text += " @ m" + std::to_string(row.id.machine + 1);
  return text;
}

std::string implementation_cell(const ReportRow& row) {
  if (row.is_modelc()) return "**modelc**";
  std::string text = cell(row.id.implementation);
  if (row.baseline->call_overhead) text += " (call overhead " + format_ms(row.baseline->call_overhead->median_ms) + " ms)";
  return text;
}

// Latency cells, or what the row is instead of measured.
std::string latency_cells(const ReportRow& row) {
  if (row.measured()) {
    const LatencyStats& l = **row.latency;
    return format_ms_with_interval(l.median_ms, l.median_interval) + " | " + format_ms(l.p90_ms);
  }
  return status_text(row.status) + " | " + kNoValue;
}

std::string speedup_cell(const Results& results, const ReportRow& row, const RowId& against) {
  if (row.id == against) return "reference row";
  if (const Comparison* c = find_comparison(results, row.id, against)) return format_speedup(c->speedup);
  return kNoValue;
}

// modelc of the same variant x target, compared with this baseline.
std::string modelc_over_cell(const Results& results, const ReportRow& row) {
  if (row.is_modelc()) return "";
  const RowId modelc{row.id.variant, row.id.target, "modelc", row.id.machine};
  if (const Comparison* c = find_comparison(results, modelc, row.id)) return format_speedup(c->speedup);
  return kNoValue;
}

void render_comparison(std::ostringstream& out, const Results& results, const std::vector<ReportRow>& rows) {
  const bool merged = !results.machines.empty();
  out << "## Comparison\n\n";
  out << "| variant | target | implementation | threads | median ms [95 % CI] | p90 ms | speed-up vs reference row | "
         "modelc's speed-up over it | max abs error | compile | code | weights | arena |\n";
  out << "|---|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|\n";
  std::vector<std::string> notes;
  for (const ReportRow& row : rows) {
    const VariantResult& r = *row.result;
    out << "| " << cell(row.id.variant) << " | " << target_cell(row, merged) << " | " << implementation_cell(row) << " | "
        << (row.threads > 0 ? std::to_string(row.threads) : kNoValue) << " | " << latency_cells(row) << " | "
        << speedup_cell(results, row, results.compare_to) << " | " << modelc_over_cell(results, row) << " | "
        << accuracy_cell(*row.accuracy) << " | ";
    if (row.is_modelc()) {
      out << (r.compile.seconds > 0 ? format_seconds(r.compile.seconds) : kNoValue) << " | " << size_cells(r.sizes) << " |\n";
    } else {
      out << " | | | |\n";
    }
    if (!row.note.empty()) notes.push_back(to_string(row.id) + ": " + row.note);
  }
  out << "\n";
  for (const std::string& note : notes) out << "- " << cell(note) << "\n";
  if (!notes.empty()) out << "\n";
}

std::string bound_cell(const std::optional<EarlyStoppingBound>& bound, int runs) {
  if (!bound) return kNoValue;
  if (bound->bound_ms) return format_ms(*bound->bound_ms);
  return "needs " + std::to_string(bound->samples_needed) + " runs, had " + std::to_string(runs);
}

void render_tails(std::ostringstream& out, const std::vector<ReportRow>& rows) {
  std::vector<const ReportRow*> measured;
  for (const ReportRow& row : rows)
    if (row.measured()) measured.push_back(&row);
  if (measured.empty()) return;
  out << "## Tail latency\n\n";
  out << "| row | timed runs | p90 ms | p90 bound ms | p99 ms | p99 bound ms |\n|---|---:|---:|---:|---:|---:|\n";
  for (const ReportRow* row : measured) {
    const LatencyStats& l = **row->latency;
    out << "| " << cell(to_string(row->id)) << " | " << l.repeats << " | " << format_ms(l.p90_ms) << " | "
        << bound_cell(l.p90_bound, l.repeats) << " | " << format_ms(l.p99_ms) << " | " << bound_cell(l.p99_bound, l.repeats)
        << " |\n";
  }
  out << "\n";
}

std::string agreement_cells(const LayerAgreement& a) {
  return format_fixed(a.cosine_mean, 5) + " | " + format_fixed(a.cosine_min, 5) + " | " + format_top1(a) + " | " +
         format_error(a.max_abs_error) + " | " + format_error(a.relative_error);
}

void render_environment(std::ostringstream& out, const Environment& env) {
  const MachineInfo& machine = env.machine;
  out << "| | |\n|---|---|\n";
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
  out << "| ISA extensions | " << (flags.empty() ? kNoValue : cell(flags)) << " |\n";
  if (env.fp32_peak) {
    const Fp32PeakFigures& p = *env.fp32_peak;
    char text[160];
    std::snprintf(text, sizeof(text), "%.1f GFLOP/s on 1 thread, %.1f on %d (%s FMA loop, measured in this run)",
                  p.single_thread_gflops, p.all_threads_gflops, p.threads, p.isa.c_str());
    out << "| fp32 peak | " << text << " |\n";
  }
  if (env.core_transfer) out << "| Core to core | " << core_transfer_text(*env.core_transfer) << " |\n";
  if (!machine.os.empty()) out << "| OS | " << cell(machine.os) << " |\n";
  if (machine.memory_bytes > 0) out << "| Memory | " << format_bytes(machine.memory_bytes) << " |\n";
  out << "| Versions | modelc " << cell(env.modelc_version.empty() ? "?" : env.modelc_version) << ", Halide "
      << cell(env.halide_version.empty() ? "?" : env.halide_version) << ", LLVM "
      << cell(env.llvm_version.empty() ? "?" : env.llvm_version) << " |\n";
  if (!env.timestamp.empty()) out << "| Measured | " << cell(env.timestamp) << " |\n";
  out << "\n";
}

void render_machines(std::ostringstream& out, const Results& results) {
  if (results.machines.empty()) {
    out << "## Machine\n\n";
    render_environment(out, results.environment);
    return;
  }
  out << "## Machines\n\n";
  for (size_t i = 0; i < results.machines.size(); ++i) {
    out << "### m" << i + 1 << " (`" << cell(results.machines[i].file) << "`)\n\n";
    render_environment(out, results.machines[i].environment);
  }
}

void render_method(std::ostringstream& out, const Results& results) {
  const MethodDescription method = describe_method(results);
  out << "## How measured\n\n";
  for (const std::string& paragraph : method.paragraphs) out << paragraph << "\n\n";
  if (method.timings.empty()) return;
  out << "| row | threads | warm-up runs | rounds × runs per round | timed runs |\n|---|---:|---:|---:|---:|\n";
  for (const RowTiming& t : method.timings) {
    out << "| " << cell(to_string(t.row)) << " | " << (t.threads > 0 ? std::to_string(t.threads) : kNoValue) << " | "
        << t.warmup << " | "
        << (t.runs_per_round > 0 ? std::to_string(t.rounds) + " × " + std::to_string(t.runs_per_round) : std::string(kNoValue))
        << " | " << t.repeats << " |\n";
  }
  out << "\n";
}

}  // namespace

std::string render_sensitivity_markdown(const SensitivityResult& s, const std::string& variant) {
  std::ostringstream out;
  out << "## Layer sensitivity of variant " << cell(variant) << "\n\n";
  out << "Output `" << cell(s.output) << "` on " << s.inputs << " held-out inputs against the float model, with only the "
      << "named layer quantized to int8, most sensitive first. A layer near the top costs the most accuracy alone: list "
      << "it under `quantization.skip` to keep it in float.\n\n";
  out << "| layer | op | cosine mean | cosine min | top-1 agreement | abs error max | relative error |\n";
  out << "|---|---|---:|---:|---:|---:|---:|\n";
  for (const LayerAgreement& l : s.layers) out << "| " << cell(l.layer) << " | " << cell(l.op) << " | " << agreement_cells(l) << " |\n";
  out << "| (every layer) | | " << agreement_cells(s.all) << " |\n\n";
  return out.str();
}

std::string render_markdown(const Results& results) {
  std::ostringstream out;
  out << "# " << cell(results.recipe.name);
  if (!results.recipe.version.empty()) out << " " << cell(results.recipe.version);
  out << " — modelc report\n\n";
  if (!results.recipe.file.empty()) {
    out << "Recipe `" << results.recipe.file << "`";
    if (!results.recipe.sha256.empty()) out << " (sha256 `" << results.recipe.sha256.substr(0, 12) << "`)";
    out << ". ";
  }
  out << "Speed-ups are measured against **" << cell(to_string(results.compare_to)) << "**";
  if (!results.machines.empty()) out << "; results of " << results.machines.size() << " machines merged";
  out << ".\n\n";

  // A wrong artifact is the first thing a reader must see, not a cell in a table.
  std::vector<std::string> failed;
  for (const VariantResult& r : results.results) {
    if (r.status != RunStatus::failed) continue;
    failed.push_back(r.variant + " / " + r.target + (results.machines.empty() ? "" : " @ m" + std::to_string(r.machine + 1)) +
                     (r.note.empty() ? "" : ": " + r.note));
  }
  if (!failed.empty()) {
    out << "**" << failed.size() << (failed.size() == 1 ? " artifact" : " artifacts") << " failed:**\n\n";
    for (const std::string& f : failed) out << "- " << cell(f) << "\n";
    out << "\n";
  }

  const std::vector<ReportRow> rows = report_rows(results);
  if (rows.empty()) out << "No results.\n\n";
  else render_comparison(out, results, rows);
  if (has_cross_targets(results)) out << render_targets_table(results);
  render_tails(out, rows);
  for (const VariantResult& r : results.results)
    if (r.sensitivity) out << render_sensitivity_markdown(*r.sensitivity, r.variant);
  render_machines(out, results);
  render_method(out, results);
  return out.str();
}

}  // namespace modelc::reports
