// Compute rule of layout_transform: each element of the result reads one
// element of the input, at the index lang/ops/layout.h computes.
#include "lang/ops/layout.h"

#include <cctype>

#include "lower/tensor_func.h"

namespace modelc::lower {
namespace {

using Halide::Expr;
using Halide::Func;
using Halide::Var;

// Out of a blocked layout into the plain one (NCHW16c -> NCHW, F = 16), each
// vector of the result (F consecutive columns of one channel) would gather
// one element from each of F positions of the operand. Instead F x F tiles
// (schedule_register_transpose: F channels of one column each read whole into
// registers, transposed there, stored as F whole vectors). None when the
// transform is not such a move or the rows are shorter than F. (Into the
// blocked layout, tiles were no faster on one core than the gathers, and
// slower on two: 32 x 112 x 112 0.079 -> 0.095 ms.)
ScheduleHook unblocking_schedule(const lang::Layout& from, const lang::Layout& to, const lang::TensorType& out_type,
                                 Func input, Func reader) {
  if (from.rank() != to.rank() + 1 || to.primal() != to.str() || from.primal() != to.str()) return {};
  const size_t rank = out_type.rank();
  const int64_t F = from.axes().back().factor;
  const char along = to.axes().back().name, split = from.axes().back().name;
  if (F < 4 || F > 16 || from.axes()[from.rank() - 2].name != along || std::toupper(split) == along ||
      out_type.shape[rank - 1] < F)
    return {};
  const int c_position = to.position_of(static_cast<char>(std::toupper(split)));
  const int f = static_cast<int>(F);
  return [=](const ScheduleContext& s) { schedule_register_transpose(s, input, reader, c_position, f); };
}

LoweredOp lower_layout_transform(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = lang::attrs_as<lang::LayoutTransformAttrs>(*ctx.binding.attrs);
  const lang::Layout from = lang::Layout::parse(a.src_layout), to = lang::Layout::parse(a.dst_layout);
  TensorFunc value = define(ctx.name, ctx.binding.types.at(0), [&](const std::vector<Var>& v) {
    return args[0].at(lang::source_index(from, to, std::vector<Expr>(v.begin(), v.end())));
  });
  const lang::TensorType& out_type = ctx.binding.types.at(0);
  LoweredOp lowered{value, {}, {}};
  lowered.injective_schedule = unblocking_schedule(from, to, out_type, args[0].func, value.func);
  return lowered;
}

}  // namespace

void register_layout_lowerings(LoweringRegistry& r) { r.add("layout_transform", lower_layout_transform); }

}  // namespace modelc::lower
