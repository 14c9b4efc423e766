// The hostile models (tests/lang/hostile_models.h) through the real CLI, as a
// user meets them: `modelc validate` on a recipe naming each must exit 2 with
// an error naming the model file and what was too big, never crash or report
// an internal error, and never grow past a small fraction of the memory the
// model asked for. $MODELC_BINARY names the modelc under test.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>

#include "support/process.h"
#include "tests/lang/hostile_models.h"
#include "tests/lang/test_util.h"

namespace modelc::lang {
namespace {

using namespace testing;

// Peak memory a refused model may reach: modelc with Halide and LLVM loaded
// is about 100 MiB; every hostile model asks for terabytes or more.
constexpr long kPeakRssLimitKib = 768 * 1024;

std::filesystem::path modelc_binary() {
  const char* env = std::getenv("MODELC_BINARY");
  REQUIRE_MESSAGE(env != nullptr, "MODELC_BINARY is not set (meson test sets it)");
  return env;
}

std::filesystem::path write_recipe(const std::filesystem::path& dir, const HostileModel& model,
                                   const std::filesystem::path& onnx) {
  const std::filesystem::path recipe = dir / (model.name + ".yaml");
  std::ofstream(recipe) << "apiVersion: modelc/v1\nkind: Recipe\nmetadata: {name: hostile, version: 1.0.0}\n"
                        << "model:\n  onnx: " << onnx.filename().string() << "\n"
                        << (model.limits_yaml.empty() ? "" : "  limits: " + model.limits_yaml + "\n")
                        << "targets:\n  host: {device: host}\n";
  return recipe;
}

TEST_CASE("modelc validate refuses every hostile model: exit 2, the file named, bounded memory") {
  TempDir dir;
  for (const HostileModel& model : hostile_models()) {
    CAPTURE(model.name);
    const auto onnx = write_hostile_model(model, dir.path());
    const auto recipe = write_recipe(dir.path(), model, onnx);
    const ProcessResult r = run_process({modelc_binary().string(), "validate", recipe.string()});
    REQUIRE(r.started);
    CAPTURE(r.stderr_text);
    CHECK(r.exit_code == 2);
    CHECK(r.signal == 0);
    CHECK(r.stderr_text.find(onnx.string() + ": error: ") != std::string::npos);
    for (const std::string& fragment : model.expected) CHECK(r.stderr_text.find(fragment) != std::string::npos);
    CHECK(r.stderr_text.find("internal error") == std::string::npos);
    CHECK(r.peak_rss_kib < kPeakRssLimitKib);
  }
}

}  // namespace
}  // namespace modelc::lang
