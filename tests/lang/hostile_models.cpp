#include "tests/lang/hostile_models.h"

#include <fstream>
#include <limits>
#include <stdexcept>

#include <onnx/onnx_pb.h>

#include "tests/lang/onnx_test_model.h"

namespace modelc::lang::testing {
namespace {

constexpr int64_t kTwoTo32 = int64_t{1} << 32;

// A graph output of `rank` symbolic dimensions: ONNX shape inference fills in
// the sizes, and declared sizes could only disagree with it.
void add_output(onnx::GraphProto* g, const std::string& name, int rank, int32_t elem_type = onnx::TensorProto::FLOAT) {
  onnx::ValueInfoProto* v = g->add_output();
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(elem_type);
  t->mutable_shape();
  for (int d = 0; d < rank; ++d) t->mutable_shape()->add_dim()->set_dim_param(name + "_" + std::to_string(d));
}

onnx::TensorProto int64_tensor(const std::vector<int64_t>& dims, const std::vector<int64_t>& values) {
  onnx::TensorProto t;
  t.set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : dims) t.add_dims(d);
  for (int64_t v : values) t.add_int64_data(v);
  return t;
}

// A Constant node named `name` whose output is `name` too.
void add_constant(onnx::GraphProto* g, const std::string& name, const onnx::TensorProto& value) {
  onnx::NodeProto* n = add_node(g, "Constant", name, {}, name);
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  *a->mutable_t() = value;
}

void add_int_constant(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& values, bool scalar = false) {
  add_constant(g, name, int64_tensor(scalar ? std::vector<int64_t>{} : std::vector<int64_t>{static_cast<int64_t>(values.size())}, values));
}

// An initializer of `dims` whose raw data is `raw_bytes` long, whatever the dims say.
void add_raw_initializer(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims, size_t raw_bytes) {
  onnx::TensorProto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(std::string(raw_bytes, '\0'));
}

void set_ints_attr(onnx::NodeProto* node, const std::string& name, const std::vector<int64_t>& values) {
  onnx::AttributeProto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a->add_ints(v);
}

void set_graph_attr(onnx::NodeProto* node, const std::string& name, onnx::GraphProto graph) {
  onnx::AttributeProto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::GRAPH);
  *a->mutable_g() = std::move(graph);
}

std::string serialize(const onnx::ModelProto& m) {
  std::string bytes;
  if (!m.SerializeToString(&bytes)) throw std::runtime_error("cannot serialize a hostile model");
  return bytes;
}

// A model with input X of `dims` and output Y = op(X, more inputs...).
onnx::ModelProto unary_model(const std::vector<int64_t>& dims, int32_t elem_type = onnx::TensorProto::FLOAT) {
  onnx::ModelProto m = empty_model({}, 13);
  m.mutable_graph()->clear_input();
  add_tensor_value(m.mutable_graph()->mutable_input(), "X", dims, "", elem_type);
  return m;
}

HostileModel huge_initializer() {
  onnx::ModelProto m = unary_model({1});
  add_raw_initializer(m.mutable_graph(), "W", {100000, 100000, 100000}, 16);
  add_node(m.mutable_graph(), "Identity", "keep", {"W"}, "Y");
  add_output(m.mutable_graph(), "Y", 3);
  return {"initializer_huge", serialize(m), 0,
          {"initializer 'W' Tensor[(100000, 100000, 100000), float32] is too big: 1000000000000000 elements",
           "model.limits.max_tensor_elements"}};
}

HostileModel initializer_wrapping_to_zero() {
  onnx::ModelProto m = unary_model({1});
  add_raw_initializer(m.mutable_graph(), "W", {kTwoTo32, kTwoTo32}, 0);  // 2^64 elements: 0 in int64
  add_node(m.mutable_graph(), "Identity", "keep", {"W"}, "Y");
  add_output(m.mutable_graph(), "Y", 2);
  return {"initializer_wraps_to_zero", serialize(m), 0,
          {"initializer 'W' Tensor[(4294967296, 4294967296), float32] is too big: more than 2^63 elements"}};
}

HostileModel short_raw_data() {
  onnx::ModelProto m = unary_model({1});
  add_raw_initializer(m.mutable_graph(), "W", {4, 4}, 8);
  add_node(m.mutable_graph(), "Identity", "keep", {"W"}, "Y");
  add_output(m.mutable_graph(), "Y", 2);
  return {"initializer_short_raw_data", serialize(m), 0,
          {"initializer 'W' has 8 bytes of data, Tensor[(4, 4), float32] needs 64"}};
}

// An int64 shape whose raw data is not a whole number of elements: libonnx
// 1.12's shape inference read past its end (found by the ONNX fuzzer).
HostileModel ragged_raw_data() {
  onnx::ModelProto m = unary_model({2, 2});
  onnx::TensorProto* t = m.mutable_graph()->add_initializer();
  t->set_name("shape");
  t->set_data_type(onnx::TensorProto::INT64);
  t->add_dims(2);
  t->set_raw_data(std::string(12, '\x01'));
  add_node(m.mutable_graph(), "Reshape", "reshape", {"X", "shape"}, "Y");
  add_output(m.mutable_graph(), "Y", 2);
  return {"initializer_ragged_raw_data", serialize(m), 0,
          {"initializer 'shape' has 12 bytes of data, Tensor[(2), int64] needs 16"}};
}

HostileModel negative_dims() {
  onnx::ModelProto m = unary_model({1});
  add_raw_initializer(m.mutable_graph(), "W", {-3, 4}, 48);
  add_node(m.mutable_graph(), "Identity", "keep", {"W"}, "Y");
  add_output(m.mutable_graph(), "Y", 2);
  return {"initializer_negative_dims", serialize(m), 0, {"'W'", "negative"}};
}

HostileModel huge_input() {
  onnx::ModelProto m = unary_model({100000, 100000, 100000});
  add_node(m.mutable_graph(), "Relu", "relu", {"X"}, "Y");
  add_output(m.mutable_graph(), "Y", 3);
  return {"input_huge", serialize(m), 0, {"input 'X' Tensor[(100000, 100000, 100000), float32] is too big"}};
}

HostileModel huge_constant() {
  onnx::ModelProto m = unary_model({1});
  onnx::TensorProto value;
  value.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : {100000, 100000, 100000}) value.add_dims(d);
  value.set_raw_data(std::string(16, '\0'));
  add_constant(m.mutable_graph(), "big", value);
  add_node(m.mutable_graph(), "Add", "add", {"X", "big"}, "Y");
  add_output(m.mutable_graph(), "Y", 3);
  return {"constant_huge", serialize(m), 0, {"ONNX node 'big' (Constant)", "is too big", "max_tensor_elements"}};
}

HostileModel constant_of_shape(const std::string& name, const std::vector<int64_t>& shape, std::vector<std::string> expected) {
  onnx::ModelProto m = unary_model({1});
  add_int_constant(m.mutable_graph(), "shape", shape);
  add_node(m.mutable_graph(), "ConstantOfShape", "fill", {"shape"}, "Y");
  add_output(m.mutable_graph(), "Y", static_cast<int>(shape.size()));
  return {name, serialize(m), 0, std::move(expected)};
}

HostileModel range(const std::string& name, int64_t limit, int64_t delta, std::vector<std::string> expected) {
  onnx::ModelProto m = unary_model({1});
  add_int_constant(m.mutable_graph(), "start", {0}, true);
  add_int_constant(m.mutable_graph(), "limit", {limit}, true);
  add_int_constant(m.mutable_graph(), "delta", {delta}, true);
  add_node(m.mutable_graph(), "Range", "range", {"start", "limit", "delta"}, "Y");
  add_output(m.mutable_graph(), "Y", 1, onnx::TensorProto::INT64);
  return {name, serialize(m), 0, std::move(expected)};
}

// X (of `dims`) tiled by a constant `repeats`; with `constant_input`, X is an
// initializer, so the Tile is folded at import.
HostileModel tile(const std::string& name, const std::vector<int64_t>& dims, const std::vector<int64_t>& repeats,
                  bool constant_input, std::vector<std::string> expected) {
  onnx::ModelProto m = unary_model({1});
  onnx::GraphProto* g = m.mutable_graph();
  std::string x = "X";
  if (constant_input) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    add_float_initializer(g, "C", dims, std::vector<float>(static_cast<size_t>(n), 1.f));
    x = "C";
  } else {
    g->clear_input();
    add_tensor_value(g->mutable_input(), "X", dims);
  }
  add_int_constant(g, "repeats", repeats);
  add_node(g, "Tile", "tile", {x, "repeats"}, "Y");
  add_output(g, "Y", static_cast<int>(dims.size()));
  return {name, serialize(m), 0, std::move(expected)};
}

HostileModel expand_huge() {
  onnx::ModelProto m = unary_model({1, 1});
  add_int_constant(m.mutable_graph(), "shape", {1000000, 1000000});
  add_node(m.mutable_graph(), "Expand", "expand", {"X", "shape"}, "Y");
  add_output(m.mutable_graph(), "Y", 2);
  return {"expand_huge", serialize(m), 0, {"ONNX node 'expand' (Expand)", "is too big", "1000000000000 elements"}};
}

HostileModel reshape_wrapping_to_zero() {
  onnx::ModelProto m = unary_model({0});
  add_int_constant(m.mutable_graph(), "shape", {0, kTwoTo32, kTwoTo32});  // the 0 copies X's 0
  add_node(m.mutable_graph(), "Reshape", "reshape", {"X", "shape"}, "Y");
  add_output(m.mutable_graph(), "Y", 3);
  return {"reshape_wraps_to_zero", serialize(m), 0, {"ONNX node 'reshape' (Reshape)", "more than 2^63"}};
}

HostileModel one_hot_huge_depth() {
  onnx::ModelProto m = unary_model({2}, onnx::TensorProto::INT64);
  onnx::GraphProto* g = m.mutable_graph();
  add_int_constant(g, "depth", {int64_t{1} << 40}, true);
  add_float_initializer(g, "values", {2}, {0.f, 1.f});
  add_node(g, "OneHot", "one_hot", {"X", "depth", "values"}, "Y");
  add_output(g, "Y", 2);
  return {"one_hot_huge_depth", serialize(m), 0, {"ONNX node 'one_hot' (OneHot)", "is too big"}};
}

// OneHot with one value where two (off, on) are needed (found by the ONNX fuzzer).
HostileModel one_hot_short_values() {
  onnx::ModelProto m = unary_model({2}, onnx::TensorProto::INT64);
  onnx::GraphProto* g = m.mutable_graph();
  add_int_constant(g, "depth", {4}, true);
  add_float_initializer(g, "values", {1}, {1.f});
  add_node(g, "OneHot", "one_hot", {"X", "depth", "values"}, "Y");
  add_output(g, "Y", 2);
  return {"one_hot_short_values", serialize(m), 0, {"ONNX node 'one_hot' (OneHot)", "expected [off value, on value]"}};
}

// Loops nested `depth` deep, each running `trips` iterations of the next; the
// innermost body calls Relu once.
onnx::GraphProto loop_body(int depth, int64_t trips) {
  onnx::GraphProto body;
  body.set_name("body" + std::to_string(depth));
  add_tensor_value(body.mutable_input(), "i" + std::to_string(depth), {}, "", onnx::TensorProto::INT64);
  add_tensor_value(body.mutable_input(), "c" + std::to_string(depth), {}, "", onnx::TensorProto::BOOL);
  add_tensor_value(body.mutable_input(), "v" + std::to_string(depth), {1});
  const std::string in = "v" + std::to_string(depth), out = "w" + std::to_string(depth);
  add_node(&body, "Identity", "cond" + std::to_string(depth), {"c" + std::to_string(depth)}, "d" + std::to_string(depth));
  if (depth == 0) {
    add_node(&body, "Relu", "relu", {in}, out);
  } else {
    onnx::NodeProto* loop = add_node(&body, "Loop", "loop" + std::to_string(depth - 1), {"M", "", in}, out);
    set_graph_attr(loop, "body", loop_body(depth - 1, trips));
  }
  add_output(&body, "d" + std::to_string(depth), 0, onnx::TensorProto::BOOL);
  add_output(&body, out, 1);
  return body;
}

HostileModel nested_loops() {
  constexpr int64_t kTrips = 4096;
  onnx::ModelProto m = unary_model({1});
  onnx::GraphProto* g = m.mutable_graph();
  add_int_initializer(g, "M", {}, {kTrips});
  onnx::NodeProto* loop = add_node(g, "Loop", "outer", {"M", "", "X"}, "Y");
  set_graph_attr(loop, "body", loop_body(2, kTrips));  // 4096^3 Relu calls
  add_output(g, "Y", 1);
  HostileModel h{"loops_nested", serialize(m), 0, {"ONNX node 'outer' (Loop)", "model.limits.max_graph_nodes"}};
  h.limits.max_graph_nodes = 20000;
  h.limits_yaml = "{max_graph_nodes: 20000}";
  return h;
}

// A Loop whose loop-carried value is left out (""): its body's input had no
// value to bind, and the importer read an empty optional (fuzzer finding).
HostileModel loop_carried_value_left_out() {
  onnx::ModelProto m = unary_model({1});
  onnx::GraphProto* g = m.mutable_graph();
  add_int_initializer(g, "M", {}, {2});
  onnx::NodeProto* loop = add_node(g, "Loop", "outer", {"M", "", ""}, "Y");
  set_graph_attr(loop, "body", loop_body(0, 2));
  add_output(g, "Y", 1);
  return {"loop_carried_value_left_out", serialize(m), 0, {"ONNX node 'outer' (Loop)"}};
}

HostileModel deeply_nested_ifs() {
  onnx::ModelProto m = unary_model({1});
  add_int_initializer(m.mutable_graph(), "cond", {}, {1}, onnx::TensorProto::BOOL);
  onnx::GraphProto leaf;
  leaf.set_name("leaf");
  add_node(&leaf, "Identity", "leaf", {"X"}, "Z0");
  add_output(&leaf, "Z0", 1);
  onnx::GraphProto inner = leaf;
  for (int level = 1; level <= 200; ++level) {  // the then branches nest; each else branch is a leaf
    onnx::GraphProto outer;
    outer.set_name("level" + std::to_string(level));
    onnx::NodeProto* node = add_node(&outer, "If", "if" + std::to_string(level), {"cond"}, "Z" + std::to_string(level));
    set_graph_attr(node, "then_branch", std::move(inner));
    set_graph_attr(node, "else_branch", leaf);
    add_output(&outer, "Z" + std::to_string(level), 1);
    inner = std::move(outer);
  }
  onnx::NodeProto* node = add_node(m.mutable_graph(), "If", "top", {"cond"}, "Y");
  set_graph_attr(node, "then_branch", std::move(inner));
  set_graph_attr(node, "else_branch", leaf);
  add_output(m.mutable_graph(), "Y", 1);
  return {"ifs_nested_200_deep", serialize(m), 0, {"does not parse", "nests subgraphs deeper than protobuf's limit"}};
}

HostileModel constants_over_model_bytes() {
  onnx::ModelProto m = unary_model({256, 256});
  onnx::GraphProto* g = m.mutable_graph();
  add_float_initializer(g, "A", {256, 256}, std::vector<float>(256 * 256, 1.f));
  add_float_initializer(g, "B", {256, 256}, std::vector<float>(256 * 256, 2.f));
  add_node(g, "Add", "a", {"X", "A"}, "T");
  add_node(g, "Add", "b", {"T", "B"}, "Y");
  add_output(g, "Y", 2);
  HostileModel h{"constants_over_model_bytes", serialize(m), 0,
                 {"brings the model's constants to 524288 bytes, over the limit of 400000 (model.limits.max_model_bytes)"}};
  h.limits.max_model_bytes = 400000;
  h.limits_yaml = "{max_model_bytes: 400000}";
  return h;
}

HostileModel split_into_millions() {
  onnx::ModelProto m = unary_model({2000000});
  onnx::GraphProto* g = m.mutable_graph();
  add_node(g, "SplitToSequence", "split", {"X"}, "S");
  onnx::NodeProto* concat = add_node(g, "ConcatFromSequence", "concat", {"S"}, "Y");
  set_attr(concat, "axis", int64_t{0});
  add_output(g, "Y", 1);
  return {"split_to_sequence_2m", serialize(m), 0,
          {"ONNX node 'split' (SplitToSequence)", "splitting into 2000000 parts", "max_graph_nodes"}};
}

}  // namespace

// A Conv whose weight has more dimensions than its input: libonnx 1.12's
// convPoolShapeInference read dilations and input dimensions past their ends
// and crashed (found by the ONNX fuzzer in CI), so modelc no longer runs ONNX
// shape inference; its own type inference must refuse the node.
HostileModel conv_weight_rank_above_input() {
  onnx::ModelProto m = unary_model({1, 1, 8, 8});
  add_raw_initializer(m.mutable_graph(), "W", {1, 1, 3, 3, 3, 3, 3, 3}, 4 * 729);
  add_node(m.mutable_graph(), "Conv", "conv", {"X", "W"}, "Y");
  add_output(m.mutable_graph(), "Y", 4);
  return {"conv_weight_rank_above_input", serialize(m), 0, {"ONNX node 'conv' (Conv)"}};
}

// Attributes and shapes that libonnx's shape inference used to refuse before
// the converters saw them (found by the ONNX fuzzer once it no longer ran):
// each converter checks what it indexes or multiplies.
HostileModel conv_transpose_short_strides() {
  onnx::ModelProto m = unary_model({1, 1, 4, 4});
  add_raw_initializer(m.mutable_graph(), "W", {1, 1, 3, 3}, 36);
  set_ints_attr(add_node(m.mutable_graph(), "ConvTranspose", "up", {"X", "W"}, "Y"), "strides", {2});
  add_output(m.mutable_graph(), "Y", 4);
  return {"conv_transpose_short_strides", serialize(m), 0,
          {"ONNX node 'up' (ConvTranspose)", "strides has 1 values, 2 expected for a 2-D window"}};
}

HostileModel conv_huge_dilation() {
  onnx::ModelProto m = unary_model({1, 1, 4, 4});
  add_raw_initializer(m.mutable_graph(), "W", {1, 1, 3, 3}, 36);
  set_ints_attr(add_node(m.mutable_graph(), "Conv", "conv", {"X", "W"}, "Y"), "dilations", {int64_t{1} << 62, 1});
  add_output(m.mutable_graph(), "Y", 4);
  return {"conv_huge_dilation", serialize(m), 0, {"ONNX node 'conv' (Conv)", "dilations holds 4611686018427387904, outside [1, 2^30]"}};
}

HostileModel instance_norm_rank_one() {
  onnx::ModelProto m = unary_model({3});
  add_raw_initializer(m.mutable_graph(), "S", {3}, 12);
  add_raw_initializer(m.mutable_graph(), "B", {3}, 12);
  add_node(m.mutable_graph(), "InstanceNormalization", "norm", {"X", "S", "B"}, "Y");
  add_output(m.mutable_graph(), "Y", 1);
  return {"instance_norm_rank_one", serialize(m), 0,
          {"ONNX node 'norm' (InstanceNormalization)", "expects an input of shape [N, C, D1, ...], found Tensor[(3), float32]"}};
}

HostileModel depth_to_space_zero_block() {
  onnx::ModelProto m = unary_model({1, 4, 2, 2});
  onnx::NodeProto* n = add_node(m.mutable_graph(), "DepthToSpace", "d2s", {"X"}, "Y");
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name("blocksize");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(0);
  add_output(m.mutable_graph(), "Y", 4);
  return {"depth_to_space_zero_block", serialize(m), 0, {"ONNX node 'd2s' (DepthToSpace)", "blocksize 0 is not in [1, 65536]"}};
}

HostileModel argmax_empty_axis() {
  onnx::ModelProto m = unary_model({0, 4});
  add_node(m.mutable_graph(), "ArgMax", "argmax", {"X"}, "Y");
  add_output(m.mutable_graph(), "Y", 2, onnx::TensorProto::INT64);
  return {"argmax_empty_axis", serialize(m), 0, {"ONNX node 'argmax' (ArgMax)", "axis 0 of Tensor[(0, 4), float32] is empty"}};
}

HostileModel gru_huge_hidden_size() {
  onnx::ModelProto m = unary_model({2, 1, 4});
  add_raw_initializer(m.mutable_graph(), "W", {1, 6, 4}, 96);
  add_raw_initializer(m.mutable_graph(), "R", {1, 6, 2}, 48);
  onnx::NodeProto* n = add_node(m.mutable_graph(), "GRU", "gru", {"X", "W", "R"}, "Y");
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name("hidden_size");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(std::numeric_limits<int64_t>::max());
  add_output(m.mutable_graph(), "Y", 4);
  return {"gru_huge_hidden_size", serialize(m), 0, {"ONNX node 'gru' (GRU)", "does not fit hidden_size 9223372036854775807"}};
}

// A sequence of a 2-D and a 1-D tensor concatenated along a new axis 2:
// the converter took the rank of the first and wrote past the second's shape.
HostileModel concat_from_sequence_mixed_ranks() {
  onnx::ModelProto m = unary_model({2, 2});
  add_raw_initializer(m.mutable_graph(), "B", {2}, 8);
  add_node(m.mutable_graph(), "SequenceConstruct", "seq", {"X", "B"}, "S");
  onnx::NodeProto* n = add_node(m.mutable_graph(), "ConcatFromSequence", "concat", {"S"}, "Y");
  for (const auto& [name, value] : {std::pair{"axis", 2}, {"new_axis", 1}}) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(value);
  }
  add_output(m.mutable_graph(), "Y", 3);
  return {"concat_from_sequence_mixed_ranks", serialize(m), 0,
          {"ONNX node 'concat' (ConcatFromSequence)", "tensors of different ranks do not concatenate"}};
}

// A Loop whose body's condition is an empty tensor (found by the ONNX fuzzer:
// the importer read its first element).
HostileModel loop_condition_empty() {
  onnx::ModelProto m = unary_model({1});
  onnx::GraphProto* g = m.mutable_graph();
  add_int_initializer(g, "M", {}, {2});
  onnx::GraphProto body;
  body.set_name("body");
  add_tensor_value(body.mutable_input(), "i", {}, "", onnx::TensorProto::INT64);
  add_tensor_value(body.mutable_input(), "c", {}, "", onnx::TensorProto::BOOL);
  add_tensor_value(body.mutable_input(), "v", {1});
  add_int_initializer(&body, "d", {0}, {}, onnx::TensorProto::BOOL);
  add_node(&body, "Relu", "relu", {"v"}, "w");
  add_output(&body, "d", 1, onnx::TensorProto::BOOL);
  add_output(&body, "w", 1);
  onnx::NodeProto* loop = add_node(g, "Loop", "outer", {"M", "", "X"}, "Y");
  set_graph_attr(loop, "body", std::move(body));
  add_output(g, "Y", 1);
  return {"loop_condition_empty", serialize(m), 0, {"ONNX node 'outer' (Loop)", "expected one boolean value"}};
}

// Split sizes that overflow when added up (found by the ONNX fuzzer).
HostileModel split_sizes_overflow() {
  onnx::ModelProto m = unary_model({4});
  onnx::GraphProto* g = m.mutable_graph();
  add_int_initializer(g, "sizes", {2}, {INT64_MIN, INT64_MIN});
  onnx::NodeProto* split = add_node(g, "Split", "split", {"X", "sizes"}, "Y");
  split->add_output("Z");
  add_output(g, "Y", 1);
  return {"split_sizes_overflow", serialize(m), 0, {"ONNX node 'split' (Split)", "is outside axis 0"}};
}

std::vector<HostileModel> hostile_models() {
  return {
      huge_initializer(),
      initializer_wrapping_to_zero(),
      short_raw_data(),
      ragged_raw_data(),
      negative_dims(),
      huge_input(),
      huge_constant(),
      constant_of_shape("constant_of_shape_huge", {100000, 100000, 100000},
                        {"ONNX node 'fill' (ConstantOfShape)", "is too big: 1000000000000000 elements"}),
      constant_of_shape("constant_of_shape_wraps_to_zero", {kTwoTo32, kTwoTo32},
                        {"ONNX node 'fill' (ConstantOfShape)", "is too big: more than 2^63 elements"}),
      range("range_huge", int64_t{1} << 40, 1, {"ONNX node 'range' (Range)", "1.09951e+12 elements, over the limit"}),
      range("range_zero_delta", 10, 0, {"ONNX node 'range' (Range)", "over the limit"}),
      tile("tile_huge", {1, 4}, {1000000, 1000000}, false, {"ONNX node 'tile' (Tile)", "is too big"}),
      tile("tile_overflows", {4, 4}, {int64_t{1} << 62, 1}, false, {"ONNX node 'tile' (Tile)", "2^63"}),
      tile("tile_folded_huge", {2, 2}, {100000, 100000}, true, {"ONNX node 'tile' (Tile)", "is too big"}),
      expand_huge(),
      reshape_wrapping_to_zero(),
      one_hot_huge_depth(),
      one_hot_short_values(),
      nested_loops(),
      deeply_nested_ifs(),
      constants_over_model_bytes(),
      split_into_millions(),
      conv_weight_rank_above_input(),
      conv_transpose_short_strides(),
      conv_huge_dilation(),
      instance_norm_rank_one(),
      depth_to_space_zero_block(),
      argmax_empty_axis(),
      gru_huge_hidden_size(),
      concat_from_sequence_mixed_ranks(),
      loop_carried_value_left_out(),
      split_sizes_overflow(),
      loop_condition_empty(),
      {"file_over_2gib", "", (uint64_t{1} << 31) + 16, {"file is 2147483664 bytes; protobuf reads files of at most 2147483647 bytes"}},
  };
}

std::filesystem::path write_hostile_model(const HostileModel& model, const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / (model.name + ".onnx");
  if (model.sparse_size > 0) {
    std::ofstream(path, std::ios::binary).put('\0');
    std::filesystem::resize_file(path, model.sparse_size);  // a hole: no disk blocks, nothing written
    return path;
  }
  std::ofstream(path, std::ios::binary) << model.bytes;
  return path;
}

}  // namespace modelc::lang::testing
