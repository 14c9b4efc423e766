// YAML graphs: a small CNN builds, type-checks and gets the same weights on
// every import; each mistake gives its message at the right line.
#include <doctest/doctest.h>

#include "lang/frontends/yaml_graph.h"
#include "lang/interpreter.h"
#include "lang/pass.h"
#include "lang/text.h"
#include "spec/document.h"
#include "support/diagnostic.h"
#include "support/npy.h"
#include "tests/lang/test_util.h"

namespace modelc::lang {
namespace {

// The graph sits inside a recipe, as it does in practice, so pointers are /model/graph/...
const char* const kCnnRecipe = R"(apiVersion: modelc/v1
model:
  graph:
    seed: 7
    inputs:
      - {name: image, shape: [1, 3, 16, 16]}
    layers:
      - {op: conv2d, name: conv1, filters: 8, kernel: 3, padding: same}
      - {op: batch_norm, name: bn1}
      - {op: relu}
      - {op: max_pool, kernel: 2}
      - {op: conv2d, name: dw, filters: 8, kernel: [3, 3], groups: 8, padding: 1, bias: false}
      - {op: relu6}
      - {op: conv2d, name: pw, filters: 12, kernel: 1, weights: {init: xavier_uniform}}
      - {op: add, name: skip, inputs: [pw, pw]}
      - {op: global_avg_pool}
      - {op: flatten}
      - {op: dense, name: fc, units: 10, weights: {init: normal, std: 0.1}}
      - {op: softmax, name: probs}
)";

Module import_recipe_graph(const std::string& text, const std::filesystem::path& base_dir = ".") {
  const spec::Document doc = spec::parse_yaml(text, "recipe.yaml");
  return import_yaml_graph(doc.value.at("model").at("graph"), doc.marks, "/model/graph", base_dir);
}

Error graph_error(const std::string& text, const std::filesystem::path& base_dir = ".") {
  try {
    import_recipe_graph(text, base_dir);
  } catch (const Error& e) {
    return e;
  }
  FAIL("the graph imported without error");
  return Error("unreachable");
}

// kCnnRecipe with one layer line replaced.
std::string with_layer(int index, const std::string& line) {
  std::string text = kCnnRecipe;
  size_t pos = text.find("    layers:\n") + 12;
  for (int i = 0; i < index; ++i) pos = text.find('\n', pos) + 1;
  const size_t end = text.find('\n', pos);
  return text.replace(pos, end - pos, "      - " + line);
}

constexpr int kFirstLayerLine = 8;

TEST_CASE("a small CNN graph builds and type-checks") {
  const Module m = run_passes(import_recipe_graph(kCnnRecipe), {"InferType"}, PassContext{});
  const Function& main = m.main();
  REQUIRE(main.params.size() == 1);
  CHECK(main.params[0].name == "image");
  CHECK(m.result_types(main) == std::vector<TensorType>{TensorType{{1, 10}, DType::float32}});
  CHECK(main.result_names == std::vector<std::string>{"probs"});
  CHECK(m.constants.count("conv1.weight"));
  CHECK(m.constant("conv1.weight").type() == TensorType{{8, 3, 3, 3}, DType::float32});
  CHECK(m.constant("dw.weight").type() == TensorType{{8, 1, 3, 3}, DType::float32});
  CHECK_FALSE(m.constants.count("dw.bias"));
  CHECK(main.body.at(0).origin == "YAML layer 'conv1' (conv2d)");
  // padding: same with stride 1 keeps 16 x 16.
  CHECK(main.body.at(0).types.at(0) == TensorType{{1, 8, 16, 16}, DType::float32});
}

TEST_CASE("weights are deterministic: two imports give identical constants; another seed differs") {
  const Module a = import_recipe_graph(kCnnRecipe);
  const Module b = import_recipe_graph(kCnnRecipe);
  REQUIRE(a.constants.size() == b.constants.size());
  for (const auto& [name, tensor] : a.constants) CHECK(tensor.digest() == b.constant(name).digest());

  std::string reseeded = kCnnRecipe;
  reseeded.replace(reseeded.find("seed: 7"), 7, "seed: 8");
  const Module c = import_recipe_graph(reseeded);
  CHECK(c.constant("conv1.weight").digest() != a.constant("conv1.weight").digest());

  // He-normal weights have the expected spread: std = sqrt(2 / (3 * 3 * 3)) ~ 0.27.
  const Tensor& w = a.constant("conv1.weight");
  double sum2 = 0;
  for (float v : w.values<float>()) sum2 += static_cast<double>(v) * v;
  CHECK(std::sqrt(sum2 / 216) == doctest::Approx(0.27).epsilon(0.25));
  // Batch-norm statistics are not the identity, so folding them is exercised.
  for (const char* stat : {"bn1.gamma", "bn1.var"}) {
    CAPTURE(stat);
    for (float v : a.constant(stat).values<float>()) CHECK((v >= 0.5f && v <= 1.5f && v != 1.0f));
  }
}

TEST_CASE("the default pipeline keeps a YAML graph's numerics (batch norm folded into conv1)") {
  const Module m = run_passes(import_recipe_graph(kCnnRecipe), {"InferType"}, PassContext{});
  const Module optimized = run_passes(m, default_pipeline(), PassContext{});
  const std::vector<Tensor> inputs = testing::random_inputs(m, 3);
  const Tensor before = evaluate_main(m, inputs).at(0);
  const Tensor after = evaluate_main(optimized, inputs).at(0);
  // Folding the batch norm scale into the weights changes float32 rounding only.
  CHECK(testing::compare(after, before, 1e-5, 1e-6).within);
  for (const Function& fn : optimized.functions)
    for (const Binding& b : fn.body) CHECK_FALSE(b.is_op("nn.batch_norm"));
}

TEST_CASE("YAML graph modules print, parse and print the same text") {
  const Module m = import_recipe_graph(kCnnRecipe);
  for (const Module& stage : {m, run_passes(m, default_pipeline(), PassContext{})}) {
    const std::string text = print_module(stage);
    CHECK(print_module(parse_module(text, "cnn")) == text);
  }
}

TEST_CASE("weights read from .npy files must have the exact shape") {
  testing::TempDir dir;
  NpyArray good{"<f4", {10, 12}, std::vector<std::byte>(10 * 12 * 4, std::byte{0})};
  write_npy(dir.path() / "fc.npy", good);
  NpyArray bad{"<f4", {12, 10}, std::vector<std::byte>(10 * 12 * 4, std::byte{0})};
  write_npy(dir.path() / "fc_t.npy", bad);
  const Module m = import_recipe_graph(with_layer(10, "{op: dense, name: fc, units: 10, weights: {file: fc.npy}}"), dir.path());
  CHECK(m.constant("fc.weight").digest() == Tensor(TensorType{{10, 12}, DType::float32}).digest());

  const Error e = graph_error(with_layer(10, "{op: dense, name: fc, units: 10, weights: {file: fc_t.npy}}"), dir.path());
  const Diagnostic& d = e.diagnostics().at(0);
  CHECK(d.message == (dir.path() / "fc_t.npy").string() + " has shape [12, 10], the layer expects [10, 12]");
  CHECK(d.pointer == "/model/graph/layers/10/weights/file");
  CHECK(d.location.line == kFirstLayerLine + 10);
}

struct BadGraph {
  const char* what;
  int layer;
  const char* line;
  const char* message;
  const char* pointer;
  const char* hint;
};

TEST_CASE("mistakes in a graph are errors at the line of the layer or field") {
  const BadGraph cases[] = {
      {"misspelled op", 2, "{op: rellu}", "unknown op 'rellu'", "/model/graph/layers/2/op", "did you mean 'relu'?"},
      {"misspelled field", 0, "{op: conv2d, name: conv1, filter: 8, kernel: 3}", "op conv2d has no field 'filter'",
       "/model/graph/layers/0/filter", "did you mean 'filters'?"},
      {"missing field", 0, "{op: conv2d, name: conv1, kernel: 3}", "missing field 'filters'", "/model/graph/layers/0", ""},
      {"unknown input", 7, "{op: add, name: skip, inputs: [pw, pww]}", "unknown input or layer 'pww'",
       "/model/graph/layers/7/inputs/1", "did you mean 'pw'?"},
      {"later layer", 7, "{op: add, name: skip, inputs: [pw, fc]}",
       "'fc' is a later layer; a layer can only use inputs and earlier layers", "/model/graph/layers/7/inputs/1", ""},
      {"shape from the type rule", 7, "{op: add, name: skip, inputs: [pw, dw]}",
       "layer 'skip' (add): cannot broadcast", "/model/graph/layers/7", ""},
      {"dense on 4-D input", 8, "{op: dense, units: 3}",
       "layer 'dense_8' (dense) expects a 2-D [batch, features] input, found Tensor[(1, 12, 8, 8), float32]",
       "/model/graph/layers/8", ""},
      {"bad initializer", 10, "{op: dense, name: fc, units: 10, weights: {init: he_norml}}",
       "unknown initializer the string 'he_norml'", "/model/graph/layers/10/weights/init", "did you mean 'he_normal'?"},
      {"wrong type", 0, "{op: conv2d, name: conv1, filters: eight, kernel: 3}",
       "expected an integer, found the string 'eight'", "/model/graph/layers/0/filters", ""},
      {"duplicate name", 1, "{op: batch_norm, name: conv1}", "the name 'conv1' is already used by an earlier input or layer",
       "/model/graph/layers/1", ""},
  };
  for (const BadGraph& c : cases) {
    CAPTURE(c.what);
    const Error e = graph_error(with_layer(c.layer, c.line));
    REQUIRE(e.diagnostics().size() == 1);
    const Diagnostic& d = e.diagnostics()[0];
    CAPTURE(d.format());
    CHECK(d.message.find(c.message) == 0);
    CHECK(d.pointer == c.pointer);
    CHECK(d.hint == c.hint);
    CHECK(d.location.file == "recipe.yaml");
    CHECK(d.location.line == kFirstLayerLine + c.layer);
  }
}

TEST_CASE("outputs name layers; an unknown output is an error at its line") {
  std::string text = std::string(kCnnRecipe) + "    outputs: [fc, probs]\n";
  const Module m = import_recipe_graph(text);
  CHECK(m.main().results.size() == 2);
  CHECK(m.main().result_names == std::vector<std::string>{"fc", "probs"});
  text = std::string(kCnnRecipe) + "    outputs: [fcc]\n";
  const Error e = graph_error(text);
  CHECK(e.diagnostics().at(0).message == "unknown input or layer 'fcc'");
  CHECK(e.diagnostics().at(0).location.line == kFirstLayerLine + 12);
}

}  // namespace
}  // namespace modelc::lang

namespace modelc::lang {
namespace {

TEST_CASE("a YAML graph over the model's limits is refused at the layer, before its weights are made") {
  const char* const text = R"(apiVersion: modelc/v1
model:
  graph:
    inputs:
      - {name: x, shape: [1, 64]}
    layers:
      - {op: dense, name: fc, units: 100}
)";
  const spec::Document doc = spec::parse_yaml(text, "recipe.yaml");
  spec::ModelLimits limits;
  limits.max_tensor_elements = 5000;  // fc.weight has 6400
  try {
    (void)import_yaml_graph(doc.value.at("model").at("graph"), doc.marks, "/model/graph", ".", limits);
    FAIL("no error");
  } catch (const Error& e) {
    const Diagnostic& d = e.diagnostics().at(0);
    CHECK(d.location.line == 7);
    CHECK(d.message.find("layer 'fc' (dense): the weight 'fc.weight'") == 0);
    CHECK(d.message.find("is too big: 6400 elements, over the limit of 5000 (model.limits.max_tensor_elements)") !=
          std::string::npos);
  }
  limits.max_tensor_elements = 50;  // the input itself
  try {
    (void)import_yaml_graph(doc.value.at("model").at("graph"), doc.marks, "/model/graph", ".", limits);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.diagnostics().at(0).pointer == "/model/graph/inputs/0/shape");
    CHECK(e.diagnostics().at(0).message.find("input 'x' Tensor[(1, 64), float32] is too big") == 0);
  }
}

}  // namespace
}  // namespace modelc::lang
