// One test of the ONNX backend test data: import model.onnx, optimize with the
// default pipeline (FuseOps on), run every fused function through Halide's JIT
// and compare each test_data_set_N's outputs with output_N.pb.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "lower/lowering.h"

namespace modelc::conformance {

enum class Status { pass, mismatch, unsupported, error };
const char* status_name(Status status);

struct Outcome {
  Status status = Status::error;
  std::string message;  // empty for a pass
};

// Compiled kernels by lower::kernel_hash, shared by the tests a worker runs:
// structurally identical fused functions compile once.
class KernelCache {
 public:
  const lower::JitKernel& get(const lang::Module& module, const lang::Function& primitive);
  size_t size() const { return kernels_.size(); }

 private:
  std::map<std::string, lower::JitKernel> kernels_;
};

// rtol 1e-3 and atol 1e-5, the ONNX backend tests' defaults. Never throws.
Outcome run_case(const std::filesystem::path& test_dir, KernelCache& kernels);

}  // namespace modelc::conformance
