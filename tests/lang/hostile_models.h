// ONNX files that a broken or hostile exporter could write: sizes that are
// huge, wrap to 0 in int64 or are negative, data shorter than its dims,
// unrolling that never ends, nesting deeper than protobuf reads, a file past
// protobuf's 2 GiB. Each comes with the fragments its error must contain and
// the recipe limits it is imported under. Built here, in C++, so that no model
// binary is committed; tests/lang/onnx_limits_test.cpp imports them in
// process, tests/lang/hostile_cli_test.cpp through `modelc validate`, and the
// ONNX fuzzer's seeding writes them as seeds.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "spec/model_limits.h"

namespace modelc::lang::testing {

struct HostileModel {
  std::string name;                   // file stem
  std::string bytes;                  // the serialized model; unused when sparse_size is set
  uint64_t sparse_size = 0;           // a file of this many zero bytes, written sparse (too big to write)
  std::vector<std::string> expected;  // fragments of the error message
  spec::ModelLimits limits;           // the limits it is imported under
  std::string limits_yaml;            // the same as a recipe's model.limits ("" for the defaults)
};

std::vector<HostileModel> hostile_models();

// Writes `model` as <dir>/<name>.onnx and returns the path.
std::filesystem::path write_hostile_model(const HostileModel& model, const std::filesystem::path& dir);

}  // namespace modelc::lang::testing
