// Each tests/golden/spec/<case>.yaml is a recipe with one mistake a person
// makes; <case>.err is exactly what modelc must say about it (paths relative
// to tests/golden/spec). Files the cases extend or name live in files/.
// MODELC_UPDATE_GOLDENS=1 rewrites the .err files; review the diff.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "spec/recipe.h"
#include "spec/variants.h"
#include "support/diagnostic.h"

namespace fs = std::filesystem;

namespace {

fs::path golden_dir() {
  const char* root = std::getenv("MODELC_SOURCE_ROOT");
  return fs::path(root ? root : MODELC_SOURCE_ROOT_FALLBACK) / "tests" / "golden" / "spec";
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// What modelc says about the recipe: the formatted diagnostics, or a marker
// that it was (wrongly) accepted.
std::string diagnose(const fs::path& recipe) {
  try {
    const modelc::spec::Recipe r = modelc::spec::load_recipe(recipe);
    modelc::spec::expand_variants(r);
    return "(accepted without error)\n";
  } catch (const modelc::Error& e) {
    std::string text;
    for (const modelc::Diagnostic& d : e.diagnostics()) text += d.format() + "\n";
    return replace_all(text, golden_dir().string() + "/", "");
  }
}

}  // namespace

TEST_CASE("bad recipes: each mistake gives the message in its .err golden") {
  const fs::path dir = golden_dir();
  REQUIRE(fs::is_directory(dir));
  const bool update = std::getenv("MODELC_UPDATE_GOLDENS") != nullptr;
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".yaml") cases.push_back(e.path());
  std::sort(cases.begin(), cases.end());
  CHECK(cases.size() >= 30);
  for (const fs::path& c : cases) {
    CAPTURE(c.filename().string());
    const std::string got = diagnose(c);
    fs::path golden = c;
    golden.replace_extension(".err");
    if (update) {
      std::ofstream(golden) << got;
      continue;
    }
    REQUIRE_MESSAGE(fs::exists(golden), "missing golden; run with MODELC_UPDATE_GOLDENS=1 and review it");
    CHECK(got == read(golden));
  }
}
