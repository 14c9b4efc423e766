// Runs a whole fused module on this machine: @main's calls of primitive
// functions go through Halide's JIT, one compiled kernel per structurally
// distinct function (lower::kernel_hash), kept across runs. For tests and
// conformance runners; artifacts go through targets/ instead.
#pragma once

#include <map>
#include <span>
#include <string>
#include <vector>

#include "lang/module.h"
#include "lower/lowering.h"

namespace modelc::lower {

class JitModuleRunner {
 public:
  // The kernel of `primitive`, compiled on first use.
  const JitKernel& kernel(const lang::Module& module, const lang::Function& primitive);
  // Evaluates @main: primitive calls run their kernels, other function calls
  // and ops left in @main run the reference interpreter.
  std::vector<lang::Tensor> run_main(const lang::Module& module, std::span<const lang::Tensor> inputs);
  size_t compiled_kernels() const { return kernels_.size(); }

 private:
  std::map<std::string, JitKernel> kernels_;
};

}  // namespace modelc::lower
