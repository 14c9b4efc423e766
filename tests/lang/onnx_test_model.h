// Hand-built ONNX models for the importer's tests: small protobuf builders
// and the error a model that must not import gives.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "lang/frontends/onnx.h"
#include "support/diagnostic.h"

namespace modelc::lang::testing {

std::filesystem::path write_file(const std::filesystem::path& path, const std::string& bytes);

// The Error import_onnx throws (fails the test if it does not throw).
Error import_error(const std::filesystem::path& file, const std::vector<spec::InputSpec>& inputs = {});

// A tensor value info; negative dims are dynamic (named `dynamic_dim`).
void add_tensor_value(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list, const std::string& name,
                      const std::vector<int64_t>& dims, const std::string& dynamic_dim = "",
                      int32_t elem_type = onnx::TensorProto::FLOAT);

onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op, const std::string& name,
                          std::vector<std::string> inputs, const std::string& output);
onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op, const std::string& name,
                          std::vector<std::string> inputs, const std::vector<std::string>& outputs);

void set_attr(onnx::NodeProto* node, const std::string& name, int64_t value);
void set_attr(onnx::NodeProto* node, const std::string& name, const std::string& value);
void set_attr(onnx::NodeProto* node, const std::string& name, const std::vector<std::string>& values);

// Initializers: float32 or int64 (bool with elem_type BOOL) data of `dims`.
void add_float_initializer(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims,
                           const std::vector<float>& values);
void add_int_initializer(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims,
                         const std::vector<int64_t>& values, int32_t elem_type = onnx::TensorProto::INT64);

// A model with input X of `dims` (negative: dynamic) and the given opset.
onnx::ModelProto empty_model(const std::vector<int64_t>& dims, int opset = 13);

std::filesystem::path save(const onnx::ModelProto& m, const std::filesystem::path& path);

// A model of float32 tensors of `dims` in which each output is its input
// doubled (Add(x, x)): one (input name, output name) per pair, names as given,
// so that tests can choose any bytes for them.
onnx::ModelProto doubling_model(const std::vector<std::pair<std::string, std::string>>& names,
                                const std::vector<int64_t>& dims, int opset = 13);

}  // namespace modelc::lang::testing
