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

// The F x F tile schedule of a transform that moves a channel block F
// between the innermost axis and the axis along which the other layout's
// vectors run (W for NCHW16c <-> NCHW), or none when the transform is not
// such a move or that axis is shorter than F (into the blocked layout: not a
// multiple of F). F = 4..16.
ScheduleHook transposing_schedule(const lang::Layout& from, const lang::Layout& to, const lang::TensorType& out_type,
                                  Func input, Func reader) {
  const bool blocking = to.rank() == from.rank() + 1 && to.axes().back().factor != 0 && from.primal() == from.str();
  const bool unblocking = from.rank() == to.rank() + 1 && from.axes().back().factor != 0 && to.primal() == to.str();
  if (!blocking && !unblocking) return {};
  const lang::Layout& blocked = blocking ? to : from;
  const lang::Layout& plain = blocking ? from : to;
  const size_t rank = out_type.rank();
  const int64_t F = blocked.axes().back().factor;
  const char along = plain.axes().back().name, split = blocked.axes().back().name;
  if (F < 4 || F > 16 || blocked.axes()[blocked.rank() - 2].name != along || plain.primal() != blocked.primal() ||
      std::toupper(split) == along)
    return {};
  const int64_t extent = blocking ? out_type.shape[rank - 2] : out_type.shape[rank - 1];
  // Into the blocked layout, a tile recomputed at the edge (ShiftInwards) cost
  // more than the gathers (56 x 56: 1.5x); out of it, the tiles still won there.
  if (extent < F || (blocking && extent % F != 0)) return {};
  const int c_position = plain.position_of(static_cast<char>(std::toupper(split)));
  const int f = static_cast<int>(F);
  return [=](const ScheduleContext& s) mutable {
    Func out = s.output;
    Var ao("ao"), ai("ai"), co("co"), ci("ci");
    std::vector<Var> outer;  // the loops outside a tile, outermost first
    if (blocking) {
      // The result's vectors are the block; F of them along the plain layout's inner axis.
      const Var inner = s.output_vars[rank - 1], a = s.output_vars[rank - 2];
      out.split(a, ao, ai, f, Halide::TailStrategy::ShiftInwards).reorder(inner, ai, ao).vectorize(inner).vectorize(ai);
      outer.assign(s.output_vars.begin(), s.output_vars.end() - 2);
    } else {
      // The result's vectors run along its inner axis; F of them, one per channel of a block.
      const Var a = s.output_vars[rank - 1], c = s.output_vars[static_cast<size_t>(c_position)];
      out.split(a, ao, ai, f, Halide::TailStrategy::ShiftInwards)
          .split(c, co, ci, f, Halide::TailStrategy::ShiftInwards)
          .reorder(ai, ci, ao)
          .vectorize(ai)
          .unroll(ci);
      for (size_t d = 0; d + 1 < rank; ++d) outer.push_back(static_cast<int>(d) == c_position ? co : s.output_vars[d]);
    }
    // The operand's F x F tile, read as F whole vectors into registers.
    Func tile = input.in(reader);
    const std::vector<Var> tv = tile.args();
    tile.compute_at(out, ao).store_in(Halide::MemoryType::Register).vectorize(tv[0]);
    for (size_t d = 1; d < tv.size(); ++d) tile.unroll(tv[d]);
    if (outer.empty()) return;
    const int64_t total = out_type.element_count();
    int64_t work = 1;
    for (size_t d = 0; d + 1 < rank; ++d) work *= out_type.shape[d];
    work /= blocking ? out_type.shape[rank - 2] : F;
    const Var fused = fuse_outer(out, outer, outer.size());
    if (work > 1 && worth_parallel(total)) parallel_tasks(out, fused, work, total);
  };
}

LoweredOp lower_layout_transform(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = lang::attrs_as<lang::LayoutTransformAttrs>(*ctx.binding.attrs);
  const lang::Layout from = lang::Layout::parse(a.src_layout), to = lang::Layout::parse(a.dst_layout);
  TensorFunc value = define(ctx.name, ctx.binding.types.at(0), [&](const std::vector<Var>& v) {
    return args[0].at(lang::source_index(from, to, std::vector<Expr>(v.begin(), v.end())));
  });
  // Between a blocked layout and the plain one (NCHW16c <-> NCHW), each
  // vector of the result would gather one element from each of F rows of the
  // operand (a copy-like kernel at a third to a seventh of a copy's rate).
  // Instead F x F tiles: F vectors read whole from the operand into
  // registers, transposed there, stored as F whole vectors.
  const lang::TensorType& out_type = ctx.binding.types.at(0);
  LoweredOp lowered{value};
  lowered.injective_schedule = transposing_schedule(from, to, out_type, args[0].func, value.func);
  return lowered;
}

}  // namespace

void register_layout_lowerings(LoweringRegistry& r) { r.add("layout_transform", lower_layout_transform); }

}  // namespace modelc::lower
