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
  // in_place[i]: binding i is a concatenation whose operands were placed
  // where its result lies, so it has nothing left to do (no kernel runs).
  std::vector<bool> in_place;

  // The placement of a binding's output (`value` refers to a binding).
  const TensorPlacement& placement(const lang::ValueRef& value) const { return bindings.at(value.index).at(value.output); }
};

// Placements are aligned to `alignment` bytes. Greedy by size: each tensor,
// largest first, takes the lowest offset that no live-overlapping tensor uses.
// The outputs of one call are live together from that call on, so they never
// share memory with each other or with the call's arguments.
//
// With `in_place_concat` (CPU targets: a GPU kernel writes its own device
// copy of each buffer), a call of a kernel that only concatenates its
// arguments along an axis with nothing but unit axes before it (channels of
// a batch of one, in NCHW or NCHW{k}c) takes its operands' memory: each
// operand is placed at its slice of the result (the result's block is live
// from the first operand's producer on) and the call is marked in_place.
// An operand qualifies when a kernel computes it into the arena and no
// other in-place concatenation took it; the others stay copied, so such a
// call keeps its kernel unless every operand qualified.
MemoryPlan plan_memory(const lang::Module& module, size_t alignment = 64, bool in_place_concat = false);

// A readable table, for `--emit memory`.
std::string print_memory_plan(const lang::Module& module, const MemoryPlan& plan);

}  // namespace modelc::lower
