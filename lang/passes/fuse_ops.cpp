// FuseOps: partitions @main into groups that each become one primitive
// function, i.e. one kernel, whose results are the group's values that the
// rest of @main uses (a tuple when there are several).
//
// Phase 1 walks the bindings in order. An elementwise or broadcast op joins
// the group that produced one of its arguments when that argument has the
// op's own shape and the group is not opaque; an injective op (reshape,
// transpose, strided_slice, layout_transform, ...) joins the same way a group
// made only of elementwise and injective ops. So conv2d/dense/pooling anchors
// absorb their bias, activation and residual add, reductions their
// elementwise consumers, and chains and trees of data movement and
// elementwise ops become one kernel. The argument need not be the group's
// last value nor used by this op alone: a value that other groups or @main's
// results also use becomes one more result of its group. So the residual sum
// that feeds a layer norm and a later residual add ends no group, and the
// strided_slices of one fused QKV projection land in one kernel with three
// results. An argument that is its group's last value and used by this op
// alone is preferred (the plain chain), and an op never joins a group that
// another of its arguments depends on: the fused @main would have a cycle.
//
// The rule that keeps schedules valid: injective ops (which change shapes)
// never join an anchor or a reduction, and elementwise ops join only through
// an argument of their own shape, so every value of a group with an anchor
// has the anchor's output shape. An anchor's tuned schedule then sees one
// loop nest of its own output shape that stores every result (a Halide Tuple,
// see lower/kernel_builder.cpp). Results of different shapes occur only in
// groups of elementwise/injective ops (and, from opt level 3, reductions),
// which lower/ schedules output by output; outlining checks the rule.
//
// Phase 2 (opt level 2 and up), horizontal fusion: groups of elementwise and
// injective ops that read exactly the same tensors, such as sibling slices of
// one tensor, merge into one kernel that reads them once.
//
// Phase 3 (opt level 3) merges a group of elementwise/injective ops into a
// group that reads its values, when that group is elementwise/injective or a
// reduction and no third group lies on a path between the two: producers with
// several consumers inside one elementwise region (a diamond), and
// elementwise prologues of reductions, e.g. the (x - mean)^2 of a decomposed
// layer norm. Values that other groups still read become results of the union.
//
// Phase 4 (opt level 2), producer fusion: the group of
// a pointwise convolution (1x1, stride 1, no padding; float32 over NCHW{k}c,
// or qnn.conv2d over NCHW with its requantize) and its elementwise epilogue
// merges into the group of the depthwise convolution (of the same kind) that
// alone reads its value. The kernel computes the pointwise convolution
// a few rows at a time inside the depthwise one's loops (lower/ops/conv2d.cpp,
// lower/ops/qnn_depthwise.cpp), so MobileNet's expanded tensor, six times its
// input, never leaves the cache.
// Such a group has two anchors; its results have the last anchor's shape.
//
// Phase 5 (opt level 2), prologue fusion: a group of elementwise ops whose
// last value only such a pointwise convolution reads, as its data, joins the
// convolution's group (a squeeze-and-excitation scale; see fuse_prologues).
// Its values have the convolution's input shape; they are no results.
//
// @main calls the groups in binding order of their last members wherever
// that order respects the data flow. A group none of whose values is used
// returns its last value. Ops with several outputs stay alone. Structurally
// identical groups share one function, hence one kernel.
#include <algorithm>
#include <functional>
#include <map>
#include <queue>
#include <set>
#include <tuple>

#include "lang/ops/layout.h"
#include "lang/ops/nn.h"
#include "lang/ops/qnn.h"
#include "lang/pass.h"
#include "lang/text.h"
#include "support/diagnostic.h"

namespace modelc::lang {
namespace {

struct Group {
  std::vector<uint32_t> members;  // binding indices of @main, ascending
  OpPattern pattern = OpPattern::opaque;
};

// The groups of @main, which group each binding is in, and which other
// groups each group reads. Merging leaves the merged group empty; compacted()
// drops empty groups.
struct Grouping {
  std::vector<Group> groups;
  std::vector<int> group_of;
  std::vector<std::set<int>> reads;

  Grouping(const Function& fn, std::vector<Group> list) : groups(std::move(list)), group_of(fn.body.size(), -1) {
    for (size_t gi = 0; gi < groups.size(); ++gi)
      for (uint32_t m : groups[gi].members) group_of[m] = static_cast<int>(gi);
    reads.resize(groups.size());
    for (uint32_t i = 0; i < fn.body.size(); ++i) note_reads(fn.body[i], group_of[i]);
  }

  void note_reads(const Binding& b, int reader) {
    if (reader < 0) return;
    for (const ValueRef& a : b.args)
      if (a.is_binding() && group_of[a.index] >= 0 && group_of[a.index] != reader) reads[static_cast<size_t>(reader)].insert(group_of[a.index]);
  }

  // Whether group `from` reads, directly or through other groups, a value of group `target`.
  bool depends_on(int from, int target) const {
    std::vector<bool> seen(groups.size(), false);
    std::vector<int> stack{from};
    while (!stack.empty()) {
      const int g = stack.back();
      stack.pop_back();
      if (g == target) return true;
      if (seen[static_cast<size_t>(g)]) continue;
      seen[static_cast<size_t>(g)] = true;
      for (int h : reads[static_cast<size_t>(g)]) stack.push_back(h);
    }
    return false;
  }

  // Whether merging `from` into `into` would close a cycle: a third group
  // reads `from` (directly or not) and feeds `into`, or the other way round.
  bool merge_closes_cycle(int into, int from) const {
    auto through_third = [&](int reader, int producer) {
      for (int x : reads[static_cast<size_t>(reader)])
        if (x != producer && depends_on(x, producer)) return true;
      return false;
    };
    return through_third(into, from) || through_third(from, into);
  }

  void merge(int into, int from) {
    Group& h = groups[static_cast<size_t>(into)];
    Group& g = groups[static_cast<size_t>(from)];
    for (uint32_t m : g.members) group_of[m] = into;
    h.members.insert(h.members.end(), g.members.begin(), g.members.end());
    std::sort(h.members.begin(), h.members.end());
    h.pattern = std::max(h.pattern, g.pattern);
    g.members.clear();
    for (int x : reads[static_cast<size_t>(from)]) reads[static_cast<size_t>(into)].insert(x);
    reads[static_cast<size_t>(from)].clear();
    for (size_t x = 0; x < reads.size(); ++x)
      if (reads[x].erase(from) && static_cast<int>(x) != into) reads[x].insert(into);
    reads[static_cast<size_t>(into)].erase(into);
  }

  std::vector<Group> compacted() const {
    std::vector<Group> out;
    for (const Group& g : groups)
      if (!g.members.empty()) out.push_back(g);
    return out;
  }
};

bool accepts_epilogue(OpPattern group_pattern) { return group_pattern != OpPattern::opaque; }

// Whether op `b` (pattern `pattern`) may join group `g` through its argument `arg`, a value of the group.
bool joins(const Function& fn, const Binding& b, OpPattern pattern, const Group& g, uint32_t arg) {
  const Binding& producer = fn.body[arg];
  if (producer.types.size() != 1 || !producer.op) return false;
  if (pattern == OpPattern::injective) return g.pattern <= OpPattern::injective;
  return accepts_epilogue(g.pattern) && producer.types[0].shape == b.types[0].shape;
}

// Whether putting `b` into group `g` would make some other group both read a value of `g` and feed `b`.
bool closes_cycle(const Grouping& p, const Binding& b, int g) {
  for (const ValueRef& a : b.args) {
    if (!a.is_binding()) continue;
    const int h = p.group_of[a.index];
    if (h != g && p.depends_on(h, g)) return true;
  }
  return false;
}

// The group binding `i` joins, or -1 when it starts its own.
int group_to_join(const Function& fn, const Grouping& p, const std::vector<int>& uses, uint32_t i) {
  const Binding& b = fn.body[i];
  const OpPattern pattern = b.op ? b.op->pattern : OpPattern::opaque;
  if (!b.op || pattern > OpPattern::injective || b.types.size() != 1) return -1;
  auto fits = [&](const ValueRef& a, bool chain_only) {
    if (!a.is_binding()) return false;
    const int gi = p.group_of[a.index];
    const Group& g = p.groups[static_cast<size_t>(gi)];
    if (chain_only && (g.members.back() != a.index || uses[a.index] != 1)) return false;
    return joins(fn, b, pattern, g, a.index) && !closes_cycle(p, b, gi);
  };
  for (bool chain_only : {true, false})
    for (const ValueRef& a : b.args)
      if (fits(a, chain_only)) return p.group_of[a.index];
  return -1;
}

Grouping partition(const Function& fn) {
  const std::vector<int> uses = count_uses(fn);
  Grouping p(fn, {});
  for (uint32_t i = 0; i < fn.body.size(); ++i) {
    const Binding& b = fn.body[i];
    const OpPattern pattern = b.op ? b.op->pattern : OpPattern::opaque;
    int target = group_to_join(fn, p, uses, i);
    if (target < 0) {
      p.groups.push_back(Group{{}, pattern});
      p.reads.emplace_back();
      target = static_cast<int>(p.groups.size() - 1);
    }
    Group& g = p.groups[static_cast<size_t>(target)];
    g.members.push_back(i);
    g.pattern = std::max(g.pattern, pattern);
    p.group_of[i] = target;
    p.note_reads(b, target);
  }
  return p;
}

bool only_ops(const Function& fn, const Group& g) {
  for (uint32_t m : g.members)
    if (!fn.body[m].op || fn.body[m].types.size() != 1) return false;
  return true;
}

// Phase 2: elementwise/injective groups that read the same non-constant
// values merge into the first of them. Neither can depend on the other (it
// would read a value the other does not), so no cycle arises.
std::vector<Group> merge_siblings(const Function& fn, std::vector<Group> groups) {
  using Key = std::set<std::tuple<int, uint32_t, uint32_t>>;  // (kind, index, output) of each value read
  Grouping p(fn, std::move(groups));
  std::map<Key, int> first_reader;
  for (size_t gi = 0; gi < p.groups.size(); ++gi) {
    const Group& g = p.groups[gi];
    if (g.pattern > OpPattern::injective || !only_ops(fn, g)) continue;
    Key key;
    for (uint32_t m : g.members)
      for (const ValueRef& a : fn.body[m].args)
        if (a.is_param() || (a.is_binding() && p.group_of[a.index] != static_cast<int>(gi)))
          key.emplace(static_cast<int>(a.kind), a.index, a.output);
    if (key.empty()) continue;
    auto [it, inserted] = first_reader.emplace(key, static_cast<int>(gi));
    if (!inserted) p.merge(it->second, static_cast<int>(gi));
  }
  return p.compacted();
}

// Phase 3 (opt level 3): merges a group of elementwise/injective ops into a
// group that reads its values, the first such group that is itself
// elementwise/injective or a reduction and that no third group connects to it
// (which would close a cycle). Values of the merged group that others still
// use become results of the union.
std::vector<Group> merge_into_consumers(const Function& fn, std::vector<Group> groups) {
  Grouping p(fn, std::move(groups));
  auto mergeable = [&](const Group& g) { return !g.members.empty() && only_ops(fn, g); };
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t gi = p.groups.size(); gi-- > 0;) {
      if (!mergeable(p.groups[gi]) || p.groups[gi].pattern > OpPattern::injective) continue;
      for (size_t hi = 0; hi < p.groups.size(); ++hi) {
        const Group& h = p.groups[hi];
        if (hi == gi || !p.reads[hi].count(static_cast<int>(gi)) || !mergeable(h)) continue;
        if (!(h.pattern <= OpPattern::injective || h.pattern == OpPattern::reduction)) continue;
        if (p.merge_closes_cycle(static_cast<int>(hi), static_cast<int>(gi))) continue;
        p.merge(static_cast<int>(hi), static_cast<int>(gi));
        changed = true;
        break;
      }
    }
  }
  return p.compacted();
}

bool is_blocked(const std::string& layout) {
  const Layout l = Layout::parse(layout);
  return l.rank() == 5 && l.primal() == "NCHW" && l.factor_of('C') > 0;
}

// The pointwise convolution that heads group `g`, when the group is that
// convolution and elementwise ops after it.
const Binding* pointwise_anchor(const Module& m, const Function& fn, const Group& g) {
  const Binding& b = fn.body[g.members.front()];
  if (!b.is_op("nn.conv2d") || b.types.size() != 1 || b.types[0].dtype != DType::float32) return nullptr;
  for (size_t k = 1; k < g.members.size(); ++k) {
    const Binding& e = fn.body[g.members[k]];
    if (!e.op || e.op->pattern > OpPattern::broadcast || e.types.size() != 1) return nullptr;
  }
  const auto& a = attrs_as<Conv2DAttrs>(*b.attrs);
  const TensorType w = m.type_of(fn, b.args[1]);
  const bool unit = w.rank() == 6 && w.shape[2] == 1 && w.shape[3] == 1;
  const bool plain = a.groups == 1 && a.strides == std::vector<int64_t>{1, 1} &&
                     a.padding == std::vector<int64_t>{0, 0, 0, 0};
  return unit && plain && w.dtype == DType::float32 && is_blocked(a.data_layout) && is_blocked(a.out_layout) ? &b : nullptr;
}

// The 8-bit pointwise convolution that heads group `g` (qnn.conv2d, 1x1,
// groups 1, stride 1, no padding, NCHW), when the group is that convolution
// and elementwise ops after it (its requantize, a clip) ending in 8 bits.
const Binding* qnn_pointwise_anchor(const Module& m, const Function& fn, const Group& g) {
  const Binding& b = fn.body[g.members.front()];
  if (!b.is_op("qnn.conv2d") || b.types.size() != 1 || b.types[0].rank() != 4) return nullptr;
  for (size_t k = 1; k < g.members.size(); ++k) {
    const Binding& e = fn.body[g.members[k]];
    if (!e.op || e.op->pattern > OpPattern::broadcast || e.types.size() != 1) return nullptr;
  }
  const Binding& last = fn.body[g.members.back()];
  if (last.types[0].dtype != DType::uint8 && last.types[0].dtype != DType::int8) return nullptr;
  const auto& a = attrs_as<QnnConv2DAttrs>(*b.attrs);
  const TensorType w = qnn_conv2d_oihw_weight(m.type_of(fn, b.args[1]), a);
  const bool plain = a.groups == 1 && a.strides == std::vector<int64_t>{1, 1} && a.padding == std::vector<int64_t>{0, 0, 0, 0};
  return plain && w.rank() == 4 && w.shape[2] == 1 && w.shape[3] == 1 ? &b : nullptr;
}

// Whether `b` is an 8-bit depthwise convolution over NCHW (one input and one
// output channel per group) whose input rows are 8 pixels or more. Its
// producer computes a vector of a row's pixels at a time (lower/ops/
// qnn_conv2d.cpp, lower_packed): on MobileNetV2's 7 x 7 planes the fused layers took 1.9x
// as long as the two kernels apart (Zen 5, one thread), on 14 x 14 ones 0.8x.
bool is_qnn_depthwise(const Module& m, const Function& fn, const Binding& b) {
  if (!b.is_op("qnn.conv2d") || b.types.size() != 1 || b.types[0].rank() != 4) return false;
  const auto& a = attrs_as<QnnConv2DAttrs>(*b.attrs);
  const TensorType x = m.type_of(fn, b.args[0]);
  return x.rank() == 4 && a.groups > 1 && a.groups == x.shape[1] && b.types[0].shape[1] == a.groups && x.shape[3] >= 8;
}

// Whether `b` is a float32 depthwise convolution over NCHW{k}c.
bool is_blocked_depthwise(const Module& m, const Function& fn, const Binding& b) {
  if (!b.is_op("nn.conv2d") || b.types.size() != 1 || b.types[0].dtype != DType::float32) return false;
  const auto& a = attrs_as<Conv2DAttrs>(*b.attrs);
  const TensorType x = m.type_of(fn, b.args[0]);
  if (!is_blocked(a.data_layout) || a.out_layout != a.data_layout || x.rank() != 5) return false;
  const int64_t k = Layout::parse(a.data_layout).factor_of('C');
  return a.groups == x.shape[1] * x.shape[4] && a.kernel_layout == "OIHW" + std::to_string(k) + "o";
}

// Whether no value of group `gi` is a result of @main, and every one but
// `value` is read inside the group only.
bool sealed(const Function& fn, const Grouping& p, int gi, uint32_t value, const std::set<uint32_t>& results) {
  for (uint32_t k : p.groups[static_cast<size_t>(gi)].members)
    if (results.count(k)) return false;
  for (uint32_t i = 0; i < fn.body.size(); ++i)
    for (const ValueRef& a : fn.body[i].args)
      if (a.is_binding() && a.index != value && p.group_of[a.index] == gi && p.group_of[i] != gi) return false;
  return true;
}

// Merges into each anchor group `c` that `consumer` accepts the group that
// produces the data argument of c's first op, when `producer` accepts that
// group, the value is its last and read by that op alone, no value of it is
// a result or read outside it but that one, and the merge closes no cycle.
std::vector<Group> fuse_into_consumers(const Function& fn, std::vector<Group> groups,
                                       const std::function<bool(const Group&)>& consumer,
                                       const std::function<bool(const Group&)>& producer) {
  Grouping p(fn, std::move(groups));
  const std::vector<int> uses = count_uses(fn);
  std::set<uint32_t> results;
  for (const ValueRef& r : fn.results)
    if (r.is_binding()) results.insert(r.index);
  for (size_t ci = 0; ci < p.groups.size(); ++ci) {
    const Group& c = p.groups[ci];
    if (c.members.empty() || c.pattern != OpPattern::out_elemwise_fusable || !consumer(c)) continue;
    const Binding& head = fn.body[c.members.front()];
    if (head.args.empty() || !head.args[0].is_binding()) continue;
    const uint32_t value = head.args[0].index;
    const int pi = p.group_of[value];
    if (pi < 0 || pi == static_cast<int>(ci)) continue;
    const Group& g = p.groups[static_cast<size_t>(pi)];
    if (g.members.back() != value || uses[value] != 1 || !producer(g)) continue;
    if (!sealed(fn, p, pi, value, results) || p.merge_closes_cycle(static_cast<int>(ci), pi)) continue;
    p.merge(static_cast<int>(ci), pi);
  }
  return p.compacted();
}

// Phase 4: the pointwise convolution group into the depthwise convolution's,
// float32 over NCHW{k}c or 8-bit over NCHW.
std::vector<Group> fuse_producers(const Module& m, const Function& fn, std::vector<Group> groups) {
  groups = fuse_into_consumers(
      fn, std::move(groups), [&](const Group& c) { return is_blocked_depthwise(m, fn, fn.body[c.members.front()]); },
      [&](const Group& g) { return pointwise_anchor(m, fn, g) != nullptr; });
  return fuse_into_consumers(
      fn, std::move(groups), [&](const Group& c) { return is_qnn_depthwise(m, fn, fn.body[c.members.front()]); },
      [&](const Group& g) { return qnn_pointwise_anchor(m, fn, g) != nullptr; });
}

// Phase 5 (opt level 2), prologue fusion: a group of elementwise ops (no
// anchor) whose last value only the pointwise convolution heading another
// group reads, as its data, joins that group. The convolution computes the
// prologue row by row into a small buffer before the rows that read it
// (lower/ops/conv2d.cpp). The case it is for: a squeeze-and-excitation block's
// per-channel scale, multiply(s, x), which cannot join the depthwise
// convolution producing x (s is computed from x) and was a kernel of its own
// that wrote and read back the whole expanded tensor.
std::vector<Group> fuse_prologues(const Module& m, const Function& fn, std::vector<Group> groups) {
  return fuse_into_consumers(
      fn, std::move(groups), [&](const Group& c) { return pointwise_anchor(m, fn, c) != nullptr; },
      [&](const Group& g) { return g.pattern <= OpPattern::broadcast && only_ops(fn, g); });
}

// The values of each group that other groups or @main's results use, in binding order.
std::vector<std::vector<ValueRef>> group_results(const Function& fn, const Grouping& p) {
  std::vector<std::set<std::pair<uint32_t, uint32_t>>> used(p.groups.size());
  for (uint32_t i = 0; i < fn.body.size(); ++i)
    for (const ValueRef& a : fn.body[i].args)
      if (a.is_binding() && p.group_of[a.index] != p.group_of[i]) used[static_cast<size_t>(p.group_of[a.index])].emplace(a.index, a.output);
  for (const ValueRef& r : fn.results)
    if (r.is_binding()) used[static_cast<size_t>(p.group_of[r.index])].emplace(r.index, r.output);
  std::vector<std::vector<ValueRef>> results(p.groups.size());
  for (size_t gi = 0; gi < p.groups.size(); ++gi) {
    for (const auto& [index, output] : used[gi]) results[gi].push_back(ValueRef::binding(index, output));
    if (results[gi].empty()) results[gi].push_back(ValueRef::binding(p.groups[gi].members.back()));  // dead code
  }
  return results;
}

// Groups in an order where each comes after the groups it reads: Kahn's
// algorithm taking the ready group with the earliest last member, which is
// binding order whenever binding order is valid.
std::vector<size_t> emission_order(const Grouping& p) {
  std::vector<size_t> waiting(p.groups.size(), 0);
  std::vector<std::vector<size_t>> readers(p.groups.size());
  for (size_t gi = 0; gi < p.groups.size(); ++gi) {
    waiting[gi] = p.reads[gi].size();
    for (int h : p.reads[gi]) readers[static_cast<size_t>(h)].push_back(gi);
  }
  using Ready = std::pair<uint32_t, size_t>;  // (last member, group)
  std::priority_queue<Ready, std::vector<Ready>, std::greater<>> ready;
  for (size_t gi = 0; gi < p.groups.size(); ++gi)
    if (waiting[gi] == 0) ready.emplace(p.groups[gi].members.back(), gi);
  std::vector<size_t> order;
  while (!ready.empty()) {
    const size_t gi = ready.top().second;
    ready.pop();
    order.push_back(gi);
    for (size_t r : readers[gi])
      if (--waiting[r] == 0) ready.emplace(p.groups[r].members.back(), r);
  }
  if (order.size() != p.groups.size()) throw std::logic_error("FuseOps: the groups depend on each other in a cycle");
  return order;
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

// The schedule rule of the header: a group with an anchor keeps every result
// in its (last) anchor's shape.
void check_result_shapes(const Function& fn, const Group& g, const std::vector<ValueRef>& results) {
  if (g.pattern != OpPattern::out_elemwise_fusable) return;
  uint32_t anchor = g.members.front();
  for (uint32_t m : g.members)
    if (fn.body[m].op && fn.body[m].op->pattern == OpPattern::out_elemwise_fusable) anchor = m;
  for (const ValueRef& r : results)
    if (fn.body[r.index].types.at(r.output).shape != fn.body[anchor].types.at(0).shape)
      throw std::logic_error("FuseOps: a result of an anchor group differs from the anchor's shape");
}

// Builds the primitive function of a group and the call that replaces it.
struct Outlined {
  Function function;
  std::vector<ValueRef> call_args;  // in @main's old values
};

Outlined outline(const Module& m, const Function& fn, const Group& g, const std::vector<ValueRef>& results) {
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
  for (const ValueRef& r : results) f.results.push_back(ValueRef::binding(local.at(r.index), r.output));
  return out;
}

}  // namespace

Module fuse_ops(const Module& module, const PassContext& context) {
  Module out;
  out.constants = module.constants;
  for (const Function& f : module.functions)
    if (f.name != "main") out.functions.push_back(f);

  const Function& main = module.main();
  std::vector<Group> groups = partition(main).groups;
  if (context.opt_level >= 2) groups = merge_siblings(main, std::move(groups));
  if (context.opt_level >= 3) groups = merge_into_consumers(main, std::move(groups));
  if (context.opt_level >= 2) groups = fuse_producers(module, main, std::move(groups));
  if (context.opt_level >= 2) groups = fuse_prologues(module, main, std::move(groups));
  const Grouping grouping(main, std::move(groups));
  const std::vector<std::vector<ValueRef>> results = group_results(main, grouping);
  std::map<std::string, std::string> by_structure;  // printed body -> function name

  Function new_main;
  new_main.name = "main";
  new_main.params = main.params;
  new_main.result_names = main.result_names;
  std::map<std::pair<uint32_t, uint32_t>, ValueRef> new_value;  // (binding, output) of the old @main -> new value
  auto renamed = [&](const ValueRef& r) { return r.is_binding() ? new_value.at({r.index, r.output}) : r; };
  for (size_t gi : emission_order(grouping)) {
    const Group& g = grouping.groups[gi];
    const uint32_t first = g.members.front();
    Binding call;
    std::vector<ValueRef> outputs;  // old values, in the order of the call's outputs
    if (g.members.size() == 1 && !main.body[first].op) {
      call = main.body[first];  // already a function call
      for (uint32_t k = 0; k < call.types.size(); ++k) outputs.push_back(ValueRef::binding(first, k));
    } else {
      check_result_shapes(main, g, results[gi]);
      Outlined o = outline(module, main, g, results[gi]);
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
      call.origin = main.body[first].origin;
      outputs = results[gi];
      for (const ValueRef& r : outputs) call.types.push_back(main.body[r.index].types.at(r.output));
    }
    for (ValueRef& a : call.args) a = renamed(a);
    const uint32_t index = new_main.add(std::move(call));
    for (uint32_t k = 0; k < outputs.size(); ++k) new_value[{outputs[k].index, outputs[k].output}] = ValueRef::binding(index, k);
  }
  for (const ValueRef& r : main.results) new_main.results.push_back(renamed(r));
  out.functions.push_back(std::move(new_main));
  return out;
}

}  // namespace modelc::lang
