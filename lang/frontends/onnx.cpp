// ONNX import: file -> checked, shape-inferred ModelProto -> IR module.
#include "lang/frontends/onnx.h"

#include <onnx/common/version.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include <onnx/checker.h>

#include "lang/frontends/onnx_node.h"
#include "lang/size_limits.h"
#include "support/checked_math.h"
#include "support/diagnostic.h"
#include "support/file_io.h"
#include "support/spelling.h"

namespace modelc::lang {
namespace fe = frontends;

namespace frontends {

std::optional<DType> dtype_of_onnx(int32_t data_type) {
  switch (data_type) {
    case onnx::TensorProto::FLOAT: return DType::float32;
    case onnx::TensorProto::DOUBLE: return DType::float32;  // the IR has no float64; converted
    case onnx::TensorProto::FLOAT16: return DType::float16;
    case onnx::TensorProto::BFLOAT16: return DType::bfloat16;
    case onnx::TensorProto::INT8: return DType::int8;
    case onnx::TensorProto::UINT8: return DType::uint8;
    case onnx::TensorProto::INT32: return DType::int32;
    case onnx::TensorProto::INT64: return DType::int64;
    case onnx::TensorProto::BOOL: return DType::boolean;
    case onnx::TensorProto::STRING: return DType::string;
    case onnx::TensorProto::INT16: return DType::int16;
    case onnx::TensorProto::UINT16: return DType::uint16;
    case onnx::TensorProto::UINT32: return DType::uint32;
    case onnx::TensorProto::UINT64: return DType::uint64;
    default: return std::nullopt;
  }
}

int default_opset(const onnx::ModelProto& model) {
  for (const onnx::OperatorSetIdProto& id : model.opset_import())
    if (id.domain().empty() || id.domain() == "ai.onnx") return static_cast<int>(id.version());
  return 0;
}

}  // namespace frontends

namespace {

using fe::default_opset;

using frontends::dtype_of_onnx;

std::string onnx_type_name(int32_t data_type) {
  return onnx::TensorProto::DataType_IsValid(data_type)
             ? onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(data_type))
             : "type " + std::to_string(data_type);
}

template <typename Field>
void store_elements(Tensor& t, const Field& field) {
  size_t i = 0;
  for (auto v : field) t.set_element(i++, static_cast<double>(v));
}

// Bytes per element of an ONNX data type in raw_data; 0 for strings and
// types without a fixed size.
size_t onnx_element_bytes(int32_t data_type) {
  switch (data_type) {
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::BOOL: return 1;
    case onnx::TensorProto::UINT16:
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::BFLOAT16: return 2;
    case onnx::TensorProto::FLOAT:
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::UINT32: return 4;
    case onnx::TensorProto::INT64:
    case onnx::TensorProto::UINT64:
    case onnx::TensorProto::DOUBLE:
    case onnx::TensorProto::COMPLEX64: return 8;
    case onnx::TensorProto::COMPLEX128: return 16;
    default: return 0;
  }
}

}  // namespace

namespace frontends {

void check_tensor_proto(const onnx::TensorProto& proto, const std::string& what, const spec::ModelLimits& limits) {
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) return;  // refused where it is read
  const std::vector<int64_t> dims(proto.dims().begin(), proto.dims().end());
  const std::optional<DType> dtype = dtype_of_onnx(proto.data_type());
  // The IR's type where there is one, for its limits and the messages.
  if (dtype) check_tensor_size(TensorType{dims, *dtype}, limits, what);
  const std::string type = dtype ? TensorType{dims, *dtype}.str() : onnx_type_name(proto.data_type()) + " " + shape_str(dims);
  const size_t element_bytes = onnx_element_bytes(proto.data_type());
  if (!proto.has_raw_data() || element_bytes == 0) return;
  const std::optional<int64_t> count = checked_element_count(dims);
  const std::optional<size_t> expected = count ? checked_byte_size(*count, element_bytes) : std::nullopt;
  if (!expected || proto.raw_data().size() != *expected)
    throw Error(what + " has " + std::to_string(proto.raw_data().size()) + " bytes of data, " + type + " needs " +
                (expected ? std::to_string(*expected) : std::string("more than 2^64")));
}

Tensor tensor_from_onnx(const onnx::TensorProto& proto, const std::string& what, const spec::ModelLimits& limits) {
  if (proto.data_location() == onnx::TensorProto::EXTERNAL)
    throw Error(what + " keeps its data in an external file, which is not supported");
  const std::optional<DType> dtype = dtype_of_onnx(proto.data_type());
  if (!dtype) throw Error(what + " has element type " + onnx_type_name(proto.data_type()) + ", which is not supported");
  TensorType type{{proto.dims().begin(), proto.dims().end()}, *dtype};
  // The dims are the file's word: checked, with the data's length, before they size an allocation.
  check_tensor_proto(proto, what, limits);
  const auto count = static_cast<size_t>(type.element_count());
  if (*dtype == DType::string && static_cast<size_t>(proto.string_data_size()) != count)
    throw Error(what + " has " + std::to_string(proto.string_data_size()) + " strings, " + type.str() + " needs " +
                std::to_string(count));
  Tensor t(type);
  if (*dtype == DType::string) {
    for (size_t i = 0; i < count; ++i) t.set_string(i, proto.string_data(static_cast<int>(i)));
    return t;
  }
  const bool is_double = proto.data_type() == onnx::TensorProto::DOUBLE;
  if (proto.has_raw_data()) {
    const std::string& raw = proto.raw_data();  // of the right length: check_tensor_proto
    if (!is_double) {
      // (An empty tensor's bytes are null: memcpy must not be given them, even for 0 bytes.)
      if (!raw.empty()) std::memcpy(t.mutable_bytes().data(), raw.data(), raw.size());
      return t;
    }
    for (size_t i = 0; i < count; ++i) {
      double v;
      std::memcpy(&v, raw.data() + i * 8, 8);
      t.set_element(i, v);
    }
    return t;
  }
  size_t found = 0;
  switch (proto.data_type()) {
    case onnx::TensorProto::FLOAT: found = static_cast<size_t>(proto.float_data_size()); break;
    case onnx::TensorProto::DOUBLE: found = static_cast<size_t>(proto.double_data_size()); break;
    case onnx::TensorProto::INT64: found = static_cast<size_t>(proto.int64_data_size()); break;
    default: found = static_cast<size_t>(proto.int32_data_size()); break;
  }
  if (found != count)
    throw Error(what + " has " + std::to_string(found) + " values, " + type.str() + " needs " + std::to_string(count));
  switch (proto.data_type()) {
    case onnx::TensorProto::FLOAT: store_elements(t, proto.float_data()); break;
    case onnx::TensorProto::DOUBLE: store_elements(t, proto.double_data()); break;
    case onnx::TensorProto::INT64: store_elements(t, proto.int64_data()); break;
    case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::BFLOAT16: {
      // 16-bit floats travel as their bit patterns in int32_data.
      auto bits = t.mutable_values<uint16_t>();
      for (size_t i = 0; i < count; ++i) bits[i] = static_cast<uint16_t>(proto.int32_data(static_cast<int>(i)));
      break;
    }
    default: store_elements(t, proto.int32_data()); break;
  }
  return t;
}

bool parse_protobuf_file(const std::filesystem::path& file, google::protobuf::MessageLite& message, const std::string& what) {
  // protobuf takes sizes as int: a message of 2 GiB or more cannot be read at
  // all, and a larger size cast to int would parse a prefix (or nothing).
  constexpr uintmax_t kLargest = std::numeric_limits<int>::max();
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(file, ec);
  if (!ec && size > kLargest)
    fail({file.string()},
         what + " file is " + std::to_string(size) + " bytes; protobuf reads files of at most " +
             std::to_string(kLargest) + " bytes (2 GiB - 1)",
         "ONNX keeps the weights of models this big in external data files, which modelc does not read yet");
  const ByteBuffer bytes = read_binary_buffer(file);
  if (bytes.empty()) fail({file.string()}, what + " file is empty");
  if (bytes.size() > kLargest) fail({file.string()}, what + " file grew past 2 GiB while it was read");
  return message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

}  // namespace frontends

namespace {

// Reads and parses the file; every way it can fail names the file.
onnx::ModelProto read_model(const std::filesystem::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) throw Error(Diagnostic{Severity::error, {name}, {}, "ONNX model not found", {}});
  onnx::ModelProto model;
  if (!fe::parse_protobuf_file(file, model, "the ONNX model"))
    fail({name},
         "is not a valid ONNX model: the protobuf data does not parse (the file is truncated or not ONNX, or nests "
         "subgraphs deeper than protobuf's limit of 100 messages)",
         "re-export the model, or check that the path names an .onnx file");
  if (model.ir_version() <= 0 || !model.has_graph())
    fail({name}, "is not an ONNX model: it has no " + std::string(model.ir_version() <= 0 ? "ir_version" : "graph"),
         "check that the path names an .onnx file");
  return model;
}

int opset_of(const onnx::ModelProto& model, const std::string& domain) {
  if (domain.empty() || domain == "ai.onnx") return default_opset(model);
  for (const onnx::OperatorSetIdProto& id : model.opset_import())
    if (id.domain() == domain) return static_cast<int>(id.version());
  return 0;
}

std::string node_label(const onnx::NodeProto& node, int index) {
  if (!node.name().empty()) return node.name();
  return node.output_size() > 0 ? node.output(0) : "#" + std::to_string(index);
}

bool is_supported(const onnx::NodeProto& node) {
  const bool default_domain = node.domain().empty() || node.domain() == "ai.onnx";
  if (default_domain)
    return fe::onnx_converters().count(node.op_type()) || fe::is_sequence_op(node.op_type()) ||
           fe::is_control_flow_op(node.op_type());
  return node.domain() == fe::kTrainingDomain && node.op_type() == "Gradient";
}

// Every unsupported node of the graph and of its subgraphs (If branches, Loop and Scan bodies).
void find_unsupported(const onnx::ModelProto& model, const onnx::GraphProto& graph, const std::string& file,
                      std::vector<Diagnostic>& unsupported) {
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto& node = graph.node(i);
    for (const onnx::AttributeProto& a : node.attribute()) {
      if (a.has_g()) find_unsupported(model, a.g(), file, unsupported);
      for (const onnx::GraphProto& g : a.graphs()) find_unsupported(model, g, file, unsupported);
    }
    if (is_supported(node)) continue;
    const bool default_domain = node.domain().empty() || node.domain() == "ai.onnx";
    const std::string op = default_domain ? node.op_type() : node.domain() + "." + node.op_type();
    unsupported.push_back(Diagnostic{Severity::error, {file}, {},
                                     "ONNX " + op + " (opset " + std::to_string(opset_of(model, node.domain())) +
                                         ") at node '" + node_label(node, i) + "' is not supported",
                                     {}});
  }
}

void check_supported(const onnx::ModelProto& model, const std::string& file) {
  std::vector<Diagnostic> unsupported;
  find_unsupported(model, model.graph(), file, unsupported);
  if (!unsupported.empty()) throw Error(unsupported);
}

// Before the checker, which would look for the data file relative to the
// working directory and fail with a confusing message.
void reject_external_data(const onnx::ModelProto& model, const std::string& file) {
  for (const onnx::TensorProto& init : model.graph().initializer())
    if (init.data_location() == onnx::TensorProto::EXTERNAL)
      fail({file}, "initializer '" + init.name() + "' keeps its data in an external file, which is not supported",
           "save the model with its weights inside the .onnx file");
}

// Every tensor of the graph and its subgraphs (initializers, sparse
// initializers, tensor attributes), checked with check_tensor_proto before
// the ONNX checker and shape inference read them: libonnx 1.12's ParseData
// reads past the end of raw data whose length is not a multiple of the
// element size (a heap overflow the ONNX fuzzer found), and trusts dims.
void check_tensors(const onnx::GraphProto& graph, const spec::ModelLimits& limits) {
  for (const onnx::TensorProto& t : graph.initializer()) fe::check_tensor_proto(t, "initializer '" + t.name() + "'", limits);
  for (const onnx::SparseTensorProto& t : graph.sparse_initializer()) {
    fe::check_tensor_proto(t.values(), "the values of sparse initializer '" + t.values().name() + "'", limits);
    fe::check_tensor_proto(t.indices(), "the indices of sparse initializer '" + t.values().name() + "'", limits);
  }
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto& node = graph.node(i);
    for (const onnx::AttributeProto& a : node.attribute()) {
      const std::string what = "attribute '" + a.name() + "' of ONNX node '" + node_label(node, i) + "' (" + node.op_type() + ")";
      if (a.has_t()) fe::check_tensor_proto(a.t(), what, limits);
      for (const onnx::TensorProto& t : a.tensors()) fe::check_tensor_proto(t, what, limits);
      if (a.has_sparse_tensor()) {
        fe::check_tensor_proto(a.sparse_tensor().values(), what, limits);
        fe::check_tensor_proto(a.sparse_tensor().indices(), what, limits);
      }
      if (a.has_g()) check_tensors(a.g(), limits);
      for (const onnx::GraphProto& g : a.graphs()) check_tensors(g, limits);
    }
  }
}

void check_and_infer(onnx::ModelProto& model, const std::string& file, const spec::ModelLimits& limits) {
  reject_external_data(model, file);
  try {
    check_tensors(model.graph(), limits);
  } catch (const Error& e) {
    fail({file}, e.diagnostics().front().message, e.diagnostics().front().hint);
  }
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    fail({file}, std::string("the ONNX checker rejected the model: ") + e.what());
  }
  // No onnx::shape_inference::InferShapes: modelc infers every type itself
  // (the converters and InferType), and libonnx 1.12's inference functions
  // index attribute and shape lists without checking their lengths, e.g.
  // convPoolShapeInference on a Conv weight of higher rank than its input
  // (a crash the ONNX fuzzer found; tests/lang/hostile_models.cpp).
}

std::vector<int64_t> model_shape(const onnx::ValueInfoProto& input) {
  std::vector<int64_t> shape;
  for (const onnx::TensorShapeProto::Dimension& d : input.type().tensor_type().shape().dim())
    shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
  return shape;
}

Error override_error(const spec::InputSpec& spec, std::string message, std::string hint = {}) {
  return Error(Diagnostic{Severity::error, {}, spec.pointer, std::move(message), std::move(hint)});
}

// The type of a graph input: the model's, with dynamic dimensions (and only
// those) taken from the recipe.
TensorType input_type(const onnx::ValueInfoProto& input, const spec::InputSpec* spec, const std::string& file) {
  if (!input.type().has_tensor_type()) {
    const onnx::TypeProto& t = input.type();
    const char* kind = t.has_sequence_type() ? "a sequence" : t.has_optional_type() ? "an optional" : t.has_map_type() ? "a map" : "not a tensor";
    fail({file}, "input '" + input.name() + "' is " + kind + ", which is not supported: compiled models take tensors",
         "make the sequence inside the graph (SequenceConstruct, SplitToSequence) from tensor inputs");
  }
  const int32_t elem = input.type().tensor_type().elem_type();
  // float64 inputs become float32 parameters, as float64 initializers do.
  const std::optional<DType> dtype = dtype_of_onnx(elem);
  if (!dtype) fail({file}, "input '" + input.name() + "' has element type " + onnx_type_name(elem) + ", which is not supported");
  const std::vector<int64_t> shape = model_shape(input);
  if (spec) {
    if (parse_dtype(spec->dtype) != dtype)
      throw override_error(*spec, "input '" + input.name() + "' is " + std::string(dtype_name(*dtype)) +
                                      " in the model, the recipe says " + spec->dtype);
    bool fits = spec->shape.size() == shape.size();
    for (size_t d = 0; fits && d < shape.size(); ++d) fits = shape[d] < 0 || shape[d] == spec->shape[d];
    if (!fits)
      throw override_error(*spec, "input '" + input.name() + "' has shape " + shape_str(shape) +
                                      " in the model, the recipe gives " + shape_str(spec->shape));
    return TensorType{spec->shape, *dtype};
  }
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] < 0)
      fail({file}, "input '" + input.name() + "' has shape " + shape_str(shape) + " with dynamic dimension " +
                       std::to_string(d),
           "give its static shape in the recipe's model.inputs");
  return TensorType{shape, *dtype};
}

class OnnxImporter {
 public:
  OnnxImporter(onnx::ModelProto& model, std::string file, const spec::ModelLimits& limits)
      : model_(model), file_(std::move(file)), builder_(true, limits) {}

  // The top-level graph's tensor names and their values, after run().
  const std::map<std::string, ValueRef>& values() const { return top_.values; }

  Module run(const std::vector<spec::InputSpec>& overrides) {
    add_initializers();
    add_inputs(overrides);
    for (int i = 0; i < model_.graph().node_size(); ++i) convert_node(model_.graph().node(i), i);
    refuse_string_values();
    std::vector<ValueRef> results;
    std::vector<std::string> names;
    for (const onnx::ValueInfoProto& out : model_.graph().output()) {
      if (find_sequence(out.name()))
        fail({file_}, "graph output '" + out.name() + "' is a sequence; modelc compiles models whose outputs are tensors",
             "end the graph with ConcatFromSequence or SequenceAt");
      results.push_back(lookup(out.name(), "graph output"));
      names.push_back(out.name());
    }
    return builder_.finish(std::move(results), std::move(names));
  }

 private:
  void add_initializers() {
    for (const onnx::TensorProto& init : model_.graph().initializer()) {
      try {
        scope_->values[init.name()] = builder_.add_constant(init.name(), fe::tensor_from_onnx(init, "initializer '" + init.name() + "'", builder_.limits()));
      } catch (const Error& e) {
        fail({file_}, e.diagnostics().front().message, e.diagnostics().front().hint);
      }
    }
  }

  void add_inputs(const std::vector<spec::InputSpec>& overrides) {
    std::vector<std::string> names;
    for (const onnx::ValueInfoProto& in : model_.graph().input())
      if (!scope_->values.count(in.name())) names.push_back(in.name());
    for (const spec::InputSpec& spec : overrides)
      if (std::find(names.begin(), names.end(), spec.name) == names.end()) {
        const std::string guess = closest_spelling(spec.name, names);
        throw override_error(spec, "the model has no input '" + spec.name + "'",
                             guess.empty() ? "its inputs: " + join(names) : "did you mean '" + guess + "'?");
      }
    for (const onnx::ValueInfoProto& in : model_.graph().input()) {
      if (scope_->values.count(in.name())) continue;  // an initializer listed as input (IR version < 4)
      const spec::InputSpec* spec = nullptr;
      for (const spec::InputSpec& s : overrides)
        if (s.name == in.name()) spec = &s;
      const TensorType type = input_type(in, spec, file_);
      try {
        scope_->values[in.name()] = builder_.add_param(in.name(), type);
      } catch (const Error& e) {
        if (spec) throw override_error(*spec, e.diagnostics().front().message, e.diagnostics().front().hint);
        throw Error(Diagnostic{Severity::error, {file_}, {}, e.diagnostics().front().message, e.diagnostics().front().hint});
      }
    }
  }

  // String tensors exist only as import-time constants: a string input, or a
  // string value computed from inputs, cannot be compiled.
  void refuse_string_values() const {
    const Function& main = builder_.main();
    for (const Param& p : main.params)
      if (p.type.dtype == DType::string)
        fail({file_}, "input '" + p.name + "' holds strings, which compiled models cannot take: its value ('" + p.name +
                          "') must be known at import time",
             "string ops (StringNormalizer, Cast) run at import time on known strings only");
  }

  static std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
    return out;
  }

  const ValueRef* find_value(const std::string& name) const {
    for (const Scope* s = scope_; s; s = s->parent) {
      auto it = s->values.find(name);
      if (it != s->values.end()) return &it->second;
    }
    return nullptr;
  }

  const fe::Sequence* find_sequence(const std::string& name) const {
    for (const Scope* s = scope_; s; s = s->parent) {
      auto it = s->sequences.find(name);
      if (it != s->sequences.end()) return &it->second;
    }
    return nullptr;
  }

  ValueRef lookup(const std::string& name, const std::string& user) const {
    if (const ValueRef* v = find_value(name)) return *v;
    if (find_sequence(name)) fail({file_}, user + " takes '" + name + "', a sequence, where it needs a tensor");
    fail({file_}, user + " uses '" + name + "', which no node, input or initializer defines");
  }

  // A tensor or a sequence, whichever `name` is.
  fe::Imported lookup_any(const std::string& name, const std::string& user) const {
    if (const fe::Sequence* seq = find_sequence(name)) return {std::nullopt, *seq};
    return {lookup(name, user), std::nullopt};
  }

  void bind(const std::string& name, fe::Imported value) {
    if (name.empty()) return;
    if (value.tensor) scope_->values[name] = *value.tensor;
    else if (value.sequence) scope_->sequences[name] = std::move(*value.sequence);
    // else an optional input left out (a Loop's "" trip count or condition
    // passed to its body): the name stays unbound, and a node that reads it
    // is told the value is missing.
  }

  void store_outputs(const onnx::NodeProto& node, const std::vector<ValueRef>& outputs) {
    for (size_t o = 0; o < outputs.size() && o < static_cast<size_t>(node.output_size()); ++o)
      bind(node.output(static_cast<int>(o)), {outputs[o], std::nullopt});
  }

  // Converts the nodes of a subgraph (an If branch, a Loop or Scan body) in a
  // scope of their own that sees the enclosing values; returns its outputs.
  std::vector<fe::Imported> run_subgraph(const onnx::GraphProto& graph, const std::vector<fe::Imported>& inputs) {
    if (static_cast<size_t>(graph.input_size()) != inputs.size())
      throw Error("the subgraph '" + graph.name() + "' takes " + std::to_string(graph.input_size()) + " inputs, given " +
                  std::to_string(inputs.size()));
    Scope inner{{}, {}, scope_};
    Scope* const outer = scope_;
    const onnx::GraphProto* const outer_graph = graph_;
    scope_ = &inner;
    graph_ = &graph;
    try {
      for (const onnx::TensorProto& init : graph.initializer())
        inner.values[init.name()] = builder_.add_constant(init.name(), fe::tensor_from_onnx(init, "initializer '" + init.name() + "'", builder_.limits()));
      for (size_t i = 0; i < inputs.size(); ++i) bind(graph.input(static_cast<int>(i)).name(), inputs[i]);
      for (int i = 0; i < graph.node_size(); ++i) convert_node(graph.node(i), i);
      std::vector<fe::Imported> outputs;
      for (const onnx::ValueInfoProto& out : graph.output()) outputs.push_back(lookup_any(out.name(), "subgraph output"));
      scope_ = outer;
      graph_ = outer_graph;
      return outputs;
    } catch (...) {
      scope_ = outer;
      graph_ = outer_graph;
      throw;
    }
  }

  void convert_node(const onnx::NodeProto& node, int index) {
    const std::string label = "node '" + node_label(node, index) + "'";
    const bool sequence_op = fe::is_sequence_op(node.op_type());
    const bool control_flow = fe::is_control_flow_op(node.op_type());
    std::vector<std::optional<ValueRef>> inputs;
    std::vector<fe::Imported> any_inputs;  // for ops that take sequences
    for (const std::string& name : node.input()) {
      const bool takes_sequence = (sequence_op || control_flow) && !name.empty() && find_sequence(name);
      if (takes_sequence) any_inputs.push_back(lookup_any(name, label));
      else if (name.empty()) any_inputs.push_back({});
      else any_inputs.push_back({lookup(name, label), std::nullopt});
      inputs.push_back(takes_sequence || name.empty() ? std::nullopt : any_inputs.back().tensor);
    }
    fe::NodeContext context(builder_, node, opset_of(model_, node.domain()), std::move(inputs));
    try {
      if (node.domain() == fe::kTrainingDomain) {  // Gradient, the only op check_supported lets through
        std::vector<const onnx::NodeProto*> before;
        for (int i = 0; i < index; ++i) before.push_back(&graph_->node(i));
        const fe::ValueOf value_of = [&](const std::string& name) { return lookup(name, "Gradient"); };
        store_outputs(node, fe::convert_gradient(context, before, value_of));
        return;
      }
      if (control_flow) {
        const fe::RunSubgraph run = [&](const onnx::GraphProto& g, const std::vector<fe::Imported>& in) {
          return run_subgraph(g, in);
        };
        std::vector<fe::Imported> outputs = fe::convert_control_flow(context, any_inputs, run);
        for (size_t o = 0; o < outputs.size() && o < static_cast<size_t>(node.output_size()); ++o)
          bind(node.output(static_cast<int>(o)), std::move(outputs[o]));
        return;
      }
      if (sequence_op) {
        std::vector<const fe::Sequence*> sequences;
        for (const fe::Imported& in : any_inputs) sequences.push_back(in.sequence ? &*in.sequence : nullptr);
        fe::SequenceResult result = fe::convert_sequence_op(context, sequences);
        if (node.output_size() > 0) bind(node.output(0), std::move(result));
        return;
      }
      store_outputs(node, fe::onnx_converters().find(node.op_type())->second(context));
    } catch (const Error& e) {
      std::vector<Diagnostic> located;
      for (Diagnostic d : e.diagnostics()) {
        d.message = "ONNX node '" + node_label(node, index) + "' (" + node.op_type() + "): " + d.message;
        if (!d.location.known()) d.location = {file_};
        located.push_back(std::move(d));
      }
      throw Error(located);
    }
  }

  onnx::ModelProto& model_;
  std::string file_;
  // The names visible where a node is converted: the graph's, and inside a
  // subgraph its own before the enclosing ones.
  struct Scope {
    std::map<std::string, ValueRef> values;
    std::map<std::string, fe::Sequence> sequences;  // seq(tensor) values, resolved at import time
    const Scope* parent = nullptr;
  };

  fe::GraphBuilder builder_;
  Scope top_;
  Scope* scope_ = &top_;
  const onnx::GraphProto* graph_ = &model_.graph();  // the graph whose nodes are being converted
};

}  // namespace

Module import_onnx(const std::filesystem::path& file, const std::vector<spec::InputSpec>& input_overrides,
                   const spec::ModelLimits& limits) {
  return import_onnx_values(file, input_overrides, limits).module;
}

OnnxImport import_onnx_values(const std::filesystem::path& file, const std::vector<spec::InputSpec>& input_overrides,
                              const spec::ModelLimits& limits) {
  const std::string name = file.string();
  onnx::ModelProto model = read_model(file);
  check_and_infer(model, name, limits);
  check_supported(model, name);
  OnnxImporter importer(model, name, limits);
  OnnxImport out;
  out.module = importer.run(input_overrides);
  out.values = importer.values();
  return out;
}

std::string onnx_library_version() { return onnx::LAST_RELEASE_VERSION; }

std::vector<std::string> supported_onnx_ops() {
  std::vector<std::string> out;
  for (const auto& [name, converter] : fe::onnx_converters()) out.push_back(name);
  for (const std::string& name : fe::sequence_ops()) out.push_back(name);
  for (const std::string& name : fe::control_flow_ops()) out.push_back(name);
  out.push_back(std::string(fe::kTrainingDomain) + ".Gradient");
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace modelc::lang
