// Bad input through the modelc binary: each mistake gives one clear error
// naming the file (and line, when the mistake is in the recipe), exit code 2,
// and no output folder, half-written or otherwise.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "support/file_io.h"
#include "support/process.h"
#include "tests/driver/test_util.h"

namespace fs = std::filesystem;
using namespace modelc;

namespace {

struct CliRun {
  int exit_code;
  std::string err;
};

CliRun modelc_cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv{test::modelc_binary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  const ProcessResult r = run_process(argv);
  REQUIRE(r.started);
  return {r.exit_code, r.stderr_text};
}

std::string recipe_with(const std::string& model_block, const std::string& targets = "  host: {device: host}\n") {
  return "apiVersion: modelc/v1\nkind: Recipe\nmetadata: {name: broken, version: 1.0.0}\nmodel:\n" + model_block +
         "targets:\n" + targets;
}

// Compiles `recipe` and checks the failure: exit 2, every expected fragment in
// stderr, no crash report, and no output folder.
void expect_compile_failure(const test::TempDir& tmp, const fs::path& recipe, const std::vector<std::string>& fragments) {
  const fs::path out = tmp.path() / "out";
  const CliRun r = modelc_cli({"compile", recipe.string(), "-o", out.string()});
  INFO(r.err);
  CHECK(r.exit_code == 2);
  for (const std::string& f : fragments) CHECK(r.err.find(f) != std::string::npos);
  CHECK(r.err.find("internal error") == std::string::npos);
  CHECK_FALSE(fs::exists(out));
  for (const auto& entry : fs::directory_iterator(tmp.path()))
    CHECK(entry.path().filename().string().find("staging") == std::string::npos);
}

fs::path mlp() { return test::source_root() / "examples/quickstart/mlp.onnx"; }

}  // namespace

TEST_CASE("a typo in a recipe key: file:line:column and a did-you-mean") {
  test::TempDir tmp;
  const fs::path recipe = tmp.write("recipe.yaml", recipe_with("  onnx: " + mlp().string() + "\n", "  host: {devise: host}\n"));
  expect_compile_failure(tmp, recipe, {"recipe.yaml:7:10: error: unknown property 'devise'", "did you mean 'device'?"});
  const CliRun validate = modelc_cli({"validate", recipe.string()});
  CHECK(validate.exit_code == 2);
}

TEST_CASE("a missing model file") {
  test::TempDir tmp;
  const fs::path recipe = tmp.write("recipe.yaml", recipe_with("  onnx: no/such/model.onnx\n"));
  expect_compile_failure(tmp, recipe, {"recipe.yaml:5:", "model.onnx"});
}

TEST_CASE("a truncated ONNX file") {
  test::TempDir tmp;
  const std::vector<std::byte> bytes = read_binary_file(mlp());
  write_file_atomic(tmp.path() / "truncated.onnx", std::span<const std::byte>(bytes.data(), 300));
  const fs::path recipe = tmp.write("recipe.yaml", recipe_with("  onnx: truncated.onnx\n"));
  expect_compile_failure(tmp, recipe, {"truncated.onnx: error:"});
}

TEST_CASE("a file that is not ONNX") {
  test::TempDir tmp;
  tmp.write("model.onnx", "this is not a protobuf\n");
  const fs::path recipe = tmp.write("recipe.yaml", recipe_with("  onnx: model.onnx\n"));
  expect_compile_failure(tmp, recipe, {"model.onnx: error:"});
}

TEST_CASE("an operator modelc does not support") {
  test::TempDir tmp;
  fs::copy_file(test::source_root() / "tests/driver/data/unsupported_op.onnx", tmp.path() / "det.onnx");
  const fs::path recipe = tmp.write("recipe.yaml", recipe_with("  onnx: det.onnx\n"));
  expect_compile_failure(tmp, recipe, {"det.onnx: error: ONNX Det (opset 13) at node 'determinant' is not supported"});
}

TEST_CASE("an input shape that does not match the model") {
  test::TempDir tmp;
  const fs::path recipe =
      tmp.write("recipe.yaml", recipe_with("  onnx: " + mlp().string() + "\n  inputs: [{name: input, shape: [1, 785]}]\n"));
  expect_compile_failure(tmp, recipe, {"recipe.yaml:6:", "input 'input' has shape [1, 784] in the model, the recipe gives [1, 785]"});
}

TEST_CASE("a YAML graph whose shapes do not fit") {
  test::TempDir tmp;
  const fs::path recipe = tmp.write("recipe.yaml", recipe_with(R"(  graph:
    inputs: [{name: x, shape: [1, 3, 8, 8]}]
    layers:
      - {op: conv2d, filters: 4, kernel: 3}
      - {op: dense, name: head, units: 10}
)"));
  expect_compile_failure(tmp, recipe, {"recipe.yaml:9:", "head"});
}

// Within the model limits (4 GiB per tensor by default) but beyond what the
// kernels' 32-bit buffers address: refused at compile time, before anything
// of that size is allocated, since the CPU kernels carry no run-time check.
TEST_CASE("a tensor over 2 GiB: the kernels cannot address it") {
  test::TempDir tmp;
  const fs::path recipe = tmp.write("recipe.yaml", recipe_with(R"(  graph:
    inputs: [{name: image, shape: [1, 600, 1024, 1024]}]
    layers:
      - {op: relu, name: r}
)"));
  expect_compile_failure(tmp, recipe, {"the input 'image' Tensor[(1, 600, 1024, 1024), float32] is 2516582400 bytes",
                                       "at most 2^31 - 1 bytes"});
}

TEST_CASE("an unknown target device") {
  test::TempDir tmp;
  const fs::path recipe = tmp.write("recipe.yaml", recipe_with("  onnx: " + mlp().string() + "\n", "  host: {device: x86-64-avx3}\n"));
  expect_compile_failure(tmp, recipe, {"recipe.yaml:7:", "x86-64-avx3"});
}

TEST_CASE("--version names modelc, Halide and LLVM; --help lists the commands") {
  const ProcessResult v = run_process({test::modelc_binary().string(), "--version"});
  CHECK(v.exit_code == 0);
  CHECK(v.stdout_text.find("modelc ") == 0);
  CHECK(v.stdout_text.find("Halide 14") != std::string::npos);
  CHECK(v.stdout_text.find("LLVM 14") != std::string::npos);
  const ProcessResult h = run_process({test::modelc_binary().string(), "--help"});
  CHECK(h.exit_code == 0);
  for (const char* cmd : {"validate", "plan", "compile", "run", "bench", "report"}) CHECK(h.stdout_text.find(cmd) != std::string::npos);
  const ProcessResult c = run_process({test::modelc_binary().string(), "compile", "--help"});
  CHECK(c.stdout_text.find("--emit") != std::string::npos);
}

TEST_CASE("ops lists the IR operators; ops --onnx the ONNX operators the importer takes") {
  const ProcessResult ir = run_process({test::modelc_binary().string(), "ops"});
  CHECK(ir.exit_code == 0);
  CHECK(ir.stdout_text.find("nn.conv2d") != std::string::npos);
  const ProcessResult onnx = run_process({test::modelc_binary().string(), "ops", "--onnx"});
  CHECK(onnx.exit_code == 0);
  for (const char* op : {"\nConv\n", "\nLSTM\n", "\nLoop\n", "\nSequenceAt\n", "\nai.onnx.preview.training.Gradient\n"})
    CHECK(onnx.stdout_text.find(op) != std::string::npos);
  CHECK(onnx.stdout_text.find("nn.conv2d") == std::string::npos);
}

TEST_CASE("--format json: every recipe command gives tools its errors as JSON on stdout") {
  test::TempDir tmp;
  const fs::path recipe = tmp.write("recipe.yaml", recipe_with("  onnx: " + mlp().string() + "\n", "  host: {devise: host}\n"));
  for (const char* command : {"validate", "plan", "compile", "run", "bench", "report"}) {
    CAPTURE(command);
    const ProcessResult r = run_process({test::modelc_binary().string(), command, recipe.string(), "--format", "json"});
    REQUIRE(r.started);
    CHECK(r.exit_code == 2);
    const nlohmann::json out = nlohmann::json::parse(r.stdout_text);
    CHECK(out["valid"] == false);
    REQUIRE(out["errors"].size() == 1);
    CHECK(out["errors"][0]["line"] == 7);
    CHECK(out["errors"][0]["column"] == 10);
    CHECK(out["errors"][0]["pointer"] == "/targets/host/devise");
    CHECK(out["errors"][0]["hint"] == "did you mean 'device'?");
  }
}

// optimize.disable and optimize.enable take pass names as the registry
// spells them (`modelc passes`): the schema once allowed only lower-case
// names, which no pass has, so no pass could be named at all.
TEST_CASE("optimize.disable: pass names as registered, a did-you-mean for others") {
  test::TempDir tmp;
  const std::string model = "  onnx: " + mlp().string() + "\n";
  const fs::path wrong = tmp.write("recipe.yaml", recipe_with(model) + "optimize: {disable: [winogradconv2d]}\n");
  expect_compile_failure(tmp, wrong, {"recipe.yaml:8:", "unknown pass 'winogradconv2d'", "did you mean 'WinogradConv2D'?"});
  const fs::path required = tmp.write("fuse.yaml", recipe_with(model) + "optimize: {disable: [FuseOps]}\n");
  expect_compile_failure(tmp, required, {"fuse.yaml:8:", "FuseOps cannot be disabled"});
  const fs::path right = tmp.write("right.yaml", recipe_with(model) + "optimize: {disable: [WinogradConv2D, SimplifyExpr]}\n");
  const fs::path out = tmp.path() / "built";
  const CliRun r = modelc_cli({"compile", right.string(), "--emit", "ir", "-o", out.string()});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  REQUIRE(fs::is_directory(out / "ir"));
  int fused = 0, disabled = 0;
  for (const auto& entry : fs::directory_iterator(out / "ir")) {
    const std::string name = entry.path().filename().string();
    fused += name.find("FuseOps") != std::string::npos;
    disabled += name.find("Winograd") != std::string::npos || name.find("SimplifyExpr") != std::string::npos;
  }
  CHECK(fused == 1);
  CHECK(disabled == 0);
}
