#include "reports/render_html.h"

#include <cstdio>
#include <sstream>

#include "reports/comparison.h"
#include "reports/format.h"
#include "reports/method_text.h"
#include "reports/svg_charts.h"

namespace modelc::reports {
namespace {

constexpr const char* kStyle = R"(
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --modelc: #1f6feb; --reference: #8c959f;
        --onnxruntime: #d4762c; --faster: #1a7f37; --slower: #cf222e; --noise: #8c959f; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); margin: 0 auto; max-width: 1280px; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
p { margin: 6px 0 10px; max-width: 860px; }
.subtitle { color: var(--muted); margin-bottom: 14px; }
.failed { border: 1px solid var(--slower); background: #ffebe9; padding: 8px 14px; border-radius: 6px; }
table { border-collapse: collapse; margin: 8px 0 12px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 7px; text-align: left; vertical-align: top; }
table.comparison { font-size: 13px; }
.ci { display: block; color: var(--muted); font-size: 11px; white-space: nowrap; }
th { background: #f6f8fa; font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
tr.modelc td:first-child { border-left: 3px solid var(--modelc); }
.note { color: var(--muted); font-size: 12px; }
.tag { display: inline-block; padding: 0 6px; border-radius: 10px; font-size: 12px; background: #eaeef2; white-space: nowrap; }
.tag.faster { background: #dafbe1; color: var(--faster); }
.tag.slower { background: #ffebe9; color: var(--slower); }
svg.chart { display: block; max-width: 100%; height: auto; margin: 6px 0 14px; }
svg .title { font-weight: 600; font-size: 14px; fill: var(--ink); }
svg .group { font-weight: 600; font-size: 12px; fill: var(--muted); }
svg .label, svg .value { font-size: 12px; fill: var(--ink); }
svg .tick { font-size: 11px; fill: var(--muted); }
svg .grid { stroke: #eaeef2; stroke-width: 1; }
svg .one { stroke: var(--ink); stroke-width: 1; stroke-dasharray: 3 3; }
svg .whisker { stroke: var(--ink); stroke-width: 1.4; fill: none; }
svg .bar { fill: var(--reference); }
svg .bar.modelc { fill: var(--modelc); }
svg .bar.onnxruntime { fill: var(--onnxruntime); }
svg .bar.faster { fill: var(--faster); }
svg .bar.slower { fill: var(--slower); }
svg .bar.noise { fill: var(--noise); }
.legend span { display: inline-block; margin-right: 14px; font-size: 12px; color: var(--muted); }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }
.scroll { overflow-x: auto; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  h2 { break-after: avoid; }
  svg.chart, table { break-inside: avoid; }
  .scroll { overflow: visible; }
}
)";

std::string e(std::string_view text) { return html_escape(text); }

std::string implementation_class(const RowId& row) {
  if (row.implementation == "modelc" || row.implementation == "onnxruntime" || row.implementation == "reference")
    return row.implementation;
  return "other";
}

std::string row_label(const ReportRow& row, bool merged) {
  std::string label = row.id.implementation;
  if (row.threads > 0) label += ", " + std::to_string(row.threads) + (row.threads == 1 ? " thread" : " threads");
  if (merged) label += " @ m" + std::to_string(row.id.machine + 1);
  return label;
}

std::string group_of(const ReportRow& row) { return row.id.variant + " / " + row.id.target; }

// The ratio as a coloured tag, its interval (or why there is none) on a line below.
std::string speedup_tag(const Speedup& s) {
  const char* kind = !s.interval || s.within_noise() ? "" : (s.interval->low > 1 ? " faster" : " slower");
  std::string below = "no interval";
  if (s.interval) {
    below = "[";
    below += ratio_number(s.interval->low);
    below += ", ";
    below += ratio_number(s.interval->high);
    below += s.within_noise() ? "] within noise" : "]";
  }
  return "<span class=\"tag" + std::string(kind) + "\">" + e(format_ratio(s.value)) + "</span><span class=\"ci\">" +
         e(below) + "</span>";
}

std::string median_cell(const LatencyStats& l) {
  std::string text = "<td class=\"num\">" + e(format_ms(l.median_ms));
  if (l.median_interval)
    text += "<span class=\"ci\">[" + e(format_ms(l.median_interval->low)) + ", " + e(format_ms(l.median_interval->high)) + "]</span>";
  return text + "</td>";
}

void latency_chart(std::ostringstream& out, const std::vector<ReportRow>& rows, bool merged) {
  std::vector<ChartBar> bars;
  for (const ReportRow& row : rows) {
    if (!row.measured()) continue;
    const LatencyStats& l = **row.latency;
    bars.push_back({group_of(row), row_label(row, merged), l.median_ms, l.median_interval, implementation_class(row.id),
                    format_ms_with_interval(l.median_ms, l.median_interval) + " ms"});
  }
  if (bars.empty()) return;
  out << "<h2>Latency</h2>\n<div class=\"legend\"><span><i style=\"background:var(--modelc)\"></i>modelc</span>"
         "<span><i style=\"background:var(--onnxruntime)\"></i>ONNX Runtime</span>"
         "<span><i style=\"background:var(--reference)\"></i>reference interpreter</span>"
         "<span>whiskers: 95 % interval of the median</span></div>\n";
  out << latency_chart_svg(bars, "Median latency per variant and target (lower is better)") << "\n";
}

void speedup_chart(std::ostringstream& out, const Results& results, const std::vector<ReportRow>& rows, bool merged) {
  std::vector<ChartBar> bars;
  for (const ReportRow& row : rows) {
    const Comparison* c = find_comparison(results, row.id, results.compare_to);
    if (c == nullptr) continue;
    const Speedup& s = c->speedup;
    const char* kind = !s.interval || s.within_noise() ? "noise" : (s.interval->low > 1 ? "faster" : "slower");
    // The colour says "within noise"; the text keeps to the figures.
    std::string text = format_ratio(s.value);
    if (s.interval) text += " [" + format_ratio(s.interval->low) + ", " + format_ratio(s.interval->high) + "]";
    bars.push_back({group_of(row), row_label(row, merged), s.value, s.interval, kind, text});
  }
  if (bars.empty()) return;
  out << "<h2>Speed-up against " << e(to_string(results.compare_to)) << "</h2>\n";
  out << "<div class=\"legend\"><span><i style=\"background:var(--faster)\"></i>faster beyond noise</span>"
         "<span><i style=\"background:var(--slower)\"></i>slower beyond noise</span>"
         "<span><i style=\"background:var(--noise)\"></i>within noise</span></div>\n";
  out << speedup_chart_svg(bars, "Reference row's median / row's median, 95 % interval") << "\n";
}

std::string num_cell(const std::string& text) { return "<td class=\"num\">" + e(text) + "</td>"; }

void comparison_table(std::ostringstream& out, const Results& results, const std::vector<ReportRow>& rows, bool merged) {
  out << "<h2>Comparison</h2>\n<div class=\"scroll\"><table class=\"comparison\">\n<tr><th>variant</th><th>target</th>"
         "<th>implementation</th><th class=\"num\">threads</th><th class=\"num\">median ms<span class=\"ci\">95 % CI</span>"
         "</th><th class=\"num\">p90 ms</th><th>speed-up vs reference</th><th>modelc over it</th>"
         "<th class=\"num\">max abs error</th><th class=\"num\">compile</th><th class=\"num\">code</th>"
         "<th class=\"num\">weights</th><th class=\"num\">arena</th></tr>\n";
  for (const ReportRow& row : rows) {
    out << "<tr class=\"" << (row.is_modelc() ? "modelc" : "baseline") << "\"><td>" << e(row.id.variant) << "</td><td>"
        << e(row.id.target) << (merged ? " @ m" + std::to_string(row.id.machine + 1) : "") << "</td><td>"
        << (row.is_modelc() ? "<b>modelc</b>" : e(row.id.implementation));
    if (!row.is_modelc() && row.baseline->call_overhead)
      out << "<br><span class=\"note\">call overhead " << e(format_ms(row.baseline->call_overhead->median_ms)) << " ms</span>";
    out << "</td>" << num_cell(row.threads > 0 ? std::to_string(row.threads) : kNoValue);
    if (row.measured()) {
      const LatencyStats& l = **row.latency;
      out << median_cell(l) << num_cell(format_ms(l.p90_ms));
    } else {
      out << "<td class=\"num\" colspan=\"2\">" << e(status_text(row.status)) << "</td>";
    }
    if (row.id == results.compare_to) {
      out << "<td><span class=\"tag\">reference row</span></td>";
    } else if (const Comparison* c = find_comparison(results, row.id, results.compare_to)) {
      out << "<td>" << speedup_tag(c->speedup) << "</td>";
    } else {
      out << "<td>" << kNoValue << "</td>";
    }
    const RowId modelc{row.id.variant, row.id.target, "modelc", row.id.machine};
    const Comparison* over = row.is_modelc() ? nullptr : find_comparison(results, modelc, row.id);
    out << "<td>" << (over ? speedup_tag(over->speedup) : std::string(row.is_modelc() ? "" : kNoValue)) << "</td>";
    out << num_cell(row.accuracy->has_value() ? format_error((*row.accuracy)->max_abs_error) : kNoValue);
    if (row.is_modelc() && !(row.result->sizes == ArtifactSizes{})) {
      const VariantResult& r = *row.result;
      out << num_cell(r.compile.seconds > 0 ? format_seconds(r.compile.seconds) : kNoValue)
          << num_cell(format_bytes(r.sizes.code_bytes)) << num_cell(format_bytes(r.sizes.weight_bytes))
          << num_cell(format_bytes(r.sizes.arena_bytes));
    } else {
      out << "<td></td><td></td><td></td><td></td>";
    }
    out << "</tr>\n";
    if (!row.note.empty()) out << "<tr><td></td><td colspan=\"12\" class=\"note\">" << e(row.note) << "</td></tr>\n";
  }
  out << "</table></div>\n";
}

void accuracy_table(std::ostringstream& out, const std::vector<ReportRow>& rows) {
  out << "<h2>Accuracy</h2>\n<table>\n<tr><th>row</th><th>against</th><th class=\"num\">max abs error</th>"
         "<th class=\"num\">max rel error</th><th>tolerance</th><th>verdict</th></tr>\n";
  for (const ReportRow& row : rows) {
    const std::optional<AccuracyResult>& a = *row.accuracy;
    if (!a) continue;
    out << "<tr><td>" << e(to_string(row.id)) << "</td><td>" << e(a->reference) << "</td>"
        << num_cell(format_error(a->max_abs_error)) << num_cell(format_error(a->max_rel_error)) << "<td>";
    if (a->allclose) {
      char tolerance[64];
      std::snprintf(tolerance, sizeof(tolerance), "rtol %g, atol %g", a->rtol, a->atol);
      out << tolerance << "</td><td><span class=\"tag " << (*a->allclose ? "faster\">agrees" : "slower\">differs")
          << "</span></td></tr>\n";
    } else {
      out << kNoValue << "</td><td>" << kNoValue << "</td></tr>\n";
    }
  }
  out << "</table>\n";
}

void agreement_row(std::ostringstream& out, const LayerAgreement& a, const std::string& layer) {
  out << "<tr><td>" << e(layer) << "</td><td>" << e(a.op) << "</td>" << num_cell(format_fixed(a.cosine_mean, 5))
      << num_cell(format_fixed(a.cosine_min, 5)) << num_cell(format_top1(a)) << num_cell(format_error(a.max_abs_error))
      << num_cell(format_error(a.relative_error)) << "</tr>\n";
}

// The per-layer sensitivity of each int8 variant that has one.
void sensitivity_tables(std::ostringstream& out, const Results& results) {
  for (const VariantResult& r : results.results) {
    if (!r.sensitivity) continue;
    const SensitivityResult& s = *r.sensitivity;
    out << "<h2>Layer sensitivity of variant " << e(r.variant) << "</h2>\n<p>Output <code>" << e(s.output) << "</code> on "
        << s.inputs << " held-out inputs against the float model, with only the named layer quantized to int8, most "
        << "sensitive first. A layer near the top costs the most accuracy alone: list it under "
        << "<code>quantization.skip</code> to keep it in float.</p>\n<table>\n<tr><th>layer</th><th>op</th>"
        << "<th class=\"num\">cosine mean</th><th class=\"num\">cosine min</th><th class=\"num\">top-1 agreement</th>"
        << "<th class=\"num\">abs error max</th><th class=\"num\">relative error</th></tr>\n";
    for (const LayerAgreement& l : s.layers) agreement_row(out, l, l.layer);
    agreement_row(out, s.all, "(every layer)");
    out << "</table>\n";
  }
}

std::string bound_text(const std::optional<EarlyStoppingBound>& bound, int runs) {
  if (!bound) return kNoValue;
  if (bound->bound_ms) return format_ms(*bound->bound_ms);
  return "needs " + std::to_string(bound->samples_needed) + " runs, had " + std::to_string(runs);
}

void tails_table(std::ostringstream& out, const std::vector<ReportRow>& rows) {
  out << "<h2>Tail latency</h2>\n<table>\n<tr><th>row</th><th class=\"num\">timed runs</th><th class=\"num\">p90 ms</th>"
         "<th class=\"num\">p90 bound ms</th><th class=\"num\">p99 ms</th><th class=\"num\">p99 bound ms</th></tr>\n";
  for (const ReportRow& row : rows) {
    if (!row.measured()) continue;
    const LatencyStats& l = **row.latency;
    out << "<tr><td>" << e(to_string(row.id)) << "</td>" << num_cell(std::to_string(l.repeats)) << num_cell(format_ms(l.p90_ms))
        << num_cell(bound_text(l.p90_bound, l.repeats)) << num_cell(format_ms(l.p99_ms))
        << num_cell(bound_text(l.p99_bound, l.repeats)) << "</tr>\n";
  }
  out << "</table>\n";
}

void environment_table(std::ostringstream& out, const Environment& env) {
  const MachineInfo& m = env.machine;
  std::string flags;
  for (const std::string& f : m.isa_flags) flags += (flags.empty() ? "" : " ") + f;
  out << "<table>\n<tr><th>CPU</th><td>" << e(m.cpu_model.empty() ? "unknown" : m.cpu_model)
      << (m.architecture.empty() ? "" : " (" + e(m.architecture) + ")") << "</td></tr>\n";
  out << "<tr><th>Cores</th><td>" << m.logical_cores << " logical";
  if (m.available_cores > 0 && m.available_cores != m.logical_cores) out << ", " << m.available_cores << " available";
  out << "</td></tr>\n<tr><th>ISA extensions</th><td>" << e(flags.empty() ? kNoValue : flags) << "</td></tr>\n";
  if (env.fp32_peak) {
    char text[160];
    std::snprintf(text, sizeof(text), "%.1f GFLOP/s on 1 thread, %.1f on %d (%s FMA loop, measured in this run)",
                  env.fp32_peak->single_thread_gflops, env.fp32_peak->all_threads_gflops, env.fp32_peak->threads,
                  env.fp32_peak->isa.c_str());
    out << "<tr><th>fp32 peak</th><td>" << e(text) << "</td></tr>\n";
  }
  if (env.core_transfer) out << "<tr><th>Core to core</th><td>" << e(core_transfer_text(*env.core_transfer)) << "</td></tr>\n";
  if (!m.os.empty()) out << "<tr><th>OS</th><td>" << e(m.os) << "</td></tr>\n";
  if (m.memory_bytes > 0) out << "<tr><th>Memory</th><td>" << e(format_bytes(m.memory_bytes)) << "</td></tr>\n";
  out << "<tr><th>Versions</th><td>modelc " << e(env.modelc_version.empty() ? "?" : env.modelc_version) << ", Halide "
      << e(env.halide_version.empty() ? "?" : env.halide_version) << ", LLVM "
      << e(env.llvm_version.empty() ? "?" : env.llvm_version) << "</td></tr>\n";
  if (!env.timestamp.empty()) out << "<tr><th>Measured</th><td>" << e(env.timestamp) << "</td></tr>\n";
  out << "</table>\n";
}

void machines(std::ostringstream& out, const Results& results) {
  if (results.machines.empty()) {
    out << "<h2>Machine</h2>\n";
    environment_table(out, results.environment);
    return;
  }
  out << "<h2>Machines</h2>\n";
  for (size_t i = 0; i < results.machines.size(); ++i) {
    out << "<h3>m" << i + 1 << ": " << e(results.machines[i].file) << "</h3>\n";
    environment_table(out, results.machines[i].environment);
  }
}

void method(std::ostringstream& out, const Results& results) {
  const MethodDescription m = describe_method(results);
  out << "<h2>How measured</h2>\n";
  for (const std::string& paragraph : m.paragraphs) out << "<p>" << e(paragraph) << "</p>\n";
  if (m.timings.empty()) return;
  out << "<table>\n<tr><th>row</th><th class=\"num\">threads</th><th class=\"num\">warm-up runs</th>"
         "<th class=\"num\">rounds × runs per round</th><th class=\"num\">timed runs</th></tr>\n";
  for (const RowTiming& t : m.timings) {
    out << "<tr><td>" << e(to_string(t.row)) << "</td>" << num_cell(t.threads > 0 ? std::to_string(t.threads) : kNoValue)
        << num_cell(std::to_string(t.warmup))
        << num_cell(t.runs_per_round > 0 ? std::to_string(t.rounds) + " × " + std::to_string(t.runs_per_round) : kNoValue)
        << num_cell(std::to_string(t.repeats)) << "</tr>\n";
  }
  out << "</table>\n";
}

}  // namespace

std::string render_html(const Results& results) {
  const bool merged = !results.machines.empty();
  const std::vector<ReportRow> rows = report_rows(results);
  std::ostringstream out;
  std::string title = results.recipe.name + (results.recipe.version.empty() ? "" : " " + results.recipe.version);
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>"
      << e(title) << " — modelc report</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n";
  out << "<h1>" << e(title) << " — modelc report</h1>\n<div class=\"subtitle\">";
  if (!results.recipe.file.empty()) {
    out << "Recipe <code>" << e(results.recipe.file) << "</code>";
    if (!results.recipe.sha256.empty()) out << " (sha256 <code>" << e(results.recipe.sha256.substr(0, 12)) << "</code>)";
    out << ". ";
  }
  out << "Speed-ups against <b>" << e(to_string(results.compare_to)) << "</b>";
  if (merged) out << "; results of " << results.machines.size() << " machines merged";
  if (!results.environment.timestamp.empty() && !merged) out << "; measured " << e(results.environment.timestamp);
  out << ".</div>\n";

  std::vector<std::string> failed;
  for (const VariantResult& r : results.results) {
    if (r.status != RunStatus::failed) continue;
    failed.push_back(r.variant + " / " + r.target + (merged ? " @ m" + std::to_string(r.machine + 1) : "") +
                     (r.note.empty() ? "" : ": " + r.note));
  }
  if (!failed.empty()) {
    out << "<div class=\"failed\"><b>" << failed.size() << (failed.size() == 1 ? " artifact" : " artifacts")
        << " failed:</b><ul>\n";
    for (const std::string& f : failed) out << "<li>" << e(f) << "</li>\n";
    out << "</ul></div>\n";
  }
  if (rows.empty()) out << "<p>No results.</p>\n";
  latency_chart(out, rows, merged);
  speedup_chart(out, results, rows, merged);
  if (!rows.empty()) {
    comparison_table(out, results, rows, merged);
    accuracy_table(out, rows);
    tails_table(out, rows);
  }
  sensitivity_tables(out, results);
  machines(out, results);
  method(out, results);
  out << "</body>\n</html>\n";
  return out.str();
}

}  // namespace modelc::reports
