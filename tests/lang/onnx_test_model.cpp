#include "tests/lang/onnx_test_model.h"

#include <doctest/doctest.h>

#include <fstream>

namespace modelc::lang::testing {

std::filesystem::path write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

Error import_error(const std::filesystem::path& file, const std::vector<spec::InputSpec>& inputs) {
  try {
    import_onnx(file, inputs);
  } catch (const Error& e) {
    return e;
  }
  FAIL("import_onnx(" << file.string() << ") did not fail");
  return Error("unreachable");
}

void add_tensor_value(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list, const std::string& name,
                      const std::vector<int64_t>& dims, const std::string& dynamic_dim, int32_t elem_type) {
  onnx::ValueInfoProto* v = list->Add();
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(elem_type);
  t->mutable_shape();  // present even for a scalar
  for (int64_t d : dims) {
    auto* dim = t->mutable_shape()->add_dim();
    if (d < 0) dim->set_dim_param(dynamic_dim);
    else dim->set_dim_value(d);
  }
}

onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op, const std::string& name,
                          std::vector<std::string> inputs, const std::vector<std::string>& outputs) {
  onnx::NodeProto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const std::string& i : inputs) n->add_input(i);
  for (const std::string& o : outputs) n->add_output(o);
  return n;
}

onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op, const std::string& name,
                          std::vector<std::string> inputs, const std::string& output) {
  return add_node(g, op, name, std::move(inputs), std::vector<std::string>{output});
}

void set_attr(onnx::NodeProto* node, const std::string& name, int64_t value) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void set_attr(onnx::NodeProto* node, const std::string& name, const std::string& value) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(value);
}

void set_attr(onnx::NodeProto* node, const std::string& name, const std::vector<std::string>& values) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRINGS);
  for (const std::string& v : values) a->add_strings(v);
}

void add_float_initializer(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims,
                           const std::vector<float>& values) {
  onnx::TensorProto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  for (float v : values) t->add_float_data(v);
}

void add_int_initializer(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims,
                         const std::vector<int64_t>& values, int32_t elem_type) {
  onnx::TensorProto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(elem_type);
  for (int64_t d : dims) t->add_dims(d);
  for (int64_t v : values) {
    if (elem_type == onnx::TensorProto::INT64) t->add_int64_data(v);
    else t->add_int32_data(static_cast<int32_t>(v));
  }
}

onnx::ModelProto empty_model(const std::vector<int64_t>& dims, int opset) {
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(opset);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("test");
  add_tensor_value(g->mutable_input(), "X", dims, "batch");
  return m;
}

std::filesystem::path save(const onnx::ModelProto& m, const std::filesystem::path& path) {
  std::string bytes;
  REQUIRE(m.SerializeToString(&bytes));
  return write_file(path, bytes);
}

onnx::ModelProto doubling_model(const std::vector<std::pair<std::string, std::string>>& names,
                                const std::vector<int64_t>& dims, int opset) {
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(opset);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("doubling");
  for (size_t i = 0; i < names.size(); ++i) {
    add_tensor_value(g->mutable_input(), names[i].first, dims);
    add_tensor_value(g->mutable_output(), names[i].second, dims);
    add_node(g, "Add", "double_" + std::to_string(i), {names[i].first, names[i].first}, names[i].second);
  }
  return m;
}

}  // namespace modelc::lang::testing
