#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "reports/render_csv.h"
#include "reports/render_markdown.h"
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

}  // namespace

TEST_CASE("render_markdown: title, one table per target, rows per implementation") {
  const std::string md = render_markdown(sample_results());
  INFO(md);
  CHECK(md.rfind("# mlp 1.0.0 — modelc report\n", 0) == 0);
  CHECK(has_line(md, "## Target `host` (x86-64-avx512)"));
  CHECK(has_line(md, "## Target `pi5` (arm64-dotprod)"));
  // modelc: 0.03 ms median, p90 0.033; sizes in binary units.
  CHECK(has_line(md, "| quantization.mode=none | **modelc** | ok | 0.0300 | 0.0330 | – | 2.5e-06 vs reference | "
                     "1.25 s | 117.2 KiB | 2.6 MiB | 8.0 KiB |"));
  // onnxruntime 0.048 ms: modelc is 1.6 times faster.
  CHECK(has_line(md, "| quantization.mode=none | onnxruntime | ok | 0.0480 | 0.0528 | 1.60× | – | | | | |"));
  CHECK(has_line(md, "| quantization.mode=none | reference | unavailable | – | – | – | – | | | | |"));
  CHECK(has_line(md, "| quantization.mode=int8 | **modelc** | compiled | – | – | – | inf vs reference | – | "
                     "– | – | – |"));
  CHECK(has_line(md, "- quantization.mode=int8, modelc: aarch64 code cannot run on this x86_64 machine"));
}

TEST_CASE("render_markdown: machine section and how it was measured") {
  const std::string md = render_markdown(sample_results());
  INFO(md);
  CHECK(has_line(md, "| CPU | AMD EPYC (x86_64) |"));
  CHECK(has_line(md, "| Cores | 2 logical |"));
  CHECK(has_line(md, "| ISA extensions | fma avx2 avx512f |"));
  CHECK(has_line(md, "| Memory | 8.0 GiB |"));
  CHECK(has_line(md, "| Versions | modelc 0.1.0, Halide 14.0.0, LLVM 14.0.6 |"));
  CHECK(md.find("ran 10 untimed warm-up runs, then timed runs until at least 200 runs and 0.5 s had passed") !=
        std::string::npos);
  // The int8 variant has threads = 0, so thread counts differ per target.
  CHECK(md.find("Thread counts are those of each target") != std::string::npos);
}

TEST_CASE("render_markdown: an artifact whose outputs are wrong is listed as failed before the tables") {
  Results results = sample_results();
  CHECK(render_markdown(results).find("failed:**") == std::string::npos);
  results.results[0].status = RunStatus::failed;
  results.results[0].latency.reset();
  results.results[0].note = "outputs differ from the reference interpreter: output 'y' (int64): 2 of 8 elements differ";
  const std::string md = render_markdown(results);
  INFO(md);
  const std::vector<std::string> lines = lines_of(md);
  REQUIRE(lines.size() > 5);
  CHECK(lines[4] == "**1 artifact failed:**");
  CHECK(lines[6] == "- quantization.mode=none / host: outputs differ from the reference interpreter: output 'y' (int64): 2 "
                    "of 8 elements differ");
  CHECK(md.find("| quantization.mode=none | **modelc** | failed | – | – |") != std::string::npos);
}

TEST_CASE("render_markdown escapes table separators in names") {
  Results results = sample_results();
  results.results[0].variant = "a|b";
  const std::string md = render_markdown(results);
  CHECK(md.find("| a\\|b | **modelc** |") != std::string::npos);
}

TEST_CASE("speedup_over is baseline median over modelc median") {
  const Results results = sample_results();
  const VariantResult& host = results.results[0];
  REQUIRE(speedup_over(host.baselines[0], host));
  CHECK(*speedup_over(host.baselines[0], host) == doctest::Approx(0.048 / 0.03));
  CHECK_FALSE(speedup_over(host.baselines[1], host));  // not measured
}

TEST_CASE("render_csv: header and one row per variant × target × implementation") {
  const std::vector<std::string> lines = lines_of(render_csv(sample_results()));
  REQUIRE(lines.size() == 1 + 3 + 1);  // header, host: modelc + 2 baselines, pi5: modelc
  CHECK(lines[0].rfind("variant,target,device,threads,implementation,status,median_ms,", 0) == 0);
  CHECK(lines[1].rfind("quantization.mode=none,host,x86-64-avx512,2,modelc,ok,0.03,", 0) == 0);
  CHECK(lines[1].find(",120000,2680000,8192,") != std::string::npos);
  CHECK(lines[2].rfind("quantization.mode=none,host,x86-64-avx512,2,onnxruntime,ok,0.048,", 0) == 0);
  CHECK(lines[2].find(",1.6,") != std::string::npos);  // speed-up, shortest exact form
  CHECK(lines[3].rfind("quantization.mode=none,host,x86-64-avx512,2,reference,unavailable,,,", 0) == 0);
  CHECK(lines[4].find(",inf,0,reference,") != std::string::npos);
}

TEST_CASE("render_csv quotes fields with commas and quotes") {
  Results results = sample_results();
  results.results[1].note = "needs \"qemu\", or a Pi";
  const std::vector<std::string> lines = lines_of(render_csv(results));
  CHECK(lines.back().size() > 0);
  CHECK(lines.back().find(",\"needs \"\"qemu\"\", or a Pi\"") != std::string::npos);
  const size_t columns = csv_columns().size();
  // Unquoted rows have exactly columns - 1 separators.
  CHECK(static_cast<size_t>(std::count(lines[1].begin(), lines[1].end(), ',')) == columns - 1);
}
