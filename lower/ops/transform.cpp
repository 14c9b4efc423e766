// Compute rules of data-movement operators: pure index arithmetic over static shapes.
#include "lang/ops/transform.h"

#include "lower/tensor_func.h"

namespace modelc::lower {
namespace {

using Halide::Expr;
using Halide::Var;

LoweredOp lower_reshape(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto out_strides = lang::contiguous_strides(t.shape);
  const auto& in_shape = args[0].type.shape;
  const auto in_strides = lang::contiguous_strides(in_shape);
  return {define(ctx.name, t, [&](const std::vector<Var>& v) {
            Expr flat = 0;
            for (size_t d = 0; d < v.size(); ++d) flat += v[d] * static_cast<int>(out_strides[d]);
            std::vector<Expr> idx;
            for (size_t d = 0; d < in_shape.size(); ++d)
              idx.push_back((flat / static_cast<int>(in_strides[d])) % static_cast<int>(in_shape[d]));
            return args[0].at(idx);
          }),
          {}, {}};
}

LoweredOp lower_transpose(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  std::vector<int64_t> axes = lang::attrs_as<lang::TransposeAttrs>(*ctx.binding.attrs).axes;
  const size_t rank = t.rank();
  if (axes.empty())
    for (size_t i = 0; i < rank; ++i) axes.push_back(static_cast<int64_t>(rank - 1 - i));
  return {define(ctx.name, t, [&](const std::vector<Var>& v) {
            std::vector<Expr> idx(rank);
            for (size_t d = 0; d < rank; ++d) {
              const int64_t a = axes[d] < 0 ? axes[d] + static_cast<int64_t>(rank) : axes[d];
              idx[static_cast<size_t>(a)] = v[d];
            }
            return args[0].at(idx);
          }),
          {}, {}};
}

LoweredOp lower_concatenate(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  int64_t axis = lang::attrs_as<lang::ConcatenateAttrs>(*ctx.binding.attrs).axis;
  if (axis < 0) axis += static_cast<int64_t>(t.rank());
  const auto ax = static_cast<size_t>(axis);
  return {define(ctx.name, t, [&](const std::vector<Var>& v) {
            // Build select(i < end0, a0, i < end1, a1, ..., a_last) from the last piece backwards.
            std::vector<int64_t> starts;
            int64_t start = 0;
            for (const TensorFunc& a : args) {
              starts.push_back(start);
              start += a.type.shape[ax];
            }
            auto piece = [&](size_t k) {
              std::vector<Expr> idx(v.begin(), v.end());
              const Expr local = v[ax] - static_cast<int>(starts[k]);
              idx[ax] = Halide::clamp(local, 0, static_cast<int>(args[k].type.shape[ax]) - 1);
              return args[k].at(idx);
            };
            Expr value = piece(args.size() - 1);
            for (size_t k = args.size() - 1; k-- > 0;)
              value = Halide::select(v[ax] < static_cast<int>(starts[k + 1]), piece(k), value);
            return value;
          }),
          {}, {}};
}

LoweredOp lower_strided_slice(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto ranges = lang::resolve_strided_slice(args[0].type.shape, lang::attrs_as<lang::StridedSliceAttrs>(*ctx.binding.attrs));
  return {define(ctx.name, t, [&](const std::vector<Var>& v) {
            std::vector<Expr> idx;
            for (size_t d = 0; d < v.size(); ++d)
              idx.push_back(static_cast<int>(ranges[d].start) + v[d] * static_cast<int>(ranges[d].step));
            return args[0].at(idx);
          }),
          {}, {}};
}

}  // namespace

void register_transform_lowerings(LoweringRegistry& r) {
  r.add("reshape", lower_reshape);
  r.add("transpose", lower_transpose);
  r.add("concatenate", lower_concatenate);
  r.add("strided_slice", lower_strided_slice);
}

}  // namespace modelc::lower
