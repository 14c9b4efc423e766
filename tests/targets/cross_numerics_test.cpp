// The shared models compiled for another device and run here through its
// runner (qemu-user for arm64 and riscv64, node's WASI for wasm, PoCL for
// OpenCL): their outputs must match PyTorch's within the host's tolerance,
// rtol 1e-3 plus atol 1e-4 (the compiled kernels reassociate float32 sums;
// the same bar as tests/driver/end_to_end_test.cpp sets for the host).
//
// Which device and models: MODELC_CROSS_DEVICE (a profile name) and
// MODELC_CROSS_MODELS (comma-separated names under ../shared/models), set by
// tests/targets/meson.build per test. These tests are slow (each compiles
// a model for another ISA and runs it emulated), so they live in the suites
// `cross` (all seven models) and `cross-ci` (one CNN and one transformer),
// which `meson test` runs only with --setup cross.
#include <doctest/doctest.h>

#include <cstdlib>
#include <sstream>

#include "driver/evaluate.h"
#include "driver/foreign_run.h"
#include "driver/pipeline.h"
#include "reports/accuracy.h"
#include "tests/driver/test_util.h"
#include "tests/prerequisites.h"

namespace fs = std::filesystem;
using namespace modelc;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

bool device_runs_here() {
  const std::string device = env("MODELC_CROSS_DEVICE");
  return !device.empty() && targets::runs_here(targets::find_device_profile(device)).available;
}

std::string recipe_for(const fs::path& models, const std::string& model, const std::string& device) {
  return "apiVersion: modelc/v1\nkind: Recipe\nmetadata: {name: " + model + ", version: 1.0.0}\nmodel:\n  onnx: " +
         (models / (model + ".onnx")).string() + "\ntargets:\n  cross: {device: " + device + ", threads: 2}\n";
}

}  // namespace

TEST_CASE("shared models compiled for another device match PyTorch when run here" *
          doctest::skip(test::skip_unless(test::shared_models_folder().has_value() && device_runs_here()))) {
  const fs::path models = test::require_shared_models();
  const std::string device = env("MODELC_CROSS_DEVICE");
  REQUIRE_MESSAGE(!device.empty(), "set MODELC_CROSS_DEVICE to a device profile");
  const targets::DeviceProfile& profile = targets::find_device_profile(device);
  const targets::Availability here = targets::runs_here(profile);
  REQUIRE_MESSAGE(here.available, device << " does not run here: " << here.detail);
  const std::vector<std::string> names = split(env("MODELC_CROSS_MODELS"));
  REQUIRE_MESSAGE(!names.empty(), "set MODELC_CROSS_MODELS to model names");

  for (const std::string& model : names) {
    CAPTURE(model);
    test::TempDir tmp;
    const spec::Recipe recipe = spec::load_recipe(tmp.write("recipe.yaml", recipe_for(models, model, device)));
    driver::CompileOptions options;
    options.out_dir = tmp.path() / "out";
    const std::vector<driver::CompiledArtifact> artifacts = driver::compile(recipe, options);
    REQUIRE(artifacts.size() == 1);
    const lang::Tensor input = driver::read_npy_tensor(models / (model + ".input.npy"));
    const lang::Tensor expected = driver::read_npy_tensor(models / (model + ".output.npy"));
    const driver::ForeignRun run =
        driver::run_foreign(profile, artifacts.front().directory, {input}, targets::RunnerOptions{2, 0, 0, 0});
    REQUIRE(run.outputs.size() == 1);
    REQUIRE(run.outputs[0].type() == expected.type());
    const reports::AccuracyStats s = reports::compare_outputs(run.outputs[0].values<float>(), expected.values<float>(),
                                                              reports::Tolerance{1e-3, 1e-4});
    MESSAGE(model << " on " << device << " (" << here.detail << "): compiled in " << artifacts.front().seconds
                  << " s; vs PyTorch: max abs error " << s.max_abs_error << ", max rel error " << s.max_rel_error << ", "
                  << s.mismatches << " elements outside rtol 1e-3 / atol 1e-4");
    CHECK(s.allclose);
  }
}
