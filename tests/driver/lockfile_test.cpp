// The lockfile round trip: compile writes <recipe>.lock; compiling again with
// --locked from the same lock gives byte-identical artifacts; a changed input
// makes --locked refuse and say what changed.
#include <doctest/doctest.h>

#include "driver/pipeline.h"
#include "spec/lockfile.h"
#include "support/file_io.h"
#include "support/sha256.h"
#include "tests/driver/test_util.h"

namespace fs = std::filesystem;
using namespace modelc;

namespace {

// The MLP example, copied so the test can change its model file.
fs::path copy_mlp_example(const test::TempDir& tmp) {
  const fs::path examples = test::source_root() / "examples/quickstart";
  fs::copy_file(examples / "mlp.onnx", tmp.path() / "mlp.onnx");
  return tmp.write("mlp.yaml", R"(apiVersion: modelc/v1
kind: Recipe
metadata: {name: locked-mlp, version: 1.0.0}
model:
  onnx: mlp.onnx
targets:
  host: {device: host}
)");
}

driver::CompiledArtifact build(const fs::path& recipe_file, const fs::path& out, bool locked) {
  driver::CompileOptions o;
  o.out_dir = out;
  o.locked = locked;
  return driver::compile(spec::load_recipe(recipe_file), o).front();
}

}  // namespace

TEST_CASE("compile writes the lock; --locked rebuilds byte-identical artifacts") {
  test::TempDir tmp;
  const fs::path recipe = copy_mlp_example(tmp);
  const driver::CompiledArtifact first = build(recipe, tmp.path() / "a", false);
  const fs::path lock_file = tmp.path() / "mlp.lock";
  REQUIRE(fs::exists(lock_file));
  const spec::Lock lock = spec::read_lock(lock_file);
  CHECK(lock.recipe_name == "locked-mlp");
  CHECK(lock.toolchain.at("halide").rfind("14", 0) == 0);
  REQUIRE(lock.variants.count("default"));
  const spec::LockedVariant& v = lock.variants.at("default");
  CHECK(v.inputs.at("mlp.onnx") == sha256_file(tmp.path() / "mlp.onnx"));
  CHECK(v.targets.at("host").artifacts.at("liblocked_mlp.a") == sha256_file(first.directory / "liblocked_mlp.a"));

  const driver::CompiledArtifact second = build(recipe, tmp.path() / "b", true);
  for (const char* file : {"liblocked_mlp.a", "liblocked_mlp.so", "model.h", "manifest.json"})
    CHECK(read_binary_file(first.directory / file) == read_binary_file(second.directory / file));
  // --locked does not rewrite the lock.
  CHECK(spec::read_lock(lock_file) == lock);
}

TEST_CASE("--locked refuses a changed model and names it") {
  test::TempDir tmp;
  const fs::path recipe = copy_mlp_example(tmp);
  build(recipe, tmp.path() / "a", false);
  std::vector<std::byte> bytes = read_binary_file(tmp.path() / "mlp.onnx");
  bytes.back() ^= std::byte{1};  // the last weight's lowest bit
  write_file_atomic(tmp.path() / "mlp.onnx", bytes);
  try {
    build(recipe, tmp.path() / "b", true);
    FAIL("--locked built from a changed model");
  } catch (const Error& e) {
    const std::string text = e.what();
    INFO(text);
    CHECK(text.find("mlp.lock") != std::string::npos);
    CHECK(text.find("input file mlp.onnx") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(tmp.path() / "b"));
}

TEST_CASE("--locked without a lock says how to make one") {
  test::TempDir tmp;
  const fs::path recipe = copy_mlp_example(tmp);
  CHECK_THROWS_WITH_AS(build(recipe, tmp.path() / "a", true), doctest::Contains("no lockfile"), Error);
}
