#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "modelc_config.h"
#include "reports/accuracy.h"
#include "reports/onnxruntime_baseline.h"
#include "reports/onnxruntime_session.h"
#include "support/diagnostic.h"
#include "temp_folder.h"
#include "tests/prerequisites.h"

namespace fs = std::filesystem;
using modelc::reports::testing::TempFolder;
using namespace modelc::reports;

namespace {

fs::path shared_models() {
  const char* dir = std::getenv("MODELC_SHARED_MODELS");
  return dir != nullptr ? fs::path(dir) : fs::path(MODELC_SOURCE_ROOT) / ".." / "shared" / "models";
}

// Why the real ONNX Runtime cannot be run here, or "" when it can.
std::string onnxruntime_node_missing() {
  if (!find_node()) return "node is not installed";
  if (!find_onnxruntime_node(modelc_cache_dir())) {
    return "onnxruntime-node is not installed in " + modelc_cache_dir().string() +
           " (scripts/install-onnxruntime.sh)";
  }
  return {};
}

// The same, for tests that also run a shared model.
std::string onnxruntime_missing() {
  if (std::string missing = onnxruntime_node_missing(); !missing.empty()) return missing;
  if (!fs::exists(shared_models() / "mlp_784_512_512_10.onnx")) return "the shared models are not here";
  return {};
}

}  // namespace

TEST_CASE("onnxruntime baseline is 'unavailable' with install instructions when the package is missing") {
  const TempFolder empty_cache;
  OnnxRuntimeBaselineOptions options;
  options.model = "model.onnx";
  options.input = "input.npy";
  options.cache_dir = empty_cache.path();
  const OnnxRuntimeMeasurement measured = run_onnxruntime_baseline(options);
  CHECK(measured.result.name == "onnxruntime");
  CHECK(measured.result.status == RunStatus::unavailable);
  CHECK(measured.result.note.find("install-onnxruntime.sh") != std::string::npos);
  CHECK_FALSE(measured.result.latency);
}

TEST_CASE("onnxruntime baseline measures the MLP and reproduces PyTorch's output" *
          doctest::skip(modelc::test::skip_unless(onnxruntime_missing().empty()))) {
  const std::string missing = onnxruntime_missing();
  REQUIRE_MESSAGE(missing.empty(), missing);
  const TempFolder temp;
  OnnxRuntimeBaselineOptions options;
  options.model = shared_models() / "mlp_784_512_512_10.onnx";
  options.input = shared_models() / "mlp_784_512_512_10.input.npy";
  options.output = temp.path() / "ort_output.npy";
  options.threads = 1;
  options.benchmark = {.warmup = 5, .repeats = 30, .min_seconds = 0};
  const OnnxRuntimeMeasurement measured = run_onnxruntime_baseline(options);
  INFO(measured.result.note);
  REQUIRE(measured.result.status == RunStatus::ok);
  REQUIRE(measured.result.latency);
  CHECK(measured.result.latency->repeats >= 30);
  CHECK(measured.samples_ms.size() == static_cast<size_t>(measured.result.latency->repeats));
  CHECK(measured.result.latency->warmup == 5);
  CHECK(measured.result.latency->median_ms > 0);
  CHECK(measured.result.latency->median_ms < 1000);  // 0.05 ms on the machines seen so far
  REQUIRE(measured.output);
  // models/README.md: ORT 1.30 reproduces every output within 4.5e-6 absolute.
  const AccuracyStats accuracy =
      compare_npy_files(*measured.output, shared_models() / "mlp_784_512_512_10.output.npy", {.rtol = 0, .atol = 1e-5});
  CHECK(accuracy.count == 10);
  CHECK(accuracy.allclose);
}

TEST_CASE("onnxruntime baseline reports a model ORT cannot load as failed, not as an exception" *
          doctest::skip(modelc::test::skip_unless(onnxruntime_missing().empty()))) {
  const std::string missing = onnxruntime_missing();
  REQUIRE_MESSAGE(missing.empty(), missing);
  const TempFolder temp;
  OnnxRuntimeBaselineOptions options;
  options.model = temp.path() / "missing.onnx";
  options.input = shared_models() / "mlp_784_512_512_10.input.npy";
  options.benchmark = {.warmup = 0, .repeats = 1, .min_seconds = 0};
  const OnnxRuntimeMeasurement measured = run_onnxruntime_baseline(options);
  CHECK(measured.result.status == RunStatus::failed);
  CHECK(measured.result.note.find("missing.onnx") != std::string::npos);
}

TEST_CASE("an ONNX Runtime session is unavailable, with install instructions, when the package is missing") {
  const TempFolder empty_cache;
  OnnxRuntimeSessionOptions options;
  options.one_op = true;
  options.cache_dir = empty_cache.path();
  OnnxRuntimeSession session = OnnxRuntimeSession::start(options);
  CHECK_FALSE(session.ready());
  CHECK(session.status() == RunStatus::unavailable);
  CHECK(session.note().find("install-onnxruntime.sh") != std::string::npos);
  CHECK_THROWS_AS(session.run(1), modelc::Error);
}

// Needs only ONNX Runtime, but is skipped with the shared models too, so that
// the skip count tests/prerequisite_skips.py expects is the same everywhere.
TEST_CASE("an ONNX Runtime session answers run after run, and survives a refused command" *
          doctest::skip(modelc::test::skip_unless(onnxruntime_missing().empty()))) {
  const std::string missing = onnxruntime_missing();
  REQUIRE_MESSAGE(missing.empty(), missing);
  OnnxRuntimeSessionOptions options;
  options.one_op = true;  // the one-op model the call overhead is measured on
  options.threads = 1;
  OnnxRuntimeSession session = OnnxRuntimeSession::start(options);
  INFO(session.note());
  REQUIRE(session.ready());
  CHECK_FALSE(session.version().empty());
  CHECK(session.threads() == 1);
  for (int batch : {3, 5}) {
    const std::vector<double> samples = session.run(batch);
    REQUIRE(samples.size() == static_cast<size_t>(batch));
    for (const double ms : samples) CHECK(ms > 0);
  }
  CHECK_THROWS_WITH_AS(session.run(-1), doctest::Contains("'run' expects a count"), modelc::Error);
  CHECK(session.run(2).size() == 2);  // still serving
  const TempFolder temp;
  session.write_output(temp.path() / "y.npy");
  CHECK(session.output_name() == "y");
  CHECK(fs::file_size(temp.path() / "y.npy") > 4);
}
