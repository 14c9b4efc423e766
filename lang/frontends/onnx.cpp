// ONNX import: file -> checked, shape-inferred ModelProto -> IR module.
#include "lang/frontends/onnx.h"

#include <onnx/common/version.h>

#include <algorithm>
#include <cstring>
#include <set>

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include "lang/frontends/onnx_node.h"
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
    default: return std::nullopt;
  }
}

}  // namespace frontends

namespace {

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

}  // namespace

namespace frontends {

Tensor tensor_from_onnx(const onnx::TensorProto& proto, const std::string& what) {
  if (proto.data_location() == onnx::TensorProto::EXTERNAL)
    throw Error(what + " keeps its data in an external file, which is not supported");
  const std::optional<DType> dtype = dtype_of_onnx(proto.data_type());
  if (!dtype) throw Error(what + " has element type " + onnx_type_name(proto.data_type()) + ", which is not supported");
  TensorType type{{proto.dims().begin(), proto.dims().end()}, *dtype};
  for (int64_t d : type.shape)
    if (d < 0) throw Error(what + " has a negative dimension");
  const auto count = static_cast<size_t>(type.element_count());
  Tensor t(type);
  if (*dtype == DType::string) {
    if (static_cast<size_t>(proto.string_data_size()) != count)
      throw Error(what + " has " + std::to_string(proto.string_data_size()) + " strings, " + type.str() + " needs " +
                  std::to_string(count));
    for (size_t i = 0; i < count; ++i) t.set_string(i, proto.string_data(static_cast<int>(i)));
    return t;
  }
  const bool is_double = proto.data_type() == onnx::TensorProto::DOUBLE;
  if (proto.has_raw_data()) {
    const std::string& raw = proto.raw_data();
    const size_t expected = count * (is_double ? 8 : dtype_bytes(*dtype));
    if (raw.size() != expected)
      throw Error(what + " has " + std::to_string(raw.size()) + " bytes of data, " + type.str() + " needs " +
                  std::to_string(expected));
    if (!is_double) {
      std::memcpy(t.mutable_bytes().data(), raw.data(), raw.size());
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

}  // namespace frontends

namespace {

// Reads and parses the file; every way it can fail names the file.
onnx::ModelProto read_model(const std::filesystem::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) throw Error(Diagnostic{Severity::error, {name}, {}, "ONNX model not found", {}});
  const std::vector<std::byte> bytes = read_binary_file(file);
  if (bytes.empty()) fail({name}, "the ONNX model file is empty");
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    fail({name}, "is not a valid ONNX model: the protobuf data does not parse (the file is truncated or not ONNX)",
         "re-export the model, or check that the path names an .onnx file");
  if (model.ir_version() <= 0 || !model.has_graph())
    fail({name}, "is not an ONNX model: it has no " + std::string(model.ir_version() <= 0 ? "ir_version" : "graph"),
         "check that the path names an .onnx file");
  return model;
}

int default_opset(const onnx::ModelProto& model) {
  for (const onnx::OperatorSetIdProto& id : model.opset_import())
    if (id.domain().empty() || id.domain() == "ai.onnx") return static_cast<int>(id.version());
  return 0;
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

void check_supported(const onnx::ModelProto& model, const std::string& file) {
  std::vector<Diagnostic> unsupported;
  const auto& converters = fe::onnx_converters();
  for (int i = 0; i < model.graph().node_size(); ++i) {
    const onnx::NodeProto& node = model.graph().node(i);
    const bool default_domain = node.domain().empty() || node.domain() == "ai.onnx";
    if (default_domain && (converters.count(node.op_type()) || fe::is_sequence_op(node.op_type()))) continue;
    if (node.domain() == fe::kTrainingDomain && node.op_type() == "Gradient") continue;
    const std::string op = default_domain ? node.op_type() : node.domain() + "." + node.op_type();
    unsupported.push_back(Diagnostic{Severity::error, {file}, {},
                                     "ONNX " + op + " (opset " + std::to_string(opset_of(model, node.domain())) +
                                         ") at node '" + node_label(node, i) + "' is not supported",
                                     {}});
  }
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

void check_and_infer(onnx::ModelProto& model, const std::string& file) {
  reject_external_data(model, file);
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    fail({file}, std::string("the ONNX checker rejected the model: ") + e.what());
  }
  try {
    onnx::shape_inference::InferShapes(model);
  } catch (const std::exception& e) {
    fail({file}, std::string("ONNX shape inference failed: ") + e.what());
  }
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
  OnnxImporter(onnx::ModelProto& model, std::string file) : model_(model), file_(std::move(file)) {}

  Module run(const std::vector<spec::InputSpec>& overrides) {
    add_initializers();
    add_inputs(overrides);
    for (int i = 0; i < model_.graph().node_size(); ++i) convert_node(model_.graph().node(i), i);
    refuse_string_values();
    std::vector<ValueRef> results;
    std::vector<std::string> names;
    for (const onnx::ValueInfoProto& out : model_.graph().output()) {
      if (sequences_.count(out.name()))
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
        values_[init.name()] = builder_.add_constant(init.name(), fe::tensor_from_onnx(init, "initializer '" + init.name() + "'"));
      } catch (const Error& e) {
        fail({file_}, e.diagnostics().front().message);
      }
    }
  }

  void add_inputs(const std::vector<spec::InputSpec>& overrides) {
    std::vector<std::string> names;
    for (const onnx::ValueInfoProto& in : model_.graph().input())
      if (!values_.count(in.name())) names.push_back(in.name());
    for (const spec::InputSpec& spec : overrides)
      if (std::find(names.begin(), names.end(), spec.name) == names.end()) {
        const std::string guess = closest_spelling(spec.name, names);
        throw override_error(spec, "the model has no input '" + spec.name + "'",
                             guess.empty() ? "its inputs: " + join(names) : "did you mean '" + guess + "'?");
      }
    for (const onnx::ValueInfoProto& in : model_.graph().input()) {
      if (values_.count(in.name())) continue;  // an initializer listed as input (IR version < 4)
      const spec::InputSpec* spec = nullptr;
      for (const spec::InputSpec& s : overrides)
        if (s.name == in.name()) spec = &s;
      values_[in.name()] = builder_.add_param(in.name(), input_type(in, spec, file_));
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

  ValueRef lookup(const std::string& name, const std::string& user) const {
    auto it = values_.find(name);
    if (it != values_.end()) return it->second;
    if (sequences_.count(name))
      fail({file_}, user + " takes '" + name + "', a sequence, where it needs a tensor");
    fail({file_}, user + " uses '" + name + "', which no node, input or initializer defines");
  }

  void store_outputs(const onnx::NodeProto& node, const std::vector<ValueRef>& outputs) {
    for (size_t o = 0; o < outputs.size() && o < static_cast<size_t>(node.output_size()); ++o)
      if (!node.output(static_cast<int>(o)).empty()) values_[node.output(static_cast<int>(o))] = outputs[o];
  }

  void convert_node(const onnx::NodeProto& node, int index) {
    const bool sequence_op = fe::is_sequence_op(node.op_type());
    std::vector<std::optional<ValueRef>> inputs;
    std::vector<const fe::Sequence*> sequences;
    for (const std::string& name : node.input()) {
      auto seq = sequences_.find(name);
      const bool is_sequence = sequence_op && seq != sequences_.end();
      sequences.push_back(is_sequence ? &seq->second : nullptr);
      if (name.empty() || is_sequence) inputs.push_back(std::nullopt);
      else inputs.push_back(lookup(name, "node '" + node_label(node, index) + "'"));
    }
    fe::NodeContext context(builder_, node, opset_of(model_, node.domain()), std::move(inputs));
    try {
      if (node.domain() == fe::kTrainingDomain) {  // Gradient, the only op check_supported lets through
        std::vector<const onnx::NodeProto*> before;
        for (int i = 0; i < index; ++i) before.push_back(&model_.graph().node(i));
        const fe::ValueOf value_of = [&](const std::string& name) { return lookup(name, "Gradient"); };
        store_outputs(node, fe::convert_gradient(context, before, value_of));
        return;
      }
      if (sequence_op) {
        fe::SequenceResult result = fe::convert_sequence_op(context, sequences);
        if (node.output_size() > 0 && !node.output(0).empty()) {
          if (result.tensor) values_[node.output(0)] = *result.tensor;
          else sequences_[node.output(0)] = std::move(*result.sequence);
        }
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
  fe::GraphBuilder builder_{true};
  std::map<std::string, ValueRef> values_;
  std::map<std::string, fe::Sequence> sequences_;  // seq(tensor) values, resolved at import time
};

}  // namespace

Module import_onnx(const std::filesystem::path& file, const std::vector<spec::InputSpec>& input_overrides) {
  const std::string name = file.string();
  onnx::ModelProto model = read_model(file);
  check_and_infer(model, name);
  check_supported(model, name);
  return OnnxImporter(model, name).run(input_overrides);
}

std::string onnx_library_version() { return onnx::LAST_RELEASE_VERSION; }

std::vector<std::string> supported_onnx_ops() {
  std::vector<std::string> out;
  for (const auto& [name, converter] : fe::onnx_converters()) out.push_back(name);
  for (const std::string& name : fe::sequence_ops()) out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace modelc::lang
