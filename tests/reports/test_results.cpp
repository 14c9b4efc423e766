#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "reports/results.h"
#include "support/diagnostic.h"
#include "support/file_io.h"
#include "sample_results.h"
#include "temp_folder.h"

using modelc::reports::testing::sample_results;
using modelc::reports::testing::TempFolder;
using nlohmann::json;
using namespace modelc::reports;

namespace {

std::string error_of(const auto& action) {
  try {
    action();
  } catch (const modelc::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("to_json has the documented shape") {
  const json doc = to_json(sample_results());
  CHECK(doc["schema_version"] == 2);
  CHECK(doc["recipe"]["sha256"] == "ab12");
  CHECK(doc["recipe"]["labels"] == json{{"tier", "edge"}, {"batch", 1}});  // metadata.labels, as the recipe says
  CHECK(doc["environment"]["cpu"] == "AMD EPYC");
  CHECK(doc["environment"]["cores"] == 2);
  CHECK(doc["environment"]["flags"] == json{"fma", "avx2", "avx512f"});
  CHECK(doc["environment"]["llvm"] == "14.0.6");
  const json& first = doc["results"][0];
  CHECK(first["variant"] == "quantization.mode=none");
  CHECK(first["status"] == "ok");
  CHECK(first["compile"]["stages"]["lower"] == 0.5);
  CHECK(first["latency_ms"]["median"] == 0.03);
  CHECK(first["latency_ms"]["repeats"] == 100);
  CHECK(first["throughput_per_s"].get<double>() == doctest::Approx(1000.0 / 0.0315));
  CHECK(first["sizes"]["weight_bytes"] == 2680000);
  CHECK(first["accuracy"]["reference"] == "reference");
  CHECK(first["baselines"][0]["name"] == "onnxruntime");
  CHECK(first["baselines"][0]["latency_ms"]["median"] == 0.048);
  CHECK_FALSE(first["baselines"][1].contains("latency_ms"));  // absent, not null: the schema wants objects
  CHECK(doc["environment"]["timestamp"] == "2024-05-01T12:34:56Z");
  const json& second = doc["results"][1];
  CHECK_FALSE(second.contains("latency_ms"));
  CHECK_FALSE(second.contains("throughput_per_s"));
  CHECK(second["accuracy"]["max_abs_error"] == "inf");  // JSON has no infinity
  CHECK(second["sensitivity"]["output"] == "probs");
  CHECK(second["sensitivity"]["layers"][0]["layer"] == "stem");
  CHECK(second["sensitivity"]["layers"][0]["top1"] == 7);
  CHECK_FALSE(second["sensitivity"]["all"].contains("layer"));
  CHECK_FALSE(first.contains("sensitivity"));
}

TEST_CASE("results survive a round trip through JSON text") {
  const Results original = sample_results();
  const Results back = results_from_json(json::parse(to_json(original).dump()), "results.json");
  CHECK(back.recipe == original.recipe);
  CHECK(back.environment == original.environment);
  REQUIRE(back.results.size() == 2);
  CHECK(back.results[0] == original.results[0]);
  CHECK(std::isinf(back.results[1].accuracy->max_abs_error));
  CHECK(back == original);
}

TEST_CASE("write_results and read_results use the file") {
  const TempFolder temp;
  const auto path = temp.path() / "results.json";
  write_results(path, sample_results());
  CHECK(read_results(path) == sample_results());
}

TEST_CASE("results_from_json names the file and the field that is wrong") {
  json doc = to_json(sample_results());
  doc["results"][0]["baselines"][0]["status"] = "great";
  CHECK(error_of([&] { results_from_json(doc, "a/results.json"); }) ==
        "a/results.json: error: unknown status 'great' (expected ok, compiled, emulated, estimated, failed, skipped or "
        "unavailable) "
        "(at /results/0/baselines/0/status)");

  json no_median = to_json(sample_results());
  no_median["results"][0]["latency_ms"].erase("median");
  CHECK(error_of([&] { results_from_json(no_median, "r.json"); }) ==
        "r.json: error: missing field 'median' (at /results/0/latency_ms)");

  json future = to_json(sample_results());
  future["schema_version"] = 7;
  CHECK(error_of([&] { results_from_json(future, "r.json"); }).find("schema version 7 is not supported") !=
        std::string::npos);
}

TEST_CASE("read_results: bad JSON is an error naming the file") {
  const TempFolder temp;
  const auto path = temp.path() / "results.json";
  modelc::write_file_atomic(path, std::string("not json"));
  CHECK(error_of([&] { read_results(path); }).rfind(path.string() + ": error: not valid JSON", 0) == 0);
}

TEST_CASE("run statuses print and parse") {
  for (const RunStatus status : {RunStatus::ok, RunStatus::compiled, RunStatus::emulated, RunStatus::estimated,
                                 RunStatus::failed, RunStatus::skipped, RunStatus::unavailable}) {
    CHECK(parse_run_status(to_string(status)) == status);
  }
  CHECK_THROWS_AS(parse_run_status("OK"), modelc::Error);
}

TEST_CASE("to_json: raw samples per round, intervals, bounds, the reference row and the comparisons") {
  const json doc = to_json(sample_results());
  const json& latency = doc["results"][0]["latency_ms"];
  CHECK(latency["rounds"] == 5);
  CHECK(latency["runs_per_round"] == 20);
  REQUIRE(latency["samples"].size() == 5);
  CHECK(latency["samples"][0].size() == 20);
  CHECK(latency["median_interval"] == json{0.0294, 0.0306});
  CHECK(latency["early_stopping"]["p90"] == json{{"samples_needed", 64}, {"bound", 0.036}});
  CHECK(latency["early_stopping"]["p99"] == json{{"samples_needed", 662}});  // too few runs: no bound
  CHECK(doc["results"][0]["baselines"][0]["threads"] == 2);
  CHECK(doc["results"][0]["baselines"][0]["call_overhead_ms"]["median"] == 0.012);
  CHECK(doc["environment"]["fp32_peak"]["single_thread_gflops"] == 90.5);
  CHECK(doc["environment"]["core_transfer"] == json{{"bytes", 524288}, {"own_gb_per_s", 210.5}, {"other_gb_per_s", 35.25}});
  CHECK(doc["benchmark"]["rounds"] == 5);
  CHECK(doc["compare_to"] == json{{"variant", "quantization.mode=none"}, {"target", "host"}, {"implementation", "modelc"}});
  REQUIRE(doc["comparisons"].size() == 2);  // ONNX Runtime vs the reference row, modelc vs ONNX Runtime
  CHECK(doc["comparisons"][0]["row"]["implementation"] == "onnxruntime");
  CHECK(doc["comparisons"][0]["speedup"].get<double>() == doctest::Approx(0.625));
  CHECK(doc["comparisons"][0]["paired"] == true);
  CHECK(doc["comparisons"][1]["against"]["implementation"] == "onnxruntime");
  CHECK(doc["comparisons"][1]["within_noise"] == false);
  CHECK_FALSE(doc.contains("machines"));
  CHECK_FALSE(doc["results"][0].contains("machine"));
}

TEST_CASE("results_text keeps each round of samples on one line") {
  const std::string text = results_text(sample_results());
  CHECK(text.find("\"samples\": [[") != std::string::npos);
  // 2 rows with samples x 5 rounds, each a single line: far fewer lines than samples.
  CHECK(std::count(text.begin(), text.end(), '\n') < 400);
  CHECK(results_from_json(json::parse(text), "r.json") == sample_results());
}

TEST_CASE("version 1 results (no rounds, no samples) are still read") {
  json doc = to_json(sample_results());
  doc["schema_version"] = 1;
  doc.erase("comparisons");
  doc.erase("compare_to");
  for (json& r : doc["results"]) {
    if (r.contains("latency_ms")) {
      for (const char* key : {"samples", "rounds", "runs_per_round", "median_interval", "early_stopping"}) r["latency_ms"].erase(key);
    }
  }
  const Results back = results_from_json(doc, "old.json");
  CHECK(back.schema_version == 1);
  CHECK(back.results[0].samples_ms.empty());
  CHECK(back.results[0].latency->rounds == 1);
  CHECK(back.compare_to == RowId{"quantization.mode=none", "host", "modelc", 0});
  CHECK(back.comparisons.empty());
}
