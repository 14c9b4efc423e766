// FuseOps: partitions @main into groups that each become one primitive
// function, i.e. one kernel.
//
// Walking the bindings in order, an elementwise or broadcast op joins the
// group that produced its first fusable argument when that argument is the
// group's last value, has no other use, and has the same shape as the op's
// result; otherwise it starts a group of its own. So conv2d/dense/pooling
// anchors absorb their bias, activation and residual add, reductions their
// elementwise consumers, and chains of elementwise ops become one loop nest.
// An injective op (reshape, transpose, layout_transform, ...) joins the same
// way a group made only of elementwise and injective ops, so data-movement
// chains become one kernel; it never joins an anchor or a reduction, whose
// schedules assume the anchor's own output shape. Opaque ops absorb nothing.
//
// At opt level 3 a second phase merges a group of elementwise/injective ops
// into the one group that uses its values, when exactly one group does (and
// no function result): producers with several consumers inside one
// elementwise region (a diamond), and elementwise prologues of reductions,
// e.g. the (x - mean)^2 of a decomposed layer norm.
//
// Every group has exactly one output, its last member: the executor and
// targets/ run single-output primitive functions, and a value used outside
// its group is always that group's last member. Ops with several outputs stay
// alone. Structurally identical groups share one function, hence one kernel.
#include <algorithm>
#include <map>
#include <set>

#include "lang/pass.h"
#include "lang/text.h"

namespace modelc::lang {
namespace {

struct Group {
  std::vector<uint32_t> members;
  uint32_t tail = 0;
  OpPattern pattern = OpPattern::opaque;
};

bool accepts_epilogue(OpPattern group_pattern) { return group_pattern != OpPattern::opaque; }

// Whether op `b` (pattern `pattern`) may join group `g` through its argument `arg`, the group's tail.
bool joins(const Function& fn, const Binding& b, OpPattern pattern, const Group& g, uint32_t arg) {
  const Binding& producer = fn.body[arg];
  if (producer.types.size() != 1 || !producer.op) return false;
  if (pattern == OpPattern::injective) return g.pattern <= OpPattern::injective;
  return accepts_epilogue(g.pattern) && producer.types[0].shape == b.types[0].shape;
}

std::vector<Group> partition(const Function& fn) {
  const std::vector<int> uses = count_uses(fn);
  std::vector<Group> groups;
  std::vector<int> group_of(fn.body.size(), -1);
  for (uint32_t i = 0; i < fn.body.size(); ++i) {
    const Binding& b = fn.body[i];
    const OpPattern pattern = b.op ? b.op->pattern : OpPattern::opaque;
    int target = -1;
    if (b.op && pattern <= OpPattern::injective && b.types.size() == 1) {
      for (const ValueRef& a : b.args) {
        if (!a.is_binding() || group_of[a.index] < 0) continue;
        const Group& g = groups[static_cast<size_t>(group_of[a.index])];
        if (g.tail == a.index && uses[a.index] == 1 && joins(fn, b, pattern, g, a.index)) {
          target = group_of[a.index];
          break;
        }
      }
    }
    if (target < 0) {
      groups.push_back(Group{{}, i, pattern});
      target = static_cast<int>(groups.size() - 1);
    }
    Group& g = groups[static_cast<size_t>(target)];
    g.members.push_back(i);
    g.tail = i;
    g.pattern = std::max(g.pattern, pattern);
    group_of[i] = target;
  }
  return groups;
}

bool only_ops(const Function& fn, const Group& g) {
  for (uint32_t m : g.members)
    if (!fn.body[m].op || fn.body[m].types.size() != 1) return false;
  return true;
}

// The opt-level-3 phase: merges an elementwise/injective group into its only
// consuming group when that group is elementwise/injective or a reduction.
std::vector<Group> merge_into_single_consumers(const Function& fn, std::vector<Group> groups) {
  for (bool changed = true; changed;) {
    changed = false;
    std::vector<int> group_of(fn.body.size(), -1);
    for (size_t gi = 0; gi < groups.size(); ++gi)
      for (uint32_t m : groups[gi].members) group_of[m] = static_cast<int>(gi);
    std::vector<std::set<int>> consumers(groups.size());
    for (uint32_t i = 0; i < fn.body.size(); ++i)
      for (const ValueRef& a : fn.body[i].args)
        if (a.is_binding() && group_of[a.index] != group_of[i]) consumers[static_cast<size_t>(group_of[a.index])].insert(group_of[i]);
    for (const ValueRef& r : fn.results)
      if (r.is_binding()) consumers[static_cast<size_t>(group_of[r.index])].insert(-1);
    for (size_t gi = groups.size(); gi-- > 0;) {
      const Group& g = groups[gi];
      if (consumers[gi].size() != 1 || *consumers[gi].begin() < 0) continue;
      if (g.pattern > OpPattern::injective || !only_ops(fn, g)) continue;
      Group& h = groups[static_cast<size_t>(*consumers[gi].begin())];
      if (!(h.pattern <= OpPattern::injective || h.pattern == OpPattern::reduction) || !only_ops(fn, h)) continue;
      h.members.insert(h.members.end(), g.members.begin(), g.members.end());
      std::sort(h.members.begin(), h.members.end());
      h.pattern = std::max(h.pattern, g.pattern);
      groups.erase(groups.begin() + static_cast<std::ptrdiff_t>(gi));
      changed = true;
      break;  // indices moved: recompute consumers
    }
  }
  return groups;
}

std::string group_name(const Function& fn, const Group& g) {
  std::string name = "fused";
  for (uint32_t m : g.members) {
    std::string op = fn.body[m].callee_name();
    for (char& c : op)
      if (c == '.' || c == '@') c = '_';
    name += "_" + op;
  }
  return name;
}

// Builds the primitive function of a group and the call that replaces it.
struct Outlined {
  Function function;
  std::vector<ValueRef> call_args;  // in @main's old values
};

Outlined outline(const Module& m, const Function& fn, const Group& g) {
  Outlined out;
  Function& f = out.function;
  f.primitive = true;
  std::map<uint32_t, uint32_t> local;  // old binding index -> new binding index
  auto param_for = [&](const ValueRef& ref) -> ValueRef {
    for (size_t p = 0; p < out.call_args.size(); ++p)
      if (out.call_args[p] == ref) return ValueRef::param(static_cast<uint32_t>(p));
    out.call_args.push_back(ref);
    f.params.push_back({"p" + std::to_string(f.params.size()), m.type_of(fn, ref)});
    return ValueRef::param(static_cast<uint32_t>(f.params.size() - 1));
  };
  for (uint32_t member : g.members) {
    Binding b = fn.body[member];
    for (ValueRef& a : b.args) {
      auto it = a.is_binding() ? local.find(a.index) : local.end();
      a = it != local.end() ? ValueRef::binding(it->second, a.output) : param_for(a);
    }
    local[member] = f.add(std::move(b));
  }
  f.results = {ValueRef::binding(local.at(g.tail))};
  return out;
}

}  // namespace

Module fuse_ops(const Module& module, const PassContext& context) {
  Module out;
  out.constants = module.constants;
  for (const Function& f : module.functions)
    if (f.name != "main") out.functions.push_back(f);

  const Function& main = module.main();
  std::vector<Group> groups = partition(main);
  if (context.opt_level >= 3) groups = merge_into_single_consumers(main, std::move(groups));
  std::map<std::string, std::string> by_structure;  // printed body -> function name
  std::vector<int> tail_group(main.body.size(), -1);
  for (size_t gi = 0; gi < groups.size(); ++gi) tail_group[groups[gi].tail] = static_cast<int>(gi);

  Function new_main;
  new_main.name = "main";
  new_main.params = main.params;
  new_main.result_names = main.result_names;
  std::vector<uint32_t> new_index(main.body.size(), 0);
  for (uint32_t i = 0; i < main.body.size(); ++i) {
    if (tail_group[i] < 0) continue;
    const Group& g = groups[static_cast<size_t>(tail_group[i])];
    Binding call;
    if (g.members.size() == 1 && !main.body[i].op) {
      call = main.body[i];  // already a function call
    } else {
      Outlined o = outline(module, main, g);
      o.function.name = "primitive";
      const std::string structure = print_function(out, o.function);
      auto found = by_structure.find(structure);
      if (found == by_structure.end()) {
        std::string name = group_name(main, g);
        for (int k = 1; out.find_function(name); ++k) name = group_name(main, g) + "_" + std::to_string(k);
        o.function.name = name;
        found = by_structure.emplace(structure, name).first;
        out.functions.push_back(std::move(o.function));
      }
      call.function = found->second;
      call.args = std::move(o.call_args);
      call.origin = main.body[g.members.front()].origin;
      call.types = main.body[i].types;
    }
    for (ValueRef& a : call.args)
      if (a.is_binding()) a = ValueRef::binding(new_index[a.index], a.output);
    new_index[i] = new_main.add(std::move(call));
  }
  for (const ValueRef& r : main.results)
    new_main.results.push_back(r.is_binding() ? ValueRef::binding(new_index[r.index], r.output) : r);
  out.functions.push_back(std::move(new_main));
  return out;
}

}  // namespace modelc::lang
