// Compute rules of data-movement operators: pure index arithmetic over static shapes.
#include "lang/ops/transform.h"

#include "lower/tensor_func.h"

namespace modelc::lower {
namespace {

using Halide::Expr;
using Halide::Func;
using Halide::Var;

// A reshape splits and merges runs of axes. The shapes are cut where their
// running products agree, into groups that map onto each other; an index is
// flattened and unflattened only within its group, so an axis that a reshape
// keeps (the H and W of a channel shuffle's [N, C, H, W] -> [N, g, C/g, H, W])
// stays the plain variable, and a kernel vectorized along it loads whole
// vectors instead of computing a division per element.
struct AxisGroup {
  size_t in_begin, in_end, out_begin, out_end;
};

std::vector<AxisGroup> reshape_groups(const std::vector<int64_t>& in, const std::vector<int64_t>& out) {
  const auto product = [](const std::vector<int64_t>& s) {
    int64_t p = 1;
    for (int64_t d : s) p *= d;
    return p;
  };
  const std::vector<AxisGroup> whole{{0, in.size(), 0, out.size()}};
  if (product(in) == 0 || product(in) != product(out)) return whole;
  std::vector<AxisGroup> groups;
  size_t i = 0, o = 0;
  while (i < in.size() || o < out.size()) {
    AxisGroup g{i, i, o, o};
    int64_t pin = 1, pout = 1;
    if (i < in.size()) pin *= in[i++];
    if (o < out.size()) pout *= out[o++];
    while (pin != pout) {
      if (pin < pout && i < in.size()) pin *= in[i++];
      else if (pout < pin && o < out.size()) pout *= out[o++];
      else return whole;
    }
    // Axes of extent 1 with no partner on the other side join this group.
    while (i < in.size() && in[i] == 1 && (o >= out.size() || out[o] != 1)) ++i;
    while (o < out.size() && out[o] == 1 && (i >= in.size() || in[i] != 1)) ++o;
    g.in_end = i;
    g.out_end = o;
    groups.push_back(g);
  }
  return groups;
}

// A reshape splits and merges runs of axes. The shapes are cut where their
// running products agree, into groups that map onto each other; an index is
// flattened and unflattened only within its group, so an axis that a reshape
// keeps (the H and W of a channel shuffle's [N, C, H, W] -> [N, g, C/g, H, W])
// stays the plain variable, and a kernel vectorized along it loads whole
// vectors instead of computing a division per element.
LoweredOp lower_reshape(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto& out_shape = t.shape;
  const auto& in_shape = args[0].type.shape;
  const std::vector<AxisGroup> groups = reshape_groups(in_shape, out_shape);
  return {define(ctx.name, t, [&](const std::vector<Var>& v) {
            std::vector<Expr> idx(in_shape.size());
            for (const AxisGroup& g : groups) {
              if (g.in_end - g.in_begin == 1 && g.out_end - g.out_begin == 1) {
                idx[g.in_begin] = v[g.out_begin];
                continue;
              }
              Expr flat = 0;
              for (size_t d = g.out_begin; d < g.out_end; ++d) flat = flat * static_cast<int>(out_shape[d]) + v[d];
              int64_t stride = 1;
              for (size_t d = g.in_end; d-- > g.in_begin;) {
                idx[d] = in_shape[d] == 1 ? Expr(0) : (flat / static_cast<int>(stride)) % static_cast<int>(in_shape[d]);
                stride *= in_shape[d];
              }
            }
            return args[0].at(idx);
          }),
          {}, {}};
}

// A transpose whose output's innermost axis is not its operand's: register
// tiles (schedule_register_transpose) when both axes fill a vector of 32-bit
// elements, instead of a gather per element (the attention key's [tokens,
// heads, depth] -> [heads, depth, tokens] in a transformer).
ScheduleHook transposing_schedule(const std::vector<int64_t>& axes, const lang::TensorType& t, Func input, Func reader) {
  const size_t rank = t.rank();
  if (rank < 2 || lang::dtype_bytes(t.dtype) != 4 || axes[rank - 1] == static_cast<int64_t>(rank - 1)) return {};
  int c_position = -1;
  for (size_t d = 0; d < rank; ++d)
    if (axes[d] == static_cast<int64_t>(rank - 1)) c_position = static_cast<int>(d);
  const int64_t columns = t.shape[rank - 1], rows = t.shape[static_cast<size_t>(c_position)];
  return [=](const ScheduleContext& s) {
    if (columns < s.vector_lanes || rows < s.vector_lanes) return schedule_injective(s);
    schedule_register_transpose(s, input, reader, c_position, s.vector_lanes);
  };
}

LoweredOp lower_transpose(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  std::vector<int64_t> axes = lang::attrs_as<lang::TransposeAttrs>(*ctx.binding.attrs).axes;
  const size_t rank = t.rank();
  if (axes.empty())
    for (size_t i = 0; i < rank; ++i) axes.push_back(static_cast<int64_t>(rank - 1 - i));
  for (int64_t& a : axes)
    if (a < 0) a += static_cast<int64_t>(rank);
  LoweredOp lowered{define(ctx.name, t,
                           [&](const std::vector<Var>& v) {
                             std::vector<Expr> idx(rank);
                             for (size_t d = 0; d < rank; ++d) idx[static_cast<size_t>(axes[d])] = v[d];
                             return args[0].at(idx);
                           }),
                    {},
                    {}};
  lowered.injective_schedule = transposing_schedule(axes, t, args[0].func, lowered.value.func);
  return lowered;
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

// An index read from an integer tensor, made non-negative (counting from the
// end) and clamped into [0, extent) so no read leaves the input.
Expr normalized_index(Expr i, int64_t extent) {
  Expr wide = Halide::cast<int32_t>(i);
  wide = Halide::select(wide < 0, wide + static_cast<int>(extent), wide);
  return Halide::clamp(wide, 0, static_cast<int>(extent) - 1);
}

size_t normalized_axis(int64_t axis, size_t rank) {
  return static_cast<size_t>(axis < 0 ? axis + static_cast<int64_t>(rank) : axis);
}

LoweredOp lower_take(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto& data = args[0].type;
  const size_t axis = normalized_axis(lang::attrs_as<lang::TakeAttrs>(*ctx.binding.attrs).axis, data.rank());
  const size_t index_rank = args[1].type.rank();
  return {define(ctx.name, t, [&](const std::vector<Var>& v) {
            std::vector<Expr> at(v.begin() + static_cast<std::ptrdiff_t>(axis), v.begin() + static_cast<std::ptrdiff_t>(axis + index_rank));
            std::vector<Expr> src(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(axis));
            src.push_back(normalized_index(args[1].at(at), data.shape[axis]));
            src.insert(src.end(), v.begin() + static_cast<std::ptrdiff_t>(axis + index_rank), v.end());
            return args[0].at(src);
          }),
          {}, {}};
}

LoweredOp lower_gather_elements(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto& data = args[0].type;
  const size_t axis = normalized_axis(lang::attrs_as<lang::TakeAttrs>(*ctx.binding.attrs).axis, data.rank());
  return {define(ctx.name, t, [&](const std::vector<Var>& v) {
            std::vector<Expr> src(v.begin(), v.end());
            src[axis] = normalized_index(args[1].at(src), data.shape[axis]);
            return args[0].at(src);
          }),
          {}, {}};
}

LoweredOp lower_broadcast_to(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto& in = args[0].type.shape;
  return {define(ctx.name, t, [&](const std::vector<Var>& v) {
            std::vector<Expr> src;
            const size_t offset = v.size() - in.size();
            for (size_t d = 0; d < in.size(); ++d) src.push_back(in[d] == 1 ? Expr(0) : Expr(v[offset + d]));
            return args[0].at(src);
          }),
          {}, {}};
}

LoweredOp lower_tile(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto& in = args[0].type.shape;
  return {define(ctx.name, t, [&](const std::vector<Var>& v) {
            std::vector<Expr> src;
            for (size_t d = 0; d < in.size(); ++d) src.push_back(in[d] == t.shape[d] ? Expr(v[d]) : v[d] % static_cast<int>(in[d]));
            return args[0].at(src);
          }),
          {}, {}};
}

LoweredOp lower_pad(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto& a = lang::attrs_as<lang::PadAttrs>(*ctx.binding.attrs);
  const auto& in = args[0].type.shape;
  const size_t rank = in.size();
  return {define(ctx.name, t, [&](const std::vector<Var>& v) {
            std::vector<Expr> src;
            Expr inside = Halide::Internal::const_true();
            for (size_t d = 0; d < rank; ++d) {
              const int n = static_cast<int>(in[d]);
              Expr i = v[d] - static_cast<int>(a.pad_width[d]);
              if (a.mode == "reflect") i = Halide::select(i < 0, -i, i >= n, 2 * (n - 1) - i, i);
              else if (a.mode == "constant") inside = inside && i >= 0 && i < n;
              src.push_back(Halide::clamp(i, 0, n - 1));
            }
            Expr value = args[0].at(src);
            if (a.mode != "constant") return value;
            return Halide::select(inside, value, Halide::cast(value.type(), Expr(a.pad_value)));
          }),
          {}, {}};
}

LoweredOp lower_trilu(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto& a = lang::attrs_as<lang::TriluAttrs>(*ctx.binding.attrs);
  const size_t rank = t.rank();
  return {define(ctx.name, t, [&](const std::vector<Var>& v) {
            const Expr diagonal = v[rank - 1] - v[rank - 2];
            const Expr keep = a.upper ? diagonal >= static_cast<int>(a.k) : diagonal <= static_cast<int>(a.k);
            Expr value = args[0].at(std::vector<Expr>(v.begin(), v.end()));
            return Halide::select(keep, value, Halide::cast(value.type(), 0));
          }),
          {}, {}};
}

// One axis at a time, each reading its taps from tables fixed at compile time
// (lang::resize_taps, shared with the reference kernel).
LoweredOp lower_resize(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto& a = lang::attrs_as<lang::ResizeAttrs>(*ctx.binding.attrs);
  TensorFunc current = args[0];
  std::vector<Halide::Func> stages;
  for (size_t axis = 0; axis < t.rank(); ++axis) {
    const lang::ResizeTaps taps = lang::resize_taps(a, axis, current.type.shape[axis]);
    if (taps.identity) continue;
    const int n_taps = static_cast<int>(taps.taps);
    const int out_size = static_cast<int>(a.size[axis]);
    Halide::Buffer<int32_t> index(n_taps, out_size);
    Halide::Buffer<float> weight(n_taps, out_size);
    for (int o = 0; o < out_size; ++o)
      for (int k = 0; k < n_taps; ++k) {
        index(k, o) = static_cast<int32_t>(taps.index[static_cast<size_t>(o * n_taps + k)]);
        weight(k, o) = static_cast<float>(taps.weight[static_cast<size_t>(o * n_taps + k)]);
      }
    lang::TensorType next_type = current.type;
    next_type.shape[axis] = a.size[axis];
    const TensorFunc input = current;
    current = define(ctx.name + "_axis" + std::to_string(axis), next_type, [&](const std::vector<Var>& v) {
      Expr acc = 0.f;
      for (int k = 0; k < n_taps; ++k) {
        std::vector<Expr> src(v.begin(), v.end());
        // The tables hold indices inside the input; the clamp tells Halide so.
        src[axis] = Halide::clamp(index(k, v[axis]), 0, static_cast<int>(input.type.shape[axis]) - 1);
        acc += weight(k, v[axis]) * Halide::cast<float>(input.at(src));
      }
      return acc;
    });
    stages.push_back(current.func);
  }
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& v) {
    return current.at(std::vector<Expr>(v.begin(), v.end()));
  });
  // Every stage but the last is computed whole, so each axis interpolates once.
  if (!stages.empty()) stages.pop_back();
  return {value, {}, stages};
}

}  // namespace

void register_transform_lowerings(LoweringRegistry& r) {
  r.add("take", lower_take);
  r.add("gather_elements", lower_gather_elements);
  r.add("broadcast_to", lower_broadcast_to);
  r.add("tile", lower_tile);
  r.add("nn.pad", lower_pad);
  r.add("trilu", lower_trilu);
  r.add("image.resize", lower_resize);
  r.add("reshape", lower_reshape);
  r.add("transpose", lower_transpose);
  r.add("concatenate", lower_concatenate);
  r.add("strided_slice", lower_strided_slice);
}

}  // namespace modelc::lower
