// Writes the seeds of the ONNX fuzzer (scripts/fuzz.sh runs it once):
//
//   onnx_seeds OUT_DIR PATH...
//
// Every .onnx file under each PATH (Debian's libonnx-testdata, the shared
// models) is written to OUT_DIR slimmed: each float initializer of more than
// 64 elements becomes a ConstantOfShape of its dims, so a 45 MB ResNet is a
// seed of a few kilobytes with the same graph, and libFuzzer's -max_len stays
// small. The hostile models of tests/lang/hostile_models.h are written too,
// except the 2 GiB file. Seeds are named after their source path, so that a
// rerun rewrites the same files.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>

#include <onnx/onnx_pb.h>

#include "tests/lang/hostile_models.h"

namespace fs = std::filesystem;

namespace {

constexpr int64_t kLargestKept = 64;

int64_t elements(const onnx::TensorProto& t) {
  int64_t n = 1;
  for (int64_t d : t.dims()) n *= d;
  return n;
}

void slim(onnx::GraphProto& graph) {
  std::vector<onnx::NodeProto> fills;
  std::set<std::string> replaced;
  google::protobuf::RepeatedPtrField<onnx::TensorProto> kept;
  for (const onnx::TensorProto& init : graph.initializer()) {
    if (init.data_type() != onnx::TensorProto::FLOAT || elements(init) <= kLargestKept) {
      *kept.Add() = init;
      continue;
    }
    onnx::NodeProto shape;
    shape.set_op_type("Constant");
    shape.set_name(init.name() + ".shape");
    shape.add_output(init.name() + ".shape");
    onnx::AttributeProto* value = shape.add_attribute();
    value->set_name("value");
    value->set_type(onnx::AttributeProto::TENSOR);
    value->mutable_t()->set_data_type(onnx::TensorProto::INT64);
    value->mutable_t()->add_dims(init.dims_size());
    for (int64_t d : init.dims()) value->mutable_t()->add_int64_data(d);
    onnx::NodeProto fill;
    fill.set_op_type("ConstantOfShape");  // zeros of float32, ConstantOfShape's default
    fill.set_name(init.name() + ".fill");
    fill.add_input(init.name() + ".shape");
    fill.add_output(init.name());
    fills.push_back(shape);
    fills.push_back(fill);
    replaced.insert(init.name());
  }
  graph.mutable_initializer()->Swap(&kept);
  // Models before IR version 4 list initializers among the inputs.
  google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> inputs;
  for (const onnx::ValueInfoProto& in : graph.input())
    if (!replaced.count(in.name())) *inputs.Add() = in;
  graph.mutable_input()->Swap(&inputs);
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  for (const onnx::NodeProto& n : fills) *nodes.Add() = n;
  for (const onnx::NodeProto& n : graph.node()) *nodes.Add() = n;
  graph.mutable_node()->Swap(&nodes);
}

std::string seed_name(const fs::path& file) {
  std::string name;
  for (const fs::path& part : file.parent_path().relative_path()) name += part.string() + "_";
  name += file.stem().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
  return name + ".onnx";
}

bool write_seed(const fs::path& file, const fs::path& out_dir) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes.str())) return false;
  slim(*model.mutable_graph());
  std::ofstream(out_dir / seed_name(file), std::ios::binary) << model.SerializeAsString();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: onnx_seeds OUT_DIR PATH...\n";
    return 2;
  }
  const fs::path out_dir = argv[1];
  fs::create_directories(out_dir);
  int written = 0;
  for (int i = 2; i < argc; ++i) {
    const fs::path root = argv[i];
    std::error_code ec;
    if (fs::is_regular_file(root, ec)) {
      written += write_seed(root, out_dir);
      continue;
    }
    if (!fs::is_directory(root, ec)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root, ec))
      if (entry.is_regular_file() && entry.path().extension() == ".onnx") written += write_seed(entry.path(), out_dir);
  }
  for (const modelc::lang::testing::HostileModel& model : modelc::lang::testing::hostile_models()) {
    if (model.sparse_size > 0) continue;
    modelc::lang::testing::write_hostile_model(model, out_dir);
    ++written;
  }
  std::cout << "onnx_seeds: " << written << " seeds in " << out_dir.string() << "\n";
  return 0;
}
