// If, Loop and Scan resolved at import: the branch a constant condition
// picks, loops unrolled until their (folded) condition turns false, scans
// unrolled in either direction; subgraphs see the enclosing graph's values.
#include <doctest/doctest.h>

#include "lang/interpreter.h"
#include "lang/pass.h"
#include "tests/lang/onnx_test_model.h"
#include "tests/lang/test_util.h"

namespace modelc::lang {
namespace {

using namespace testing;

void set_graph(onnx::NodeProto* node, const std::string& name, const onnx::GraphProto& g) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::GRAPH);
  *a->mutable_g() = g;
}

void set_ints(onnx::NodeProto* node, const std::string& name, const std::vector<int64_t>& values) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a->add_ints(v);
}

// A branch computing `op`(X) (X from the enclosing graph) as output `out`.
onnx::GraphProto branch(const std::string& name, const std::string& op, const std::string& out) {
  onnx::GraphProto g;
  g.set_name(name);
  if (op == "Add") add_node(&g, op, name + "_node", {"X", "X"}, out);
  else add_node(&g, op, name + "_node", {"X"}, out);
  add_tensor_value(g.mutable_output(), out, {2});
  return g;
}

std::vector<Tensor> run(const std::filesystem::path& file, const std::vector<Tensor>& inputs) {
  const Module m = run_passes(import_onnx(file), {"InferType"}, PassContext{});
  return evaluate_main(m, inputs);
}

Tensor vector2(float a, float b) {
  const std::vector<float> v = {a, b};
  return Tensor::from_floats({2}, v);
}

TEST_CASE("If takes the branch its constant condition picks; a condition from the inputs must be known") {
  TempDir dir;
  for (const int64_t condition : {0, 1}) {
    CAPTURE(condition);
    onnx::ModelProto m = empty_model({2});
    onnx::GraphProto* g = m.mutable_graph();
    add_int_initializer(g, "c", {1}, {condition}, onnx::TensorProto::BOOL);
    onnx::NodeProto* node = add_node(g, "If", "if", {"c"}, "Y");
    set_graph(node, "then_branch", branch("then", "Add", "then_out"));
    set_graph(node, "else_branch", branch("else", "Neg", "else_out"));
    add_tensor_value(g->mutable_output(), "Y", {2});
    const Tensor y = run(save(m, dir.path() / "if.onnx"), {vector2(1.5f, -2.f)}).at(0);
    CHECK(y.element_as_double(0) == (condition ? 3.0 : -1.5));
    CHECK(y.element_as_double(1) == (condition ? -4.0 : 2.0));
  }
  SUBCASE("condition from an input") {
    onnx::ModelProto m = empty_model({2});
    onnx::GraphProto* g = m.mutable_graph();
    add_tensor_value(g->mutable_input(), "c", {1}, "", onnx::TensorProto::BOOL);
    onnx::NodeProto* node = add_node(g, "If", "if", {"c"}, "Y");
    set_graph(node, "then_branch", branch("then", "Add", "then_out"));
    set_graph(node, "else_branch", branch("else", "Neg", "else_out"));
    add_tensor_value(g->mutable_output(), "Y", {2});
    const Error e = import_error(save(m, dir.path() / "if_input.onnx"));
    CHECK(e.diagnostics().at(0).message ==
          "ONNX node 'if' (If): the condition (input 0, 'c') must be known at import time, but it is computed from the "
          "model's inputs");
  }
  SUBCASE("an unsupported op inside a branch is reported before import") {
    onnx::ModelProto m = empty_model({2});
    onnx::GraphProto* g = m.mutable_graph();
    add_int_initializer(g, "c", {1}, {1}, onnx::TensorProto::BOOL);
    onnx::NodeProto* node = add_node(g, "If", "if", {"c"}, "Y");
    set_graph(node, "then_branch", branch("then", "LpNormalization", "then_out"));
    set_graph(node, "else_branch", branch("else", "Neg", "else_out"));
    add_tensor_value(g->mutable_output(), "Y", {2});
    const Error e = import_error(save(m, dir.path() / "if_unsupported.onnx"));
    CHECK(e.diagnostics().at(0).message == "ONNX LpNormalization (opset 13) at node 'then_node' is not supported");
  }
}

TEST_CASE("Loop unrolls until its folded condition turns false, carrying values and stacking scan outputs") {
  TempDir dir;
  onnx::ModelProto m = empty_model({2});
  onnx::GraphProto* g = m.mutable_graph();
  add_int_initializer(g, "trips", {}, {5});
  add_int_initializer(g, "go", {}, {1}, onnx::TensorProto::BOOL);
  add_int_initializer(g, "limit", {}, {2});
  add_float_initializer(g, "zero", {2}, {0, 0});
  onnx::GraphProto body;
  body.set_name("body");
  add_tensor_value(body.mutable_input(), "i", {}, "", onnx::TensorProto::INT64);
  add_tensor_value(body.mutable_input(), "cond_in", {}, "", onnx::TensorProto::BOOL);
  add_tensor_value(body.mutable_input(), "acc", {2});
  add_node(&body, "Add", "accumulate", {"acc", "X"}, "acc_out");
  add_node(&body, "Less", "again", {"i", "limit"}, "cond_out");  // false after i = 2: three iterations
  add_node(&body, "Identity", "record", {"acc_out"}, "scan");
  add_tensor_value(body.mutable_output(), "cond_out", {}, "", onnx::TensorProto::BOOL);
  add_tensor_value(body.mutable_output(), "acc_out", {2});
  add_tensor_value(body.mutable_output(), "scan", {2});
  onnx::NodeProto* loop = add_node(g, "Loop", "loop", {"trips", "go", "zero"}, std::vector<std::string>{"total", "history"});
  set_graph(loop, "body", body);
  add_tensor_value(g->mutable_output(), "total", {2});
  add_tensor_value(g->mutable_output(), "history", {3, 2});
  const std::vector<Tensor> out = run(save(m, dir.path() / "loop.onnx"), {vector2(1.f, 10.f)});
  CHECK(out.at(0).element_as_double(0) == 3.0);
  CHECK(out.at(0).element_as_double(1) == 30.0);
  REQUIRE(out.at(1).type() == TensorType{{3, 2}, DType::float32});
  for (size_t k = 0; k < 3; ++k) CHECK(out.at(1).element_as_double(2 * k + 1) == 10.0 * static_cast<double>(k + 1));
}

TEST_CASE("Scan unrolls over a reversed input, carrying state, stacking along scan_output_axes") {
  TempDir dir;
  onnx::ModelProto m = empty_model({4, 2}, 11);
  onnx::GraphProto* g = m.mutable_graph();
  add_float_initializer(g, "zero", {2}, {0, 0});
  onnx::GraphProto body;
  body.set_name("body");
  add_tensor_value(body.mutable_input(), "s", {2});
  add_tensor_value(body.mutable_input(), "row", {2});
  add_node(&body, "Add", "sum", {"s", "row"}, "s_out");
  add_node(&body, "Identity", "record", {"s_out"}, "partial");
  add_tensor_value(body.mutable_output(), "s_out", {2});
  add_tensor_value(body.mutable_output(), "partial", {2});
  onnx::NodeProto* scan = add_node(g, "Scan", "scan", {"zero", "X"}, std::vector<std::string>{"total", "partials"});
  set_graph(scan, "body", body);
  set_attr(scan, "num_scan_inputs", int64_t{1});
  set_ints(scan, "scan_input_directions", {1});
  set_ints(scan, "scan_output_axes", {1});
  add_tensor_value(g->mutable_output(), "total", {2});
  add_tensor_value(g->mutable_output(), "partials", {2, 4});
  Tensor x(TensorType{{4, 2}, DType::float32});
  for (size_t i = 0; i < 8; ++i) x.set_element(i, static_cast<double>(i));  // rows [0,1] [2,3] [4,5] [6,7]
  const std::vector<Tensor> out = run(save(m, dir.path() / "scan.onnx"), {x});
  CHECK(out.at(0).element_as_double(0) == 12.0);
  CHECK(out.at(0).element_as_double(1) == 16.0);
  REQUIRE(out.at(1).type() == TensorType{{2, 4}, DType::float32});
  // Column k: the sum of the last k + 1 rows (the scan starts at row 3).
  const std::vector<double> first = {6, 10, 12, 12};
  for (size_t k = 0; k < 4; ++k) CHECK(out.at(1).element_as_double(k) == first[k]);
}

}  // namespace
}  // namespace modelc::lang
