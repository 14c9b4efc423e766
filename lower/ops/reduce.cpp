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
        case Reducer::sum: return Halide::sum(x);
        case Reducer::mean: return Halide::sum(Halide::cast<float>(x)) / static_cast<float>(count);
        case Reducer::max: return Halide::maximum(x);
        case Reducer::min: return Halide::minimum(x);
        case Reducer::prod: return Halide::product(x);
      }
      return x;
    });
    return LoweredOp{value, {}, {}};
  };
}

}  // namespace

void register_reduce_lowerings(LoweringRegistry& r) {
  r.add("sum", reduce_rule(Reducer::sum));
  r.add("mean", reduce_rule(Reducer::mean));
  r.add("max", reduce_rule(Reducer::max));
  r.add("min", reduce_rule(Reducer::min));
  r.add("prod", reduce_rule(Reducer::prod));
}

}  // namespace modelc::lower
