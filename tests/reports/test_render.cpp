#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "reports/render_csv.h"
#include "reports/render_html.h"
#include "reports/render_markdown.h"
#include "reports/render_text.h"
#include "sample_results.h"

using modelc::reports::testing::sample_results;
using namespace modelc::reports;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream lines(text);
  for (std::string l; std::getline(lines, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    if (l == line) return true;
  }
  return false;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    lines.push_back(l);
  }
  return lines;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("render_markdown: one comparison table, a row per variant x target x implementation") {
  const std::string md = render_markdown(sample_results());
  INFO(md);
  CHECK(md.rfind("# mlp 1.0.0 — modelc report\n", 0) == 0);
  CHECK(contains(md, "Speed-ups are measured against **quantization.mode=none / host / modelc**."));
  CHECK(has_line(md, "## Comparison"));
  // modelc: median with its interval, p90, the reference row itself, sizes in binary units.
  CHECK(has_line(md, "| quantization.mode=none | host | **modelc** | 2 | 0.0300 [0.0294, 0.0306] | 0.0330 | reference row |  | "
                     "2.5e-06 vs reference | 1.25 s | 117.2 KiB | 2.6 MiB | 8.0 KiB |"));
  // ONNX Runtime at 0.048 ms: 0.625x of the reference row, and modelc 1.6x faster than it; its call overhead beside it.
  CHECK(has_line(md, "| quantization.mode=none | host | onnxruntime (call overhead 0.0120 ms) | 2 | 0.0480 [0.0470, 0.0490] | "
                     "0.0528 | 0.625× [0.625, 0.625] | 1.60× [1.60, 1.60] | – |  | | | |"));
  CHECK(has_line(md, "| quantization.mode=none | host | reference | 1 | unavailable | – | – | – | – |  | | | |"));
  // A target that was only compiled never gets a ratio.
  CHECK(has_line(md, "| quantization.mode=int8 | pi5 | **modelc** | – | compile only | – | – |  | inf vs reference | – | – | – | – |"));
  CHECK(has_line(md, "- quantization.mode=int8 / pi5 / modelc: aarch64 code cannot run on this x86_64 machine"));
}

TEST_CASE("render_markdown: tails with early-stopping bounds, the machine and how it was measured") {
  const std::string md = render_markdown(sample_results());
  INFO(md);
  CHECK(has_line(md, "| quantization.mode=none / host / modelc | 100 | 0.0330 | 0.0360 | 0.0450 | needs 662 runs, had 100 |"));
  CHECK(has_line(md, "| CPU | AMD EPYC (x86_64) |"));
  CHECK(has_line(md, "| Cores | 2 logical |"));
  CHECK(has_line(md, "| ISA extensions | fma avx2 avx512f |"));
  CHECK(has_line(md, "| fp32 peak | 90.5 GFLOP/s on 1 thread, 180.2 on 2 (avx2+fma FMA loop, measured in this run) |"));
  CHECK(has_line(md, "| Core to core | 35.2 GB/s reading 512.0 KiB another core just wrote, 210.5 GB/s its own (measured in "
                     "this run) |"));
  CHECK(has_line(md, "| Memory | 8.0 GiB |"));
  CHECK(has_line(md, "| Versions | modelc 0.1.0, Halide 14.0.0, LLVM 14.0.6 |"));
  // What ran, not what was asked: rounds, batch sizes and threads per row.
  CHECK(contains(md, "The implementations took turns in 5 rounds"));
  CHECK(contains(md, "enough for at least 100 timed runs and 0.5 s of timed work"));
  CHECK(has_line(md, "| quantization.mode=none / host / modelc | 2 | 10 | 5 × 20 | 100 |"));
  CHECK(has_line(md, "| quantization.mode=none / host / onnxruntime | 2 | 10 | 5 × 20 | 100 |"));
  CHECK(contains(md, "percentile-bootstrap intervals over rounds"));
  CHECK(contains(md, "p90 needs at least 64 runs, p99 at least 662"));
  CHECK(contains(md, "one-op model"));
  // No claim that the reference interpreter ran like modelc: it did not run at all here.
  CHECK_FALSE(contains(md, "reference interpreter, being slow"));
}

TEST_CASE("render_markdown and render_html: the per-layer sensitivity of an int8 variant") {
  const std::string md = render_markdown(sample_results());
  INFO(md);
  CHECK(has_line(md, "## Layer sensitivity of variant quantization.mode=int8"));
  CHECK(contains(md, "Output `probs` on 8 held-out inputs against the float model"));
  CHECK(has_line(md, "| stem | qnn.conv2d | 0.99812 | 0.99701 | 7/8 (87.5 %) | 0.012 | 0.061 |"));
  CHECK(has_line(md, "| (every layer) | | 0.99733 | 0.99514 | 7/8 (87.5 %) | 0.019 | 0.073 |"));
  CHECK(md.find("| stem |") < md.find("| logits |"));  // the order given: most sensitive first
  Results plain = sample_results();
  plain.results[1].sensitivity.reset();
  CHECK_FALSE(contains(render_markdown(plain), "Layer sensitivity"));
  const std::string html = render_html(sample_results());
  CHECK(contains(html, "<h2>Layer sensitivity of variant quantization.mode=int8</h2>"));
  CHECK(contains(html, "<tr><th>Core to core</th><td>35.2 GB/s reading 512.0 KiB another core just wrote"));
  CHECK(contains(html, "<tr><td>logits</td><td>qnn.dense</td><td class=\"num\">0.99990</td>"));
  CHECK_FALSE(contains(render_html(plain), "Layer sensitivity"));
}

TEST_CASE("render_markdown: an artifact whose outputs are wrong is listed as failed before the tables") {
  Results results = sample_results();
  CHECK_FALSE(contains(render_markdown(results), "failed:**"));
  results.results[0].status = RunStatus::failed;
  results.results[0].latency.reset();
  results.results[0].samples_ms.clear();
  results.results[0].note = "outputs differ from the reference interpreter: output 'y' (int64): 2 of 8 elements differ";
  results.comparisons = compare_rows(results);
  const std::string md = render_markdown(results);
  INFO(md);
  const std::vector<std::string> lines = lines_of(md);
  REQUIRE(lines.size() > 5);
  CHECK(lines[4] == "**1 artifact failed:**");
  CHECK(lines[6] == "- quantization.mode=none / host: outputs differ from the reference interpreter: output 'y' (int64): 2 "
                    "of 8 elements differ");
  CHECK(contains(md, "| quantization.mode=none | host | **modelc** | 2 | failed | – | reference row |"));
  // The failed row has no figure, so nothing is compared with it.
  CHECK(contains(md, "onnxruntime (call overhead 0.0120 ms) | 2 | 0.0480 [0.0470, 0.0490] | 0.0528 | – | – |"));
}

TEST_CASE("render_markdown escapes table separators in names") {
  Results results = sample_results();
  results.results[0].variant = "a|b";
  const std::string md = render_markdown(results);
  CHECK(contains(md, "| a\\|b | host | **modelc** |"));
}

TEST_CASE("render_markdown: merged results name each row's machine and list every machine") {
  Results results = sample_results();
  results.machines = {{"a/results.json", results.environment}, {"b/results.json", results.environment}};
  results.machines[1].environment.machine.cpu_model = "Ampere Altra";
  results.results[1].machine = 1;
  const std::string md = render_markdown(results);
  INFO(md);
  CHECK(contains(md, "results of 2 machines merged"));
  CHECK(contains(md, "| quantization.mode=int8 | pi5 @ m2 | **modelc** |"));
  CHECK(has_line(md, "### m1 (`a/results.json`)"));
  CHECK(has_line(md, "### m2 (`b/results.json`)"));
  CHECK(has_line(md, "| CPU | Ampere Altra (x86_64) |"));
}

TEST_CASE("render_csv: header and one row per variant x target x implementation") {
  const std::vector<std::string> lines = lines_of(render_csv(sample_results()));
  REQUIRE(lines.size() == 1 + 3 + 1);  // header, host: modelc + 2 baselines, pi5: modelc
  CHECK(lines[0].rfind("variant,target,machine,device,threads,implementation,status,median_ms,median_low_ms,", 0) == 0);
  CHECK(lines[1].rfind("quantization.mode=none,host,0,x86-64-avx512,2,modelc,ok,0.03,0.0294,0.0306,", 0) == 0);
  CHECK(contains(lines[1], ",120000,2680000,8192,"));
  CHECK(lines[2].rfind("quantization.mode=none,host,0,x86-64-avx512,2,onnxruntime,ok,0.048,", 0) == 0);
  CHECK(contains(lines[2], ",0.625,0.625,0.625,false,1.6,1.6,1.6,false,0.012,"));  // vs reference row, modelc over it, overhead
  CHECK(lines[3].rfind("quantization.mode=none,host,0,x86-64-avx512,1,reference,unavailable,,,", 0) == 0);
  CHECK(contains(lines[4], ",inf,0,reference,"));
}

TEST_CASE("render_csv quotes fields with commas and quotes") {
  Results results = sample_results();
  results.results[1].note = "needs \"qemu\", or a Pi";
  const std::vector<std::string> lines = lines_of(render_csv(results));
  CHECK(contains(lines.back(), ",\"needs \"\"qemu\"\", or a Pi\""));
  const size_t columns = csv_columns().size();
  // Unquoted rows have exactly columns - 1 separators.
  CHECK(static_cast<size_t>(std::count(lines[1].begin(), lines[1].end(), ',')) == columns - 1);
  CHECK(static_cast<size_t>(std::count(lines[2].begin(), lines[2].end(), ',')) == columns - 1);
}

TEST_CASE("render_text: aligned rows with the speed-up against the reference row") {
  const std::string text = render_text(sample_results());
  INFO(text);
  const std::vector<std::string> lines = lines_of(text);
  REQUIRE(lines.size() >= 5);
  CHECK(lines[0].rfind("row", 0) == 0);
  CHECK(contains(lines[0], "speed-up vs quantization.mode=none / host / modelc"));
  CHECK(contains(lines[1], "0.0300 [0.0294, 0.0306]"));
  CHECK(contains(lines[1], "reference row  (max abs error 2.5e-06)"));
  CHECK(contains(lines[2], "0.625× [0.625, 0.625]  (call overhead 0.0120 ms)"));
  CHECK(contains(lines[4], "compile only"));
  // The median column is right-aligned: its figures end in the same column.
  CHECK(lines[1].find("0.0306]") + 7 == lines[2].find("0.0490]") + 7);
  // A row ran on two threads: the run's core-to-core figures follow.
  CHECK(contains(text, "\ncore to core: 35.2 GB/s reading 512.0 KiB another core just wrote, 210.5 GB/s its own"));
}

TEST_CASE("render_html: one self-contained page with charts, tables and the fingerprint") {
  const std::string html = render_html(sample_results());
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(contains(html, "<title>mlp 1.0.0 — modelc report</title>"));
  // Nothing from elsewhere: no script, no external stylesheet, font or image.
  for (const char* banned : {"<script", "http://", "https://", "<link", "@import", "url(", "<img"}) {
    CAPTURE(banned);
    // The SVG namespace is an identifier, not a fetch.
    std::string page = html;
    for (size_t at; (at = page.find("http://www.w3.org/2000/svg")) != std::string::npos;) page.erase(at, 26);
    CHECK_FALSE(contains(page, banned));
  }
  CHECK(contains(html, "<svg"));
  CHECK(contains(html, "Median latency per variant and target"));
  CHECK(contains(html, "class=\"whisker\""));
  CHECK(contains(html, "Speed-up against quantization.mode=none / host / modelc"));
  CHECK(contains(html, "<h2>Accuracy</h2>"));
  CHECK(contains(html, "<h2>Machine</h2>"));
  CHECK(contains(html, "compile only"));
  CHECK(contains(html, "@media print"));
  // Text from the results is escaped.
  Results results = sample_results();
  results.results[0].variant = "<b>&";
  CHECK(contains(render_html(results), "&lt;b&gt;&amp;"));
}
