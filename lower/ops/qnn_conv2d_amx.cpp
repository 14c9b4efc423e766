// qnn.conv2d on AMX tiles (x86-64 hosts with AMX-TILE and AMX-INT8; groups 1,
// uint8 input, int8 weights with zero point 0), in two forms whose sums the
// runtime's tile kernels compute (runtime/modelc_amx.c) and whose epilogue
// (bias less the input zero point's share, requantize) Halide fuses:
//
//  - quads: inputs of whole blocks of 64 channels, weights packed by
//    AlterOpLayout in quads (lang::kQnnQuadWeightLayout);
//  - row taps: inputs of at most 4 channels (a CNN's stem), a kernel row's
//    taps in one tile row.
//
// The VNNI and AVX2 forms: lower/ops/qnn_conv2d.cpp.
#include "lang/ops/qnn.h"

#include "lower/ops/qnn.h"
#include "lower/ops/qnn_conv2d.h"
#include "lower/tensor_func.h"

namespace modelc::lower {

namespace qconv {

using Halide::Expr;
using Halide::Func;
using Halide::TailStrategy;
using Halide::Var;
using lang::attrs_as;

namespace {

// About how many times the tile's int8 multiply-adds per cycle outrun the
// float FMAs' (the unit of worth_parallel and kMinTaskWork).
constexpr int64_t kAmxSpeedup = 8;

}  // namespace

// ---- quads on AMX tiles ----
//
// The input, blocked into 64 channels with each pixel's 64 contiguous and the
// padding filled with its zero point, is computed once per call; the
// runtime's tile kernel (runtime/modelc_amx.c, modelc_amx_conv_u8s8) sums
// uint8 x int8 products per tap into int32 NCHW for a task of two output rows
// and a chunk of output channels, which the epilogue (bias less the input
// zero point's share, requantize) reads as it stores the task's rows.
LoweredOp lower_quads_amx(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::QnnConv2DAttrs>(*ctx.binding.attrs);
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const auto& xs = args[0].type.shape;  // N, C, H, W
  const auto ws = lang::qnn_conv2d_oihw_weight(args[1].type, a).shape;  // K, C, R, S
  const int C = static_cast<int>(xs[1]), H = static_cast<int>(xs[2]), W = static_cast<int>(xs[3]);
  const int K = static_cast<int>(ws[0]), R = static_cast<int>(ws[2]), S = static_cast<int>(ws[3]);
  const Geometry g(a);
  const int32_t zx = static_cast<int32_t>(a.input_zero_point);
  // Output channels in blocks of 16: a weight that does not fill them is
  // copied per call into one that does, zeros past its own.
  const int blocks = C / 64, Kp = (K + 15) / 16 * 16;
  const bool padded_weight = K % 16 != 0;

  Func blocked(ctx.name + "_blocked");
  Var c64("c64"), x("x"), y("y"), cb("cb"), n("n");
  const Expr inside = x >= 0 && x < W && y >= 0 && y < H;
  blocked(c64, x, y, cb, n) = Halide::select(
      inside, args[0].func(Halide::clamp(x, 0, W - 1), Halide::clamp(y, 0, H - 1), cb * 64 + c64, n), Halide::cast<uint8_t>(zx));
  Func weight = args[1].func;
  Var wg("wg"), wk("wk"), ws_("ws"), wr("wr"), wq("wq");
  if (padded_weight) {
    weight = Func(ctx.name + "_weight");
    weight(wg, wk, ws_, wr, wq) =
        Halide::select(wk < K, args[1].func(wg, Halide::min(wk, K - 1), ws_, wr, wq), Halide::cast<int8_t>(0));
  }
  Var sx("sx"), sy("sy"), sk("sk"), sn("sn");
  Func sums(ctx.name + "_amx");
  sums.define_extern("modelc_amx_conv_u8s8",
                     {blocked, weight, Expr(blocks), Expr(Kp), Expr(R), Expr(S), Expr(g.sw), Expr(g.sh), Expr(g.dw),
                      Expr(g.dh), Expr(g.pl), Expr(g.pt)},
                     Halide::Int(32), {sx, sy, sk, sn}, Halide::NameMangling::C);
  Func start = accumulator_start(args, a, QuadDot(ctx.target), C, R, S, ctx.name);
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return sums(v[3], v[2], v[1], v[0]) + start(v[1]); });

  const int64_t OH = out_type.shape[2], OW = out_type.shape[3];
  // The work in the unit of the task sizes (float multiply-adds' time): the
  // tiles do about eight times as many multiply-adds per cycle as AVX-512
  // FMAs (ResNet-18's 3x3 layers at 1100-1950 int8 GOP/s, its float ones at
  // 200-240 GFLOP/s). Counted as float work, MobileNetV2's 14x14 and 7x7
  // projections ran in 16 tasks of a few microseconds each, slower on two
  // cores than on one; in tasks of this work they are 0.63-0.92x that at two
  // threads (the sum of its int8 kernels 0.98x; ResNet-18's 0.98x).
  const int64_t work = out_type.element_count() * C * R * S / kAmxSpeedup;
  ScheduleHook schedule = [=](const ScheduleContext& sc) mutable {
    const std::vector<Var>& v = sc.output_vars;  // n, k, y, x
    // A task sweeps its channels' slice of the weights once (the tile kernel
    // keeps each pair of 16-channel tiles outermost): weights larger than a
    // quarter of L2 go in chunks of channels over every row (ResNet-18's
    // 3x3 layers over 512 channels: 2.4 MB, swept once per two rows they ran
    // at a quarter of the rate), smaller ones two rows at a time.
    const bool large_weights = int64_t{blocks} * 64 * R * S * Kp > (int64_t{1} << 19);
    const int rows = large_weights ? static_cast<int>(OH) : std::min<int>(static_cast<int>(OH), 2);
    const int64_t row_tasks = (OH + rows - 1) / rows;
    // Channel chunks (multiples of 32) when rows alone give the cores fewer
    // tasks than the work is worth (at most 16).
    const int64_t wanted = std::clamp<int64_t>(work / kMinTaskWork, 1, 16);
    const int chunk = row_tasks >= wanted || K <= 32 ? K
                                                     : std::max(32, K / static_cast<int>((wanted + row_tasks - 1) / row_tasks) / 32 * 32);
    const int lanes = fitting_lanes(OW, sc.vector_lanes);
    Func out = sc.output;
    Var yo("yo"), yi("yi"), ko("ko"), ki("ki"), task("task");
    out.split(v[2], yo, yi, rows, TailStrategy::ShiftInwards)
        .split(v[1], ko, ki, chunk, TailStrategy::ShiftInwards)
        .reorder(v[3], yi, ki, yo, ko, v[0])
        .vectorize(v[3], lanes, TailStrategy::GuardWithIf)
        .fuse(yo, ko, task);
    const int64_t tasks = row_tasks * ((K + chunk - 1) / chunk);
    if (worth_parallel(work)) task = parallel_tasks(out, task, tasks, work);
    sums.compute_at(out, task);
    start.compute_root().vectorize(start.args()[0], sc.vector_lanes, TailStrategy::GuardWithIf);
    const std::vector<Var> bv = blocked.args();
    blocked.compute_root().vectorize(bv[0], 16);
    // Its rows in tasks worth the hand-out (a byte copied as two units).
    const int64_t copy = int64_t{2} * C * (H + 2 * g.pt) * (W + 2 * g.pl);
    if (worth_parallel(copy)) parallel_tasks(blocked, bv[2], H + 2 * g.pt, copy);
    if (padded_weight) weight.compute_root().bound(wg, 0, 4).unroll(wg).vectorize(wk, 16);
  };
  return {value, schedule, {}};
}

// ---- row taps on AMX tiles: inputs of at most 4 channels (a CNN's stem) ----
//
// One quad per input pixel (its channels, zero point past them and around
// the image), computed once per call; the runtime's tile kernel
// (modelc_amx_conv_u8s8_row_taps) reads 64 bytes from each output pixel's
// first column, the quads of 16 columns, against the weights of a kernel row
// rearranged per call as [16 taps, R, 1, K, 4] (zero past the kernel's
// width): ResNet-18's 7x7 stem, 3 channels, ran at 320 int8 GOP/s on VNNI.
// From 5x5 windows: MobileNetV2's 3x3 stem (3 of a tile's 16 quads used,
// little work per stored tile) ran slower on the tiles than on VNNI (0.24
// against 0.18 ms), ResNet-18's 7x7 one faster (0.52 against 0.74).
bool row_taps_apply(const lang::QnnConv2DAttrs& a, const lang::TensorType& input, const lang::TensorType& weight) {
  const auto ws = lang::qnn_conv2d_oihw_weight(weight, a).shape;  // K, C, R, S
  return input.shape[1] <= 4 && ws[2] * ws[3] >= 25 && ws[3] <= 16 && a.dilation[1] == 1;
}

LoweredOp lower_row_taps_amx(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::QnnConv2DAttrs>(*ctx.binding.attrs);
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const auto& xs = args[0].type.shape;  // N, C, H, W
  const auto ws = lang::qnn_conv2d_oihw_weight(args[1].type, a).shape;  // K, C, R, S
  const int C = static_cast<int>(xs[1]), H = static_cast<int>(xs[2]), W = static_cast<int>(xs[3]);
  const int K = static_cast<int>(ws[0]), R = static_cast<int>(ws[2]), S = static_cast<int>(ws[3]);
  const int Kp = (K + 15) / 16 * 16;
  const Geometry g(a);
  const int32_t zx = static_cast<int32_t>(a.input_zero_point);

  Func quads(ctx.name + "_pixels");
  Var cg("cg"), x("x"), y("y"), n("n");
  const Expr inside = x >= 0 && x < W && y >= 0 && y < H && cg < C;
  quads(cg, x, y, n) = Halide::select(
      inside, args[0].func(Halide::clamp(x, 0, W - 1), Halide::clamp(y, 0, H - 1), Halide::min(cg, C - 1), n), Halide::cast<uint8_t>(zx));
  Func taps(ctx.name + "_taps");  // (channel, k, 0, r, tap)
  Var wg("wg"), wk("wk"), w1("w1"), wr("wr"), wt("wt");
  taps(wg, wk, w1, wr, wt) = Halide::select(
      wg < C && wk < K && wt < S,
      weight_at(args[1], a, Halide::min(wt, S - 1), wr, Halide::min(wg, C - 1), Halide::min(wk, K - 1)), Halide::cast<int8_t>(0));
  Var sx("sx"), sy("sy"), sk("sk"), sn("sn");
  Func sums(ctx.name + "_amx");
  sums.define_extern("modelc_amx_conv_u8s8_row_taps",
                     {quads, taps, Expr(Kp), Expr(R), Expr(g.sw), Expr(g.sh), Expr(g.dh), Expr(g.pl), Expr(g.pt)},
                     Halide::Int(32), {sx, sy, sk, sn}, Halide::NameMangling::C);
  Func start = accumulator_start(args, a, QuadDot(ctx.target), C, R, S, ctx.name);
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return sums(v[3], v[2], v[1], v[0]) + start(v[1]); });

  const int64_t OH = out_type.shape[2], OW = out_type.shape[3];
  const int64_t work = out_type.element_count() * C * R * S;
  ScheduleHook schedule = [=](const ScheduleContext& sc) mutable {
    const std::vector<Var>& v = sc.output_vars;  // n, k, y, x
    const int rows = std::min<int>(static_cast<int>(OH), 2);
    const int lanes = fitting_lanes(OW, sc.vector_lanes);
    Func out = sc.output;
    Var yo("yo"), yi("yi");
    out.split(v[2], yo, yi, rows, TailStrategy::ShiftInwards)
        .reorder(v[3], yi, v[1], yo, v[0])
        .vectorize(v[3], lanes, TailStrategy::GuardWithIf);
    Var task = yo;
    if (worth_parallel(work)) task = parallel_tasks(out, yo, (OH + rows - 1) / rows, work / out_type.shape[0]);
    sums.compute_at(out, task);
    start.compute_root().vectorize(start.args()[0], sc.vector_lanes, TailStrategy::GuardWithIf);
    quads.compute_root().bound(cg, 0, 4).unroll(cg).vectorize(x, sc.vector_lanes, TailStrategy::GuardWithIf).parallel(y);
    taps.compute_root().bound(wg, 0, 4).bound(wk, 0, Kp).bound(w1, 0, 1).bound(wt, 0, 16).unroll(wg).vectorize(wk, 16);
  };
  return {value, schedule, {}};
}

}  // namespace qconv

bool qnn_conv2d_on_amx(const lang::QnnConv2DAttrs& a, const lang::TensorType& input, const lang::TensorType& weight) {
  if (a.groups != 1 || input.dtype != lang::DType::uint8 || weight.dtype != lang::DType::int8 || input.rank() != 4)
    return false;
  for (int64_t zp : a.kernel_zero_point)
    if (zp != 0) return false;
  if (qconv::row_taps_apply(a, input, weight)) return true;
  if (a.kernel_layout != lang::kQnnQuadWeightLayout) return false;
  // Whole blocks of 64 input channels. Padded to them, MobileNetV2's 1x1
  // layers over 16-160 channels ran slower on the tiles than on VNNI: the
  // per-call blocking of their large images, not the products, is their cost
  // (9.08 -> 11.1 ms at one thread; 9.47 with 96-160 channels only).
  return input.shape[1] % 64 == 0;
}

}  // namespace modelc::lower
