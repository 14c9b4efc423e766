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

ComputeRule reduce_rule(Reducer reducer) {
  return [reducer](std::span<const TensorFunc> args, const LowerContext& ctx) {
    const lang::TensorType t = ctx.binding.types.at(0);
    const auto& attrs = lang::attrs_as<lang::ReduceAttrs>(*ctx.binding.attrs);
    const auto& in = args[0].type;
    const auto axes = lang::reduction_axes(attrs, in.rank());
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
