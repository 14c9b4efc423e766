// The variant matrix: combinations, exclude/include, names, target axis.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include "spec/variants.h"

namespace fs = std::filesystem;
using modelc::spec::expand_variants;
using modelc::spec::load_recipe;

namespace {

fs::path recipes_dir() {
  const char* root = std::getenv("MODELC_SOURCE_ROOT");
  return fs::path(root ? root : MODELC_SOURCE_ROOT_FALLBACK) / "tests" / "spec" / "recipes";
}

}  // namespace

TEST_CASE("a recipe without variants is one variant named default") {
  const auto variants = expand_variants(load_recipe(recipes_dir() / "edge.yaml"));
  REQUIRE(variants.size() == 1);
  CHECK(variants[0].name == "default");
  CHECK(variants[0].settings.empty());
  CHECK(variants[0].recipe.targets.size() == 3);
}

TEST_CASE("axes multiply, exclude removes, include adds; names are short and stable") {
  const auto recipe = load_recipe(recipes_dir() / "graph.yaml");
  const auto variants = expand_variants(recipe);
  std::vector<std::string> names;
  for (const auto& v : variants) names.push_back(v.name);
  // 3 layouts x 2 targets - 1 excluded + 1 included.
  CHECK(names == std::vector<std::string>{"nchw-host", "nchw-arm", "nhwc-host", "nhwc-arm", "nchw8c-host", "nchw-0"});
  CHECK(variants[1].description == "layout.activations=NCHW, target=arm");

  const auto& arm = variants[1].recipe;
  REQUIRE(arm.targets.size() == 1);
  CHECK(arm.targets[0].name == "arm");
  CHECK(arm.targets[0].device == "arm64");
  CHECK_FALSE(arm.resolved.contains("variants"));

  CHECK(variants[4].recipe.layout.activations == "NCHW8c");
  // Marks of a varied value point at the variants line that set it.
  CHECK(variants[4].recipe.locate("/layout/activations").line == 21);

  const auto& included = variants[5];
  CHECK(included.recipe.optimize.level == 0);
  CHECK(included.recipe.targets.size() == 2);  // no target setting: all targets
  CHECK(included.description == "layout.activations=NCHW, optimize.level=0");
}
