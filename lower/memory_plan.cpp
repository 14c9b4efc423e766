#include "lower/memory_plan.h"

#include <algorithm>
#include <numeric>
#include <set>
#include <stdexcept>

#include "lang/ops/transform.h"

namespace modelc::lower {
namespace {

size_t align_up(size_t v, size_t a) { return (v + a - 1) / a * a; }

bool overlaps(const TensorPlacement& a, const TensorPlacement& b) {
  return a.first_use <= b.last_use && b.first_use <= a.last_use;
}

// The axis along which binding `b` of @main only concatenates its arguments
// (in order) into contiguous slices of its result, or -1.
int64_t contiguous_concat_axis(const lang::Module& module, const lang::Binding& b) {
  if (b.op || b.types.size() != 1) return -1;
  const lang::Function* fn = module.find_function(b.function);
  if (!fn || !fn->primitive || fn->body.size() != 1 || fn->results.size() != 1) return -1;
  const lang::Binding& c = fn->body[0];
  if (!c.is_op("concatenate") || fn->results[0] != lang::ValueRef::binding(0) || c.args.size() != fn->params.size()) return -1;
  for (size_t k = 0; k < c.args.size(); ++k)
    if (!c.args[k].is_param() || c.args[k].index != k) return -1;
  const lang::TensorType& t = b.types[0];
  int64_t axis = lang::attrs_as<lang::ConcatenateAttrs>(*c.attrs).axis;
  if (axis < 0) axis += static_cast<int64_t>(t.rank());
  if (axis < 0 || axis >= static_cast<int64_t>(t.rank())) return -1;
  for (int64_t d = 0; d < axis; ++d)
    if (t.shape[static_cast<size_t>(d)] != 1) return -1;
  return axis;
}

}  // namespace

MemoryPlan plan_memory(const lang::Module& module, size_t alignment, bool in_place_concat) {
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

  // In-place concatenations: operands become slices of the result's block.
  plan.in_place.assign(main.body.size(), false);
  std::vector<std::pair<TensorPlacement*, size_t>> slices;  // operand, byte offset in its concatenation's result
  std::vector<std::vector<size_t>> slices_of(main.body.size());  // per concatenation: indices into `slices`
  if (in_place_concat) {
    std::set<std::pair<uint32_t, uint32_t>> taken;
    for (size_t i = 0; i < main.body.size(); ++i) {
      const lang::Binding& b = main.body[i];
      if (contiguous_concat_axis(module, b) < 0 || plan.bindings[i][0].storage != TensorPlacement::Storage::arena) continue;
      bool all = true;
      std::set<std::pair<uint32_t, uint32_t>> mine;
      for (const lang::ValueRef& a : b.args) {
        const auto key = std::make_pair(a.index, a.output);
        all = all && a.is_binding() && placement(a).storage == TensorPlacement::Storage::arena && !taken.count(key) &&
              !mine.count(key) && !plan.in_place[a.index];
        if (a.is_binding()) mine.insert(key);
      }
      if (!all) continue;
      TensorPlacement& result = plan.bindings[i][0];
      size_t at = 0;
      for (const lang::ValueRef& a : b.args) {
        TensorPlacement& operand = placement(a);
        taken.emplace(a.index, a.output);
        slices_of[i].push_back(slices.size());
        slices.emplace_back(&operand, at);
        result.first_use = std::min(result.first_use, operand.first_use);
        result.last_use = std::max(result.last_use, operand.last_use);
        at += operand.bytes;
      }
      plan.in_place[i] = true;
    }
  }
  std::set<const TensorPlacement*> sliced;
  for (const auto& [operand, at] : slices) sliced.insert(operand);

  std::vector<TensorPlacement*> order;
  for (std::vector<TensorPlacement>& outputs : plan.bindings)
    for (TensorPlacement& p : outputs)
      if (p.storage == TensorPlacement::Storage::arena && !sliced.count(&p)) order.push_back(&p);
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
  for (size_t i = 0; i < main.body.size(); ++i)
    for (size_t k : slices_of[i]) slices[k].first->offset = plan.bindings[i][0].offset + slices[k].second;
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
      if (i < plan.in_place.size() && plan.in_place[i]) out += " (concatenated in place)";
      out += "\n";
    }
  }
  return out;
}

}  // namespace modelc::lower
