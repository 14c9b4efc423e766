// Runners: the quickstart MLP compiled for each device that runs here other
// than natively (qemu-user, node, PoCL) runs through its runner and matches
// the reference interpreter (riscv64 on the generic templates, with a
// warning); a runner given a wrong input says so; a CUDA
// runner on a machine without an NVIDIA driver fails with Halide's message
// instead of aborting. Fast (three small kernels per device), so in the
// default suite; the shared models per device are tests/targets/cross_numerics_test.cpp.
#include <doctest/doctest.h>

#include <fstream>

#include "driver/evaluate.h"
#include "driver/foreign_run.h"
#include "driver/pipeline.h"
#include "lang/interpreter.h"
#include "reports/accuracy.h"
#include "support/process.h"
#include "tests/driver/test_util.h"
#include "tests/prerequisites.h"

namespace fs = std::filesystem;
using namespace modelc;

namespace {

std::string mlp_recipe(const std::string& devices) {
  const fs::path mlp = test::source_root() / "examples/quickstart/mlp.onnx";
  return "apiVersion: modelc/v1\nkind: Recipe\nmetadata: {name: mlp, version: 1.0.0}\nmodel:\n  onnx: " + mlp.string() +
         "\n  inputs: [{name: input, shape: [1, 784], dtype: float32}]\ntargets:\n" + devices;
}

bool runs_here(const char* device) { return targets::runs_here(targets::find_device_profile(device)).available; }

}  // namespace

// Tolerance against the reference interpreter: rtol 1e-4, atol 1e-5 (the
// kernels reassociate the dot products' float32 sums).
TEST_CASE("the MLP through the runner of each emulated device matches the reference interpreter" *
          doctest::skip(test::skip_unless(runs_here("arm64") && runs_here("riscv64") && runs_here("wasm") &&
                                          runs_here("opencl")))) {
  test::TempDir tmp;
  const spec::Recipe recipe = spec::load_recipe(tmp.write(
      "recipe.yaml", mlp_recipe("  arm64: {device: arm64}\n  riscv64: {device: riscv64}\n  wasm: {device: wasm}\n"
                                "  opencl: {device: opencl}\n  sse41: {device: x86-64-sse41}\n")));
  driver::CompileOptions options;
  options.out_dir = tmp.path() / "out";
  std::vector<std::string> warnings;
  options.warning = [&warnings](const std::string& w) { warnings.push_back(w); };
  const auto artifacts = driver::compile(recipe, options);
  REQUIRE(artifacts.size() == 5);
  // riscv64 (RV64GC, no vector extension) has no schedules of its own: it
  // compiles with the generic templates and one warning, never an error;
  // the families with schedules (arm, wasm, gpu, x86) say nothing.
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] == "device riscv64: no schedules of its own for the riscv family; its kernels get the generic CPU "
                       "templates at 1 float32 lane(s)");
  const lang::Tensor input = driver::read_npy_tensor(test::source_root() / "examples/quickstart/mlp.input.npy");
  const std::vector<lang::Tensor> want = lang::evaluate_main(driver::import_model(recipe), std::vector<lang::Tensor>{input});
  for (const driver::CompiledArtifact& a : artifacts) {
    CAPTURE(a.target);
    const targets::DeviceProfile& profile = targets::find_device_profile(a.device);
    const nlohmann::json files = a.summary.manifest.at("files");
    CHECK(files.contains("runner"));
    CHECK(files.contains("shared_library") == (a.device != "wasm"));
    const driver::ForeignRun run = driver::run_foreign(profile, a.directory, {input}, targets::RunnerOptions{1, 1, 3, 0});
    REQUIRE(run.outputs.size() == 1);
    CHECK(run.samples_ms.size() >= 3);
    const reports::AccuracyStats s =
        reports::compare_outputs(run.outputs[0].values<float>(), want[0].values<float>(), reports::Tolerance{1e-4, 1e-5});
    CHECK(s.allclose);
  }

  // A wrong input is the runner's error, with its message.
  const fs::path bad = tmp.path() / "bad.npy";
  driver::write_npy_tensor(bad, lang::Tensor(lang::TensorType{{1, 783}, lang::DType::float32}));
  try {
    targets::run_with_runner(targets::find_device_profile("arm64"), artifacts[0].directory, {bad}, tmp.path() / "o", {});
    FAIL("expected an error");
  } catch (const Error& e) {
    const std::string message = e.diagnostics().front().message;
    CHECK(message.find("the runner of arm64 failed (exit code 1)") != std::string::npos);
    CHECK(message.find("dimension 1 of input 'input' must be 784") != std::string::npos);
  }
}

TEST_CASE("a CUDA artifact builds here, and its runner fails cleanly without an NVIDIA driver" *
          doctest::skip(test::skip_unless(runs_here("host")))) {
  test::TempDir tmp;
  const spec::Recipe recipe = spec::load_recipe(tmp.write("recipe.yaml", mlp_recipe("  gpu: {device: cuda-sm80}\n")));
  driver::CompileOptions options;
  options.out_dir = tmp.path() / "out";
  const auto artifacts = driver::compile(recipe, options);
  REQUIRE(artifacts.size() == 1);
  const fs::path dir = artifacts.front().directory;
  CHECK(fs::exists(dir / "runner"));
  CHECK(fs::exists(dir / "libmlp.so"));
  // The kernels are PTX for sm_80 inside the library.
  std::ifstream lib(dir / "libmlp.a", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(lib)), std::istreambuf_iterator<char>());
  CHECK(bytes.find(".target sm_80") != std::string::npos);
  if (targets::runs_here(targets::find_device_profile("cuda-sm80")).available) return;  // a GPU: cross_numerics covers it

  const fs::path input = tmp.path() / "input.npy";
  driver::write_npy_tensor(input, lang::Tensor(lang::TensorType{{1, 784}, lang::DType::float32}));
  const ProcessResult r = run_process({(dir / "runner").string(), "--outputs", tmp.path().string(), input.string()});
  CHECK(r.signal == 0);  // no abort()
  CHECK(r.exit_code == 1);
  CHECK(r.stderr_text.find("runner: the model failed: kernel of step 0 failed with Halide error") != std::string::npos);
  CHECK(r.stderr_text.find("CUDA") != std::string::npos);
}
