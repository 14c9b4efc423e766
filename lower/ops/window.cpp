// Compute rules and schedules of nn.conv2d_transpose, nn.conv3d and the 3-D pools.
#include "lang/ops/window.h"

#include <algorithm>

#include "lower/ops/spatial.h"
#include "lower/tensor_func.h"

namespace modelc::lower {
namespace {

using Halide::Expr;
using Halide::Func;
using Halide::RDom;
using Halide::TailStrategy;
using Halide::Var;
using lang::attrs_as;

// The NCDHW input, reading `fill` outside the three spatial axes.
Func with_exterior_3d(const TensorFunc& x, Expr fill, const std::string& name) {
  const auto& s = x.type.shape;  // N, C, D, H, W
  Func f(name);
  Var w, h, d, c, n;
  const int D = static_cast<int>(s[2]), H = static_cast<int>(s[3]), W = static_cast<int>(s[4]);
  f(w, h, d, c, n) = inside_or(w >= 0 && w < W, h >= 0 && h < H && d >= 0 && d < D,
                               x.func(Halide::clamp(w, 0, W - 1), Halide::clamp(h, 0, H - 1), Halide::clamp(d, 0, D - 1), c, n), fill);
  return f;
}

// Channels-first outputs: the innermost (width) axis vectorized, batch and
// channels fused into one parallel loop, `acc` (if any) computed per plane.
ScheduleHook planar_schedule(const lang::TensorType& out_type, Func acc, std::vector<Var> acc_vars) {
  return [=](const ScheduleContext& s) mutable {
    const size_t rank = out_type.rank();
    const int lanes = fitting_lanes(out_type.shape[rank - 1], s.vector_lanes);
    Func out = s.output;
    Var plane("plane");
    out.fuse(s.output_vars[1], s.output_vars[0], plane).parallel(plane);
    if (lanes > 1) out.vectorize(s.output_vars[rank - 1], lanes, TailStrategy::GuardWithIf);
    if (!acc.defined()) return;
    acc.compute_at(out, plane);
    if (lanes > 1) {
      acc.vectorize(acc_vars[0], lanes, TailStrategy::GuardWithIf);
      acc.update().vectorize(acc_vars[0], lanes, TailStrategy::GuardWithIf);
    }
  };
}

// A transposed convolution scatters each input pixel through the kernel
// window: output (y, x) receives input (iy, ix) times tap (ky, kx) wherever
// iy * stride + ky * dilation - pad == y. Gathering that per output element
// walks every tap and channel and keeps 1 / stride^2 of the products (a
// division and a select per lane, too). Instead, in two stages:
//   cols(ix, iy, kx, ky, oc) = sum_c x(ix, iy, c) * w(c, oc, ky, kx)
// is a dense product (exactly the op's multiply-adds; the input width
// vectorized, taps and a few output channels in registers), and
//   out(x, y, oc) = sum over the taps that land on (y, x) of cols(...)
// adds at most taps / stride^2 terms per output (one for U-Net's 2x2 stride 2).
LoweredOp lower_conv2d_transpose(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::Conv2DTransposeAttrs>(*ctx.binding.attrs);
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const auto& xs = args[0].type.shape;  // N, C, H, W
  const auto& ws = args[1].type.shape;  // C, OC / groups, KH, KW
  const int CG = static_cast<int>(xs[1] / a.groups), OCG = static_cast<int>(ws[1]);
  const int H = static_cast<int>(xs[2]), W = static_cast<int>(xs[3]);
  const int KH = static_cast<int>(ws[2]), KW = static_cast<int>(ws[3]);
  const int OC = static_cast<int>(out_type.shape[1]);
  const int sy = static_cast<int>(a.strides[0]), sx = static_cast<int>(a.strides[1]);
  Func part(ctx.name + "_part"), cols(ctx.name + "_cols");
  Var ix("ix"), iy("iy"), kx("kx"), ky("ky"), oc("oc"), n("n");
  RDom rc(0, CG, ctx.name + "_rc");
  const Expr ic = (oc / OCG) * CG + rc;
  part(ix, iy, kx, ky, oc, n) = 0.f;
  part(ix, iy, kx, ky, oc, n) += args[0].func(ix, iy, ic, n) * args[1].func(kx, ky, oc % OCG, ic);
  cols(ix, iy, kx, ky, oc, n) = part(ix, iy, kx, ky, oc, n);  // `part`: one register tile at a time

  Var x("x"), y("y"), c("c");
  RDom rk(0, KW, 0, KH, ctx.name + "_rk");
  const Expr ty = y + static_cast<int>(a.padding[0]) - rk.y * static_cast<int>(a.dilation[0]);
  const Expr tx = x + static_cast<int>(a.padding[1]) - rk.x * static_cast<int>(a.dilation[1]);
  const Expr qy = ty / sy, qx = tx / sx;
  const Expr valid = ty >= 0 && tx >= 0 && ty % sy == 0 && tx % sx == 0 && qy < H && qx < W;
  Func acc(ctx.name + "_acc");
  acc(x, y, c, n) = 0.f;
  acc(x, y, c, n) += Halide::select(valid, cols(Halide::clamp(qx, 0, W - 1), Halide::clamp(qy, 0, H - 1), rk.x, rk.y, c, n), 0.f);
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return acc(v[3], v[2], v[1], v[0]); });

  ScheduleHook schedule = [=](const ScheduleContext& s) mutable {
    // Accumulators: one vector of input width per unrolled tap and output
    // channel of the tile, in the registers left beside the input vector and
    // a broadcast weight (12 with AVX2's 16).
    const int accumulators = register_file(s.target).vector_registers - 4;
    const bool unroll_ky = KW * KH <= accumulators;
    const int taps = unroll_ky ? KW * KH : KW;
    int tile = 1;
    for (int t = std::max(1, accumulators / std::max(taps, 1)); t > 1; --t)
      if (OC % t == 0) {
        tile = t;
        break;
      }
    const int out_lanes = fitting_lanes(out_type.shape[3], s.vector_lanes);
    const int in_lanes = fitting_lanes(W, s.vector_lanes);
    Func out = s.output;
    const std::vector<Var>& v = s.output_vars;  // n, c, y, x
    Var co("co"), ci("ci"), task("task");
    out.split(v[1], co, ci, tile).reorder(v[3], v[2], ci, co, v[0]).fuse(co, v[0], task).parallel(task);
    // Whole vectors only (fitting_lanes keeps them within the extents): a
    // masked store in an accumulation loop costs more than recomputing lanes.
    if (out_lanes > 1) out.vectorize(v[3], out_lanes, TailStrategy::ShiftInwards);
    acc.compute_at(out, v[2]);
    if (out_lanes > 1) {
      acc.vectorize(x, out_lanes, TailStrategy::RoundUp);
      acc.update().vectorize(x, out_lanes, TailStrategy::RoundUp);
    }
    acc.update().unroll(rk.x);
    cols.compute_at(out, task);
    Var ixo("ixo"), ixi("ixi");
    cols.split(ix, ixo, ixi, in_lanes, TailStrategy::ShiftInwards);
    if (unroll_ky) cols.reorder(ixi, kx, ky, oc, ixo, iy, n).unroll(ky);
    else cols.reorder(ixi, kx, oc, ixo, ky, iy, n);
    cols.unroll(kx).unroll(oc);
    if (in_lanes > 1) cols.vectorize(ixi);
    part.compute_at(cols, ixo);
    auto update = part.update();
    if (unroll_ky) {
      part.reorder(ix, kx, ky, oc, iy, n).unroll(ky);
      update.reorder(ix, kx, ky, oc, rc, iy, n).unroll(ky);
    } else {
      part.reorder(ix, kx, oc, ky, iy, n);
      update.reorder(ix, kx, oc, rc, ky, iy, n);
    }
    part.unroll(kx).unroll(oc);
    update.unroll(kx).unroll(oc);
    if (in_lanes > 1) {
      part.vectorize(ix, in_lanes, TailStrategy::RoundUp);
      update.vectorize(ix, in_lanes, TailStrategy::RoundUp);
    }
  };
  return {value, schedule, {}};
}

LoweredOp lower_conv3d(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::Conv3DAttrs>(*ctx.binding.attrs);
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const auto& ws = args[1].type.shape;  // K, C / groups, KD, KH, KW
  const int CG = static_cast<int>(ws[1]), KG = static_cast<int>(ws[0] / a.groups);
  Func padded = with_exterior_3d(args[0], Expr(0.f), ctx.name + "_pad");
  Func acc(ctx.name + "_acc");
  Var x("x"), y("y"), z("z"), c("c"), n("n");
  RDom r(0, static_cast<int>(ws[4]), 0, static_cast<int>(ws[3]), 0, static_cast<int>(ws[2]), 0, CG, ctx.name + "_r");
  auto at = [&](size_t d, Expr o, Expr k) {
    return o * static_cast<int>(a.strides[d]) + k * static_cast<int>(a.dilation[d]) - static_cast<int>(a.padding[d]);
  };
  const Expr ic = a.groups == 1 ? Expr(r[3]) : (c / KG) * CG + r[3];
  acc(x, y, z, c, n) = 0.f;
  acc(x, y, z, c, n) += padded(at(2, x, r.x), at(1, y, r.y), at(0, z, r.z), ic, n) * args[1].func(r.x, r.y, r.z, r[3], c);
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return acc(v[4], v[3], v[2], v[1], v[0]); });
  return {value, planar_schedule(out_type, acc, {x, y, z, c, n}), {}};
}

template <bool kMax>
LoweredOp lower_pool3d(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::Pool3DAttrs>(*ctx.binding.attrs);
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto& s = args[0].type.shape;
  Func padded = with_exterior_3d(args[0], kMax ? Halide::Float(32).min() : Expr(0.f), ctx.name + "_pad");
  RDom r(0, static_cast<int>(a.pool_size[2]), 0, static_cast<int>(a.pool_size[1]), 0, static_cast<int>(a.pool_size[0]),
         ctx.name + "_r");
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& v) {
    auto at = [&](size_t d, Expr o, Expr k) {
      return o * static_cast<int>(a.strides[d]) + k * static_cast<int>(a.dilation[d]) - static_cast<int>(a.padding[d]);
    };
    const Expr iz = at(0, v[2], r.z), iy = at(1, v[3], r.y), ix = at(2, v[4], r.x);
    const Expr x = padded(ix, iy, iz, v[1], v[0]);
    if (kMax) return Halide::maximum(x, ctx.name + "_maximum");
    // Window cells inside the input, or inside the padding when count_include_pad.
    auto counted_axis = [&](size_t d, Expr i) {
      const int lo = a.count_include_pad ? -static_cast<int>(a.padding[d]) : 0;
      const int hi = static_cast<int>(s[d + 2]) + (a.count_include_pad ? static_cast<int>(a.padding[d + 3]) : 0);
      return i >= lo && i < hi;
    };
    const Expr counted = Halide::sum(Halide::select(counted_axis(0, iz) && counted_axis(1, iy) && counted_axis(2, ix), 1, 0), ctx.name + "_sum");
    return Halide::sum(x, ctx.name + "_sum") / Halide::cast<float>(Halide::max(counted, 1));
  });
  return {value, planar_schedule(t, Func(), {}), {}};
}

}  // namespace

void register_window_lowerings(LoweringRegistry& r) {
  r.add("nn.conv2d_transpose", lower_conv2d_transpose);
  r.add("nn.conv3d", lower_conv3d);
  r.add("nn.max_pool3d", lower_pool3d<true>);
  r.add("nn.avg_pool3d", lower_pool3d<false>);
}

}  // namespace modelc::lower
