#include "lower/memory_plan.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace modelc::lower {
namespace {

size_t align_up(size_t v, size_t a) { return (v + a - 1) / a * a; }

bool overlaps(const TensorPlacement& a, const TensorPlacement& b) {
  return a.first_use <= b.last_use && b.first_use <= a.last_use;
}

}  // namespace

MemoryPlan plan_memory(const lang::Module& module, size_t alignment) {
  const lang::Function& main = module.main();
  MemoryPlan plan;
  plan.bindings.resize(main.body.size());
  for (size_t i = 0; i < main.body.size(); ++i) {
    const lang::Binding& b = main.body[i];
    if (b.types.size() != 1) throw std::logic_error("plan_memory: bindings with several outputs are not supported");
    plan.bindings[i].bytes = b.types[0].bytes();
    plan.bindings[i].first_use = plan.bindings[i].last_use = i;
  }
  for (size_t i = 0; i < main.body.size(); ++i)
    for (const lang::ValueRef& a : main.body[i].args)
      if (a.is_binding()) plan.bindings[a.index].last_use = std::max(plan.bindings[a.index].last_use, i);
  for (size_t r = 0; r < main.results.size(); ++r) {
    const lang::ValueRef& ref = main.results[r];
    if (!ref.is_binding()) continue;
    TensorPlacement& p = plan.bindings[ref.index];
    if (p.storage == TensorPlacement::Storage::output) continue;  // returned twice: the executor copies
    p.storage = TensorPlacement::Storage::output;
    p.offset = r;
  }

  std::vector<size_t> order;
  for (size_t i = 0; i < plan.bindings.size(); ++i)
    if (plan.bindings[i].storage == TensorPlacement::Storage::arena) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return plan.bindings[a].bytes > plan.bindings[b].bytes; });

  std::vector<size_t> placed;
  for (size_t i : order) {
    TensorPlacement& p = plan.bindings[i];
    plan.unshared_bytes += align_up(p.bytes, alignment);
    // Intervals of live-overlapping tensors already placed, by offset.
    std::vector<std::pair<size_t, size_t>> busy;
    for (size_t j : placed)
      if (overlaps(p, plan.bindings[j])) busy.emplace_back(plan.bindings[j].offset, plan.bindings[j].offset + plan.bindings[j].bytes);
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (const auto& [lo, hi] : busy) {
      if (offset + p.bytes <= lo) break;
      offset = std::max(offset, align_up(hi, alignment));
    }
    p.offset = offset;
    plan.arena_bytes = std::max(plan.arena_bytes, align_up(offset + p.bytes, alignment));
    placed.push_back(i);
  }
  return plan;
}

std::string print_memory_plan(const lang::Module& module, const MemoryPlan& plan) {
  const lang::Function& main = module.main();
  std::string out = "arena_bytes " + std::to_string(plan.arena_bytes) + " (without reuse " +
                    std::to_string(plan.unshared_bytes) + ")\n";
  for (size_t i = 0; i < plan.bindings.size(); ++i) {
    const TensorPlacement& p = plan.bindings[i];
    out += "%" + std::to_string(i) + " " + main.body[i].types[0].str() + " live [" + std::to_string(p.first_use) + ", " +
           std::to_string(p.last_use) + "] ";
    out += p.storage == TensorPlacement::Storage::output ? "output " + std::to_string(p.offset)
                                                         : "arena @" + std::to_string(p.offset);
    out += "\n";
  }
  return out;
}

}  // namespace modelc::lower
