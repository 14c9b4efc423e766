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
// one element from each of F positions of the operand. Instead F x F tiles:
// F vectors of the operand (F channels of one column each) read whole into
// registers, transposed there, stored as F whole vectors. None when the
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
  return [=](const ScheduleContext& s) mutable {
    Func out = s.output;
    Var ao("ao"), ai("ai"), co("co"), ci("ci");
    const Var a = s.output_vars[rank - 1], c = s.output_vars[static_cast<size_t>(c_position)];
    out.split(a, ao, ai, f, Halide::TailStrategy::ShiftInwards).split(c, co, ci, f, Halide::TailStrategy::ShiftInwards);
    std::vector<Var> outer;  // the loops outside a tile, outermost first
    for (size_t d = 0; d + 1 < rank; ++d) outer.push_back(static_cast<int>(d) == c_position ? co : s.output_vars[d]);
    // The tile's loops innermost, every other loop outside them (a partial
    // reorder left the rows between a tile's channels and its columns).
    std::vector<Halide::VarOrRVar> order{ai, ci, ao};
    for (auto it = outer.rbegin(); it != outer.rend(); ++it) order.push_back(*it);
    out.reorder(order).vectorize(ai).unroll(ci);
    Func tile = input.in(reader);
    const std::vector<Var> tv = tile.args();
    tile.compute_at(out, ao).store_in(Halide::MemoryType::Register).vectorize(tv[0]);
    for (size_t d = 1; d < tv.size(); ++d) tile.unroll(tv[d]);
    const int64_t total = out_type.element_count();
    const int64_t iterations = total / out_type.shape[rank - 1] / F;
    const Var fused = fuse_outer(out, outer, outer.size());
    if (iterations > 1 && worth_parallel(total)) parallel_tasks(out, fused, iterations, total);
  };
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
