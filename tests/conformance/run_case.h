// One test of the ONNX backend test data: import model.onnx, optimize with the
// default pipeline (FuseOps on), run every fused function through Halide's JIT
// and compare each test_data_set_N's outputs with output_N.pb.
#pragma once

#include <filesystem>
#include <string>

#include "lower/jit_module.h"

namespace modelc::conformance {

enum class Status { pass, mismatch, unsupported, error };
const char* status_name(Status status);

struct Outcome {
  Status status = Status::error;
  std::string message;  // empty for a pass
};

// Compiled kernels, shared by the tests a worker runs: structurally
// identical fused functions compile once.
using KernelCache = lower::JitModuleRunner;

// rtol 1e-3 and atol 1e-5, the ONNX backend tests' defaults. Never throws.
Outcome run_case(const std::filesystem::path& test_dir, KernelCache& kernels);

}  // namespace modelc::conformance
