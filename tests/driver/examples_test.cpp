// The recipes under examples/ are what people copy first: each must validate
// and plan through the modelc binary, and examples/variants (extends + a
// variant matrix) must give the variants and merged values it promises.
#include <doctest/doctest.h>

#include <algorithm>

#include "spec/recipe.h"
#include "spec/variants.h"
#include "support/file_io.h"
#include "support/process.h"
#include "tests/driver/test_util.h"
#include "tests/prerequisites.h"

namespace fs = std::filesystem;
using namespace modelc;

namespace {

ProcessResult modelc_cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv{test::modelc_binary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessResult r = run_process(argv);
  REQUIRE(r.started);
  return r;
}

std::vector<fs::path> example_recipes() {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(test::source_root() / "examples")) {
    const fs::path& p = e.path();
    const bool in_output = std::any_of(p.begin(), p.end(), [](const fs::path& part) { return part == "out"; });
    if (p.extension() == ".yaml" && !in_output) out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Recipes over the shared test models need that folder next to the checkout.
bool uses_shared_models(const fs::path& recipe) {
  return read_text_file(recipe).find("shared/models") != std::string::npos;
}

void check_validates_and_plans(const fs::path& recipe) {
  CAPTURE(recipe.string());
  const ProcessResult validate = modelc_cli({"validate", recipe.string()});
  INFO(validate.stderr_text);
  CHECK(validate.exit_code == 0);
  CHECK(validate.stdout_text.find(": valid (") != std::string::npos);
  const ProcessResult plan = modelc_cli({"plan", recipe.string()});
  INFO(plan.stderr_text);
  CHECK(plan.exit_code == 0);
  CHECK(plan.stdout_text.find("variant ") != std::string::npos);
}

}  // namespace

TEST_CASE("every example recipe validates and plans") {
  const std::vector<fs::path> recipes = example_recipes();
  CHECK(recipes.size() >= 4);
  for (const fs::path& recipe : recipes)
    if (!uses_shared_models(recipe)) check_validates_and_plans(recipe);
}

TEST_CASE("every example recipe over the shared models validates and plans" *
          doctest::skip(test::skip_without_shared_models())) {
  test::require_shared_models();
  size_t checked = 0;
  for (const fs::path& recipe : example_recipes()) {
    if (!uses_shared_models(recipe)) continue;
    check_validates_and_plans(recipe);
    ++checked;
  }
  CHECK(checked >= 1);
}

TEST_CASE("examples/variants: extends merges the base, the matrix gives three named variants") {
  const fs::path recipe_file = test::source_root() / "examples/variants/recipe.yaml";
  const ProcessResult validate = modelc_cli({"validate", recipe_file.string(), "--format", "json"});
  CHECK(validate.exit_code == 0);
  CHECK(nlohmann::json::parse(validate.stdout_text) == nlohmann::json{{"valid", true}, {"variants", 3}, {"targets", 2}});

  const ProcessResult plan = modelc_cli({"plan", recipe_file.string()});
  CHECK(plan.exit_code == 0);
  for (const char* line : {"mlp-variants 1.1.0: 3 variant(s)", "variant 1-host  (optimize.level=1, target=host)",
                           "variant 3-host  (optimize.level=3, target=host)",
                           "variant 3-avx2  (optimize.level=3, target=avx2)"})
    CHECK(plan.stdout_text.find(line) != std::string::npos);

  const spec::Recipe recipe = spec::load_recipe(recipe_file);
  CHECK(recipe.resolved["metadata"]["owners"] == nlohmann::json{"modelc-team"});  // inherited
  CHECK(recipe.report.formats == std::vector<std::string>{"md", "json", "csv"});   // lists replace
  CHECK(recipe.report.baselines == std::vector<std::string>{"reference"});
  // Paths written in base.yaml are relative to base.yaml, and the error
  // location of an inherited value names base.yaml.
  CHECK(*recipe.model.onnx == (test::source_root() / "examples/quickstart/mlp.onnx").lexically_normal());
  CHECK(recipe.locate("/model/onnx").file.find("base.yaml") != std::string::npos);

  const std::vector<spec::Variant> variants = spec::expand_variants(recipe);
  REQUIRE(variants.size() == 3);
  CHECK(variants[0].recipe.optimize.level == 1);
  CHECK(variants[2].recipe.optimize.level == 3);
  REQUIRE(variants[2].recipe.targets.size() == 1);
  CHECK(variants[2].recipe.targets[0].name == "avx2");
  CHECK(variants[2].recipe.targets[0].threads == 2);
}
