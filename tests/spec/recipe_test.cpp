// load_recipe on recipes that are right: defaults, extends, paths, order.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include "spec/builtin_schemas.h"
#include "spec/recipe.h"

namespace fs = std::filesystem;
using modelc::spec::load_recipe;

namespace {

fs::path recipes_dir() {
  const char* root = std::getenv("MODELC_SOURCE_ROOT");
  return fs::path(root ? root : MODELC_SOURCE_ROOT_FALLBACK) / "tests" / "spec" / "recipes";
}

std::vector<std::string> target_names(const modelc::spec::Recipe& r) {
  std::vector<std::string> out;
  for (const auto& t : r.targets) out.push_back(t.name + "=" + t.device + "/" + std::to_string(t.threads));
  return out;
}

}  // namespace

TEST_CASE("extends merges maps, replaces lists, deletes nulls, keeps marks") {
  const fs::path dir = recipes_dir();
  const auto r = load_recipe(dir / "edge.yaml");
  CHECK(r.name == "resnet-edge");
  CHECK(r.version == "1.2.0-rc.1");
  CHECK(r.description == "An edge build");
  CHECK(r.file == (dir / "edge.yaml").lexically_normal());
  CHECK_FALSE(r.resolved.contains("extends"));

  // Inherited from the base, with the path relative to the base file.
  REQUIRE(r.model.onnx.has_value());
  CHECK(*r.model.onnx == (dir / "models" / "tiny.onnx").lexically_normal());
  REQUIRE(r.model.inputs.size() == 1);
  CHECK(r.model.inputs[0].name == "input");
  CHECK(r.model.inputs[0].shape == std::vector<int64_t>{1, 3, 8, 8});
  CHECK(r.model.inputs[0].dtype == "float32");
  CHECK(r.locate("/model/onnx").file == (dir / "base/cnn-defaults.yaml").lexically_normal().string());
  CHECK(r.locate("/model/onnx").line == 9);
  CHECK(r.resolve_path("/report/input") == dir / "base" / "calib" / "sample0.npy");
  CHECK(r.report.input == dir / "base" / "calib" / "sample0.npy");

  // Maps merge key by key; lists replace; null deletes.
  CHECK(r.layout.activations == "NHWC");
  CHECK(r.layout.weights == "auto");
  CHECK(r.optimize.enable == std::vector<std::string>{"head"});
  CHECK(r.optimize.level == 3);
  CHECK(r.optimize.disable.empty());  // deleted by null, then the schema default []
  CHECK(r.locate("/optimize/enable").file == (dir / "edge.yaml").lexically_normal().string());

  // Targets: inherited ones first in the base's order, overrides merged, new ones after.
  CHECK(target_names(r) == std::vector<std::string>{"host=host/0", "avx2=x86-64-avx2/2", "pi5=arm64-dotprod/4"});
  CHECK(r.report.baselines == std::vector<std::string>{"reference", "onnxruntime"});
  CHECK(r.report.formats == std::vector<std::string>{"md", "csv"});
  CHECK(r.report.benchmark.repeats == 20);
  CHECK(r.report.benchmark.warmup == 10);
}

TEST_CASE("schema defaults appear in the typed recipe and the resolved JSON") {
  const auto r = load_recipe(recipes_dir() / "graph.yaml");
  CHECK(r.quantization.mode == "none");
  CHECK(r.layout.activations == "auto");
  CHECK(r.layout.weights == "auto");
  CHECK(r.optimize.level == 2);
  CHECK(r.optimize.schedule == "template");
  CHECK_FALSE(r.optimize.tuning_log.has_value());
  CHECK(r.report.baselines == std::vector<std::string>{"reference"});
  CHECK(r.report.formats == std::vector<std::string>{"md", "json"});
  CHECK(r.report.benchmark.min_seconds == 0.5);
  CHECK(r.resolved["quantization"]["weights"]["granularity"] == "per-channel");

  // The graph: its inputs become the model inputs; op defaults are filled.
  REQUIRE(r.model.graph.has_value());
  CHECK(r.model.graph_pointer == "/model/graph");
  REQUIRE(r.model.inputs.size() == 1);
  CHECK(r.model.inputs[0].pointer == "/model/graph/inputs/0");
  const auto& layers = (*r.model.graph)["layers"];
  CHECK(layers[0]["stride"] == 1);
  CHECK(layers[0]["bias"] == true);
  CHECK(layers[0]["weights"] == nlohmann::json{{"init", "he_normal"}});
  CHECK(layers[1]["epsilon"] == 1e-5);
  CHECK_FALSE(layers[2].contains("stride"));
  CHECK(layers[4]["weights"]["std"] == 0.1);
  CHECK(r.resolve_path("/model/graph/layers/8/weights/file") == recipes_dir() / "weights" / "logits.npy");
  CHECK(r.locate("/model/graph/layers/4/stride").line == 13);
}

TEST_CASE("a recipe without targets compiles for this machine") {
  const auto r = load_recipe(recipes_dir() / "base" / "cnn-defaults.yaml");
  CHECK(target_names(r) == std::vector<std::string>{"host=host/0", "avx2=x86-64-avx2/4"});
  const auto known = modelc::spec::known_device_profiles();
  CHECK(std::find(known.begin(), known.end(), "hexagon-hvx") != known.end());
}

TEST_CASE("device profiles validate against the target schema with marks") {
  auto doc = modelc::spec::parse_yaml(
      "name: arm64\nhalide_target: arm-64-linux\nllvm_triple: aarch64-unknown-linux-gnu\nrun: qemu-user\n", "arm64.yaml");
  try {
    modelc::spec::validate_document("target", doc);
    FAIL("expected an error");
  } catch (const modelc::Error& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].format().rfind("arm64.yaml:1:1: error: missing required property 'qemu'", 0) == 0);
  }
  auto good = modelc::spec::parse_yaml(
      "name: x86-64-avx2\nhalide_target: x86-64-linux-avx2-fma\nllvm_triple: x86_64-pc-linux-gnu\nrun: native\n", "p.yaml");
  modelc::spec::validate_document("target", good);
  CHECK(good.value["cores"] == 0);
}
