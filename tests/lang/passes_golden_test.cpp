// Golden IR of every pass: tests/golden/passes/<Pass>/<case>.in holds a module,
// <case>.out the module after running <Pass> (then InferType). Header comments
// in the .in set the context: "# layout: NCHW16c", "# opt_level: 2" (default 3),
// "# quad_weight_block: 8" (AlterOpLayout's blocks of int8 quads, default 16),
// and "# tolerance: 1e-4" the numerical check's (default 1e-5, see below).
// Each case is also run on random inputs before and after the pass through
// the reference interpreter; the outputs must agree.
//
// Regenerate deliberately with MODELC_UPDATE_GOLDENS=1 and review the diff.
#include <doctest/doctest.h>

#include <random>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "lang/interpreter.h"
#include "lang/pass.h"
#include "lang/text.h"
#include "support/diagnostic.h"
#include "tests/lang/test_util.h"

namespace fs = std::filesystem;

namespace modelc::lang {
namespace {

fs::path golden_root() {
  const char* root = std::getenv("MODELC_SOURCE_ROOT");
  return fs::path(root ? root : ".") / "tests" / "golden" / "passes";
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// "# key: value" from the comment lines at the top of a case.
std::string header_value(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  const std::string prefix = "# " + key + ":";
  for (std::string line; std::getline(in, line) && !line.empty() && line[0] == '#';)
    if (line.rfind(prefix, 0) == 0) {
      std::string v = line.substr(prefix.size());
      v.erase(0, v.find_first_not_of(' '));
      return v;
    }
  return {};
}

// Constants too large to print inline arrive without data: give them
// deterministic random values so the numerical check can run.
Module with_constant_data(const std::string& text, const std::string& name) {
  const Module shapes = parse_module(text, name);
  Module source;
  unsigned seed = 1000;
  for (const auto& [constant, value] : shapes.constants)
    source.constants.emplace(constant, value.has_data() ? value : testing::random_tensor(value.type(), seed++));
  return parse_module(text, name, &source);
}

std::string first_difference(const std::string& expected, const std::string& actual) {
  std::istringstream e(expected), a(actual);
  std::string le, la;
  for (int line = 1;; ++line) {
    const bool has_e = static_cast<bool>(std::getline(e, le)), has_a = static_cast<bool>(std::getline(a, la));
    if (!has_e && !has_a) return "equal";
    if (!has_e || !has_a || le != la)
      return "line " + std::to_string(line) + ":\n- " + (has_e ? le : "<end>") + "\n+ " + (has_a ? la : "<end>");
  }
}

struct GoldenCase {
  std::string pass;
  fs::path input;
};

std::vector<GoldenCase> golden_cases() {
  std::vector<GoldenCase> cases;
  if (!fs::exists(golden_root())) return cases;
  for (const auto& dir : fs::directory_iterator(golden_root())) {
    if (!dir.is_directory()) continue;
    for (const auto& file : fs::directory_iterator(dir.path()))
      if (file.path().extension() == ".in") cases.push_back({dir.path().filename().string(), file.path()});
  }
  std::sort(cases.begin(), cases.end(), [](const GoldenCase& a, const GoldenCase& b) { return a.input < b.input; });
  return cases;
}

// Outputs before and after agree within rtol 1e-5 + atol 1e-5 on three random
// inputs: folding scales into weights rounds (w * s) instead of (w * x) * s,
// a float32 rounding difference of a few ulps; everything else is exact. A
// case that changes the arithmetic (Winograd) states its own tolerance.
void check_same_numbers(const Module& before, const Module& after, double tolerance) {
  for (unsigned seed = 1; seed <= 3; ++seed) {
    const std::vector<Tensor> inputs = testing::random_inputs(before, seed * 7);
    const std::vector<Tensor> a = evaluate_main(before, inputs), b = evaluate_main(after, inputs);
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      const testing::Closeness c = testing::compare(b[i], a[i], tolerance, tolerance);
      INFO("output " << i << ": max abs difference " << c.max_abs);
      CHECK(c.within);
    }
  }
}

TEST_CASE("every pass's golden cases: the exact IR it produces, and the same numbers before and after") {
  const bool update = std::getenv("MODELC_UPDATE_GOLDENS") != nullptr;
  const std::vector<GoldenCase> cases = golden_cases();
  REQUIRE_MESSAGE(!cases.empty(), "no golden cases under " << golden_root());
  for (const GoldenCase& c : cases) {
    CAPTURE(c.input.string());
    const std::string text = read_text(c.input);
    Module before;
    try {
      before = infer_type(with_constant_data(text, c.input.filename().string()), PassContext{});
    } catch (const Error& e) {
      FAIL("cannot read the case: " << e.what());
    }
    PassContext context;
    context.opt_level = 3;
    if (const std::string level = header_value(text, "opt_level"); !level.empty()) context.opt_level = std::stoi(level);
    if (const std::string layout = header_value(text, "layout"); !layout.empty()) context.activation_layout = layout;
    if (const std::string block = header_value(text, "quad_weight_block"); !block.empty())
      context.quad_weight_block = std::stoi(block);
    // `quantize: int8`: calibrate on four seeded standard-normal samples of @main's parameters.
    if (header_value(text, "quantize") == "int8") {
      context.quantize.mode = "int8";
      for (unsigned seed = 0; seed < 4; ++seed) {
        std::mt19937 rng(seed);
        std::normal_distribution<float> normal;
        std::vector<Tensor> sample;
        for (const Param& p : before.main().params) {
          Tensor t(p.type);
          for (float& v : t.mutable_values<float>()) v = normal(rng);
          sample.push_back(t);
        }
        context.quantize.calibration.push_back(sample);
      }
    }
    // `quantize: bf16` / `quantize: fp16`: ReducePrecision's modes (no calibration).
    if (const std::string mode = header_value(text, "quantize"); mode == "bf16" || mode == "fp16") context.quantize.mode = mode;
    const Module after = run_passes(before, {c.pass, "InferType"}, context);
    const std::string actual = print_module(after);
    fs::path golden = c.input;
    golden.replace_extension(".out");
    if (update) std::ofstream(golden, std::ios::binary) << actual;
    REQUIRE_MESSAGE(fs::exists(golden), "missing " << golden << " (run with MODELC_UPDATE_GOLDENS=1)");
    const std::string expected = read_text(golden);
    INFO(first_difference(expected, actual));
    CHECK(actual == expected);
    CHECK(print_module(parse_module(actual, "golden")) == actual);
    const std::string tolerance = header_value(text, "tolerance");
    check_same_numbers(before, after, tolerance.empty() ? 1e-5 : std::stod(tolerance));
  }
}

TEST_CASE("every registered pass has golden cases") {
  std::vector<std::string> with_cases;
  for (const GoldenCase& c : golden_cases()) with_cases.push_back(c.pass);
  for (const PassInfo& p : PassRegistry::global().all()) {
    if (p.name == "InferType") continue;  // pinned by passes_test.cpp
    CAPTURE(p.name);
    CHECK(std::find(with_cases.begin(), with_cases.end(), p.name) != with_cases.end());
  }
}

TEST_CASE("opt levels select the documented default pipeline") {
  CHECK(pipeline_at_level(0) ==
        std::vector<std::string>{"InferType", "SimplifyInference", "Quantize", "ConvertLayout", "ReducePrecision", "InferType"});
  CHECK(pipeline_at_level(1) == std::vector<std::string>{"InferType", "SimplifyInference", "FoldConstant", "SimplifyExpr",
                                                         "Quantize", "ConvertLayout", "FoldConstant", "SimplifyExpr",
                                                         "ReducePrecision", "DeadCodeElimination", "FuseOps", "InferType"});
  CHECK(pipeline_at_level(2) == default_pipeline());
  CHECK(pipeline_at_level(3) == default_pipeline());
}

TEST_CASE("disabled passes are skipped and say why; unknown names are errors with a suggestion") {
  const Module m = infer_type(testing::parse(R"(def @main(%x: Tensor[(2, 3), float32]) {
  %0 = reshape(%x, newshape=[3, 2]);
  %1 = reshape(%0, newshape=[6]);
  %1
}
)"), PassContext{});
  PassContext context;
  context.disabled = {"SimplifyExpr"};
  std::vector<PassTiming> timings;
  const Module after = run_passes(m, {"SimplifyExpr", "DeadCodeElimination"}, context, &timings);
  REQUIRE(timings.size() == 2);
  CHECK_FALSE(timings[0].ran);
  CHECK(timings[0].skipped_because == "disabled by the recipe");
  CHECK(timings[1].ran);
  CHECK(after.main().body.size() == 2);
  context.disabled = {"SimplifyExp"};
  try {
    run_passes(m, {"SimplifyExpr"}, context);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.diagnostics().front().message == "unknown pass 'SimplifyExp'");
    CHECK(e.diagnostics().front().hint == "did you mean 'SimplifyExpr'?");
  }
}

}  // namespace
}  // namespace modelc::lang
