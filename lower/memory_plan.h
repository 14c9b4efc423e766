// Static memory planning for @main: every intermediate tensor gets a fixed
// offset in one arena, and tensors whose lifetimes do not overlap share memory.
// A call of a kernel with several results places each result on its own.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "lang/module.h"

namespace modelc::lower {

struct TensorPlacement {
  enum class Storage { arena, output };
  Storage storage = Storage::arena;
  size_t offset = 0;  // byte offset in the arena, or the index of the model output
  size_t bytes = 0;
  size_t first_use = 0, last_use = 0;  // binding indices of @main (the live interval)
};

struct MemoryPlan {
  size_t arena_bytes = 0;
  size_t unshared_bytes = 0;  // what the arena would need without reuse
  // bindings[i][k]: output k of binding i of @main.
  std::vector<std::vector<TensorPlacement>> bindings;

  // The placement of a binding's output (`value` refers to a binding).
  const TensorPlacement& placement(const lang::ValueRef& value) const { return bindings.at(value.index).at(value.output); }
};

// Placements are aligned to `alignment` bytes. Greedy by size: each tensor,
// largest first, takes the lowest offset that no live-overlapping tensor uses.
// The outputs of one call are live together from that call on, so they never
// share memory with each other or with the call's arguments.
MemoryPlan plan_memory(const lang::Module& module, size_t alignment = 64);

// A readable table, for `--emit memory`.
std::string print_memory_plan(const lang::Module& module, const MemoryPlan& plan);

}  // namespace modelc::lower
