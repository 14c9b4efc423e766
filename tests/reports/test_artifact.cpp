#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/artifact.h"
#include "support/diagnostic.h"
#include "support/file_io.h"
#include "support/sha256.h"
#include "temp_folder.h"

namespace fs = std::filesystem;
using modelc::reports::testing::TempFolder;
using nlohmann::json;
using namespace modelc::reports;

namespace {

json fake_manifest() {
  return json{
      {"manifest_version", 1},
      {"model", "fake"},
      {"prefix", "fake"},
      {"api_symbol", "fake_api"},
      {"target", {{"name", "host"}, {"device", "host"}, {"halide_target", "host"}, {"triple", "x86_64-linux-gnu"}}},
      {"files", {{"static_library", "libfake.a"}, {"shared_library", "libfake.so"}, {"header", "model.h"}}},
      {"sha256", json::object()},
      {"inputs", {{{"name", "x"}, {"dtype", "float32"}, {"shape", {2, 3}}}}},
      {"outputs", {{{"name", "y"}, {"dtype", "float32"}, {"shape", {2, 3}}}}},
      {"kernels", {{{"name", "fake_kernel0"}, {"hash", "abc"}, {"ops", {"multiply", "add"}}, {"calls", 1}}}},
      {"arena_bytes", 0},
      {"weight_bytes", 0},
      {"code_bytes", 4096},
      {"versions", {{"modelc", "0.1.0"}, {"halide", "14.0.0"}, {"llvm", "14.0.6"}}},
  };
}

// An artifact folder holding `library` as libfake.so and `manifest` (with the
// library's sha256 filled in).
void write_artifact(const fs::path& folder, const fs::path& library, json manifest) {
  fs::copy_file(library, folder / "libfake.so", fs::copy_options::overwrite_existing);
  manifest["sha256"]["libfake.so"] = modelc::sha256_file(folder / "libfake.so");
  modelc::write_file_atomic(folder / "manifest.json", manifest.dump(2));
}

std::string error_of(const auto& action) {
  try {
    action();
  } catch (const modelc::Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::span<const std::byte> bytes_of(const std::vector<float>& v) { return std::as_bytes(std::span(v)); }
std::span<std::byte> bytes_of(std::vector<float>& v) { return std::as_writable_bytes(std::span(v)); }

}  // namespace

TEST_CASE("parse_manifest reads every field") {
  const ArtifactManifest m = parse_manifest(fake_manifest(), "manifest.json");
  CHECK(m.model == "fake");
  CHECK(m.api_symbol == "fake_api");
  CHECK(m.target.triple == "x86_64-linux-gnu");
  CHECK(m.shared_library == "libfake.so");
  REQUIRE(m.inputs.size() == 1);
  CHECK(m.inputs[0].name == "x");
  CHECK(m.inputs[0].shape == std::vector<int64_t>{2, 3});
  REQUIRE(m.kernels.size() == 1);
  CHECK(m.kernels[0].ops == std::vector<std::string>{"multiply", "add"});
  CHECK(m.kernels[0].calls == 1);
  CHECK(m.code_bytes == 4096);
  CHECK(m.halide_version == "14.0.0");
}

TEST_CASE("parse_manifest names the file and the field that is wrong") {
  json missing = fake_manifest();
  missing.erase("api_symbol");
  CHECK(error_of([&] { parse_manifest(missing, "out/host/manifest.json"); }) ==
        "out/host/manifest.json: error: missing field 'api_symbol'");

  json mistyped = fake_manifest();
  mistyped["inputs"][0]["shape"][1] = "three";
  CHECK(error_of([&] { parse_manifest(mistyped, "m.json"); }) ==
        "m.json: error: expected a dimension >= 0, found \"three\" (at /inputs/0/shape/1)");

  json future = fake_manifest();
  future["manifest_version"] = 2;
  const std::string message = error_of([&] { parse_manifest(future, "m.json"); });
  CHECK(message.find("manifest version 2 is not supported") != std::string::npos);
  CHECK(message.find("hint: recompile") != std::string::npos);
}

TEST_CASE("read_manifest: bad JSON and missing files are errors naming the file") {
  const TempFolder temp;
  const fs::path broken = temp.path() / "manifest.json";
  modelc::write_file_atomic(broken, std::string("{\"manifest_version\": 1,"));
  const std::string bad_json = error_of([&] { read_manifest(broken); });
  CHECK(bad_json.rfind(broken.string() + ": error: not valid JSON", 0) == 0);

  const fs::path absent = temp.path() / "nowhere" / "manifest.json";
  const std::string missing = error_of([&] { read_manifest(absent); });
  CHECK(missing.find(absent.string()) != std::string::npos);
  CHECK(missing.find("does not exist") != std::string::npos);
}

TEST_CASE("LoadedArtifact runs a model through the C ABI") {
  const TempFolder temp;
  write_artifact(temp.path(), MODELC_TEST_FAKE_MODEL, fake_manifest());

  const LoadedArtifact artifact = LoadedArtifact::open(temp.path());
  CHECK(artifact.manifest().model == "fake");
  REQUIRE(artifact.inputs().size() == 1);
  CHECK(std::string(artifact.inputs()[0].name) == "x");
  CHECK(artifact.outputs()[0].bytes == 6 * sizeof(float));

  ModelInstance model = artifact.create(1);
  const std::vector<float> x{0, 1, 2, 3, 4, 5};
  std::vector<float> y(6, -1.0f);
  const std::vector<InputTensor> inputs{{"x", bytes_of(x)}};
  const std::vector<OutputTensor> outputs{{"y", bytes_of(y)}};
  model.run(inputs, outputs);
  CHECK(y == std::vector<float>{1, 3, 5, 7, 9, 11});

  SUBCASE("a failed run carries the artifact's message") {
    const std::vector<float> refused{-1000, 0, 0, 0, 0, 0};
    const std::vector<InputTensor> bad{{"x", bytes_of(refused)}};
    CHECK(error_of([&] { model.run(bad, outputs); }) ==
          "error: model 'fake' failed (status 3): kernel fake_kernel0 refused its input");
  }
  SUBCASE("buffers are checked by name and size before the call") {
    const std::vector<InputTensor> wrong_name{{"z", bytes_of(x)}};
    CHECK(error_of([&] { model.run(wrong_name, outputs); }) == "error: the model has no input named 'z'");
    const std::vector<float> short_x{1, 2};
    const std::vector<InputTensor> wrong_size{{"x", bytes_of(short_x)}};
    CHECK(error_of([&] { model.run(wrong_size, outputs); }) ==
          "error: input 'x' needs 24 bytes, the buffer has 8");
    CHECK(error_of([&] { model.run(inputs, {}); }) == "error: no buffer for output 'y'");
  }
  SUBCASE("instances are movable and keep the library loaded") {
    ModelInstance moved = std::move(model);
    moved.run(inputs, outputs);
    CHECK(y[5] == 11);
  }
}

TEST_CASE("an instance outlives the LoadedArtifact it came from") {
  const TempFolder temp;
  write_artifact(temp.path(), MODELC_TEST_FAKE_MODEL, fake_manifest());
  std::optional<ModelInstance> model;
  {
    const LoadedArtifact artifact = LoadedArtifact::open(temp.path());
    model.emplace(artifact.create(0));
  }
  const std::vector<float> x(6, 1.0f);
  std::vector<float> y(6);
  const std::vector<InputTensor> inputs{{"x", bytes_of(x)}};
  const std::vector<OutputTensor> outputs{{"y", bytes_of(y)}};
  model->run(inputs, outputs);
  CHECK(y[0] == 3);
}

TEST_CASE("LoadedArtifact::open refuses inconsistent artifacts, naming the file") {
  const TempFolder temp;
  const fs::path library = temp.path() / "libfake.so";

  SUBCASE("library from a future ABI") {
    write_artifact(temp.path(), MODELC_TEST_FAKE_MODEL_FUTURE_ABI, fake_manifest());
    const std::string message = error_of([&] { LoadedArtifact::open(temp.path()); });
    CHECK(message.find(library.string() + ": error: ABI version 99") == 0);
  }
  SUBCASE("unknown api symbol") {
    json manifest = fake_manifest();
    manifest["api_symbol"] = "other_api";
    write_artifact(temp.path(), MODELC_TEST_FAKE_MODEL, manifest);
    CHECK(error_of([&] { LoadedArtifact::open(temp.path()); }).find("symbol 'other_api' not found") !=
          std::string::npos);
  }
  SUBCASE("tensors that differ from the manifest") {
    json manifest = fake_manifest();
    manifest["inputs"][0]["shape"] = {3, 2};
    write_artifact(temp.path(), MODELC_TEST_FAKE_MODEL, manifest);
    CHECK(error_of([&] { LoadedArtifact::open(temp.path()); }) ==
          library.string() + ": error: input 0 is 'x' float32[2, 3] in the library but 'x' float32[3, 2] in the "
                             "manifest\n  hint: rebuild the artifact; its files are from different compilations");
  }
  SUBCASE("library changed after the manifest was written") {
    write_artifact(temp.path(), MODELC_TEST_FAKE_MODEL, fake_manifest());
    fs::copy_file(MODELC_TEST_FAKE_MODEL_FUTURE_ABI, library, fs::copy_options::overwrite_existing);
    CHECK(error_of([&] { LoadedArtifact::open(temp.path()); }).find("sha256 differs") != std::string::npos);
  }
  SUBCASE("missing shared library") {
    write_artifact(temp.path(), MODELC_TEST_FAKE_MODEL, fake_manifest());
    fs::remove(library);
    CHECK(error_of([&] { LoadedArtifact::open(temp.path()); }) == library.string() + ": error: file does not exist");
  }
  SUBCASE("missing manifest") {
    CHECK(error_of([&] { LoadedArtifact::open(temp.path()); }).find((temp.path() / "manifest.json").string()) == 0);
  }
}
