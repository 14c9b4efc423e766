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
    if (b.types.empty()) throw std::logic_error("plan_memory: @main is not typed (run InferType)");
    for (const lang::TensorType& type : b.types) {
      TensorPlacement p;
      p.bytes = type.bytes();
      p.first_use = p.last_use = i;
      plan.bindings[i].push_back(p);
    }
  }
  auto placement = [&](const lang::ValueRef& ref) -> TensorPlacement& { return plan.bindings.at(ref.index).at(ref.output); };
  for (size_t i = 0; i < main.body.size(); ++i)
    for (const lang::ValueRef& a : main.body[i].args)
      if (a.is_binding()) placement(a).last_use = std::max(placement(a).last_use, i);
  for (size_t r = 0; r < main.results.size(); ++r) {
    const lang::ValueRef& ref = main.results[r];
    if (!ref.is_binding()) continue;
    TensorPlacement& p = placement(ref);
    if (p.storage == TensorPlacement::Storage::output) continue;  // returned twice: the executor copies
    p.storage = TensorPlacement::Storage::output;
    p.offset = r;
  }

  std::vector<TensorPlacement*> order;
  for (std::vector<TensorPlacement>& outputs : plan.bindings)
    for (TensorPlacement& p : outputs)
      if (p.storage == TensorPlacement::Storage::arena) order.push_back(&p);
  std::stable_sort(order.begin(), order.end(), [](const TensorPlacement* a, const TensorPlacement* b) { return a->bytes > b->bytes; });

  std::vector<const TensorPlacement*> placed;
  for (TensorPlacement* p : order) {
    plan.unshared_bytes += align_up(p->bytes, alignment);
    // Intervals of live-overlapping tensors already placed, by offset.
    std::vector<std::pair<size_t, size_t>> busy;
    for (const TensorPlacement* q : placed)
      if (overlaps(*p, *q)) busy.emplace_back(q->offset, q->offset + q->bytes);
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (const auto& [lo, hi] : busy) {
      if (offset + p->bytes <= lo) break;
      offset = std::max(offset, align_up(hi, alignment));
    }
    p->offset = offset;
    plan.arena_bytes = std::max(plan.arena_bytes, align_up(offset + p->bytes, alignment));
    placed.push_back(p);
  }
  return plan;
}

std::string print_memory_plan(const lang::Module& module, const MemoryPlan& plan) {
  const lang::Function& main = module.main();
  std::string out = "arena_bytes " + std::to_string(plan.arena_bytes) + " (without reuse " +
                    std::to_string(plan.unshared_bytes) + ")\n";
  for (size_t i = 0; i < plan.bindings.size(); ++i) {
    for (size_t k = 0; k < plan.bindings[i].size(); ++k) {
      const TensorPlacement& p = plan.bindings[i][k];
      out += "%" + std::to_string(i) + (plan.bindings[i].size() > 1 ? "." + std::to_string(k) : "") + " " +
             main.body[i].types[k].str() + " live [" + std::to_string(p.first_use) + ", " + std::to_string(p.last_use) + "] ";
      out += p.storage == TensorPlacement::Storage::output ? "output " + std::to_string(p.offset)
                                                           : "arena @" + std::to_string(p.offset);
      out += "\n";
    }
  }
  return out;
}

}  // namespace modelc::lower
