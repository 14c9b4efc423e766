// Compute rules of reductions over a set of axes.
#include <algorithm>

#include "lang/ops/reduce.h"
#include "lower/tensor_func.h"

namespace modelc::lower {
namespace {

using Halide::Expr;
using Halide::RDom;
using Halide::Var;

enum class Reducer { sum, mean, max, min, prod };

// A float32 sum, mean, maximum or minimum over axes that include the
// innermost one (a contiguous row: an instance norm's mean over H x W, a
// decomposed layer norm's over the channels): partial results in L lanes
// side by side (four vectors where the row fills them, so four chains of
// adds are in flight), the row walked in chunks of L, then across the lanes.
// Output elements in parallel tasks. As one scalar chain per output element
// (Halide's inline reduction, no schedule of its own) an instance norm's
// mean over 64 x 128 x 128 took 0.68 ms on one core, about 6 GB/s, and
// did not parallelize over its 64 outputs.
bool reduces_rows(Reducer reducer, const lang::TensorType& in, const std::vector<int64_t>& axes, const LowerContext& ctx) {
  if (reducer == Reducer::prod || in.dtype != lang::DType::float32 || in.rank() == 0) return false;
  const int64_t last = static_cast<int64_t>(in.rank()) - 1;
  return std::find(axes.begin(), axes.end(), last) != axes.end() &&
         in.shape.back() >= ctx.target.natural_vector_size(Halide::Float(32));
}

LoweredOp lower_reduce_rows(std::span<const TensorFunc> args, const LowerContext& ctx, Reducer reducer,
                            const std::vector<int64_t>& axes, bool keepdims) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto& in = args[0].type;
  const int n = static_cast<int>(in.shape.back());
  const int native = ctx.target.natural_vector_size(Halide::Float(32));
  const int lanes = n >= 4 * native ? 4 * native : native;
  const int chunks = (n + lanes - 1) / lanes;
  const size_t last = in.rank() - 1;
  Halide::Region extents;  // the other reduced axes in order, then the row's chunks
  int64_t count = 1;
  for (int64_t a : axes) {
    count *= in.shape[static_cast<size_t>(a)];
    if (static_cast<size_t>(a) != last) extents.push_back(Halide::Range(0, static_cast<int>(in.shape[static_cast<size_t>(a)])));
  }
  extents.push_back(Halide::Range(0, chunks));
  RDom r(extents, ctx.name + "_r");
  const Halide::RVar chunk = r[static_cast<int>(extents.size()) - 1];
  const std::vector<Var> ov = make_vars(t.rank(), ctx.name + "_o");  // IR order
  Var u(ctx.name + "_u");
  std::vector<Expr> idx;
  size_t out_axis = 0;
  int other = 0;
  for (size_t d = 0; d < in.rank(); ++d) {
    const bool reduced = std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) != axes.end();
    if (d == last) idx.push_back(Halide::min(chunk * lanes + u, n - 1));
    else if (reduced) idx.push_back(r[other++]);
    else idx.push_back(ov[out_axis]);
    if (!reduced || keepdims) ++out_axis;
  }
  const Expr inside = chunk * lanes + u < n;
  const Expr x = args[0].at(idx);
  const bool is_max = reducer == Reducer::max, is_min = reducer == Reducer::min;
  const Expr neutral = is_max ? Halide::Float(32).min() : is_min ? Halide::Float(32).max() : Expr(0.f);
  std::vector<Var> part_vars{u};
  for (const Var& v : halide_order(ov)) part_vars.push_back(v);
  std::vector<Expr> part_args(part_vars.begin(), part_vars.end());
  Halide::Func part(ctx.name + "_part");
  part(part_args) = neutral;
  const Expr term = Halide::select(inside, x, neutral);
  part(part_args) = is_max ? Halide::max(part(part_args), term) : is_min ? Halide::min(part(part_args), term) : part(part_args) + term;
  RDom across(0, lanes, ctx.name + "_lanes");
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& w) {
    std::vector<Expr> at{across.x};
    for (const Var& v : halide_order(w)) at.push_back(v);
    const Expr p = part(at);
    if (is_max) return Halide::maximum(p, ctx.name + "_maximum");
    if (is_min) return Halide::minimum(p, ctx.name + "_minimum");
    const Expr total = Halide::sum(p, ctx.name + "_sum");
    return reducer == Reducer::mean ? total / static_cast<float>(count) : total;
  });
  const int64_t work = in.element_count();
  ScheduleHook schedule = [=](const ScheduleContext& s) mutable {
    const std::vector<Var>& v = s.output_vars;
    if (v.empty()) {
      part.compute_root().vectorize(u, lanes);
    } else {
      Halide::Func out = s.output;
      Var all = fuse_outer(out, v, v.size());
      if (worth_parallel(work)) all = parallel_tasks(out, all, s.output_type.element_count(), work);
      part.compute_at(out, all).vectorize(u, lanes);
    }
    part.update().vectorize(u, lanes);
  };
  LoweredOp lowered{value, schedule, {part}};  // at root where no schedule places it (a GPU's, results apart)
  lowered.schedule_optional = true;
  return lowered;
}

// A float32 sum, mean, maximum or minimum that keeps the innermost axis and
// reduces the one outside it (a blocked layout's mean over H x W, whose
// lanes are channels; a column sum): the output vectorized along the kept
// axis, and P = 4 partial results along the reduced one, each a chain of
// vector adds of its own (one chain waits on each add's latency). Output
// rows in parallel tasks. As an inline reduction an instance norm's mean
// over 64 x 128 x 128 in NCHW16c took 0.3 ms, one chain per block on one
// thread.
bool reduces_columns(Reducer reducer, const lang::TensorType& in, const std::vector<int64_t>& axes) {
  if (reducer == Reducer::prod || in.dtype != lang::DType::float32 || in.rank() < 2) return false;
  const int64_t last = static_cast<int64_t>(in.rank()) - 1;
  return std::find(axes.begin(), axes.end(), last) == axes.end() &&
         std::find(axes.begin(), axes.end(), last - 1) != axes.end() && in.shape.back() >= 4;
}

LoweredOp lower_reduce_columns(std::span<const TensorFunc> args, const LowerContext& ctx, Reducer reducer,
                               const std::vector<int64_t>& axes, bool keepdims) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto& in = args[0].type;
  const size_t last = in.rank() - 1, column = last - 1;
  const int n = static_cast<int>(in.shape[column]);
  const int partials = std::min(4, n);
  const int chunks = (n + partials - 1) / partials;
  Halide::Region extents;  // the other reduced axes in order, then the reduced column's chunks
  int64_t count = 1;
  for (int64_t a : axes) {
    count *= in.shape[static_cast<size_t>(a)];
    if (static_cast<size_t>(a) != column) extents.push_back(Halide::Range(0, static_cast<int>(in.shape[static_cast<size_t>(a)])));
  }
  extents.push_back(Halide::Range(0, chunks));
  RDom r(extents, ctx.name + "_r");
  const Halide::RVar chunk = r[static_cast<int>(extents.size()) - 1];
  const std::vector<Var> ov = make_vars(t.rank(), ctx.name + "_o");  // IR order; ov.back() is the kept innermost axis
  Var p(ctx.name + "_p");
  std::vector<Expr> idx;
  size_t out_axis = 0;
  int other = 0;
  for (size_t d = 0; d < in.rank(); ++d) {
    const bool reduced = std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) != axes.end();
    if (d == column) idx.push_back(Halide::min(chunk * partials + p, n - 1));
    else if (reduced) idx.push_back(r[other++]);
    else idx.push_back(ov[out_axis]);
    if (!reduced || keepdims) ++out_axis;
  }
  const Expr inside = chunk * partials + p < n;
  const bool is_max = reducer == Reducer::max, is_min = reducer == Reducer::min;
  const Expr neutral = is_max ? Halide::Float(32).min() : is_min ? Halide::Float(32).max() : Expr(0.f);
  // part(k, p, the output's other coordinates): k innermost, then the partial.
  auto part_index = [&](const std::vector<Var>& w, Expr partial) {
    std::vector<Expr> at{w.back(), std::move(partial)};
    for (size_t d = w.size() - 1; d-- > 0;) at.push_back(w[d]);
    return at;
  };
  Halide::Func part(ctx.name + "_part");
  const std::vector<Expr> pa = part_index(ov, p);
  part(pa) = neutral;
  const Expr term = Halide::select(inside, args[0].at(idx), neutral);
  part(pa) = is_max ? Halide::max(part(pa), term) : is_min ? Halide::min(part(pa), term) : part(pa) + term;
  RDom across(0, partials, ctx.name + "_partials");
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& w) {
    const Expr e = part(part_index(w, across.x));
    if (is_max) return Halide::maximum(e, ctx.name + "_maximum");
    if (is_min) return Halide::minimum(e, ctx.name + "_minimum");
    const Expr total = Halide::sum(e, ctx.name + "_sum");
    return reducer == Reducer::mean ? total / static_cast<float>(count) : total;
  });
  const int64_t work = in.element_count();
  const Var k = ov.back();
  ScheduleHook schedule = [=](const ScheduleContext& s) mutable {
    const std::vector<Var>& v = s.output_vars;
    Halide::Func out = s.output;
    const int lanes = fitting_lanes(s.output_type.shape.back(), s.vector_lanes);
    out.vectorize(v.back(), lanes, Halide::TailStrategy::GuardWithIf);
    if (v.size() > 1) {
      Var rows = fuse_outer(out, v, v.size() - 1);
      if (worth_parallel(work)) rows = parallel_tasks(out, rows, s.output_type.element_count() / s.output_type.shape.back(), work);
      part.compute_at(out, rows);
    } else {
      part.compute_root();
    }
    part.vectorize(k, lanes, Halide::TailStrategy::GuardWithIf).unroll(p);
    std::vector<Halide::VarOrRVar> order{k, p};
    for (int d = 0; d < r.dimensions(); ++d) order.push_back(r[d]);
    part.update().reorder(order).vectorize(k, lanes, Halide::TailStrategy::GuardWithIf).unroll(p);
  };
  LoweredOp lowered{value, schedule, {part}};  // at root where no schedule places it (a GPU's, results apart)
  lowered.schedule_optional = true;
  return lowered;
}

ComputeRule reduce_rule(Reducer reducer) {
  return [reducer](std::span<const TensorFunc> args, const LowerContext& ctx) {
    const lang::TensorType t = ctx.binding.types.at(0);
    const auto& attrs = lang::attrs_as<lang::ReduceAttrs>(*ctx.binding.attrs);
    const auto& in = args[0].type;
    const auto axes = lang::reduction_axes(attrs, in.rank());
    if (reduces_rows(reducer, in, axes, ctx)) return lower_reduce_rows(args, ctx, reducer, axes, attrs.keepdims);
    if (reduces_columns(reducer, in, axes)) return lower_reduce_columns(args, ctx, reducer, axes, attrs.keepdims);
    Halide::Region extents;
    int64_t count = 1;
    for (int64_t a : axes) {
      extents.push_back(Halide::Range(0, static_cast<int>(in.shape[static_cast<size_t>(a)])));
      count *= in.shape[static_cast<size_t>(a)];
    }
    RDom r(extents, ctx.name + "_r");
    TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& v) {
      // Map output vars back to input axes (reduced axes read the RDom).
      std::vector<Expr> idx;
      size_t out_axis = 0;
      for (size_t d = 0; d < in.rank(); ++d) {
        const auto pos = std::find(axes.begin(), axes.end(), static_cast<int64_t>(d));
        if (pos != axes.end()) {
          idx.push_back(r[static_cast<int>(pos - axes.begin())]);
          if (attrs.keepdims) ++out_axis;
        } else {
          idx.push_back(v[out_axis++]);
        }
      }
      const Expr x = args[0].at(idx);
      switch (reducer) {
        case Reducer::sum: return Halide::sum(x, ctx.name + "_sum");
        case Reducer::mean: return Halide::sum(Halide::cast<float>(x), ctx.name + "_sum") / static_cast<float>(count);
        case Reducer::max: return Halide::maximum(x, ctx.name + "_maximum");
        case Reducer::min: return Halide::minimum(x, ctx.name + "_minimum");
        case Reducer::prod: return Halide::product(x, ctx.name + "_product");
      }
      return x;
    });
    return LoweredOp{value, {}, {}};
  };
}

size_t normalized_axis(int64_t axis, size_t rank) {
  return static_cast<size_t>(axis < 0 ? axis + static_cast<int64_t>(rank) : axis);
}

// `v` (IR order) with the element at `axis` replaced by `e`.
std::vector<Expr> with_axis(const std::vector<Var>& v, size_t axis, Expr e) {
  std::vector<Expr> idx(v.begin(), v.end());
  idx[axis] = e;
  return idx;
}

// Halide's argmax / argmin keep the first extreme; walking the axis backwards
// finds the last one.
template <bool kMax>
LoweredOp lower_arg_reduce(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto& a = lang::attrs_as<lang::ArgReduceAttrs>(*ctx.binding.attrs);
  const auto& in = args[0].type;
  const size_t axis = normalized_axis(a.axis, in.rank());
  const int n = static_cast<int>(in.shape[axis]);
  RDom r(0, n, ctx.name + "_r");
  const Expr k = a.select_last_index ? n - 1 - r.x : Expr(r.x);
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& v) {
    std::vector<Expr> idx;
    size_t out_axis = 0;
    for (size_t d = 0; d < in.rank(); ++d) {
      if (d == axis) {
        idx.push_back(k);
        if (a.keepdims) ++out_axis;
      } else {
        idx.push_back(v[out_axis++]);
      }
    }
    const Halide::Tuple best = kMax ? Halide::argmax(args[0].at(idx), ctx.name + "_argmax") : Halide::argmin(args[0].at(idx), ctx.name + "_argmin");
    return a.select_last_index ? n - 1 - best[0] : best[0];
  });
  return {value, {}, {}};
}

LoweredOp lower_cumsum(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto& a = lang::attrs_as<lang::CumsumAttrs>(*ctx.binding.attrs);
  const size_t axis = normalized_axis(a.axis, t.rank());
  RDom r(0, static_cast<int>(t.shape[axis]), ctx.name + "_r");
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& v) {
    const Expr i = v[axis];
    const Expr included = a.reverse ? (a.exclusive ? r.x > i : r.x >= i) : (a.exclusive ? r.x < i : r.x <= i);
    const Expr x = args[0].at(with_axis(v, axis, r.x));
    return Halide::sum(Halide::select(included, x, Halide::cast(x.type(), 0)), ctx.name + "_sum");
  });
  return {value, {}, {}};
}

// The rank of each element along the axis (how many come before it in the
// sorted order, ties by index), then output j reads the element of rank j.
LoweredOp lower_topk(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto& a = lang::attrs_as<lang::TopKAttrs>(*ctx.binding.attrs);
  const auto& in = args[0].type;
  const size_t axis = normalized_axis(a.axis, in.rank());
  RDom r(0, static_cast<int>(in.shape[axis]), ctx.name + "_r");
  lang::TensorType rank_type{in.shape, lang::DType::int32};
  TensorFunc rank = define(ctx.name + "_rank", rank_type, [&](const std::vector<Var>& v) {
    const Expr mine = args[0].at(std::vector<Expr>(v.begin(), v.end()));
    const Expr other = args[0].at(with_axis(v, axis, r.x));
    const Expr before = a.largest ? other > mine : other < mine;
    return Halide::sum(Halide::select(before || (other == mine && r.x < v[axis]), 1, 0), ctx.name + "_sum");
  });
  RDom s(0, static_cast<int>(in.shape[axis]), ctx.name + "_s");
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& v) {
    const Expr hit = rank.at(with_axis(v, axis, s.x)) == v[axis];
    if (a.ret_type == "indices") return Halide::sum(Halide::select(hit, Halide::cast<int64_t>(s.x), Halide::cast<int64_t>(0)), ctx.name + "_sum");
    const Expr x = args[0].at(with_axis(v, axis, s.x));
    return Halide::sum(Halide::select(hit, x, Halide::cast(x.type(), 0)), ctx.name + "_sum");
  });
  return {value, {}, {rank.func}};
}

}  // namespace

void register_reduce_lowerings(LoweringRegistry& r) {
  r.add("argmax", lower_arg_reduce<true>);
  r.add("argmin", lower_arg_reduce<false>);
  r.add("cumsum", lower_cumsum);
  r.add("topk", lower_topk);
  r.add("sum", reduce_rule(Reducer::sum));
  r.add("mean", reduce_rule(Reducer::mean));
  r.add("max", reduce_rule(Reducer::max));
  r.add("min", reduce_rule(Reducer::min));
  r.add("prod", reduce_rule(Reducer::prod));
}

}  // namespace modelc::lower
