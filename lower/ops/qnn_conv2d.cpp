// Compute rules and schedules of qnn.conv2d (NCHW 8-bit input, OIHW 8-bit
// weights, int32 accumulators; lang/ops/qnn.h), in two forms:
//
//  - paired (groups 1): the reduction runs over pairs of input channels. The
//    input, less its zero point, and the weights, less theirs, are repacked
//    per call into int16 with the two channels of a pair adjacent
//    ((c2, x, y, c/2, n) and (c2, k, s, r, c/2)). The accumulator of a vector
//    of 8 (AVX2) output channels then adds, per pair, the products of one
//    broadcast 32-bit input pair with 16 weights: Halide vectorizes the pair
//    as a VectorReduce of int16 x int16 -> int32, which x86 emits as
//    vpmaddwd (16 multiply-adds per instruction, no saturation: the
//    operands are at most 9 bits). A register tile of B vectors of channels x
//    T output pixels (lower/register_tile.h) stays in registers as in the
//    float blocked convolution. Repacking costs one pass over the input and
//    the weights per call, small beside the C*R*S multiply-adds per output.
//  - quads (groups 1, uint8 input, int8 weights with zero point 0, targets
//    with VNNI: Halide 14 calls it avx512_sapphirerapids): four channels per
//    step as uint8 x int8 -> int32, which is vpdpbusd. The weights arrive in
//    quads when AlterOpLayout packed them at compile time (C % 4 == 0:
//    lang::kQnnQuadWeightLayout), and are read as they are; else repacked. The input keeps its
//    zero point (vpdpbusd wants unsigned bytes); the accumulator starts at
//    bias - x_zero_point * sum(weights of the channel), which removes it.
//    Output channels are vectorized where AlterOpLayout packed the weights in
//    blocks of 16 channels (lang::kQnnBlockedQuadWeightLayout: narrow rows),
//    each block's weights one stream through the reduction. Elsewhere, with
//    rows of a vector or more, the quads vectorize output pixels
//    instead (each 64-byte load holds 16 pixels' quads, each output
//    channel's quad is broadcast), so that NCHW rows are stored whole; the
//    repacked input's columns are split in stride phases, so that a strided
//    convolution's taps read consecutive pixels' quads too.
//  - direct (any groups, depthwise included): vectorized over the output
//    width, as the float NCHW convolution; sums of up to 257 products (all
//    depthwise layers) in float32, which adds such integers exactly.
//  - depthwise on VNNI: quads of a kernel row's taps per output pixel, over
//    rows (below), or over a whole small plane's flat index (stride 1).
//
// A fused qnn.requantize (and clamp) runs on each accumulator as it is stored.
#include "lang/ops/qnn.h"

#include "lower/ops/qnn.h"
#include "lower/ops/spatial.h"
#include "lower/register_tile.h"
#include "lower/tensor_func.h"

namespace modelc::lower {
namespace {

// About how many times the tile's int8 multiply-adds per cycle outrun the
// float FMAs' (the unit of worth_parallel and kMinTaskWork).
constexpr int64_t kAmxSpeedup = 8;

using Halide::Expr;
using Halide::Func;
using Halide::RDom;
using Halide::TailStrategy;
using Halide::Var;
using lang::attrs_as;

struct Geometry {
  int sw, sh, dw, dh, pl, pt;
  explicit Geometry(const lang::QnnConv2DAttrs& a)
      : sw(static_cast<int>(a.strides[1])), sh(static_cast<int>(a.strides[0])), dw(static_cast<int>(a.dilation[1])),
        dh(static_cast<int>(a.dilation[0])), pl(static_cast<int>(a.padding[1])), pt(static_cast<int>(a.padding[0])) {}
  Expr ix(Expr x, Expr s) const { return x * sw + s * dw - pl; }
  Expr iy(Expr y, Expr r) const { return y * sh + r * dh - pt; }
};

// The kernel zero point of output channel k.
Expr kernel_zero_point(const lang::QnnConv2DAttrs& a, const Expr& k, const std::string& name) {
  if (a.kernel_zero_point.size() == 1) return Expr(static_cast<int32_t>(a.kernel_zero_point[0]));
  Halide::Buffer<int32_t> b(static_cast<int>(a.kernel_zero_point.size()), name);
  for (size_t i = 0; i < a.kernel_zero_point.size(); ++i) b(static_cast<int>(i)) = static_cast<int32_t>(a.kernel_zero_point[i]);
  return b(k);
}

// The weight of quad member cg of quad cp, output channel k, tap (r, s), in
// either quad layout AlterOpLayout packs ([C/4, R, S, K, 4], or that in blocks
// of 16 output channels: [K/16, C/4, R, S, 16, 4]).
Expr quad_weight_at(const TensorFunc& w, const lang::QnnConv2DAttrs& a, const Expr& cg, const Expr& k, const Expr& s,
                    const Expr& r, const Expr& cp) {
  constexpr int block = static_cast<int>(lang::kQnnQuadWeightBlock);
  if (a.kernel_layout == lang::kQnnBlockedQuadWeightLayout) return w.func(cg, k % block, s, r, cp, k / block);
  return w.func(cg, k, s, r, cp);
}

// The weight of output channel k, input channel c, tap (r, s), in any
// kernel layout (OIHW, or a quad layout).
Expr weight_at(const TensorFunc& w, const lang::QnnConv2DAttrs& a, const Expr& s, const Expr& r, const Expr& c, const Expr& k) {
  if (a.kernel_layout == "OIHW") return w.func(s, r, c, k);
  return quad_weight_at(w, a, c % 4, k, s, r, c / 4);
}

Expr bias_of(std::span<const TensorFunc> args, const Expr& k) {
  return args.size() > 2 ? Expr(Halide::cast<int32_t>(args[2].func(k))) : Expr(0);
}

bool has_vnni(const Halide::Target& t) { return t.has_feature(Halide::Target::AVX512_SapphireRapids); }

// uint8 input times int8 weights with zero points 0: what vpdpbusd multiplies.
bool u8_times_symmetric_s8(const lang::QnnConv2DAttrs& a, std::span<const TensorFunc> args) {
  bool symmetric = true;
  for (int64_t zp : a.kernel_zero_point) symmetric = symmetric && zp == 0;
  return symmetric && args[0].type.dtype == lang::DType::uint8 && args[1].type.dtype == lang::DType::int8;
}

bool quads_apply(const lang::QnnConv2DAttrs& a, std::span<const TensorFunc> args) {
  return a.groups == 1 && u8_times_symmetric_s8(a, args);
}

// Where the sums of kernels that multiply the input as it is (zero point
// included: VNNI's quads, the tiles) start, per output channel: the bias,
// less the input's zero point times the sum of the channel's weights,
// vectorized over channels when scheduled (as a scalar loop the weight sums
// of a 7x7 layer took as long as its products).
Func accumulator_start(std::span<const TensorFunc> args, const lang::QnnConv2DAttrs& a, int C, int R, int S, const std::string& name) {
  Func start(name + "_start");
  Var k("k");
  Expr init = bias_of(args, k);
  const int32_t zx = static_cast<int32_t>(a.input_zero_point);
  if (zx != 0) {
    RDom rw(0, S, 0, R, 0, C, name + "_rw");
    init = init - zx * Halide::sum(Halide::cast<int32_t>(weight_at(args[1], a, rw.x, rw.y, rw.z, k)), name + "_wsum");
  }
  start(k) = init;
  return start;
}

// The most vectors of `lanes` pixels, at most `blocks`, whose tiles cover a
// row of `width` pixels (the last tile shifted in) computing the fewest.
int least_covering_blocks(int64_t width, int lanes, int blocks) {
  int best = 1;
  int64_t best_cover = INT64_MAX;
  for (int b = 1; b <= blocks; ++b) {
    const int64_t span = int64_t{b} * lanes, cover = (width + span - 1) / span * span;
    if (cover <= best_cover) best = b, best_cover = cover;
  }
  return best;
}

// ---- paired and quads: groups 1, output channels vectorized ----

LoweredOp lower_packed(std::span<const TensorFunc> args, const LowerContext& ctx, int group) {
  const auto& a = attrs_as<lang::QnnConv2DAttrs>(*ctx.binding.attrs);
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const auto& xs = args[0].type.shape;  // N, C, H, W
  const auto ws = lang::qnn_conv2d_oihw_weight(args[1].type, a).shape;  // K, C, R, S
  const int C = static_cast<int>(xs[1]), H = static_cast<int>(xs[2]), W = static_cast<int>(xs[3]);
  const int R = static_cast<int>(ws[2]), S = static_cast<int>(ws[3]);
  const int packs = (C + group - 1) / group;
  const bool quads = group == 4;
  const bool packed_weight = a.kernel_layout != "OIHW";
  // Blocks of 16 output channels: AlterOpLayout's choice for rows narrower
  // than a vector, read with the output channels vectorized (below).
  const bool blocked_weight = a.kernel_layout == lang::kQnnBlockedQuadWeightLayout;
  const Geometry g(a);
  const int32_t zx = static_cast<int32_t>(a.input_zero_point);
  // A strided row's taps unrolled: each tap's column phase and offset are
  // then constants (computed in the loop, ResNet-18's 7x7 stride-2 stem
  // spent its time on the addresses of its loads).
  const bool unroll_taps = g.sw > 1 && S <= 7;

  // Input (Halide order (cg, xq, ph, y, cp, n): column xq * sw + ph, the
  // columns of a strided convolution split in sw phases so that a tap reads
  // consecutive output pixels' groups contiguously) and weights ((cg, k, s,
  // r, cp)), repacked.
  Func xp(ctx.name + "_xp"), wp(ctx.name + "_wp");
  Var cg("cg"), xq("xq"), ph("ph"), y("y"), cp("cp"), n("n"), k("k"), s("s"), r("r");
  {
    const Expr c = cp * group + cg, x = xq * g.sw + ph;
    const Expr inside_x = x >= 0 && x < W, inside_rest = y >= 0 && y < H && c < C;
    const Expr value = args[0].func(Halide::clamp(x, 0, W - 1), Halide::clamp(y, 0, H - 1), Halide::min(c, C - 1), n);
    // Outside the image: the zero point (a real zero); past the last channel the weights are zero.
    if (quads) xp(cg, xq, ph, y, cp, n) = inside_or(inside_x, inside_rest, value, Halide::cast<uint8_t>(zx));
    else
      xp(cg, xq, ph, y, cp, n) =
          inside_or(inside_x, inside_rest, Halide::cast<int16_t>(Halide::cast<int32_t>(value) - zx), Halide::cast<int16_t>(0));
    const Expr wv = Halide::cast<int32_t>(weight_at(args[1], a, s, r, Halide::min(c, C - 1), k)) - kernel_zero_point(a, k, ctx.name + "_wzp");
    // Quads from a weight already in quads (C % 4 == 0, zero points 0): read as they are.
    if (quads && packed_weight) wp(cg, k, s, r, cp) = quad_weight_at(args[1], a, cg, k, s, r, cp);
    else
      wp(cg, k, s, r, cp) = Halide::select(c < C, Halide::cast(quads ? Halide::Int(8) : Halide::Int(16), wv),
                                           Halide::cast(quads ? Halide::Int(8) : Halide::Int(16), 0));
  }

  Func acc(ctx.name + "_acc");
  Var ak("ak"), ax("ax"), ay("ay"), an("an");
  // quads: the input's zero point, times the sum of each channel's weights, comes off the start.
  Func start = accumulator_start(args, a, C, R, S, ctx.name);
  const Expr init = quads ? start(ak) : bias_of(args, ak);
  RDom rd(0, group, 0, S, 0, R, 0, packs, ctx.name + "_r");  // cg, s, r, cp
  acc(ak, ax, ay, an) = init;
  const Expr q = rd.y * g.dw - g.pl;  // the tap's column is ax * sw + q: phase q mod sw
  acc(ak, ax, ay, an) += Halide::cast<int32_t>(xp(rd.x, ax + q / g.sw, q % g.sw, g.iy(ay, rd.z), rd.w, an)) *
                         Halide::cast<int32_t>(wp(rd.x, ak, rd.y, rd.z, rd.w));
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return acc(v[1], v[3], v[2], v[0]); });

  const int64_t K = out_type.shape[1], OW = out_type.shape[3];
  const int64_t work = out_type.element_count() * C * R * S;
  // The weights and sums a kernel multiplies by, and unless `repack` is
  // false the repacked input, computed once per call before its loops.
  // The sums of the form that vectorizes pixels, computed at `at` of `f`:
  // vectors of `lanes` pixels of each output channel, each step one vpdpbusd
  // of a vector of pixels' groups of input channels times the broadcast
  // group of one output channel's weights.
  auto pixel_sums = [=](const Func& f, const Var& at, int lanes, TailStrategy tail) mutable {
    Var axb("axb"), axv("axv");
    acc.compute_at(f, at).reorder_storage(ax, ak, ay, an);
    acc.split(ax, axb, axv, lanes, tail).vectorize(axv).unroll(axb).unroll(ak);
    acc.update()
        .split(ax, axb, axv, lanes, tail)
        .reorder(rd.x, axv, axb, ak, rd.y, rd.z, rd.w)
        .atomic()
        .vectorize(rd.x)
        .vectorize(axv)
        .unroll(axb)
        .unroll(ak);
  };
  auto operands_once = [=](int lanes, bool repack) mutable {
    const std::vector<Var> wv = wp.args();
    if (!(quads && packed_weight)) wp.compute_root().parallel(wv[4]).vectorize(wv[1], fitting_lanes(K, lanes), TailStrategy::GuardWithIf);
    if (quads) start.compute_root().vectorize(start.args()[0], fitting_lanes(K, lanes), TailStrategy::GuardWithIf);
    if (!repack) return;
    // A vector of pixels per channel of a group, the group's channels unrolled
    // so that Halide interleaves their stores into whole vectors; rows of
    // whole vectors, the last shifted in, where the columns fill one.
    const std::vector<Var> xv = xp.args();
    const TailStrategy xp_tail = W / g.sw >= lanes ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
    xp.compute_root().vectorize(xv[1], lanes, xp_tail).unroll(xv[0]);
    // In parallel over its channel groups, or over rows where there is one:
    // a stem's three channels are one group, and its 224 x 224 input was
    // repacked on one core while the other waited (MobileNetV2's int8 stem
    // 0.78x at two threads, `--kernels`, two alternated rounds; by rows with
    // up to 8 groups, layers of 24 channels were 1.07x).
    const int64_t channel_groups = (C + group - 1) / group;
    const int64_t copy = int64_t{2} * group * (H + 2 * g.pt) * (W + 2 * g.pl);
    // Channel groups in tasks, and only where the copy is worth a parallel
    // loop: MobileNetV2's 14 x 14 1x1 layers had repacked theirs in 16-144
    // parallel iterations of a microsecond each, and ran slower on two
    // cores than on one.
    if (channel_groups >= 2 && worth_parallel(copy * channel_groups)) parallel_tasks(xp, xv[4], channel_groups, copy * channel_groups);
    else if (worth_parallel(copy)) parallel_tasks(xp, xv[3], H + 2 * g.pt, copy);
  };
  ScheduleHook schedule = [=](const ScheduleContext& sc) mutable {
    const std::vector<Var>& v = sc.output_vars;  // n, k, y, x
    Func out = sc.output;
    Var xo("xo"), xi("xi"), ko("ko"), ki("ki"), kb("kb"), kv("kv"), rows("rows"), task("task"), rows_in("rows_in");
    bool pointwise_tasks = false;  // the input repacked per task (below)
    Var akb("akb"), akv("akv");
    if (quads && OW >= sc.vector_lanes && !blocked_weight) {
      // Pixels vectorized: each step loads B vectors of 16 pixels' quads (64
      // contiguous bytes of the repacked input) and adds to them the
      // broadcast quad of each of T output channels (vpdpbusd). The
      // accumulators then lie along the output's rows: the epilogue stores
      // whole vectors of NCHW, where with channels vectorized each output
      // byte was stored alone (MobileNetV2's 1x1 layers over 16-32 channels
      // spent more time storing than multiplying).
      const int lanes = sc.vector_lanes;
      RegisterTile tile = register_tile(sc, lanes, OW / lanes, K);
      // A row's last tile is shifted in and recomputes the overlap: with 3
      // vectors of 16 a 56-pixel row computed 96 pixels, with 2 (or 1) 64.
      // Fewer vectors where that computes fewer pixels (ResNet-18's 56 x 56
      // int8 layers, Zen 5: 44-49 % of the int8 peak with 3).
      if (const int fewer = least_covering_blocks(OW, lanes, tile.blocks); fewer < tile.blocks && sc.knobs.empty())
        tile = register_tile(sc, lanes, fewer, K);
      const int pixels = lanes * tile.blocks, channels = tile.pixels;
      out.split(v[3], xo, xi, pixels, TailStrategy::ShiftInwards)
          .split(xi, kb, kv, lanes, TailStrategy::ShiftInwards)
          .split(v[1], ko, ki, channels, K >= channels ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf);
      // Pointwise and in parallel: each task takes whole image rows (every
      // channel block of a row, weights swept from L2) and repacks just
      // those rows of the input, so that the core that multiplies them has
      // them in its caches. Repacked whole beforehand, in parallel over
      // channel groups, every row was half in the other core's L2:
      // MobileNetV2's int8 1x1 layers ran 0.6-0.85x as fast on two cores as
      // on one (Zen 5, `--kernels`).
      const int64_t row_loops = out_type.shape[2] * ((K + channels - 1) / channels);
      pointwise_tasks = R == 1 && S == 1 && worth_parallel(work);
      if (pointwise_tasks) out.reorder(kv, kb, ki, xo, ko, v[2], v[0]).fuse(ko, v[2], rows);
      else out.reorder(kv, kb, ki, xo, v[2], ko, v[0]).fuse(v[2], ko, rows);
      out.vectorize(kv).unroll(kb).unroll(ki);
      if (pointwise_tasks) {
        const int size = static_cast<int>(parallel_task_size(row_loops, work / out_type.shape[0]));
        out.split(rows, task, rows_in, size, TailStrategy::GuardWithIf).parallel(task);
      } else if (worth_parallel(work)) {
        parallel_tasks(out, rows, row_loops, work / out_type.shape[0]);
      }
      pixel_sums(out, xo, lanes, TailStrategy::GuardWithIf);
      if (unroll_taps) acc.update().unroll(rd.y);
    } else {
      const int lanes = fitting_lanes(K, sc.vector_lanes);
      // A strided row's taps are unrolled (below), each with its broadcasts
      // and addresses: with 12 of AVX-512's 32 registers left to them the
      // tile keeps at most about 16 accumulators. ResNet-18's 56 -> 28 and
      // 28 -> 14 layers took 2 x 14 tiles without, 2 x 7 with: 0.218 ->
      // 0.197 and 0.204 -> 0.176 ms (`--kernels`, alternated builds; what
      // `modelc tune` had found). With 4 left the second was 1.2x slower.
      const int taps_registers = quads && unroll_taps ? 12 : 0;
      const RegisterTile tile = register_tile(sc, lanes, std::max<int64_t>(1, K / lanes), OW, taps_registers);
      const int channels = lanes * tile.blocks;
      const TailStrategy k_tail = K >= channels ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
      out.split(v[3], xo, xi, tile.pixels, OW >= tile.pixels ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf)
          .split(v[1], ko, ki, channels, k_tail)
          .split(ki, kb, kv, lanes, TailStrategy::GuardWithIf)
          .reorder(kv, xi, kb, xo, v[2], ko, v[0])
          .vectorize(kv)
          .unroll(xi)
          .unroll(kb)
          .fuse(v[2], ko, rows);
      // Rows stay inside channel blocks here: these rows are narrower than a
      // vector, several to a cache line, and tasks of whole image rows
      // (every channel block) wrote into each other's lines (MobileNetV2's
      // 7 x 7 1x1 layers 16x slower on two cores).
      // Tasks of whole channel blocks (every row of their planes).
      const int64_t OH = out_type.shape[2];
      if (worth_parallel(work)) parallel_tasks(out, rows, OH * ((K + channels - 1) / channels), work / out_type.shape[0], OH);
      acc.compute_at(out, xo).split(ak, akb, akv, lanes, TailStrategy::GuardWithIf).vectorize(akv).unroll(ax).unroll(akb);
      // Per step of the reduction: the B weight vectors stay in registers, each
      // of the T input groups is broadcast once and used right away.
      acc.update()
          .split(ak, akb, akv, lanes, TailStrategy::GuardWithIf)
          .reorder(rd.x, akv, akb, ax, rd.y, rd.z, rd.w)
          .atomic()
          .vectorize(rd.x)
          .vectorize(akv)
          .unroll(akb)
          .unroll(ax);
      if (unroll_taps) acc.update().unroll(rd.y);
    }
    operands_once(sc.vector_lanes, !pointwise_tasks);
    if (pointwise_tasks) {
      const std::vector<Var> xv = xp.args();
      // A vector of pixels per channel of a group, the group's channels
      // unrolled so that Halide interleaves their stores into whole vectors
      // (each had been stored byte by byte: vpextrb, a tenth of MobileNetV2's
      // int8 time); rows of whole vectors, the last shifted in, where the
      // columns fill one.
      const TailStrategy xp_tail = W / g.sw >= sc.vector_lanes ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
      xp.compute_at(out, task).vectorize(xv[1], sc.vector_lanes, xp_tail).unroll(xv[0]);
    }
  };
  if (!ctx.producer) return {value, schedule, {}};

  // Computed inside a depthwise convolution's loops (FuseOps' producer
  // fusion, lower_depthwise_*): `stage` holds the rows of the consumer's
  // block of 4 channels that it computes at a time, pixels vectorized as in
  // the pointwise form above (each step B vectors of 16 pixels' groups times
  // the broadcast group of each of the 4 channels), the input repacked once
  // per call before the consumer's loops. So the expanded tensor is never
  // stored whole: each block's rows are made where they are read.
  // Rows narrower than a vector take half vectors: MobileNetV2's 7 x 7 layers
  // computed 16 pixels for 7 and took 1.9x as long as unfused.
  int lanes = ctx.target.natural_vector_size<float>();
  while (lanes > 4 && lanes / 2 >= OW) lanes /= 2;
  // B vectors of pixels: the most that compute at most a quarter more
  // pixels than the fewest would. With few input channels a tile's sums are
  // a short chain of dependent vpdpbusd, and one vector of 4 channels (4
  // chains) left MobileNetV2's 112 x 112 expansion waiting on them.
  const auto cover = [&](int b) { return (OW + int64_t{b} * lanes - 1) / (int64_t{b} * lanes) * b; };
  int64_t fewest = cover(1);
  for (int b = 2; b <= 4; ++b) fewest = std::min(fewest, cover(b));
  int blocks = 1;
  for (int b = 2; b <= 4; ++b)
    if (cover(b) * 4 <= fewest * 5) blocks = b;
  const int pixels = lanes * blocks;
  // Channels per tile, which the consumer's blocks take: 4, and 8 where one
  // vector covers a row. A tile's sums are chains of dependent vpdpbusd, one
  // per vector and channel, and 4 chains left MobileNetV2's 14 -> 7 layer
  // waiting on them (the loads of 14-pixel rows a third of its time).
  const int channels = blocks == 1 && K >= 8 ? 8 : 4;
  ProducerStage stage{[=](Func st) mutable {
                        const std::vector<Var> v = st.args();  // x, y, c, n
                        Var xo("pxo"), xi("pxi"), xb("pxb"), xv("pxv"), co("pco"), ci("pci");
                        const TailStrategy x_tail = OW >= pixels ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
                        st.split(v[0], xo, xi, pixels, x_tail)
                            .split(xi, xb, xv, lanes, x_tail)
                            .split(v[2], co, ci, K >= channels ? channels : 1, TailStrategy::GuardWithIf)
                            .reorder(xv, xb, ci, xo, co, v[1], v[3])
                            .vectorize(xv)
                            .unroll(xb)
                            .unroll(ci);
                        // Whole vectors of sums (a buffer of its own), also
                        // over rows narrower than a vector: guarded, they were
                        // summed a pixel at a time (10x slower).
                        pixel_sums(st, xo, lanes, TailStrategy::RoundUp);
                        operands_once(lanes, true);
                      },
                      channels, work};
  return {value, schedule, {}, stage};
}

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
  Func start = accumulator_start(args, a, C, R, S, ctx.name);
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
  Func start = accumulator_start(args, a, C, R, S, ctx.name);
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
// buffer of `fold` rows (a power of two, at least the rows one output row
// reads), or without a row the block's whole plane. Otherwise it is inlined.
Func staged_input(const TensorFunc& input, const std::string& name) {
  Func staged(name + "_in");
  Var x("x"), y("y"), c("c"), n("n");
  staged(x, y, c, n) = input.func(x, y, c, n);
  return staged;
}

int fold_rows(int R, const Geometry& g) {
  int rows = 1;
  while (rows < std::max((R - 1) * g.dh + 1, g.sh)) rows *= 2;
  return rows;
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
  const auto& ws = args[1].type.shape;  // K, C/groups, R, S
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
    schedule_staged_input(staged, s, out, co, out_w >= 28 ? &oy : nullptr, fold_rows(static_cast<int>(ws[2]), g));
  };
  return with_staged_input({value, schedule, {}}, staged, ctx, CG == 1 && KG == 1);
}

// ---- depthwise on VNNI: shared by the row and the whole-plane forms ----

// A depthwise layer vpdpbusd can multiply: one input channel per group,
// uint8 input, int8 weights with zero point 0, OIHW weights, a VNNI target.
bool depthwise_on_vnni(const lang::QnnConv2DAttrs& a, std::span<const TensorFunc> args, const LowerContext& ctx) {
  return has_vnni(ctx.target) && a.groups != 1 && a.kernel_layout == "OIHW" &&
         u8_times_symmetric_s8(a, args) && args[1].type.shape[1] == 1 && args[0].type.shape[1] == a.groups;
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
  const int32_t zx = static_cast<int32_t>(a.input_zero_point);

  Func staged = staged_input(args[0], ctx.name);
  Func taps(ctx.name + "_taps");  // (t, x, j, input row, channel, image)
  Var t("t"), x("x"), j("j"), yy("yy"), c("c"), n("n");
  Func row(ctx.name + "_row");  // strides > 1: (column, input row, channel, image)
  Var rx("rx");
  RDom cols(0, W, ctx.name + "_cols");
  if (g.sw == 1) {
    const Expr col = x + (j * 4 + t) * g.dw - g.pl;
    const Expr value = staged(Halide::clamp(col, 0, W - 1), Halide::clamp(yy, 0, H - 1), c, n);
    taps(t, x, j, yy, c, n) = inside_or(col >= 0 && col < W, yy >= 0 && yy < H, value, Halide::cast<uint8_t>(zx));
  } else {
    // The zero point everywhere, then the image's columns copied over it.
    row(rx, yy, c, n) = Halide::cast<uint8_t>(zx);
    row(cols.x, yy, c, n) =
        Halide::select(yy >= 0 && yy < H, staged(cols.x, Halide::clamp(yy, 0, H - 1), c, n), Halide::cast<uint8_t>(zx));
    taps(t, x, j, yy, c, n) = row(x * g.sw + (j * 4 + t) * g.dw - g.pl, yy, c, n);
  }
  Func wq = kernel_row_quads(args, a, S, ctx.name);
  Func start = accumulator_start(args, a, 1, R, S, ctx.name);

  Func acc(ctx.name + "_acc");
  Var ax("ax"), ay("ay"), ak("ak"), an("an");
  RDom rd(0, 4, 0, J, 0, R, ctx.name + "_r");  // t, j, r
  acc(ax, ay, ak, an) = start(ak);
  acc(ax, ay, ak, an) += Halide::cast<int32_t>(taps(rd.x, ax, rd.y, g.iy(ay, rd.z), ak / KG, an)) *
                         Halide::cast<int32_t>(wq(rd.x, rd.y, rd.z, ak));
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
    schedule_staged_input(staged, s, out, co, &oy, fold_rows(R, g));
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
  const auto zx = Halide::cast<uint8_t>(static_cast<int32_t>(a.input_zero_point));

  // The plane's bytes at their flat index, the zero point around them.
  Func flat(ctx.name + "_flat");  // (flat index, channel, image)
  Var i("i"), c("c"), n("n");
  RDom plane(0, H * W, ctx.name + "_plane");
  flat(i, c, n) = zx;
  Func staged = staged_input(args[0], ctx.name);
  flat(plane.x, c, n) = staged(plane.x % W, plane.x / W, c, n);
  // Which taps of the plane's quads lie inside the image's columns: the same
  // for every channel, computed once per call (the column is q mod W).
  Func inside(ctx.name + "_inside");  // (t, q, j): 1 where column q mod W + offset is in the image
  Var t("t"), q("q"), j("j");
  const Expr offset = (j * 4 + t) * g.dw - g.pl, col = q % W + offset;
  inside(t, q, j) = Halide::cast<uint8_t>(col >= 0 && col < W);
  Func taps(ctx.name + "_taps");  // (t, q, j, channel, image)
  taps(t, q, j, c, n) = Halide::select(inside(t, q, j) != 0, flat(q + offset, c, n), zx);
  Func wq = kernel_row_quads(args, a, S, ctx.name);
  Func start = accumulator_start(args, a, 1, R, S, ctx.name);

  Func acc(ctx.name + "_acc");  // (flat output index, output channel, image)
  Var p("p"), k("k");
  RDom rd(0, 4, 0, J, 0, R, ctx.name + "_r");  // t, j, r
  acc(p, k, n) = start(k);
  acc(p, k, n) += Halide::cast<int32_t>(taps(rd.x, p + (rd.z * g.dh - g.pt) * W, rd.y, k / KG, n)) *
                  Halide::cast<int32_t>(wq(rd.x, rd.y, rd.z, k));
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
    schedule_staged_input(staged, s, out, co, nullptr, 0);
  };
  return with_staged_input({value, schedule, {}}, staged, ctx, KG == 1);
}

}  // namespace

bool qnn_conv2d_on_amx(const lang::QnnConv2DAttrs& a, const lang::TensorType& input, const lang::TensorType& weight) {
  if (a.groups != 1 || input.dtype != lang::DType::uint8 || weight.dtype != lang::DType::int8 || input.rank() != 4)
    return false;
  for (int64_t zp : a.kernel_zero_point)
    if (zp != 0) return false;
  if (row_taps_apply(a, input, weight)) return true;
  if (a.kernel_layout != lang::kQnnQuadWeightLayout) return false;
  // Whole blocks of 64 input channels. Padded to them, MobileNetV2's 1x1
  // layers over 16-160 channels ran slower on the tiles than on VNNI: the
  // per-call blocking of their large images, not the products, is their cost
  // (9.08 -> 11.1 ms at one thread; 9.47 with 96-160 channels only).
  return input.shape[1] % 64 == 0;
}

namespace {

LoweredOp lower_qnn_conv2d(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::QnnConv2DAttrs>(*ctx.binding.attrs);
  if (a.groups != 1) {
    if (depthwise_flat_apply(a, args, ctx)) return lower_depthwise_flat(args, ctx);
    return depthwise_quads_apply(a, args, ctx) ? lower_depthwise_quads(args, ctx) : lower_direct(args, ctx);
  }
  // A convolution computed inside a depthwise one's loops takes VNNI's quads
  // (or pairs): its stage is a schedule of Halide loops, not a tile kernel.
  if (ctx.amx && !ctx.producer && qnn_conv2d_on_amx(a, args[0].type, args[1].type))
    return row_taps_apply(a, args[0].type, args[1].type) ? lower_row_taps_amx(args, ctx) : lower_quads_amx(args, ctx);
  if (has_vnni(ctx.target) && quads_apply(a, args)) return lower_packed(args, ctx, 4);
  return lower_packed(args, ctx, 2);
}

}  // namespace

void register_qnn_conv2d_lowerings(LoweringRegistry& r) { r.add("qnn.conv2d", lower_qnn_conv2d); }

}  // namespace modelc::lower
