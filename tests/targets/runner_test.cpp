// Runners: the quickstart MLP compiled for each device that runs here other
// than natively (qemu-user, node, PoCL) runs through its runner and matches
// the reference interpreter (riscv64 on the generic templates, with a
// warning); a runner given a wrong input says so; a CUDA
// runner on a machine without an NVIDIA driver fails with Halide's message
// instead of aborting. Fast (three small kernels per device), so in the
// default suite; the shared models per device are tests/targets/cross_numerics_test.cpp.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "driver/evaluate.h"
#include "driver/foreign_run.h"
#include "driver/pipeline.h"
#include "lang/interpreter.h"
#include "reports/accuracy.h"
#include "support/file_io.h"
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

// A network with each form of int8 convolution: a strided 7x7 stem (its
// taps packed with the channels), a 3x3, a 1x1 computed inside the
// depthwise one that reads it, grouped with stride 2, depthwise again, a
// 1x1, a dense layer over 16 rows (the quads form over rows) and a
// classifier over one row (640 features: whole steps of the one-row quads
// form); int8 with seeded minmax calibration.
// `rest`: its targets and any more recipe lines.
spec::Recipe int8_forms_recipe(test::TempDir& tmp, const std::string& name, const std::string& rest) {
  const std::string layers = R"(
      - {op: conv2d, name: stem, filters: 16, kernel: 7, stride: 2, padding: 3}
      - {op: relu, name: stem_relu}
      - {op: conv2d, name: conv3, filters: 24, kernel: 3, padding: same}
      - {op: relu, name: conv3_relu}
      - {op: conv2d, name: expand, filters: 48, kernel: 1}
      - {op: relu6, name: expand_relu}
      - {op: conv2d, name: depthwise, filters: 48, kernel: 3, groups: 48, padding: same}
      - {op: relu6, name: depthwise_relu}
      - {op: conv2d, name: grouped, filters: 80, kernel: 3, groups: 2, stride: 2, padding: 1}
      - {op: relu, name: grouped_relu}
      - {op: conv2d, name: depthwise2, filters: 80, kernel: 3, groups: 80, padding: same}
      - {op: conv2d, name: pointwise, filters: 64, kernel: 1}
      - {op: reshape, name: rows, shape: [16, 324]}
      - {op: dense, name: mix, units: 40}
      - {op: relu, name: mix_relu}
      - {op: reshape, name: flat, shape: [1, 640]}
      - {op: dense, name: logits, units: 70}
)";
  return spec::load_recipe(tmp.write(
      "recipe.yaml", "apiVersion: modelc/v1\nkind: Recipe\nmetadata: {name: " + name + ", version: 1.0.0}\nmodel:\n"
                     "  graph:\n    seed: 11\n    inputs: [{name: image, shape: [1, 3, 34, 34], dtype: float32}]\n"
                     "    layers:" + layers + "    outputs: [logits]\n"
                     "quantization:\n  mode: int8\n  activations: {calibration: {method: minmax, samples: 2, random_seed: 3}}\n" +
                     rest + "report: {baselines: [reference]}\n"));
}

// The recipe's artifacts, with each kernel's listing (--emit asm); the
// builder's warnings in `warnings`.
std::vector<driver::CompiledArtifact> compile_with_listings(const spec::Recipe& recipe, test::TempDir& tmp,
                                                            std::vector<std::string>& warnings) {
  driver::CompileOptions options;
  options.out_dir = tmp.path() / "out";
  options.emit = {"asm"};
  options.warning = [&warnings](const std::string& w) { warnings.push_back(w); };
  return driver::compile(recipe, options);
}

// How many lines of an artifact's kernel listings hold each of `ops` ("\tsdot\t").
std::map<std::string, int> count_listed(const driver::CompiledArtifact& artifact, const std::vector<std::string>& ops) {
  std::map<std::string, int> count;
  for (const fs::directory_entry& listing : fs::directory_iterator(artifact.directory / "kernels")) {
    std::istringstream lines(read_text_file(listing.path()));
    for (std::string line; std::getline(lines, line);)
      for (const std::string& op : ops)
        if (line.find(op) != std::string::npos) ++count[op];
  }
  return count;
}

// Each result's outputs equal the integer reference's exactly.
void check_exact(const reports::Results& measured) {
  for (const reports::VariantResult& r : measured.results) {
    CAPTURE(r.variant);
    CAPTURE(r.device);
    CAPTURE(r.note);
    REQUIRE(r.accuracy);
    CHECK(*r.accuracy->allclose);
    CHECK(r.accuracy->max_abs_error == 0);
  }
}

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

// int8 on Arm with the dot-product extension: the quads forms (convolutions
// with few and many input channels, stride 2, depthwise, grouped, a dense
// layer over one row) take sdot on the input moved to int8 and udot in the
// one-row product (lower/ops/qnn_conv2d.h QuadDot), and under qemu the
// outputs equal the integer reference exactly, as the host's do. `--emit asm`
// lists them as instructions (it printed each sdot as four .byte lines).
TEST_CASE("int8 kernels for arm64 with dot products use sdot and udot and equal the integer reference" *
          doctest::skip(test::skip_unless(runs_here("arm64-dotprod")))) {
  test::TempDir tmp;
  const spec::Recipe recipe = int8_forms_recipe(
      tmp, "int8_forms", "targets:\n  arm: {device: arm64-dotprod, threads: 2}\n  host: {device: host, threads: 1}\n");
  std::vector<std::string> warnings;
  const auto artifacts = compile_with_listings(recipe, tmp, warnings);
  REQUIRE(artifacts.size() == 2);
  // No warning that int8 runs without a dot product for arm64-dotprod (the host's depends on its CPU).
  for (const std::string& w : warnings) CHECK(w.find("device arm64-dotprod") == std::string::npos);
  const driver::CompiledArtifact& arm = artifacts[0].device == "arm64-dotprod" ? artifacts[0] : artifacts[1];
  REQUIRE(arm.device == "arm64-dotprod");

  // The dot products in the kernels' listings: sdot in the convolutions' forms, udot in the classifier's.
  std::map<std::string, int> count = count_listed(arm, {"\tsdot\t", "\tudot\t", "\t.byte\t"});
  CHECK(count["\tsdot\t"] >= 20);
  CHECK(count["\tudot\t"] >= 4);
  CHECK(count["\t.byte\t"] == 0);

  const reports::Results measured = driver::measure_artifacts(recipe, artifacts, test::quick_measure(1, 1));
  REQUIRE(measured.results.size() == 2);
  check_exact(measured);
  const reports::VariantResult& emulated = measured.results[0].device == "arm64-dotprod" ? measured.results[0] : measured.results[1];
  CHECK(emulated.status == reports::RunStatus::emulated);
  CHECK(emulated.note == "ran emulated by qemu-aarch64 (correctness only)");
}

// x86 with AVX2 but no VNNI (the x86-64-avx2 profile, also where the host has
// VNNI): weights of 7 bits (quantization.weights.bits: 7) let the quads forms
// of qnn.conv2d and qnn.dense over rows sum each quad as two uint8 x int8 byte pairs (vpmaddubsw, then
// vpmaddwd with ones), which cannot saturate; 8-bit weights keep int16 pairs
// and the warning that says so names the option. Both equal the integer
// reference (ReLU6 and a padded input put inputs at 255 next to weights at
// -64 and 63).
TEST_CASE("int8 with 7-bit weights on AVX2 multiplies byte pairs with vpmaddubsw and equals the integer reference" *
          doctest::skip(test::skip_unless(runs_here("x86-64-avx2")))) {
  test::TempDir tmp;
  const spec::Recipe recipe = int8_forms_recipe(tmp, "byte_pairs",
                                                "targets:\n  avx2: {device: x86-64-avx2, threads: 1}\n"
                                                "variants:\n  quantization.weights.bits: [7, 8]\n");
  std::vector<std::string> warnings;
  const auto artifacts = compile_with_listings(recipe, tmp, warnings);
  REQUIRE(artifacts.size() == 2);
  // One warning, for the 8-bit weights, naming the option.
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("convolutions and dense layers multiply int16 pairs") != std::string::npos);
  CHECK(warnings[0].find("quantization.weights.bits: 7") != std::string::npos);
  for (const driver::CompiledArtifact& a : artifacts) {
    CAPTURE(a.variant);
    std::map<std::string, int> count = count_listed(a, {"\tvpmaddubsw\t", "\tvpdpbusd\t"});
    CHECK(count["\tvpdpbusd\t"] == 0);
    if (a.variant == "7") CHECK(count["\tvpmaddubsw\t"] >= 40);  // every convolution's kernel, the dense layer's
    else CHECK(count["\tvpmaddubsw\t"] == 0);
  }
  const reports::Results measured = driver::measure_artifacts(recipe, artifacts, test::quick_measure(1, 1));
  REQUIRE(measured.results.size() == 2);
  check_exact(measured);
}
