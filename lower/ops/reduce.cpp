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

// What the two vectorized forms below share: one reduced axis, `split`, is
// walked in chunks of `width` with a partial index `lane` inside each chunk
// (masked past the axis's end); the other reduced axes form an RDom beside
// the chunks; each partial result accumulates into a Func of its own element,
// and the output combines the partials.
class SplitReduction {
 public:
  SplitReduction(Reducer reducer, const TensorFunc& in, const std::vector<int64_t>& axes, bool keepdims, size_t split,
                 int width, const Var& lane, const std::vector<Var>& out_vars, const std::string& name)
      : reducer_(reducer), name_(name) {
    const auto& shape = in.type.shape;
    const int n = static_cast<int>(shape[split]);
    Halide::Region extents;  // the other reduced axes in order, then the split axis's chunks
    for (int64_t a : axes) {
      count_ *= shape[static_cast<size_t>(a)];
      if (static_cast<size_t>(a) != split) extents.push_back(Halide::Range(0, static_cast<int>(shape[static_cast<size_t>(a)])));
    }
    extents.push_back(Halide::Range(0, (n + width - 1) / width));
    r_ = RDom(extents, name + "_r");
    const Halide::RVar chunk = r_[static_cast<int>(extents.size()) - 1];
    std::vector<Expr> idx;
    size_t out_axis = 0;
    int other = 0;
    for (size_t d = 0; d < shape.size(); ++d) {
      const bool reduced = std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) != axes.end();
      if (d == split) idx.push_back(Halide::min(chunk * width + lane, n - 1));
      else if (reduced) idx.push_back(r_[other++]);
      else idx.push_back(out_vars[out_axis]);
      if (!reduced || keepdims) ++out_axis;
    }
    term_ = Halide::select(chunk * width + lane < n, in.at(idx), neutral());
  }

  const RDom& domain() const { return r_; }

  // part(at) = the partial result over the domain, `at` its pure coordinates.
  void define_partials(Halide::Func part, const std::vector<Expr>& at) const {
    part(at) = neutral();
    const Expr p = part(at);
    part(at) = reducer_ == Reducer::max ? Halide::max(p, term_) : reducer_ == Reducer::min ? Halide::min(p, term_) : p + term_;
  }

  // The output from `partial`, an expression over an RDom of the partials.
  Expr combine(const Expr& partial) const {
    if (reducer_ == Reducer::max) return Halide::maximum(partial, name_ + "_maximum");
    if (reducer_ == Reducer::min) return Halide::minimum(partial, name_ + "_minimum");
    const Expr total = Halide::sum(partial, name_ + "_sum");
    return reducer_ == Reducer::mean ? total / static_cast<float>(count_) : total;
  }

 private:
  Expr neutral() const {
    return reducer_ == Reducer::max ? Halide::Float(32).min() : reducer_ == Reducer::min ? Halide::Float(32).max() : Expr(0.f);
  }

  Reducer reducer_;
  std::string name_;
  RDom r_;
  int64_t count_ = 1;
  Expr term_;
};

// GPU targets keep the plain reduction: their schedule (lower/schedules/gpu.cpp)
// gives each output element a thread (PoCL failed to link the OpenCL kernel of
// the row form's partial results).
bool vectorizable(Reducer reducer, const lang::TensorType& in, const LowerContext& ctx) {
  return reducer != Reducer::prod && in.dtype == lang::DType::float32 && in.rank() > 0 && in.element_count() > 0 &&
         !ctx.target.has_gpu_feature();
}

bool reduces_axis(const std::vector<int64_t>& axes, size_t axis) {
  return std::find(axes.begin(), axes.end(), static_cast<int64_t>(axis)) != axes.end();
}

// A float32 sum, mean, maximum or minimum over axes that include the
// innermost one (a contiguous row: an instance norm's mean over H x W in
// NCHW, a decomposed layer norm's over the channels): partial results in L
// lanes side by side (four vectors where the row fills them, so four chains
// of adds are in flight), the row walked in chunks of L, then across the
// lanes. Output elements in parallel tasks. As one scalar chain per output
// element (Halide's inline reduction, no schedule of its own) an instance
// norm's mean over 64 x 128 x 128 took 0.68 ms on one core, about 6 GB/s,
// and did not parallelize over its 64 outputs.
bool reduces_rows(Reducer reducer, const lang::TensorType& in, const std::vector<int64_t>& axes, const LowerContext& ctx) {
  return vectorizable(reducer, in, ctx) && reduces_axis(axes, in.rank() - 1) &&
         in.shape.back() >= ctx.target.natural_vector_size(Halide::Float(32));
}

LoweredOp lower_reduce_rows(std::span<const TensorFunc> args, const LowerContext& ctx, Reducer reducer,
                            const std::vector<int64_t>& axes, bool keepdims) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const int native = ctx.target.natural_vector_size(Halide::Float(32));
  const int lanes = args[0].type.shape.back() >= 4 * native ? 4 * native : native;
  const std::vector<Var> ov = make_vars(t.rank(), ctx.name + "_o");  // IR order
  Var u(ctx.name + "_u");
  const SplitReduction reduction(reducer, args[0], axes, keepdims, args[0].type.rank() - 1, lanes, u, ov, ctx.name);
  auto part_index = [](Expr lane, const std::vector<Var>& w) {  // part(lane, the output's coordinates)
    std::vector<Expr> at{std::move(lane)};
    for (const Var& v : halide_order(w)) at.push_back(v);
    return at;
  };
  Halide::Func part(ctx.name + "_part");
  reduction.define_partials(part, part_index(u, ov));
  RDom across(0, lanes, ctx.name + "_lanes");
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& w) { return reduction.combine(part(part_index(across.x, w))); });
  const int64_t work = args[0].type.element_count();
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
bool reduces_columns(Reducer reducer, const lang::TensorType& in, const std::vector<int64_t>& axes, const LowerContext& ctx) {
  return vectorizable(reducer, in, ctx) && in.rank() >= 2 && !reduces_axis(axes, in.rank() - 1) &&
         reduces_axis(axes, in.rank() - 2) && in.shape.back() >= 4;
}

LoweredOp lower_reduce_columns(std::span<const TensorFunc> args, const LowerContext& ctx, Reducer reducer,
                               const std::vector<int64_t>& axes, bool keepdims) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const size_t column = args[0].type.rank() - 2;
  const int partials = static_cast<int>(std::min<int64_t>(4, args[0].type.shape[column]));
  const std::vector<Var> ov = make_vars(t.rank(), ctx.name + "_o");  // IR order; ov.back() is the kept innermost axis
  Var p(ctx.name + "_p");
  const SplitReduction reduction(reducer, args[0], axes, keepdims, column, partials, p, ov, ctx.name);
  // part(k, p, the output's other coordinates): k innermost, then the partial.
  auto part_index = [](const std::vector<Var>& w, Expr partial) {
    std::vector<Expr> at{w.back(), std::move(partial)};
    for (size_t d = w.size() - 1; d-- > 0;) at.push_back(w[d]);
    return at;
  };
  Halide::Func part(ctx.name + "_part");
  reduction.define_partials(part, part_index(ov, p));
  RDom across(0, partials, ctx.name + "_partials");
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& w) { return reduction.combine(part(part_index(w, across.x))); });
  const int64_t work = args[0].type.element_count();
  const Var k = ov.back();
  const RDom r = reduction.domain();
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
    if (reduces_columns(reducer, in, axes, ctx)) return lower_reduce_columns(args, ctx, reducer, axes, attrs.keepdims);
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
