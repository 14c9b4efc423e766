// model.limits: the defaults a recipe gets without writing them (the schema's
// and spec::ModelLimits' agree), and values written in the recipe reach the
// typed Recipe.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "spec/builtin_schemas.h"
#include "spec/recipe.h"

namespace fs = std::filesystem;
using namespace modelc::spec;

namespace {

fs::path write_recipe(const fs::path& dir, const std::string& model_extra) {
  fs::create_directories(dir);
  std::ofstream(dir / "tiny.onnx") << "";
  std::ofstream(dir / "recipe.yaml") << "apiVersion: modelc/v1\nkind: Recipe\nmetadata: {name: tiny, version: 1.0.0}\n"
                                     << "model:\n  onnx: tiny.onnx\n" << model_extra;
  return dir / "recipe.yaml";
}

}  // namespace

TEST_CASE("model.limits defaults: the schema's equal spec::ModelLimits'") {
  const nlohmann::json& limits = builtin_schema("recipe")["properties"]["model"]["properties"]["limits"]["properties"];
  const ModelLimits defaults;
  CHECK(limits["max_tensor_elements"]["default"].get<int64_t>() == defaults.max_tensor_elements);
  CHECK(limits["max_model_bytes"]["default"].get<int64_t>() == defaults.max_model_bytes);
  CHECK(limits["max_graph_nodes"]["default"].get<int64_t>() == defaults.max_graph_nodes);
  CHECK(limits.size() == 3);  // a new limit needs a default here and in ModelLimits

  const fs::path dir = fs::temp_directory_path() / ("modelc-limits-test-" + std::to_string(std::rand()));
  const Recipe r = load_recipe(write_recipe(dir, ""));
  CHECK(r.model.limits == defaults);
  CHECK(r.resolved["model"]["limits"]["max_model_bytes"] == defaults.max_model_bytes);
  fs::remove_all(dir);
}

TEST_CASE("model.limits written in the recipe reach the typed recipe") {
  const fs::path dir = fs::temp_directory_path() / ("modelc-limits-test-" + std::to_string(std::rand()));
  const Recipe r = load_recipe(write_recipe(dir, "  limits: {max_tensor_elements: 1000, max_model_bytes: 4096, max_graph_nodes: 50}\n"));
  CHECK(r.model.limits.max_tensor_elements == 1000);
  CHECK(r.model.limits.max_model_bytes == 4096);
  CHECK(r.model.limits.max_graph_nodes == 50);
  fs::remove_all(dir);
}
