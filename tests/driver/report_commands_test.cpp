// The report commands through the modelc binary: `diff` gates a deliberately
// slowed variant and passes an unchanged one, `report --merge` joins two
// machines into one comparison, and examples/compare gives the four report
// files with every row measured in the same rounds.
#include <doctest/doctest.h>

#include <cmath>

#include "reports/comparison.h"
#include "reports/onnxruntime_baseline.h"
#include "reports/results.h"
#include "support/file_io.h"
#include "support/process.h"
#include "tests/driver/test_util.h"
#include "tests/prerequisites.h"

namespace fs = std::filesystem;
using namespace modelc;

namespace {

ProcessResult modelc_cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv{test::modelc_binary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessResult r = run_process(argv);
  REQUIRE(r.started);
  return r;
}

// `rounds` rounds of 20 runs around `median` (+-3 %), on the nanosecond grid.
reports::RoundSamples rounds_around(double median, int rounds = 6) {
  reports::RoundSamples samples;
  for (int r = 0; r < rounds; ++r) {
    std::vector<double> round;
    for (int i = 0; i < 20; ++i) {
      const double spread = 0.03 * (static_cast<double>((i * 7 + r * 3) % 20) / 19 * 2 - 1);
      round.push_back(std::round(median * (1 + spread) * 1e6) / 1e6);
    }
    samples.push_back(std::move(round));
  }
  return samples;
}

// A results file of a two-variant recipe measured on `cpu`; variant "2" at `second_ms`.
reports::Results fabricated(double second_ms, const std::string& cpu = "AMD EPYC") {
  reports::Results results;
  results.recipe = {"compare-mlp", "1.0.0", "examples/compare/recipe.yaml", std::string(64, 'c'), {}};
  results.environment.machine.cpu_model = cpu;
  results.environment.machine.logical_cores = 2;
  results.environment.modelc_version = "0.1.0";
  results.benchmark.rounds = 6;
  for (const auto& [variant, ms] : {std::pair<std::string, double>{"1", 1.0}, {"2", second_ms}}) {
    reports::VariantResult r;
    r.variant = variant;
    r.target = "one-thread";
    r.device = "host";
    r.threads = 1;
    r.samples_ms = rounds_around(ms);
    r.latency = reports::summarize_rounds(r.samples_ms, 10);
    results.results.push_back(std::move(r));
  }
  results.compare_to = {"1", "one-thread", "modelc", 0};
  results.comparisons = reports::compare_rows(results);
  return results;
}

}  // namespace

TEST_CASE("modelc diff: a slowed variant fails the gate, an unchanged one passes, a file against itself passes") {
  test::TempDir tmp;
  const fs::path old_file = tmp.path() / "old.json", slowed = tmp.path() / "slowed.json", same = tmp.path() / "same.json";
  reports::write_results(old_file, fabricated(0.8));
  reports::write_results(slowed, fabricated(0.8 * 1.25));
  reports::write_results(same, fabricated(0.8));

  const ProcessResult regressed = modelc_cli({"diff", old_file.string(), slowed.string()});
  INFO(regressed.stdout_text << regressed.stderr_text);
  CHECK(regressed.exit_code == 1);
  CHECK(regressed.stdout_text.find("**1 regression** beyond noise and the 5 % threshold.") != std::string::npos);
  CHECK(regressed.stdout_text.find("| 2 / one-thread / modelc | 0.800 | 1.00 | +25.0 % [") != std::string::npos);

  const ProcessResult unchanged = modelc_cli({"diff", old_file.string(), same.string()});
  CHECK(unchanged.exit_code == 0);
  CHECK(unchanged.stdout_text.find("No regression beyond noise and the 5 % threshold.") != std::string::npos);
  CHECK(modelc_cli({"diff", old_file.string(), old_file.string()}).exit_code == 0);

  // A threshold above the slow-down lets it pass; the JSON form says the same for tools.
  CHECK(modelc_cli({"diff", old_file.string(), slowed.string(), "--threshold", "30"}).exit_code == 0);
  const ProcessResult json = modelc_cli({"diff", old_file.string(), slowed.string(), "--format", "json"});
  CHECK(json.exit_code == 1);
  CHECK(nlohmann::json::parse(json.stdout_text)["regressed"] == true);
}

TEST_CASE("modelc diff: a file that is not results is a user error naming it") {
  test::TempDir tmp;
  const fs::path bad = tmp.write("bad.json", "{\"schema_version\": 2}");
  const ProcessResult r = modelc_cli({"diff", bad.string(), bad.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.stderr_text.find("bad.json") != std::string::npos);
}

TEST_CASE("modelc report --merge: one comparison of two machines, each with its fingerprint") {
  test::TempDir tmp;
  const fs::path a = tmp.path() / "a.json", b = tmp.path() / "b.json";
  reports::write_results(a, fabricated(0.8));
  reports::write_results(b, fabricated(0.5, "Ampere Altra"));
  const fs::path out = tmp.path() / "merged";
  const ProcessResult r = modelc_cli({"report", "--merge", a.string(), b.string(), "-o", out.string()});
  INFO(r.stdout_text << r.stderr_text);
  REQUIRE(r.exit_code == 0);
  for (const char* file : {"report.md", "report.html", "results.json", "results.csv"}) CHECK(fs::exists(out / file));
  const reports::Results merged = reports::read_results(out / "results.json");
  REQUIRE(merged.machines.size() == 2);
  CHECK(merged.machines[1].environment.machine.cpu_model == "Ampere Altra");
  CHECK(merged.results.size() == 4);
  const std::string md = read_text_file(out / "report.md");
  CHECK(md.find("| 2 | one-thread @ m2 | **modelc** |") != std::string::npos);
  CHECK(md.find("### m2 (`" + b.string() + "`)") != std::string::npos);

  reports::Results other = fabricated(0.5);
  other.recipe.sha256 = std::string(64, 'd');
  reports::write_results(b, other);
  const ProcessResult refused = modelc_cli({"report", "--merge", a.string(), b.string(), "-o", out.string()});
  CHECK(refused.exit_code == 2);
  CHECK(refused.stderr_text.find("measured from another recipe") != std::string::npos);
}

TEST_CASE("examples/compare: two variants x two targets in one set of rounds, four report files") {
  test::TempDir tmp;
  const fs::path out = tmp.path() / "compare";
  const ProcessResult r = modelc_cli({"report", (test::source_root() / "examples/compare/recipe.yaml").string(), "-o",
                                      out.string(), "--rounds", "3", "--repeats", "30", "--warmup", "2"});
  INFO(r.stdout_text << r.stderr_text);
  REQUIRE(r.exit_code == 0);
  CHECK(r.stdout_text.find((out / "report.html").string()) != std::string::npos);
  for (const char* file : {"report.md", "report.html", "results.json", "results.csv"}) CHECK(fs::exists(out / file));
  const reports::Results results = reports::read_results(out / "results.json");
  REQUIRE(results.results.size() == 4);
  CHECK(results.compare_to == reports::RowId{"2", "one-thread", "modelc", 0});
  for (const reports::VariantResult& v : results.results) {
    CAPTURE(v.variant + " / " + v.target);
    CHECK(v.status == reports::RunStatus::ok);
    REQUIRE(v.latency);
    CHECK(v.latency->rounds == 3);
    CHECK(v.samples_ms.size() == 3);
    CHECK(v.threads == (v.target == "one-thread" ? 1 : 2));
    REQUIRE(v.baselines.size() == 2);
    CHECK(v.baselines[0].name == "reference");
    CHECK(v.baselines[1].name == "onnxruntime");
  }
  // Every modelc row but the reference row is compared with it, in paired rounds.
  for (const char* variant : {"1", "2"}) {
    for (const char* target : {"one-thread", "two-threads"}) {
      const reports::RowId row{variant, target, "modelc", 0};
      if (row == results.compare_to) continue;
      const reports::Comparison* c = reports::find_comparison(results, row, results.compare_to);
      REQUIRE(c);
      CHECK(c->speedup.paired);
      CHECK(c->speedup.interval);
    }
  }
  REQUIRE(results.environment.fp32_peak);
  CHECK(results.environment.fp32_peak->single_thread_gflops > 0);
  // Measured beside it where this process may run on two cores (reports/core_transfer.h).
  if (results.environment.machine.available_cores >= 2) {
    REQUIRE(results.environment.core_transfer);
    CHECK(results.environment.core_transfer->other_gb_per_s > 0);
  }
}

namespace {

// The quickstart MLP with variants none and int8 and ONNX Runtime as a baseline.
fs::path mlp8_recipe(const test::TempDir& tmp) {
  const fs::path examples = test::source_root() / "examples/quickstart";
  return tmp.write("mlp8.yaml",
                   "apiVersion: modelc/v1\nkind: Recipe\nmetadata: {name: mlp8, version: 1.0.0}\n"
                   "model:\n  onnx: " + (examples / "mlp.onnx").string() + "\n"
                   "quantization:\n  mode: none\n  activations:\n    calibration: {method: minmax, samples: 2, random_seed: 3}\n"
                   "targets:\n  host: {device: host}\nvariants:\n  quantization.mode: [none, int8]\n"
                   "report:\n  baselines: [onnxruntime]\n  input: " + (examples / "mlp.input.npy").string() + "\n");
}

bool onnxruntime_node_here() { return reports::find_node() && reports::find_onnxruntime_node(reports::modelc_cache_dir()); }

}  // namespace

// `modelc qdq` writes an int8 variant's model in QDQ form (what ONNX Runtime
// runs beside it) and refuses a variant that is not int8.
TEST_CASE("modelc qdq writes the QDQ form of an int8 variant's model") {
  test::TempDir tmp;
  const fs::path recipe = mlp8_recipe(tmp);
  const fs::path qdq = tmp.path() / "mlp8.qdq.onnx";
  const ProcessResult written = modelc_cli({"qdq", recipe.string(), "-o", qdq.string()});
  INFO(written.stdout_text << written.stderr_text);
  REQUIRE(written.exit_code == 0);
  CHECK(written.stdout_text.find("3 layers with int8 weights, 0 left in float") != std::string::npos);
  CHECK(fs::file_size(qdq) < fs::file_size(test::source_root() / "examples/quickstart/mlp.onnx") / 2);  // int8 weights
  const ProcessResult not_int8 = modelc_cli({"qdq", recipe.string(), "--variant", "none", "-o", (tmp.path() / "x.onnx").string()});
  CHECK(not_int8.exit_code != 0);
  CHECK(not_int8.stderr_text.find("variant 'none' is not int8") != std::string::npos);
  CHECK_FALSE(fs::exists(tmp.path() / "x.onnx"));
}

// ONNX Runtime beside an int8 variant runs the QDQ form of the model (its
// own int8 kernels, at the variant's ranges), beside the float variant the
// float32 model.
TEST_CASE("int8 variants are compared with ONNX Runtime on the QDQ form of the model" *
          doctest::skip(test::skip_unless(onnxruntime_node_here()))) {
  test::TempDir tmp;
  const fs::path recipe = mlp8_recipe(tmp);
  const fs::path out = tmp.path() / "report";
  const ProcessResult r = modelc_cli({"report", recipe.string(), "-o", out.string(), "--rounds", "2", "--repeats", "4", "--warmup", "1", "--no-reference"});
  INFO(r.stdout_text << r.stderr_text);
  REQUIRE(r.exit_code == 0);
  const reports::Results results = reports::read_results(out / "results.json");
  REQUIRE(results.results.size() == 2);
  for (const reports::VariantResult& v : results.results) {
    CAPTURE(v.variant);
    const auto ort_row = std::find_if(v.baselines.begin(), v.baselines.end(), [](const auto& b) { return b.name == "onnxruntime"; });
    REQUIRE(ort_row != v.baselines.end());
    const reports::BaselineResult& ort = *ort_row;
    CAPTURE(ort.note);
    REQUIRE(ort.status == reports::RunStatus::ok);
    if (v.variant == "int8") {
      CHECK(ort.note.find("on its int8 QDQ form of the model (3 layers with int8 weights") != std::string::npos);
      // ONNX Runtime's integer kernels against the int8 reference: close, not bit-exact
      REQUIRE(ort.accuracy);
      CHECK(ort.accuracy->max_abs_error < 0.05);
    } else {
      CHECK(ort.note.find("on the float32 model") != std::string::npos);
    }
  }
}

TEST_CASE("progress: a status line on a terminal; nothing in logs or with --format json") {
  const std::string recipe = (test::source_root() / "examples/quickstart/cnn.yaml").string();
  test::TempDir tmp;
  const std::vector<std::string> quick{"--rounds", "2", "--repeats", "2", "--warmup", "0", "-o", (tmp.path() / "out").string()};
  auto bench = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{"bench", recipe};
    args.insert(args.end(), quick.begin(), quick.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };

  // stderr to a pipe, as in a log: no status lines.
  const ProcessResult logged = modelc_cli(bench({}));
  INFO(logged.stderr_text);
  REQUIRE(logged.exit_code == 0);
  CHECK(logged.stderr_text.find("measuring in rounds") == std::string::npos);
  CHECK(logged.stdout_text.find("default / host / modelc") != std::string::npos);

  // On a terminal (script(1) gives the command a pseudo-terminal): the status line, rewritten in place.
  const auto script = find_executable("script");
  REQUIRE_MESSAGE(script, "script(1) (Debian bsdutils) is needed to give modelc a terminal");
  auto on_terminal = [&](const std::vector<std::string>& args) {
    std::string command = test::modelc_binary().string();
    for (const std::string& a : args) command += " '" + a + "'";
    return run_process({script->string(), "-qec", command, "/dev/null"});
  };
  const ProcessResult live = on_terminal(bench({}));
  INFO(live.stdout_text);
  CHECK(live.exit_code == 0);
  CHECK(live.stdout_text.find("measuring in rounds: 2/2") != std::string::npos);
  CHECK(live.stdout_text.find("\r\033[2K") != std::string::npos);

  // --format json is for tools, even on a terminal: results.json only.
  const ProcessResult json = on_terminal(bench({"--format", "json"}));
  CHECK(json.exit_code == 0);
  CHECK(json.stdout_text.find("measuring in rounds") == std::string::npos);
  CHECK(json.stdout_text.find("\"schema_version\": 2") != std::string::npos);
}
