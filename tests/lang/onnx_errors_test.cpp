// ONNX files that must not import, each with the message it must give, and
// small hand-built models for the importer's corner cases (auto_pad, dynamic
// inputs given by the recipe).
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>

#include <onnx/onnx_pb.h>

#include "lang/frontends/onnx.h"
#include "lang/interpreter.h"
#include "lang/pass.h"
#include "support/diagnostic.h"
#include "tests/lang/onnx_test_model.h"
#include "tests/lang/test_util.h"

namespace modelc::lang {
namespace {

using namespace testing;

TEST_CASE("a truncated, empty or non-ONNX file is an error naming the file") {
  TempDir dir;
  SUBCASE("empty") {
    const auto file = write_file(dir.path() / "empty.onnx", "");
    const Error e = import_error(file);
    CHECK(e.diagnostics().at(0).location.file == file.string());
    CHECK(e.diagnostics().at(0).message == "the ONNX model file is empty");
  }
  SUBCASE("text") {
    const auto file = write_file(dir.path() / "notes.onnx", "This is a text file, not a model.\nSecond line.\n");
    const Error e = import_error(file);
    CHECK(e.diagnostics().at(0).location.file == file.string());
    CHECK(std::string(e.what()).find("not a valid ONNX model") != std::string::npos);
  }
  SUBCASE("truncated") {
    const auto shared = testing::shared_models_dir();
    std::string head;
    if (shared) {
      std::ifstream in(*shared / "mlp_784_512_512_10.onnx", std::ios::binary);
      head.resize(100);
      in.read(head.data(), 100);
    } else {
      empty_model({1, 4}).SerializeToString(&head);
      head.resize(head.size() / 2);
    }
    const auto file = write_file(dir.path() / "truncated.onnx", head);
    const Error e = import_error(file);
    CHECK(e.diagnostics().at(0).location.file == file.string());
    CHECK(e.diagnostics().at(0).message ==
          "is not a valid ONNX model: the protobuf data does not parse (the file is truncated or not ONNX, or nests "
          "subgraphs deeper than protobuf's limit of 100 messages)");
  }
  SUBCASE("missing") {
    const Error e = import_error(dir.path() / "nowhere.onnx");
    CHECK(e.diagnostics().at(0).message == "ONNX model not found");
  }
}

TEST_CASE("every unsupported node is reported at once, one diagnostic each") {
  TempDir dir;
  onnx::ModelProto m = empty_model({1, 4});
  onnx::GraphProto* g = m.mutable_graph();
  add_node(g, "LpNormalization", "first", {"X"}, "a");
  add_node(g, "Relu", "fine", {"a"}, "b");
  add_node(g, "LpNormalization", "second", {"b"}, "Y");
  add_tensor_value(g->mutable_output(), "Y", {1, 4});
  const Error e = import_error(save(m, dir.path() / "unsupported.onnx"));
  REQUIRE(e.diagnostics().size() == 2);
  CHECK(e.diagnostics()[0].message == "ONNX LpNormalization (opset 13) at node 'first' is not supported");
  CHECK(e.diagnostics()[1].message == "ONNX LpNormalization (opset 13) at node 'second' is not supported");
}

TEST_CASE("a model the ONNX checker rejects is an error saying so") {
  TempDir dir;
  onnx::ModelProto m = empty_model({1, 4});
  add_node(m.mutable_graph(), "Foo", "custom", {"X"}, "Y");
  add_tensor_value(m.mutable_graph()->mutable_output(), "Y", {1, 4});
  const Error e = import_error(save(m, dir.path() / "foo.onnx"));
  CHECK(e.diagnostics().at(0).message.find("the ONNX checker rejected the model") == 0);
}

TEST_CASE("weights in an external file are refused with a hint") {
  TempDir dir;
  onnx::ModelProto m = empty_model({1, 4});
  onnx::GraphProto* g = m.mutable_graph();
  onnx::TensorProto* w = g->add_initializer();
  w->set_name("W");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(4);
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* location = w->add_external_data();
  location->set_key("location");
  location->set_value("weights.bin");
  write_file(dir.path() / "weights.bin", std::string(16, '\0'));
  add_node(g, "Add", "add", {"X", "W"}, "Y");
  add_tensor_value(g->mutable_output(), "Y", {1, 4});
  const Error e = import_error(save(m, dir.path() / "external.onnx"));
  CAPTURE(std::string(e.what()));
  CHECK(std::string(e.what()).find("initializer 'W' keeps its data in an external file") != std::string::npos);
}

TEST_CASE("recipe input shapes fill dynamic dimensions and must match static ones") {
  TempDir dir;
  onnx::ModelProto m = empty_model({-1, 4});
  add_node(m.mutable_graph(), "Relu", "relu", {"X"}, "Y");
  add_tensor_value(m.mutable_graph()->mutable_output(), "Y", {-1, 4});
  const auto file = save(m, dir.path() / "dynamic.onnx");

  SUBCASE("dynamic without a shape") {
    const Error e = import_error(file);
    CHECK(e.diagnostics().at(0).message == "input 'X' has shape [?, 4] with dynamic dimension 0");
    CHECK(e.diagnostics().at(0).hint == "give its static shape in the recipe's model.inputs");
  }
  SUBCASE("dynamic with a shape") {
    const Module mod = import_onnx(file, {spec::InputSpec{"X", {8, 4}, "float32", "/model/inputs/0"}});
    CHECK(mod.main().params.at(0).type == TensorType{{8, 4}, DType::float32});
    CHECK(mod.main().result_names == std::vector<std::string>{"Y"});
  }
  SUBCASE("static dimension differs") {
    const Error e = import_error(file, {spec::InputSpec{"X", {8, 5}, "float32", "/model/inputs/0"}});
    CHECK(e.diagnostics().at(0).message == "input 'X' has shape [?, 4] in the model, the recipe gives [8, 5]");
    CHECK(e.diagnostics().at(0).pointer == "/model/inputs/0");
  }
  SUBCASE("unknown input name") {
    const Error e = import_error(file, {spec::InputSpec{"x", {8, 4}, "float32", "/model/inputs/0"}});
    CHECK(e.diagnostics().at(0).message == "the model has no input 'x'");
    CHECK(e.diagnostics().at(0).hint == "did you mean 'X'?");
  }
}

TEST_CASE("Conv with auto_pad SAME_UPPER pads from the static shape; Gemm transB=0 transposes the constant weight") {
  TempDir dir;
  onnx::ModelProto m = empty_model({1, 2, 5, 5});
  onnx::GraphProto* g = m.mutable_graph();
  onnx::TensorProto* w = g->add_initializer();
  w->set_name("W");
  w->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : {3, 2, 3, 3}) w->add_dims(d);
  for (int i = 0; i < 54; ++i) w->add_float_data(static_cast<float>(i % 7) * 0.1f);
  onnx::NodeProto* conv = add_node(g, "Conv", "conv", {"X", "W"}, "C");
  auto* pad = conv->add_attribute();
  pad->set_name("auto_pad");
  pad->set_type(onnx::AttributeProto::STRING);
  pad->set_s("SAME_UPPER");
  auto* strides = conv->add_attribute();
  strides->set_name("strides");
  strides->set_type(onnx::AttributeProto::INTS);
  strides->add_ints(2);
  strides->add_ints(2);
  add_node(g, "Flatten", "flatten", {"C"}, "F");
  onnx::TensorProto* b = g->add_initializer();
  b->set_name("B");
  b->set_data_type(onnx::TensorProto::FLOAT);
  b->add_dims(27);
  b->add_dims(2);
  for (int i = 0; i < 54; ++i) b->add_float_data(static_cast<float>(i) * 0.01f);
  add_node(g, "Gemm", "gemm", {"F", "B"}, "Y");
  add_tensor_value(g->mutable_output(), "Y", {1, 2});
  const Module mod = run_passes(import_onnx(save(m, dir.path() / "conv.onnx")), {"InferType"}, PassContext{});
  const Binding& c = mod.main().body.at(0);
  REQUIRE(c.is_op("nn.conv2d"));
  // ceil(5 / 2) = 3 outputs need (3 - 1) * 2 + 3 - 5 = 2 rows of padding, split 1 / 1.
  CHECK(print_attrs(*c.attrs) == "strides=[2, 2], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1, data_layout=\"NCHW\", kernel_layout=\"OIHW\", out_layout=\"NCHW\"");
  CHECK(c.types.at(0) == TensorType{{1, 3, 3, 3}, DType::float32});
  const Binding& dense = mod.main().body.at(2);
  REQUIRE(dense.is_op("nn.dense"));
  CHECK(mod.type_of(mod.main(), dense.args[1]) == TensorType{{2, 27}, DType::float32});
  const Tensor& wt = mod.constant(dense.args[1].constant);
  CHECK(wt.element_as_double(1) == doctest::Approx(0.02));  // W^T[0][1] = B[1][0] = 2 * 0.01
}

// The type rules accept float16/bfloat16 weights beside float32 inputs for
// ReducePrecision's storage; a model that mixes them is refused at import,
// before any pass computes on its weights as float32.
TEST_CASE("a Conv whose weight has another type than its input is refused at import") {
  TempDir dir;
  onnx::ModelProto m = empty_model({1, 4, 5, 5});
  onnx::GraphProto* g = m.mutable_graph();
  onnx::TensorProto* w = g->add_initializer();
  w->set_name("W");
  w->set_data_type(onnx::TensorProto::FLOAT16);
  for (int64_t d : {8, 2, 3, 3}) w->add_dims(d);
  for (int i = 0; i < 144; ++i) w->add_int32_data(0x3c00);  // 1.0
  onnx::NodeProto* conv = add_node(g, "Conv", "conv", {"X", "W"}, "Y");
  set_attr(conv, "group", int64_t{2});
  add_tensor_value(g->mutable_output(), "Y", {1, 8, 3, 3});
  const Error e = import_error(save(m, dir.path() / "mixed.onnx"));
  CHECK(e.diagnostics().at(0).message ==
        "ONNX node 'conv' (Conv): the weight Tensor[(8, 2, 3, 3), float16] and the input Tensor[(1, 4, 5, 5), float32] "
        "have different types; the model must give both one type");
}

// LRN's size is any int64 in the file; a window wider than 2C - 1 channels
// sums the same squares, so the converter pools over 2C - 1 and rescales
// (a size of 2^31 - 1 once made the reference kernels loop for minutes).
TEST_CASE("LRN with a size far above the channel count sums every channel and divides by size") {
  TempDir dir;
  const std::vector<float> x = {0.5f, -1.f, 2.f};
  const double alpha = 1e9, beta = 0.75, bias = 2.0;
  const int64_t size = 1'000'000'001;
  onnx::ModelProto m = empty_model({1, 3, 1, 1});
  onnx::NodeProto* n = add_node(m.mutable_graph(), "LRN", "lrn", {"X"}, "Y");
  set_attr(n, "size", size);
  for (const auto& [name, value] : {std::pair{"alpha", alpha}, {"beta", beta}, {"bias", bias}}) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(static_cast<float>(value));
  }
  add_tensor_value(m.mutable_graph()->mutable_output(), "Y", {1, 3, 1, 1});
  const Module mod = run_passes(import_onnx(save(m, dir.path() / "lrn.onnx")), {"InferType"}, PassContext{});
  Tensor input(TensorType{{1, 3, 1, 1}, DType::float32});
  std::copy(x.begin(), x.end(), input.mutable_values<float>().begin());
  const std::vector<Tensor> out = evaluate_main(mod, std::span<const Tensor>(&input, 1));
  const double squares = 0.25 + 1.0 + 4.0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double expected = x[i] / std::pow(bias + static_cast<double>(static_cast<float>(alpha)) / static_cast<double>(size) * squares, beta);
    CHECK(out.at(0).values<float>()[i] == doctest::Approx(expected).epsilon(1e-5));
  }
}

// The ONNX fuzzer: an Unsqueeze whose axes named one axis twice read the
// input's shape past its end (an assertion in the hardened build, an
// out-of-bounds read otherwise). Axes must be unique.
TEST_CASE("Unsqueeze with a repeated axis is an error naming the axis") {
  TempDir dir;
  for (const int opset : {11, 13}) {
    CAPTURE(opset);
    onnx::ModelProto m = empty_model({3, 4, 5}, opset);
    onnx::NodeProto* n = add_node(m.mutable_graph(), "Unsqueeze", "u", {"X"}, "Y");
    if (opset < 13) {
      auto* a = n->add_attribute();
      a->set_name("axes");
      a->set_type(onnx::AttributeProto::INTS);
      a->add_ints(3);
      a->add_ints(3);
    } else {
      n->add_input("axes");
      add_int_initializer(m.mutable_graph(), "axes", {2}, {3, -2});
    }
    add_tensor_value(m.mutable_graph()->mutable_output(), "Y", {3, 4, 5, 1, 1});
    const Error e = import_error(save(m, dir.path() / ("u" + std::to_string(opset) + ".onnx")));
    CHECK(std::string(e.what()).find("Unsqueeze: axis") != std::string::npos);
    CHECK(std::string(e.what()).find("appears more than once in axes") != std::string::npos);
  }
}

// The ONNX fuzzer: an RNN whose B was a scalar made the importer erase the
// first dimension of an empty shape. Every operand's shape is checked first.
TEST_CASE("RNN operands of the wrong shape are errors naming the operand") {
  TempDir dir;
  const std::vector<std::pair<std::string, std::vector<int64_t>>> cases = {
      {"B", {}}, {"B", {1, 7}}, {"R", {1, 5, 4}}, {"H0", {2, 2, 5}}};
  for (const auto& [name, dims] : cases) {
    CAPTURE(name);
    onnx::ModelProto m = empty_model({3, 2, 4});  // seq 3, batch 2, input 4; hidden 5
    onnx::GraphProto* g = m.mutable_graph();
    add_float_initializer(g, "W", {1, 5, 4}, std::vector<float>(20, 0.1f));
    auto sized = [&](const std::string& n, const std::vector<int64_t>& shape) {
      int64_t count = 1;
      for (int64_t d : shape) count *= d;
      add_float_initializer(g, n, shape, std::vector<float>(static_cast<size_t>(count), 0.1f));
    };
    sized("R", name == "R" ? dims : std::vector<int64_t>{1, 5, 5});
    sized("B", name == "B" ? dims : std::vector<int64_t>{1, 10});
    sized("H0", name == "H0" ? dims : std::vector<int64_t>{1, 2, 5});
    onnx::NodeProto* n = add_node(g, "RNN", "rnn", {"X", "W", "R", "B", "", "H0"}, std::vector<std::string>{"Y", "Y_h"});
    set_attr(n, "hidden_size", int64_t{5});
    add_tensor_value(g->mutable_output(), "Y_h", {1, 2, 5});
    const Error e = import_error(save(m, dir.path() / ("rnn_" + name + ".onnx")));
    const std::string label = name == "H0" ? "initial_h" : name;
    CHECK(std::string(e.what()).find(label + " is Tensor[") != std::string::npos);
    CHECK(std::string(e.what()).find("; expected Tensor[") != std::string::npos);
  }
}

}  // namespace
}  // namespace modelc::lang
