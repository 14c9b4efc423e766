// check_recipe_against_model: the recipe's mistakes that only the model can
// reveal, each located in the recipe, all reported at once.
#include <doctest/doctest.h>

#include <fstream>

#include <onnx/onnx_pb.h>

#include "driver/evaluate.h"
#include "driver/pipeline.h"
#include "driver/semantic_checks.h"
#include "spec/recipe.h"
#include "support/diagnostic.h"
#include "tests/driver/test_util.h"

namespace fs = std::filesystem;
using namespace modelc;

namespace {

// A small CNN written in the recipe: 3 -> 16 -> 24 channels.
constexpr const char* kCnnGraph = R"(  graph:
    seed: 1
    inputs: [{name: image, shape: [1, 3, 16, 16]}]
    layers:
      - {op: conv2d, name: stem, filters: 16, kernel: 3, padding: same}
      - {op: relu, name: stem_relu}
      - {op: conv2d, name: mid, filters: 24, kernel: 3, padding: same}
      - {op: max_pool, name: pool, kernel: 2}
      - {op: global_avg_pool, name: gap}
      - {op: flatten, name: flat}
      - {op: dense, name: logits, units: 10}
    outputs: [logits]
)";

std::string recipe_text(const std::string& model_block, const std::string& rest = "targets:\n  host: {device: host}\n") {
  return "apiVersion: modelc/v1\nkind: Recipe\nmetadata: {name: checks, version: 1.0.0}\nmodel:\n" + model_block + rest;
}

// The formatted diagnostics of the checks ("" when the recipe fits its model),
// with the temporary folder left out of the paths.
std::string check(const test::TempDir& tmp, const std::string& text) {
  const spec::Recipe recipe = spec::load_recipe(tmp.write("recipe.yaml", text));
  const lang::Module module = driver::import_model(recipe);
  try {
    driver::check_recipe_against_model(recipe, module);
  } catch (const Error& e) {
    std::string out;
    for (const Diagnostic& d : e.diagnostics()) {
      std::string line = d.format();
      const std::string dir = tmp.path().string() + "/";
      for (size_t at = line.find(dir); at != std::string::npos; at = line.find(dir)) line.erase(at, dir.size());
      out += line + "\n";
    }
    return out;
  }
  return "";
}

fs::path mlp() { return test::source_root() / "examples/quickstart/mlp.onnx"; }

}  // namespace

TEST_CASE("a recipe that fits its model passes") {
  test::TempDir tmp;
  // NCHW16c: 'stem' (16 channels) takes the whole block; 'mid' (24) gets
  // blocks of 8 and the 3-channel image none, as ConvertLayout intends.
  for (const char* layout : {"NCHW8c", "NCHW16c", "NHWC", "NCHW1c"})
    CHECK(check(tmp, recipe_text(kCnnGraph, "layout: {activations: " + std::string(layout) + "}\n")) == "");
  CHECK(check(tmp, recipe_text(std::string(kCnnGraph) + "  outputs: [logits]\n")) == "");
  CHECK(check(tmp, recipe_text("  onnx: " + mlp().string() + "\n  outputs: [output]\n")) == "");
}

TEST_CASE("every mismatch at once, each at its place in the recipe") {
  test::TempDir tmp;
  const std::string got = check(tmp, recipe_text(std::string(kCnnGraph) +
                                                     "  inputs:\n"
                                                     "    - {name: imag, shape: [1, 3, 16, 16]}\n"
                                                     "  outputs: [logit]\n",
                                                 "layout: {activations: NCHW64c}\n"
                                                 "targets:\n"
                                                 "  host: {device: host}\n"
                                                 "  pi: {device: arm64, threads: 4}\n"));
  CHECK(got ==
        "recipe.yaml:18:14: error: the model has no input 'imag' (at /model/inputs/0/name)\n"
        "  hint: did you mean 'image'?\n"
        "recipe.yaml:19:13: error: the model has no output 'logit' (at /model/outputs/0)\n"
        "  hint: did you mean 'logits'?\n"
        "recipe.yaml:20:23: error: layout NCHW64c splits channels into blocks of 64, but no convolution or pooling "
        "layer has a multiple of 64 channels: YAML layer 'stem' (conv2d) has 16 channels, YAML layer 'mid' (conv2d) "
        "has 24 channels, YAML layer 'pool' (max_pool) has 24 channels, YAML layer 'gap' (global_avg_pool) has 24 "
        "channels (at /layout/activations)\n"
        "  hint: the largest block a layer of this model takes is 16: use NCHW16c\n");
}

TEST_CASE("model.inputs of a graph model: rank, shape and dtype must be the graph's") {
  test::TempDir tmp;
  const std::string got = check(tmp, recipe_text(std::string(kCnnGraph) + "  inputs:\n"
                                                                           "    - {name: image, shape: [3, 16, 16], dtype: float16}\n"));
  INFO(got);
  CHECK(got.find("recipe.yaml:18:28: error: input 'image' has rank 4 in the model (shape [1, 3, 16, 16]), the recipe "
                 "gives rank 3: [3, 16, 16] (at /model/inputs/0/shape)") != std::string::npos);
  CHECK(got.find("error: input 'image' is float32 in the model, the recipe says float16 (at /model/inputs/0/dtype)") !=
        std::string::npos);
  const std::string shape = check(tmp, recipe_text(std::string(kCnnGraph) + "  inputs: [{name: image, shape: [1, 3, 32, 32]}]\n"));
  CHECK(shape.find("input 'image' has shape [1, 3, 16, 16] in the model, the recipe gives [1, 3, 32, 32]") != std::string::npos);
  CHECK(shape.find("hint: a graph model takes its shapes from graph.inputs") != std::string::npos);
}

TEST_CASE("an ONNX model's outputs are checked by name") {
  test::TempDir tmp;
  const std::string got = check(tmp, recipe_text("  onnx: " + mlp().string() + "\n  outputs: [output, scores]\n"));
  CHECK(got == "recipe.yaml:6:21: error: the model has no output 'scores' (at /model/outputs/1)\n"
               "  hint: its outputs: 'output'\n");
}

// An ONNX model whose output is a string constant (a StringNormalizer on known strings).
fs::path string_output_model(const fs::path& dir) {
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("strings");
  onnx::TensorProto* words = g->add_initializer();
  words->set_name("words");
  words->set_data_type(onnx::TensorProto::STRING);
  words->add_dims(2);
  words->add_string_data("a");
  words->add_string_data("b");
  onnx::NodeProto* n = g->add_node();
  n->set_op_type("StringNormalizer");
  n->add_input("words");
  n->add_output("normalized");
  onnx::ValueInfoProto* out = g->add_output();
  out->set_name("normalized");
  out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::STRING);
  out->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(2);
  const fs::path file = dir / "strings.onnx";
  std::ofstream(file, std::ios::binary) << m.SerializeAsString();
  return file;
}

TEST_CASE("a string output is refused: strings exist only at import time") {
  test::TempDir tmp;
  const std::string got = check(tmp, recipe_text("  onnx: " + string_output_model(tmp.path()).string() + "\n"));
  CHECK(got == "recipe.yaml:4:1: error: output 'normalized' is a string tensor, which compiled models cannot return (at /model)\n"
               "  hint: string ops run at import time only; compile the numeric part of the model\n");
}

TEST_CASE("a layout that cannot apply to the model: no such layers, a block the compiler never uses") {
  test::TempDir tmp;
  CHECK(check(tmp, recipe_text("  onnx: " + mlp().string() + "\n", "layout: {activations: NHWC}\n")) ==
        "recipe.yaml:6:23: error: layout NHWC applies to the activations of convolution and pooling layers, and this "
        "model has none (at /layout/activations)\n"
        "  hint: leave layout.activations out (auto) for this model\n");
  CHECK(check(tmp, recipe_text(kCnnGraph, "layout: {activations: NCHW12c}\n")).find(
            "error: layout NCHW12c has a channel block of 12, expected a power of two (1, 2, 4, ... up to 2^20)") !=
        std::string::npos);
  CHECK(check(tmp, recipe_text(kCnnGraph, "layout: {activations: NCHW99999999999999999999c}\n")).find(
            "has a channel block of more than 2^20") != std::string::npos);
  const std::string odd = check(tmp, recipe_text(R"(  graph:
    inputs: [{name: x, shape: [1, 3, 8, 8]}]
    layers:
      - {op: conv2d, name: a, filters: 6, kernel: 1}
      - {op: conv2d, name: b, filters: 9, kernel: 1}
    outputs: [b]
)", "layout: {activations: NCHW4c}\n"));
  INFO(odd);
  CHECK(odd.find("no convolution or pooling layer has a multiple of 4 channels: YAML layer 'a' (conv2d) has 6 channels, "
                 "YAML layer 'b' (conv2d) has 9 channels") != std::string::npos);
  CHECK(odd.find("hint: the largest block a layer of this model takes is 2: use NCHW2c") != std::string::npos);
}

// model.outputs used to be checked and then ignored: every output was built.
TEST_CASE("model.outputs keeps only the named outputs, in the recipe's order, at every level") {
  test::TempDir tmp;
  for (const char* level : {"0", "2"}) {
    CAPTURE(level);
    const spec::Recipe recipe = spec::load_recipe(tmp.write("outputs.yaml", std::string(R"(apiVersion: modelc/v1
kind: Recipe
metadata: {name: outputs, version: 1.0.0}
model:
  graph:
    seed: 5
    inputs: [{name: x, shape: [1, 4, 6, 6]}]
    layers:
      - {op: conv2d, name: conv, filters: 8, kernel: 3, padding: same}
      - {op: sigmoid, name: act}
      - {op: max_pool, name: pool, kernel: 2, inputs: [conv]}
      - {op: global_avg_pool, name: gap, inputs: [act]}
    outputs: [pool, conv, gap]
  outputs: [gap, pool]
optimize: {level: )") + level + "}\n"));
    const lang::Module imported = driver::import_model(recipe);
    REQUIRE(imported.main().results.size() == 2);
    CHECK(lang::result_name(imported.main(), 0) == "gap");
    CHECK(lang::result_name(imported.main(), 1) == "pool");
    driver::CompileOptions options;
    options.out_dir = tmp.path() / (std::string("out") + level);
    const driver::CompiledArtifact a = driver::compile(recipe, options).front();
    const std::vector<lang::Tensor> inputs = driver::benchmark_inputs(recipe, imported);
    const std::vector<lang::Tensor> got = driver::run_artifact(a.directory, inputs, 1);
    REQUIRE(got.size() == 2);
    CHECK(got[0].type().shape == std::vector<int64_t>{1, 8, 1, 1});
    CHECK(got[1].type().shape == std::vector<int64_t>{1, 8, 3, 3});
  }
}
