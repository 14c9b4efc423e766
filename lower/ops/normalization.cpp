// Compute rules of nn.log_softmax and nn.layer_norm: the statistics are
// reductions computed whole, then one elementwise pass.
#include "lang/ops/nn.h"
#include "lang/ops/normalization.h"
#include "lower/tensor_func.h"

namespace modelc::lower {
namespace {

using Halide::Expr;
using Halide::RDom;
using Halide::Var;

size_t normalized_axis(int64_t axis, size_t rank) {
  return static_cast<size_t>(axis < 0 ? axis + static_cast<int64_t>(rank) : axis);
}

LoweredOp lower_log_softmax(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const size_t axis = normalized_axis(lang::attrs_as<lang::AxisAttrs>(*ctx.binding.attrs).axis, t.rank());
  RDom r(0, static_cast<int>(t.shape[axis]), ctx.name + "_r");
  auto with_axis = [&](const std::vector<Var>& v, Expr e) {
    std::vector<Expr> idx(v.begin(), v.end());
    idx[axis] = e;
    return idx;
  };
  lang::TensorType stat_type = t;
  stat_type.shape[axis] = 1;
  TensorFunc mx = define(ctx.name + "_max", stat_type, [&](const std::vector<Var>& v) {
    return Halide::maximum(args[0].at(with_axis(v, r.x)), ctx.name + "_maximum");
  });
  TensorFunc log_sum = define(ctx.name + "_logsum", stat_type, [&](const std::vector<Var>& v) {
    return Halide::log(Halide::sum(Halide::exp(args[0].at(with_axis(v, r.x)) - mx.at(with_axis(v, 0))), ctx.name + "_sum"));
  });
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& v) {
    return args[0].at(std::vector<Expr>(v.begin(), v.end())) - mx.at(with_axis(v, 0)) - log_sum.at(with_axis(v, 0));
  });
  return {value, {}, {mx.func, log_sum.func}};
}

// The element of `arg` that broadcasts to output index `v` (IR order).
Expr broadcast_at(const TensorFunc& arg, const std::vector<Var>& v) {
  const size_t offset = v.size() - arg.type.rank();
  std::vector<Expr> idx;
  for (size_t d = 0; d < arg.type.rank(); ++d) idx.push_back(arg.type.shape[d] == 1 ? Expr(0) : Expr(v[offset + d]));
  return arg.at(idx);
}

LoweredOp lower_layer_norm(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto& a = lang::attrs_as<lang::LayerNormAttrs>(*ctx.binding.attrs);
  const size_t axis = normalized_axis(a.axis, t.rank());
  Halide::Region extents;
  int64_t count = 1;
  for (size_t d = axis; d < t.rank(); ++d) {
    extents.push_back(Halide::Range(0, static_cast<int>(t.shape[d])));
    count *= t.shape[d];
  }
  RDom r(extents, ctx.name + "_r");
  auto over_axes = [&](const std::vector<Var>& v) {
    std::vector<Expr> idx(v.begin(), v.end());
    for (size_t d = axis; d < t.rank(); ++d) idx[d] = r[static_cast<int>(d - axis)];
    return idx;
  };
  auto stat_index = [&](const std::vector<Var>& v) {
    std::vector<Expr> idx(v.begin(), v.end());
    for (size_t d = axis; d < t.rank(); ++d) idx[d] = 0;
    return idx;
  };
  lang::TensorType stat_type = t;
  for (size_t d = axis; d < t.rank(); ++d) stat_type.shape[d] = 1;
  const float inv_count = 1.f / static_cast<float>(count);
  TensorFunc mean = define(ctx.name + "_mean", stat_type, [&](const std::vector<Var>& v) {
    return Halide::sum(args[0].at(over_axes(v)), ctx.name + "_sum") * inv_count;
  });
  TensorFunc inv_std = define(ctx.name + "_invstd", stat_type, [&](const std::vector<Var>& v) {
    const Expr d = args[0].at(over_axes(v)) - mean.at(stat_index(v));
    return 1.f / Halide::sqrt(Halide::sum(d * d, ctx.name + "_sum") * inv_count + static_cast<float>(a.epsilon));
  });
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& v) {
    const Expr x = args[0].at(std::vector<Expr>(v.begin(), v.end()));
    return (x - mean.at(stat_index(v))) * inv_std.at(stat_index(v)) * broadcast_at(args[1], v) + broadcast_at(args[2], v);
  });
  return {value, {}, {mean.func, inv_std.func}};
}

}  // namespace

void register_normalization_lowerings(LoweringRegistry& r) {
  r.add("nn.log_softmax", lower_log_softmax);
  r.add("nn.layer_norm", lower_layer_norm);
}

}  // namespace modelc::lower
