// Internal to the ONNX frontend: what a node converter sees (its node, its
// inputs as IR values, the builder) and the table of converters, one per ONNX
// op type (lang/frontends/onnx_ops.cpp).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "lang/frontends/graph_builder.h"
#include "spec/model_limits.h"

namespace modelc::lang::frontends {

// The IR dtype of an ONNX element type (TensorProto::DataType); DOUBLE maps
// to float32, since the IR has no float64. nullopt for types the IR lacks.
std::optional<DType> dtype_of_onnx(int32_t data_type);

// Converts a TensorProto (initializer or Constant attribute) to a tensor;
// throws modelc::Error naming `what` for external data, unsupported types, a
// size over `limits` (checked before allocating) or data that does not match
// the dims.
Tensor tensor_from_onnx(const onnx::TensorProto& proto, const std::string& what, const spec::ModelLimits& limits);

// Checks what every reader of a TensorProto relies on, without reading its
// data: dims within `limits` (for the IR's dtypes) and raw data exactly as
// long as the dims and type say. Throws modelc::Error naming `what`.
void check_tensor_proto(const onnx::TensorProto& proto, const std::string& what, const spec::ModelLimits& limits);

// Reads `file` and parses it into `message`; false when the bytes do not
// parse. Throws modelc::Error naming the file (and `what`, e.g. "the ONNX
// model") when it cannot be read, is empty, or is too big for protobuf (2 GiB).
bool parse_protobuf_file(const std::filesystem::path& file, google::protobuf::MessageLite& message, const std::string& what);

// The model's opset of the default ONNX domain (0 when it imports none).
int default_opset(const onnx::ModelProto& model);

class NodeContext {
 public:
  NodeContext(GraphBuilder& builder, const onnx::NodeProto& node, int opset, std::vector<std::optional<ValueRef>> inputs);

  const onnx::NodeProto& node() const { return node_; }
  int opset() const { return opset_; }
  const std::string& origin() const { return origin_; }

  bool has_input(size_t i) const { return i < inputs_.size() && inputs_[i].has_value(); }
  size_t input_count() const { return inputs_.size(); }
  // Input i; throws when the node does not have it.
  ValueRef input(size_t i) const;
  TensorType type(const ValueRef& value) const { return builder_.type_of(value); }
  bool is_constant(const ValueRef& value) const { return builder_.constant_value(value).has_value(); }
  std::optional<Tensor> constant_value(const ValueRef& value) const { return builder_.constant_value(value); }
  // Input i's data; throws when it is not a constant (computed at import time).
  Tensor constant_input(size_t i, const char* what) const;
  std::vector<int64_t> constant_ints(size_t i, const char* what) const;
  // Input i's one value (a scalar or a one-element tensor); throws when it is
  // not a constant or does not hold exactly one value.
  int64_t constant_int(size_t i, const char* what) const;
  double constant_number(size_t i, const char* what) const;

  bool has_attr(const std::string& name) const { return find_attr(name) != nullptr; }
  int64_t attr_int(const std::string& name, int64_t fallback) const;
  double attr_float(const std::string& name, double fallback) const;
  std::string attr_string(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> attr_ints(const std::string& name, std::vector<int64_t> fallback) const;
  const onnx::AttributeProto* find_attr(const std::string& name) const;

  // Emits an op call for this node; a folded result is named after the node's first output.
  ValueRef call(std::string_view op, std::vector<ValueRef> args, AttrsPtr attrs = nullptr);
  ValueRef add_constant(Tensor value);
  // A zero-filled tensor of `type` for the converter to fill, once the type
  // is checked against the model's limits: a size read from the file must
  // never reach an allocation unchecked.
  Tensor make_tensor(TensorType type) const;
  const spec::ModelLimits& limits() const { return builder_.limits(); }
  // Before unrolling or splitting into `more` nodes (GraphBuilder::check_node_count).
  void check_node_count(int64_t more, std::string_view what) const { builder_.check_node_count(more, what); }
  ValueRef scalar(float value);

 private:
  GraphBuilder& builder_;
  const onnx::NodeProto& node_;
  int opset_;
  std::string origin_;
  std::vector<std::optional<ValueRef>> inputs_;
};

// Attribute builders the converters share (onnx_node.cpp).
AttrsPtr reshape_to(std::vector<int64_t> shape);
AttrsPtr transpose_by(std::vector<int64_t> axes);
AttrsPtr along_axis(int64_t axis);
// Elements [begin, end) of `value` along `axis` (a strided_slice).
ValueRef slice_along(NodeContext& c, const ValueRef& value, int64_t axis, int64_t begin, int64_t end);

// Converters of window ops (onnx_window_ops.cpp).
std::vector<ValueRef> convert_conv(NodeContext& c);
std::vector<ValueRef> convert_pool(NodeContext& c, bool max);
std::vector<ValueRef> convert_conv_transpose(NodeContext& c);
// Strides, dilations and padding (ONNX order: all begins, then all ends) of a
// Conv-like node over input `x` and weight `w`.
struct ConvGeometry {
  std::vector<int64_t> strides, dilations, pads;
};
ConvGeometry conv_geometry(const NodeContext& c, const TensorType& x, const TensorType& w);

// Returns one IR value per ONNX output it supports (a prefix of the node's outputs).
using NodeConverter = std::function<std::vector<ValueRef>(NodeContext&)>;
const std::map<std::string, NodeConverter, std::less<>>& onnx_converters();
// QuantizeLinear, DequantizeLinear, QLinearConv, QLinearMatMul, ConvInteger,
// MatMulInteger (onnx_qnn.cpp), added to the converter table.
void add_onnx_qnn_converters(std::map<std::string, NodeConverter, std::less<>>& table);
// BatchNormalization, LayerNormalization, InstanceNormalization and
// MeanVarianceNormalization (onnx_norm_ops.cpp), added to the converter table.
void add_onnx_normalization_converters(std::map<std::string, NodeConverter, std::less<>>& table);
// GlobalAveragePool / GlobalMaxPool (onnx_window_ops.cpp).
NodeConverter global_pool(bool max);

// Ops on string tensors, computed at import time (onnx_string_ops.cpp).
std::vector<ValueRef> convert_string_normalizer(NodeContext& c);
// Cast to or from strings of a known input; nullopt when neither side is a string.
std::optional<ValueRef> cast_strings(NodeContext& c, DType to);

// Compress with a constant condition; Hann, Hamming and Blackman windows (onnx_select_ops.cpp).
std::vector<ValueRef> convert_compress(NodeContext& c);
NodeConverter window_function(const char* op);

// Einsum as transposes, sums and batch_matmul (onnx_einsum.cpp).
std::vector<ValueRef> convert_einsum(NodeContext& c);

// GatherND, ScatterND, and ScatterElements, which also converts Scatter (onnx_index_ops.cpp).
std::vector<ValueRef> convert_gather_nd(NodeContext& c);
std::vector<ValueRef> convert_scatter_nd(NodeContext& c);
std::vector<ValueRef> convert_scatter_elements(NodeContext& c);

// RNN, GRU and LSTM unrolled over the sequence (onnx_rnn_ops.cpp); op is the ONNX op type.
NodeConverter recurrent(const char* op);

// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (onnx_loss_ops.cpp).
std::vector<ValueRef> convert_nll_loss(NodeContext& c);
std::vector<ValueRef> convert_softmax_cross_entropy(NodeContext& c);

// ONNX seq(tensor) values, resolved at import time: the IR values of the
// elements (onnx_sequence_ops.cpp). A sequence op's node makes either a tensor
// or a sequence; its sequence inputs arrive in `sequences` (nullptr at tensor
// positions, whose values the NodeContext holds).
using Sequence = std::vector<ValueRef>;
struct SequenceResult {
  std::optional<ValueRef> tensor;
  std::optional<Sequence> sequence;
};
bool is_sequence_op(std::string_view op_type);
std::vector<std::string> sequence_ops();
SequenceResult convert_sequence_op(NodeContext& c, const std::vector<const Sequence*>& sequences);

// If, Loop and Scan (onnx_control_flow.cpp): a branch is chosen by a constant
// condition, loops are unrolled; `run` converts a subgraph given its inputs.
// Inputs and outputs may be tensors or sequences.
using Imported = SequenceResult;
using RunSubgraph = std::function<std::vector<Imported>(const onnx::GraphProto&, const std::vector<Imported>&)>;
bool is_control_flow_op(std::string_view op_type);
std::vector<std::string> control_flow_ops();
std::vector<Imported> convert_control_flow(NodeContext& c, const std::vector<Imported>& inputs, const RunSubgraph& run);

// Gradient (domain ai.onnx.preview.training, onnx_gradient.cpp): d(sum of y)/dx
// for each of the node's xs, differentiating the nodes `before` it (in graph
// order) at import time; `value_of` gives the IR value of a tensor name.
inline constexpr std::string_view kTrainingDomain = "ai.onnx.preview.training";
using ValueOf = std::function<ValueRef(const std::string&)>;
std::vector<ValueRef> convert_gradient(NodeContext& c, const std::vector<const onnx::NodeProto*>& before,
                                       const ValueOf& value_of);

}  // namespace modelc::lang::frontends
