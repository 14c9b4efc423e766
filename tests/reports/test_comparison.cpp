// Rows and speed-ups (reports/comparison.h), merging results of several
// machines (reports/merge.h) and the regression gate (reports/diff.h).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "reports/comparison.h"
#include "reports/diff.h"
#include "reports/merge.h"
#include "sample_results.h"
#include "support/diagnostic.h"

using namespace modelc::reports;
using modelc::reports::testing::rounds_around;
using modelc::reports::testing::sample_results;

namespace {

// Two variants on one target, each with ONNX Runtime beside it: 1-host at 1 ms, 2-host at `second_ms`.
Results two_variants(double second_ms, double drift = 0) {
  Results results = sample_results();
  results.results.pop_back();
  VariantResult second = results.results[0];
  second.variant = "2-host";
  results.results[0].variant = "1-host";
  results.results[0].samples_ms = rounds_around(1.0, 6, 20, drift);
  results.results[0].latency = summarize_rounds(results.results[0].samples_ms, 10);
  second.samples_ms = rounds_around(second_ms, 6, 20, drift);
  second.latency = summarize_rounds(second.samples_ms, 10);
  for (VariantResult* r : {&results.results[0], &second}) {
    r->baselines[0].samples_ms = rounds_around(1.5, 6, 20, drift);
    r->baselines[0].latency = summarize_rounds(r->baselines[0].samples_ms, 10);
  }
  results.results.push_back(second);
  results.compare_to = {"1-host", "host", "modelc", 0};
  results.comparisons = compare_rows(results);
  return results;
}

}  // namespace

TEST_CASE("report_rows: modelc first, then its baselines, per variant x target") {
  const Results results = sample_results();
  const std::vector<ReportRow> rows = report_rows(results);
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].id == RowId{"quantization.mode=none", "host", "modelc", 0});
  CHECK(rows[0].is_modelc());
  CHECK(rows[0].measured());
  CHECK(rows[1].id.implementation == "onnxruntime");
  CHECK(rows[1].threads == 2);
  CHECK(rows[2].id.implementation == "reference");
  CHECK_FALSE(rows[2].measured());
  CHECK(rows[3].status == RunStatus::compiled);
  CHECK_FALSE(rows[3].measured());
}

TEST_CASE("compare_rows: every measured row against the reference row, modelc against its baselines") {
  const Results results = two_variants(0.8);
  const RowId reference{"1-host", "host", "modelc", 0};
  const Comparison* second = find_comparison(results, {"2-host", "host", "modelc", 0}, reference);
  REQUIRE(second);
  CHECK(second->speedup.value == doctest::Approx(1.25));
  CHECK(second->speedup.paired);
  const Comparison* ort = find_comparison(results, {"1-host", "host", "onnxruntime", 0}, reference);
  REQUIRE(ort);
  CHECK(ort->speedup.value == doctest::Approx(1 / 1.5));
  const Comparison* over = find_comparison(results, {"2-host", "host", "modelc", 0}, {"2-host", "host", "onnxruntime", 0});
  REQUIRE(over);
  CHECK(over->speedup.value == doctest::Approx(1.5 / 0.8));
  CHECK_FALSE(find_comparison(results, reference, reference));
}

TEST_CASE("compare_rows: rows that were only compiled or emulated never get ratios") {
  Results results = two_variants(0.8);
  results.results[1].status = RunStatus::emulated;  // timings from an emulator mean nothing
  results.comparisons = compare_rows(results);
  CHECK_FALSE(find_comparison(results, {"2-host", "host", "modelc", 0}, results.compare_to));
  CHECK(find_comparison(results, {"2-host", "host", "onnxruntime", 0}, results.compare_to));
}

TEST_CASE("resolve_compare_to: the first variant on its first target unless the recipe says") {
  const Results results = two_variants(0.8);
  CHECK(resolve_compare_to(results, {}) == RowId{"1-host", "host", "modelc", 0});
  CHECK(resolve_compare_to(results, {"2-host", "", "onnxruntime"}) == RowId{"2-host", "host", "onnxruntime", 0});
}

TEST_CASE("merge_results: one table, each row keeps its machine, each machine its fingerprint") {
  Results a = two_variants(0.8);
  a.recipe.sha256 = "same";
  Results b = two_variants(0.5);
  b.recipe.sha256 = "same";
  b.environment.machine.cpu_model = "Ampere Altra";
  const Results merged = merge_results({{"a/results.json", a}, {"b/results.json", b}});
  REQUIRE(merged.machines.size() == 2);
  CHECK(merged.machines[1].file == "b/results.json");
  CHECK(merged.machines[1].environment.machine.cpu_model == "Ampere Altra");
  REQUIRE(merged.results.size() == 4);
  CHECK(merged.results[0].machine == 0);
  CHECK(merged.results[3].machine == 1);
  CHECK(merged.compare_to == RowId{"1-host", "host", "modelc", 0});
  // Across machines: compared, but unpaired (the runs did not share rounds).
  const Comparison* other = find_comparison(merged, {"2-host", "host", "modelc", 1}, merged.compare_to);
  REQUIRE(other);
  CHECK(other->speedup.value == doctest::Approx(2.0));
  CHECK_FALSE(other->speedup.paired);
  CHECK(find_comparison(merged, {"2-host", "host", "modelc", 0}, merged.compare_to)->speedup.paired);
}

TEST_CASE("merge_results refuses results of another recipe, naming the file") {
  Results a = sample_results();
  Results b = sample_results();
  b.recipe.sha256 = "cd34";
  try {
    merge_results({{"a.json", a}, {"b.json", b}});
    FAIL("merged results of two recipes");
  } catch (const modelc::Error& e) {
    CHECK(std::string(e.what()).rfind("b.json: error: measured from another recipe than a.json", 0) == 0);
  }
  CHECK_THROWS_AS(merge_results({}), modelc::Error);
}

TEST_CASE("diff: a results file against itself has no regression") {
  const Results results = two_variants(0.8, 0.01);
  const ResultsDiff diff = diff_results(results, results);
  CHECK_FALSE(diff.regressed());
  for (const RowChange& c : diff.rows) {
    CAPTURE(to_string(c.row));
    if (!c.ratio) continue;
    CHECK(c.ratio->value == 1.0);
    CHECK(c.verdict == RowChange::Verdict::unchanged);
  }
}

TEST_CASE("diff: a deliberately slowed variant regresses; an unchanged one does not") {
  const Results before = two_variants(0.8, 0.01);
  const Results after = two_variants(0.8 * 1.2, 0.01);  // 2-host 20 % slower, the rest unchanged
  const ResultsDiff diff = diff_results(before, after);
  CHECK(diff.regressed());
  for (const RowChange& c : diff.rows) {
    CAPTURE(to_string(c.row));
    if (c.row.variant == "2-host" && c.row.implementation == "modelc") {
      CHECK(c.verdict == RowChange::Verdict::slower);
      CHECK(c.regressed());
      REQUIRE(c.ratio);
      CHECK(c.ratio->value == doctest::Approx(1.2));
      REQUIRE(c.ratio->interval);
      CHECK(c.ratio->interval->low > 1);
    } else {
      CHECK_FALSE(c.regressed());
    }
  }
  const std::string md = render_diff_markdown(diff, "old.json", "new.json");
  INFO(md);
  CHECK(md.find("**1 regression** beyond noise and the 5 % threshold.") != std::string::npos);
  CHECK(md.find("| 2-host / host / modelc | 0.820 | 0.984 | +20.0 % [+17.7, +22.2] | **regression** |") != std::string::npos);
  // Faster is fine, and a slow-down under the threshold is not a regression.
  CHECK_FALSE(diff_results(after, before).regressed());
  CHECK_FALSE(diff_results(two_variants(0.8), two_variants(0.8 * 1.03)).regressed());
  CHECK(diff_results(two_variants(0.8), two_variants(0.8 * 1.03), 0.02).regressed());
}

TEST_CASE("diff: baselines do not gate; a modelc row that now fails does") {
  const Results before = two_variants(0.8);
  Results slower_baseline = before;
  for (VariantResult& r : slower_baseline.results) {
    r.baselines[0].samples_ms = rounds_around(3.0, 6, 20);
    r.baselines[0].latency = summarize_rounds(r.baselines[0].samples_ms, 10);
  }
  const ResultsDiff baseline_diff = diff_results(before, slower_baseline);
  CHECK_FALSE(baseline_diff.regressed());
  CHECK(std::any_of(baseline_diff.rows.begin(), baseline_diff.rows.end(),
                    [](const RowChange& c) { return c.verdict == RowChange::Verdict::slower && !c.gates; }));

  Results failing = before;
  failing.results[1].status = RunStatus::failed;
  failing.results[1].latency.reset();
  failing.results[1].samples_ms.clear();
  failing.results[1].note = "outputs differ from the reference interpreter";
  const ResultsDiff diff = diff_results(before, failing);
  CHECK(diff.regressed());
  CHECK(render_diff_markdown(diff, "a", "b").find("regression: now fails") != std::string::npos);
}

TEST_CASE("merge_results of one file renders it again, without machine labels") {
  const Results one = two_variants(0.8);
  const Results back = merge_results({{"a.json", one}});
  CHECK(back.machines.empty());
  CHECK(back == one);
}
