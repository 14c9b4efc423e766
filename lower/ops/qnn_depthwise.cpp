// Compute rules and schedules of qnn.conv2d with groups > 1 (depthwise and
// grouped; NCHW 8-bit input, int32 accumulators; lang/ops/qnn.h), in these
// forms (groups 1, and groups of whole quads of channels on VNNI:
// lower/ops/qnn_conv2d.cpp):
//
//  - direct (any groups): vectorized over the output width, as the float
//    NCHW convolution; sums of up to 257 products (all depthwise layers) in
//    float32, which adds such integers exactly.
//  - depthwise on VNNI (or Arm's sdot, the input as int8: QuadDot in
//    lower/ops/qnn_conv2d.h): quads of a kernel row's taps per output pixel,
//    over rows, or over a whole small plane's flat index (stride 1).
//
// Each reads its input through a Func that a fused pointwise convolution
// (FuseOps' producer fusion) computes inside its loops. A fused
// qnn.requantize (and clamp) runs on each accumulator as it is stored.
#include "lang/ops/qnn.h"

#include "lower/ops/qnn_conv2d.h"
#include "lower/ops/spatial.h"
#include "lower/tensor_func.h"

namespace modelc::lower::qconv {
namespace {

using Halide::Expr;
using Halide::Func;
using Halide::RDom;
using Halide::TailStrategy;
using Halide::Var;
using lang::attrs_as;

// ---- direct: any groups, output width vectorized ----

// The output loops of the depthwise and grouped forms: rows of whole vectors
// of pixels (the last one shifted in over the one before: with a guarded
// tail the accumulators lived in memory behind masks, MobileNetV2's int8
// depthwise layers at 1 % of the int8 peak), blocks of 4 channels unrolled
// around them, the channel blocks in parallel.
struct GroupedLoops {
  Var xo{"xo"}, co{"co"};
  int lanes = 1;
  bool whole_rows = false;  // rows of a vector or more
};

// Channels per block of the depthwise and grouped forms: 4, or those of a
// fused producer's tile.
int channel_block(const ScheduleContext& s, int64_t out_c) {
  const int block = s.producer ? s.producer->blocks : 4;
  return out_c >= block ? block : out_c >= 4 ? 4 : 1;
}

GroupedLoops schedule_grouped_output(const ScheduleContext& s, int64_t out_w, int64_t out_c) {
  GroupedLoops l;
  l.lanes = fitting_lanes(out_w, s.vector_lanes);
  l.whole_rows = out_w >= l.lanes;
  const Var ox = s.output_vars[3], oy = s.output_vars[2], oc = s.output_vars[1], on = s.output_vars[0];
  Var xi("xi"), ci("ci");
  Func out = s.output;
  out.split(ox, l.xo, xi, l.lanes, l.whole_rows ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf)
      .split(oc, l.co, ci, channel_block(s, out_c), TailStrategy::GuardWithIf)
      .reorder(xi, ci, l.xo, oy, l.co, on)
      .vectorize(xi)
      .unroll(ci)
      .parallel(l.co);
  return l;
}

// The depthwise forms read their input through a Func of their own. Where
// FuseOps fused the pointwise convolution producing it into the kernel, that
// convolution computes it (its ProducerStage) for the consumer's block of
// channels: the rows a window reads as the output rows `row` advance, in a
// buffer of `fold` rows (folded_window_rows), or without a row the block's
// whole plane. Otherwise it is inlined.
Func staged_input(const TensorFunc& input, const std::string& name) {
  Func staged(name + "_in");
  Var x("x"), y("y"), c("c"), n("n");
  staged(x, y, c, n) = input.func(x, y, c, n);
  return staged;
}

// A GPU target has no anchor schedules: there the value of a fused producer
// is a grid of its own in the kernel, computed once (inlined, each output's
// thread computed the pointwise convolution again for every tap).
LoweredOp with_staged_input(LoweredOp lowered, const Func& staged, const LowerContext& ctx, bool takes_producer) {
  lowered.takes_producer = takes_producer;
  if (ctx.target.has_gpu_feature() && !ctx.computed.empty() && ctx.computed[0]) lowered.needs_root.push_back(staged);
  return lowered;
}

void schedule_staged_input(Func staged, const ScheduleContext& s, const Func& out, const Var& block, const Var* row, int fold) {
  if (!s.producer) return;
  if (row) staged.store_at(out, block).compute_at(out, *row).fold_storage(staged.args()[1], fold);
  else staged.compute_at(out, block);
  s.producer->apply(staged);
}

LoweredOp lower_direct(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::QnnConv2DAttrs>(*ctx.binding.attrs);
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const auto& xs = args[0].type.shape;
  const auto ws = lang::qnn_conv2d_oihw_weight(args[1].type, a).shape;  // K, C/groups, R, S (also of quads)
  const int H = static_cast<int>(xs[2]), W = static_cast<int>(xs[3]);
  const int CG = static_cast<int>(ws[1]), KG = static_cast<int>(ws[0] / a.groups);
  const Geometry g(a);
  const int32_t zx = static_cast<int32_t>(a.input_zero_point);

  // Products of 8-bit values less their zero points are integers of at most
  // 255 * 255 in magnitude; while a sum of them stays below 2^24 float32
  // adds them exactly, in any order. Such sums (depthwise layers: 9-49
  // terms) run as float32 FMAs, 16 lanes and two per cycle, where int32
  // products take two uops each; the bias joins after the conversion.
  const int64_t terms = static_cast<int64_t>(CG) * ws[2] * ws[3];
  const bool exact_in_float = terms * 255 * 255 < (int64_t{1} << 24);
  const Halide::Type work = exact_in_float ? Halide::Float(32) : Halide::Int(16);

  Func staged = staged_input(args[0], ctx.name);
  Func padded(ctx.name + "_pad");
  Var x("x"), y("y"), c("c"), n("n");
  const Expr inside = x >= 0 && x < W && y >= 0 && y < H;
  padded(x, y, c, n) = Halide::select(
      inside, Halide::cast(work, Halide::cast<int32_t>(staged(Halide::clamp(x, 0, W - 1), Halide::clamp(y, 0, H - 1), c, n)) - zx),
      Halide::cast(work, 0));
  Func acc(ctx.name + "_acc");
  RDom rd(0, static_cast<int>(ws[3]), 0, static_cast<int>(ws[2]), 0, CG, ctx.name + "_r");  // s, r, channel
  const Expr ic = a.groups == 1 ? Expr(rd.z) : (c / KG) * CG + rd.z;
  Func weight(ctx.name + "_w");  // (s, r, channel, k) less the zero point: float32 or int32 as the sums
  Var ws_("s"), wr("r"), wc("wc"), wk("k");
  weight(ws_, wr, wc, wk) =
      Halide::cast(exact_in_float ? Halide::Float(32) : Halide::Int(32),
                   Halide::cast<int32_t>(weight_at(args[1], a, ws_, wr, wc, wk)) - kernel_zero_point(a, wk, ctx.name + "_wzp"));
  // With stride 2 (and no dilation) the padded input is also kept in two
  // phases, its even and its odd columns: tap s of output column x is column
  // x + floor((s - pl) / 2) of phase (s - pl) mod 2, so that a vector of
  // outputs reads consecutive values. Read from the padded rows, every tap
  // deinterleaved two vectors (vpermt2ps, a tenth of these kernels' time):
  // MobileNetV2's stride-2 depthwise layers of 56, 28 and 14 output columns
  // 0.87-0.94, 0.79-0.82, 0.84-0.88x (`--kernels`, two runs of two alternated
  // rounds); of 7, 1.31x (the phases' vectors mostly tail), so rows that
  // short keep the padded form.
  const int64_t out_w = out_type.shape[3], out_c = out_type.shape[1];
  const bool phases = g.sw == 2 && g.dw == 1 && out_w >= 14;
  Func phased(ctx.name + "_phases");  // (column / 2, column % 2, row, channel, image)
  Var xh("xh"), ph("ph");
  if (phases) phased(xh, ph, y, c, n) = padded(xh * 2 + ph, y, c, n);
  const Expr tap = phases ? phased(x + (rd.x - g.pl) / 2, (rd.x - g.pl) % 2, g.iy(y, rd.y), ic, n)
                          : padded(g.ix(x, rd.x), g.iy(y, rd.y), ic, n);
  if (exact_in_float) {
    acc(x, y, c, n) = 0.0f;
    acc(x, y, c, n) += tap * weight(rd.x, rd.y, rd.z, c);
  } else {
    acc(x, y, c, n) = bias_of(args, c);
    acc(x, y, c, n) += Halide::cast<int32_t>(tap) * weight(rd.x, rd.y, rd.z, c);
  }
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) {
    const Expr sum = acc(v[3], v[2], v[1], v[0]);
    return exact_in_float ? Halide::cast<int32_t>(sum) + bias_of(args, v[1]) : sum;
  });

  const bool pads = any_padding(a.padding);
  ScheduleHook schedule = [=](const ScheduleContext& s) mutable {
    const auto [xo, co, lanes, whole_rows] = schedule_grouped_output(s, out_w, out_c);
    const Var oy = s.output_vars[2];
    Func out = s.output;
    // The padded input of a block of channels is computed once (in float32
    // converted once per value, not once per tap): on rows of 28 pixels or
    // more as the output rows advance, into a buffer of the rows a window
    // reads (the whole block's, 208 KiB at 112 x 112, had been read back from
    // L2: MobileNetV2's int8 depthwise layers of 28-112 pixel rows 0.96 ->
    // 0.88 ms, `--kernels`, two alternated rounds); whole on narrower rows,
    // where computing it row by row was slower.
    if (!pads && !exact_in_float && !phases) padded.compute_inline();
    else if (out_w >= 28) padded.store_at(out, co).compute_at(out, oy).vectorize(padded.args()[0], s.vector_lanes, TailStrategy::GuardWithIf);
    else padded.compute_at(out, co).vectorize(padded.args()[0], s.vector_lanes, TailStrategy::GuardWithIf);
    // The phases, from the padded rows, where the taps read them.
    if (phases) {
      if (out_w >= 28) phased.store_at(out, co).compute_at(out, oy);
      else phased.compute_at(out, co);
      phased.vectorize(xh, s.vector_lanes, TailStrategy::GuardWithIf).unroll(ph);
    }
    weight.compute_at(out, co);
    const TailStrategy acc_tail = whole_rows ? TailStrategy::RoundUp : TailStrategy::GuardWithIf;
    acc.compute_at(out, xo).vectorize(x, lanes, acc_tail).unroll(c);
    acc.update().reorder(x, c, rd.x, rd.y, rd.z).vectorize(x, lanes, acc_tail).unroll(c);
    schedule_staged_input(staged, s, out, co, out_w >= 28 ? &oy : nullptr, folded_window_rows(static_cast<int>(ws[2]), g.dh, g.sh));
  };
  return with_staged_input({value, schedule, {}}, staged, ctx, CG == 1 && KG == 1);
}

// ---- depthwise on VNNI: shared by the row and the whole-plane forms ----

// A depthwise layer vpdpbusd (or Arm's sdot, QuadDot) can multiply: one
// input channel per group, uint8 input, int8 weights with zero point 0, OIHW
// weights, a VNNI target or Arm with the dot-product extension.
bool depthwise_on_vnni(const lang::QnnConv2DAttrs& a, std::span<const TensorFunc> args, const LowerContext& ctx) {
  return QuadDot(ctx.target, a.kernel_bits).available && a.groups != 1 && a.kernel_layout == "OIHW" &&
         u8_times_symmetric_s8(a.kernel_zero_point, args) && args[1].type.shape[1] == 1 && args[0].type.shape[1] == a.groups;
}

// The shapes both forms read.
struct DepthwiseShape {
  int H, W, R, S, J;  // input rows and columns, window, quads per kernel row
  int KG;             // output channels per input channel
  explicit DepthwiseShape(std::span<const TensorFunc> args, const lang::QnnConv2DAttrs& a)
      : H(static_cast<int>(args[0].type.shape[2])), W(static_cast<int>(args[0].type.shape[3])),
        R(static_cast<int>(args[1].type.shape[2])), S(static_cast<int>(args[1].type.shape[3])), J((S + 3) / 4),
        KG(static_cast<int>(args[1].type.shape[0] / a.groups)) {}
};

// The weights as quads of a kernel row's taps: (t, j, r, k) holds tap 4j + t
// of kernel row r of output channel k, zero past the window.
Func kernel_row_quads(std::span<const TensorFunc> args, const lang::QnnConv2DAttrs& a, int S, const std::string& name) {
  Func wq(name + "_wq");
  Var wt("wt"), wj("wj"), wr("wr"), wk("wk");
  wq(wt, wj, wr, wk) = Halide::select(wj * 4 + wt < S, weight_at(args[1], a, Halide::min(wj * 4 + wt, S - 1), wr, 0, wk),
                                      Halide::cast<int8_t>(0));
  return wq;
}

// wq's schedule in both forms: per block of channels, the taps of a quad unrolled.
void schedule_kernel_row_quads(Func wq, int J, const Func& out, const Var& block) {
  const std::vector<Var> v = wq.args();  // t, j, r, k
  wq.compute_at(out, block).bound(v[0], 0, 4).bound(v[1], 0, J).unroll(v[0]);
}

// ---- depthwise on VNNI: a quad of a kernel row's taps per output pixel ----
//
// Depthwise layers (one input channel per group) with uint8 input, int8
// weights and kernel zero point 0, on targets with VNNI. For each input row
// a window reads, the taps of every output pixel are laid out once as
// quads: (t, x, j) holds column x + (4j + t) * dw - pl, the zero point
// outside the image; then one 64-byte load holds the quads of 16 output
// pixels for a kernel row, and one vpdpbusd adds them times the kernel
// row's quad (broadcast, zeros past the window's width): 3 per 16 outputs
// of a 3x3 window where the direct form does 9 float FMAs after converting
// every input value to float. The accumulator starts at bias - x_zero_point
// * sum(weights), which takes off the zero point the quads keep.
// The quads are built in two ways (each measured best for its stride,
// `--kernels` on MobileNetV2, alternated builds):
//  - stride 1 along the rows: a vector of pixels per tap read from the input
//    (clamped, the zero point selected outside), the taps unrolled, which
//    Halide interleaves into whole 64-byte stores (the 56 x 56 and 112 x 112
//    layers 0.61x and 0.55x the direct form's time);
//  - larger strides: from the input row copied once into a row of bytes
//    with the zero point around it, both the taps and the pixels vectorized,
//    so that a 64-byte vector of quads is one load and a byte permutation
//    (vpermt2b) with no edge cases (the 112 -> 56, 56 -> 28 and 28 -> 14
//    layers 0.59, 0.67 and 0.81x). Built as in stride 1, every other
//    column's bytes were extracted one at a time (1.3x the direct form);
//    stride 1 from the row took 1.4-1.8x the time of its own form.
bool depthwise_quads_apply(const lang::QnnConv2DAttrs& a, std::span<const TensorFunc> args, const LowerContext& ctx) {
  // Rows of 8 output pixels or more with stride 1: on 7-pixel rows
  // (half-empty 128-bit quads) MobileNetV2's 7 x 7 layers were 1.06-1.09x the
  // direct form's time (such planes take the whole-plane form now). Strided,
  // rows of 4 or more: since the rows' copies stopped stalling, its 14 -> 7
  // layer 0.042 -> 0.031 ms against the direct form.
  return depthwise_on_vnni(a, args, ctx) && ctx.binding.types.at(0).shape[3] >= (a.strides[1] > 1 ? 4 : 8);
}

LoweredOp lower_depthwise_quads(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::QnnConv2DAttrs>(*ctx.binding.attrs);
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const auto [H, W, R, S, J, KG] = DepthwiseShape(args, a);
  const Geometry g(a);
  const QuadDot dot(ctx.target, a.kernel_bits);
  const Expr zx = dot.fill(a.input_zero_point);

  Func staged = staged_input(args[0], ctx.name);
  Func taps(ctx.name + "_taps");  // (t, x, j, input row, channel, image)
  Var t("t"), x("x"), j("j"), yy("yy"), c("c"), n("n");
  Func row(ctx.name + "_row");  // strides > 1: (column, input row, channel, image)
  Var rx("rx");
  RDom cols(0, W, ctx.name + "_cols");
  if (g.sw == 1) {
    const Expr col = x + (j * 4 + t) * g.dw - g.pl;
    const Expr value = dot.input(staged(Halide::clamp(col, 0, W - 1), Halide::clamp(yy, 0, H - 1), c, n));
    taps(t, x, j, yy, c, n) = inside_or(col >= 0 && col < W, yy >= 0 && yy < H, value, zx);
  } else {
    // The zero point everywhere, then the image's columns copied over it.
    row(rx, yy, c, n) = zx;
    row(cols.x, yy, c, n) = Halide::select(yy >= 0 && yy < H, dot.input(staged(cols.x, Halide::clamp(yy, 0, H - 1), c, n)), zx);
    taps(t, x, j, yy, c, n) = row(x * g.sw + (j * 4 + t) * g.dw - g.pl, yy, c, n);
  }
  Func wq = kernel_row_quads(args, a, S, ctx.name);
  Func start = accumulator_start(args, a, dot, 1, R, S, ctx.name);

  Func acc(ctx.name + "_acc");
  Var ax("ax"), ay("ay"), ak("ak"), an("an");
  RDom rd(0, dot.steps(), 0, J, 0, R, ctx.name + "_r");  // t, j, r
  acc(ax, ay, ak, an) = start(ak);
  const QuadSums sums = add_quad_products(
      acc, {ax, ay, ak, an}, rd, dot,
      [=](const Expr& member, const std::vector<Expr>& step) {
        return std::pair<Expr, Expr>{taps(member, ax, step[0], g.iy(ay, step[1]), ak / KG, an), wq(member, step[0], step[1], ak)};
      },
      ctx.name);
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return acc(v[3], v[2], v[1], v[0]); });

  const int64_t out_w = out_type.shape[3], out_c = out_type.shape[1];
  ScheduleHook schedule = [=](const ScheduleContext& s) mutable {
    const auto [xo, co, lanes, whole_rows] = schedule_grouped_output(s, out_w, out_c);
    const Var oy = s.output_vars[2];
    Func out = s.output;
    // The quads of a block's input rows as the output rows advance (each
    // input row's once: a sliding window over the rows), in the stride's form.
    // Strided: the rows of bytes too, for all the block's channels before
    // their quads. Copied and permuted one channel's row at a time, each
    // permutation loaded the bytes just stored (masked, unaligned): no store
    // forwarding, a stall per row (MobileNetV2's 112 -> 56, 56 -> 28 and
    // 28 -> 14 layers 0.118, 0.076, 0.047 -> 0.085, 0.041, 0.024 ms).
    taps.store_at(out, co).compute_at(out, oy).bound(t, 0, 4).bound(j, 0, J);
    if (g.sw == 1) {
      taps.vectorize(x, lanes, TailStrategy::GuardWithIf).unroll(t).unroll(j);
    } else {
      taps.vectorize(t).vectorize(x, lanes, TailStrategy::RoundUp).unroll(j);
      row.store_at(out, co).compute_at(out, oy).vectorize(rx, s.vector_lanes * 4, TailStrategy::RoundUp);
      row.update().vectorize(cols.x, s.vector_lanes * 4, TailStrategy::GuardWithIf);
    }
    schedule_kernel_row_quads(wq, J, out, co);
    start.compute_at(out, co);
    const TailStrategy acc_tail = whole_rows ? TailStrategy::RoundUp : TailStrategy::GuardWithIf;
    acc.compute_at(out, xo).vectorize(ax, lanes, acc_tail).unroll(ak);
    acc.update()
        .reorder(rd.x, ax, ak, rd.y, rd.z)
        .atomic()
        .vectorize(rd.x)
        .vectorize(ax, lanes, acc_tail)
        .unroll(ak)
        .unroll(rd.y);
    schedule_pairs(sums, acc, ak, ax, lanes);
    schedule_staged_input(staged, s, out, co, &oy, folded_window_rows(R, g.dh, g.sh));
  };
  return with_staged_input({value, schedule, {}}, staged, ctx, KG == 1);
}

// ---- depthwise on VNNI over whole planes: small images, stride 1 ----
//
// With stride 1 and as many output as input columns (padding "same" along
// the rows), output pixel p = y * W + x of a plane reads, for kernel row r,
// the quad at q = p + (r * dh - pt) * W of a plane of quads laid out over the
// input's flat index: (t, q, j) holds input column q mod W + (4j + t) * dw -
// pl of input row floor(q / W), the zero point outside the image. So 16
// consecutive output pixels of the plane, across rows, take one 64-byte load
// per kernel row, and a plane of 7 x 7 or 14 x 14 pixels is 4 or 13 whole
// vectors (rows of 7 and 14 pixels had half-empty 128- and 256-bit vectors,
// or fell back to the float direct form). Per block of channels, the plane's
// bytes are staged once into a flat row with the zero point above and below
// (the vertical padding), the quads built from it with whole-vector loads,
// the int32 sums of the whole plane computed, then requantized and stored as
// whole vectors of the NCHW plane (its rows are contiguous).
bool depthwise_flat_apply(const lang::QnnConv2DAttrs& a, std::span<const TensorFunc> args, const LowerContext& ctx) {
  if (!depthwise_on_vnni(a, args, ctx)) return false;
  const Geometry g(a);
  const auto& out = ctx.binding.types.at(0).shape;
  const DepthwiseShape d(args, a);
  // A block of 4 channels' quads within L1 (a 28 x 28 plane: 15 KB).
  const int64_t quad_bytes = int64_t{4} * d.J * (d.H + d.R * g.dh) * d.W * 4;
  return g.sw == 1 && g.sh == 1 && out[3] == d.W && out[2] * out[3] >= 16 && quad_bytes <= 32 * 1024;
}

LoweredOp lower_depthwise_flat(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::QnnConv2DAttrs>(*ctx.binding.attrs);
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const auto [H, W, R, S, J, KG] = DepthwiseShape(args, a);
  const Geometry g(a);
  const QuadDot dot(ctx.target, a.kernel_bits);
  const Expr zx = dot.fill(a.input_zero_point);

  // The plane's bytes at their flat index, the zero point around them.
  Func flat(ctx.name + "_flat");  // (flat index, channel, image)
  Var i("i"), c("c"), n("n");
  RDom plane(0, H * W, ctx.name + "_plane");
  flat(i, c, n) = zx;
  Func staged = staged_input(args[0], ctx.name);
  flat(plane.x, c, n) = dot.input(staged(plane.x % W, plane.x / W, c, n));
  // Which taps of the plane's quads lie inside the image's columns: the same
  // for every channel, computed once per call (the column is q mod W).
  Func inside(ctx.name + "_inside");  // (t, q, j): 1 where column q mod W + offset is in the image
  Var t("t"), q("q"), j("j");
  const Expr offset = (j * 4 + t) * g.dw - g.pl, col = q % W + offset;
  inside(t, q, j) = Halide::cast<uint8_t>(col >= 0 && col < W);
  Func taps(ctx.name + "_taps");  // (t, q, j, channel, image)
  taps(t, q, j, c, n) = Halide::select(inside(t, q, j) != 0, flat(q + offset, c, n), zx);
  Func wq = kernel_row_quads(args, a, S, ctx.name);
  Func start = accumulator_start(args, a, dot, 1, R, S, ctx.name);

  Func acc(ctx.name + "_acc");  // (flat output index, output channel, image)
  Var p("p"), k("k");
  RDom rd(0, dot.steps(), 0, J, 0, R, ctx.name + "_r");  // t, j, r
  acc(p, k, n) = start(k);
  const QuadSums sums = add_quad_products(
      acc, {p, k, n}, rd, dot,
      [=](const Expr& member, const std::vector<Expr>& step) {
        return std::pair<Expr, Expr>{taps(member, p + (step[1] * g.dh - g.pt) * W, step[0], k / KG, n), wq(member, step[0], step[1], k)};
      },
      ctx.name);
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return acc(v[3] + v[2] * W, v[1], v[0]); });

  const int64_t out_c = out_type.shape[1];
  ScheduleHook schedule = [=](const ScheduleContext& s) mutable {
    const int lanes = s.vector_lanes;  // 16 pixels: a 64-byte load of quads
    const Var ox = s.output_vars[3], oy = s.output_vars[2], oc = s.output_vars[1], on = s.output_vars[0];
    Var xy("xy"), xyo("xyo"), xyi("xyi"), co("co"), ci("ci");
    Func out = s.output;
    out.fuse(ox, oy, xy)
        .split(xy, xyo, xyi, lanes, TailStrategy::ShiftInwards)
        .split(oc, co, ci, channel_block(s, out_c), TailStrategy::GuardWithIf)
        .reorder(xyi, ci, xyo, co, on)
        .vectorize(xyi)
        .unroll(ci)
        .parallel(co);
    flat.compute_at(out, co).vectorize(i, lanes * 4, TailStrategy::RoundUp);
    flat.update().vectorize(plane.x, lanes * 4, TailStrategy::GuardWithIf);
    // A vector of the quads of 16 pixels: the inside flags one 64-byte load,
    // the bytes one load and a byte permutation.
    inside.compute_root().bound(t, 0, 4).bound(j, 0, J).vectorize(t).vectorize(q, lanes, TailStrategy::RoundUp).unroll(j);
    taps.compute_at(out, co).bound(t, 0, 4).bound(j, 0, J).vectorize(t).vectorize(q, lanes, TailStrategy::RoundUp).unroll(j);
    schedule_kernel_row_quads(wq, J, out, co);
    start.compute_at(out, co);
    // The plane's sums, a vector of 16 pixels of each of the block's channels at a time.
    Var po("po"), pi("pi");
    acc.compute_at(out, co).vectorize(p, lanes, TailStrategy::RoundUp).unroll(k);
    acc.update()
        .split(p, po, pi, lanes, TailStrategy::RoundUp)
        .reorder(rd.x, pi, k, rd.y, rd.z, po)
        .atomic()
        .vectorize(rd.x)
        .vectorize(pi)
        .unroll(k)
        .unroll(rd.y);
    schedule_pairs(sums, acc, k, p, lanes);
    schedule_staged_input(staged, s, out, co, nullptr, 0);
  };
  return with_staged_input({value, schedule, {}}, staged, ctx, KG == 1);
}

}  // namespace

LoweredOp lower_grouped(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::QnnConv2DAttrs>(*ctx.binding.attrs);
  if (depthwise_flat_apply(a, args, ctx)) return lower_depthwise_flat(args, ctx);
  return depthwise_quads_apply(a, args, ctx) ? lower_depthwise_quads(args, ctx) : lower_direct(args, ctx);
}

}  // namespace modelc::lower::qconv
