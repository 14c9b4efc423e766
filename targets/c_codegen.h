// Generates the C side of an artifact: the plan tables the generic executor
// runs (plan.c), the weights' object (weights.c) and the model's public
// header (model.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "lang/type.h"

namespace modelc::targets {

struct PlannedTensor {
  enum class Storage { arena = 0, weights = 1, input = 2, output = 3 };
  Storage storage = Storage::arena;
  uint64_t offset = 0;  // bytes, or input/output index
  lang::TensorType type;
};

struct PlannedStep {
  std::string kernel_symbol;  // Halide function; its _argv entry point is called
  std::vector<int32_t> args;  // tensor indices: the kernel's inputs, then its outputs (one per result)
};

struct NamedTensor {
  std::string name;
  lang::TensorType type;
};

struct ExecutorPlan {
  std::string model_name;
  std::string prefix;
  std::vector<NamedTensor> inputs, outputs;
  std::vector<PlannedTensor> tensors;
  std::vector<PlannedStep> steps;
  std::vector<std::pair<int32_t, int32_t>> copies;  // (output index, tensor index)
  uint64_t arena_bytes = 0;
  uint64_t weight_bytes = 0;
  std::filesystem::path weights_file;  // embedded with .incbin
  bool wasm_object = false;            // the assembler's syntax for the weights' section: wasm, else ELF
};

std::string generate_plan_c(const ExecutorPlan& plan);
// The weights object's source: weights_file embedded as one hidden symbol.
// For devices whose objects targets/elf_object.h writes directly (x86-64,
// AArch64), the artifact builder does not use it.
std::string generate_weights_c(const ExecutorPlan& plan);
std::string generate_model_header(const ExecutorPlan& plan);
// Symbols an artifact exports.
std::vector<std::string> exported_symbols(const std::string& prefix);

}  // namespace modelc::targets
