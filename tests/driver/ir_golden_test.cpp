// Golden IR of the quickstart CNN after every pass of the default pipeline
// (tests/golden/ir/quickstart_cnn/NN_<pass>.ir). A change of behaviour shows
// up as a readable diff; regenerate deliberately with MODELC_UPDATE_GOLDENS=1
// and review the diff. Each text also parses back to itself.
#include <doctest/doctest.h>

#include <cstdlib>
#include <sstream>

#include "driver/pipeline.h"
#include "lang/text.h"
#include "support/file_io.h"
#include "tests/driver/test_util.h"

namespace fs = std::filesystem;
using namespace modelc;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The first differing line with two lines of context, as - expected / + actual.
std::string first_difference(const std::string& expected, const std::string& actual) {
  const auto e = lines_of(expected), a = lines_of(actual);
  size_t i = 0;
  while (i < e.size() && i < a.size() && e[i] == a[i]) ++i;
  std::string out = "first difference at line " + std::to_string(i + 1) + ":\n";
  for (size_t k = i >= 2 ? i - 2 : 0; k < i; ++k) out += "  " + e[k] + "\n";
  for (size_t k = i; k < std::min(e.size(), i + 3); ++k) out += "- " + e[k] + "\n";
  for (size_t k = i; k < std::min(a.size(), i + 3); ++k) out += "+ " + a[k] + "\n";
  return out;
}

}  // namespace

TEST_CASE("quickstart CNN: IR after each pass matches its golden text") {
  const spec::Recipe recipe = spec::load_recipe(test::source_root() / "examples/quickstart/cnn.yaml");
  const lang::Module imported = driver::import_model(recipe);
  std::vector<std::pair<std::string, std::string>> stages{{"00_imported", lang::print_module(imported)}};
  // `auto` resolved for a fixed device, so that the golden text is the same on every machine.
  const std::string layout = driver::activation_layout(recipe, targets::find_device_profile("x86-64-avx512"));
  driver::optimize(imported, recipe, layout, [&](const std::string& pass, const lang::Module& m) {
    const size_t n = stages.size();
    stages.emplace_back((n < 10 ? "0" : "") + std::to_string(n) + "_" + pass, lang::print_module(m));
  });
  const fs::path dir = test::source_root() / "tests/golden/ir/quickstart_cnn";
  const bool update = std::getenv("MODELC_UPDATE_GOLDENS") != nullptr;
  if (update) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  for (const auto& [name, text] : stages) {
    CAPTURE(name);
    const fs::path golden = dir / (name + ".ir");
    if (update) write_file_atomic(golden, text);
    REQUIRE_MESSAGE(fs::exists(golden), "missing golden " << golden << " (run with MODELC_UPDATE_GOLDENS=1)");
    const std::string expected = read_text_file(golden);
    INFO(first_difference(expected, text));
    CHECK(expected == text);
    // Round trip: the printed text parses back to the same text.
    CHECK(lang::print_module(lang::parse_module(text, golden.string())) == text);
  }
  CHECK(stages.size() >= 6);
}
