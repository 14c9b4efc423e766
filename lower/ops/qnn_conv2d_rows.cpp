// The forms of qnn.conv2d that lay the input's rows out anew before the
// quads (or pairs) form of lower/ops/qnn_conv2d.cpp multiplies them:
//  - taps in quads: a kernel row's taps packed with few input channels (a
//    stem's 7 taps x 3 channels in 6 quads, or 11 int16 pairs);
//  - flat: stride-1 rows with their padding laid end to end, pixels
//    vectorized along them.
#include "lang/ops/qnn.h"

#include "lower/ops/qnn.h"
#include "lower/ops/qnn_conv2d.h"
#include "lower/ops/spatial.h"
#include "lower/register_tile.h"
#include "lower/tensor_func.h"

namespace modelc::lower::qconv {

using Halide::Expr;
using Halide::Func;
using Halide::RDom;
using Halide::TailStrategy;
using Halide::Var;
using lang::attrs_as;

// ---- taps in quads: few input channels, a row's taps packed with them ----
//
// The quads form pads a convolution's input channels to a multiple of 4: a
// stem over 3 channels wastes a quarter of every dot product (ResNet-18's
// int8 7x7 stem at 66 % of the VNNI peak, its other layers 86-96 %). Here
// the S taps of a kernel row and the C channels are one reduction of S * C
// products, padded to quads once: 21 -> 24 for a 7x7 stem (42 dot products
// per output where 49 were). It is the quads form of a convolution with S * C
// input channels, one tap per row, column stride 1, over the input repacked
// as I'(x, y, s * C + c) = P(x * sw + s * dw, y, c), P the input with its
// borders written out (the zero point), and weights W'(k, s * C + c, r) =
// W(k, c, r, s).

// Whether packing taps with channels in groups of `group` (4: quads, 2:
// int16 pairs) saves a tenth of the dot products or more, and the
// pixel-vectorized quads form (rows of a vector or more) applies.
bool taps_packed_apply(const lang::QnnConv2DAttrs& a, const lang::TensorType& input, const lang::TensorType& weight,
                       const lang::TensorType& out, int lanes, int group) {
  if (a.groups != 1 || a.kernel_layout != "OIHW" || out.shape[3] < lanes) return false;
  const int64_t C = input.shape[1], S = weight.shape[3];
  const int64_t groups = (C + group - 1) / group * S, packed = (S * C + group - 1) / group;
  return C % group != 0 && S > 1 && packed * 10 <= groups * 9;
}

// The same for int16 pairs (8-bit weights without an 8-bit dot product): a
// 7x7 stem's 7 taps x 3 channels in 11 pairs, where 14 held 2 channels of
// 4. Its form vectorizes output channels; the inner convolution's weights
// are repacked per call (lower_packed).
LoweredOp lower_taps_in_quads(std::span<const TensorFunc> args, const LowerContext& ctx, int group) {
  const auto& a = attrs_as<lang::QnnConv2DAttrs>(*ctx.binding.attrs);
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const auto& xs = args[0].type.shape;  // N, C, H, W
  const auto& ws = args[1].type.shape;  // K, C, R, S (OIHW)
  const int C = static_cast<int>(xs[1]), H = static_cast<int>(xs[2]), W = static_cast<int>(xs[3]);
  const int R = static_cast<int>(ws[2]), S = static_cast<int>(ws[3]);
  const int64_t OH = out_type.shape[2], OW = out_type.shape[3];
  const Geometry g(a);

  // P: the input with its borders written out, rows and columns shifted by
  // the top and left padding (the fill, then the image over it).
  Func padded(ctx.name + "_taps_padded");
  Var px("px"), py("py"), pc("pc"), pn("pn");
  padded(px, py, pc, pn) = Halide::cast<uint8_t>(static_cast<int32_t>(a.input_zero_point));
  RDom in(0, W, 0, H, ctx.name + "_image");
  padded(in.x + g.pl, in.y + g.pt, pc, pn) = args[0].func(in.x, in.y, pc, pn);

  // The convolution it becomes: S * C input channels, kernel R x 1.
  const int J = S * C;
  const int64_t rows = (OH - 1) * g.sh + int64_t{R - 1} * g.dh + 1;  // rows of P it reads
  auto attrs = std::make_shared<lang::QnnConv2DAttrs>(a);
  attrs->strides = {a.strides[0], 1};
  attrs->dilation = {a.dilation[0], 1};
  attrs->padding = {0, 0, 0, 0};
  auto binding = std::make_shared<lang::Binding>(ctx.binding);
  binding->attrs = attrs;
  std::vector<TensorFunc> inner(args.begin(), args.end());
  inner[0] = define(ctx.name + "_taps", lang::TensorType{{xs[0], J, rows, OW}, args[0].type.dtype},
                    [&](const std::vector<Var>& v) {  // n, j, y, x
                      const Expr s = v[1] / C, c = v[1] % C;
                      return padded(v[3] * g.sw + s * g.dw, v[2], c, v[0]);
                    });
  inner[1] = define(ctx.name + "_tap_weights", lang::TensorType{{ws[0], J, R, 1}, args[1].type.dtype},
                    [&](const std::vector<Var>& v) {  // k, j, r, 0
                      return weight_at(args[1], a, v[1] / C, v[2], v[1] % C, v[0]);
                    });
  const std::vector<lang::TensorType> inner_types{inner[0].type, inner[1].type};
  LowerContext inner_ctx{*binding, inner_types, ctx.name, ctx.target};
  LoweredOp op = lower_packed(inner, inner_ctx, group);

  const ScheduleHook schedule = op.schedule;
  op.schedule = [=](const ScheduleContext& sc) mutable {
    (void)binding;  // the attributes the inner form's schedule was made from stay alive with it
    schedule(sc);
    const int lanes = ctx.target.natural_vector_size<uint8_t>();
    const std::vector<Var> pv = padded.args();
    padded.compute_root().vectorize(pv[0], lanes, TailStrategy::GuardWithIf);
    padded.update().vectorize(in.x, lanes, TailStrategy::GuardWithIf);
    const int64_t copy = int64_t{2} * C * (H + 2 * g.pt) * (W + 2 * g.pl);
    if (worth_parallel(copy)) {
      parallel_tasks(padded, pv[1], H + 2 * g.pt, copy);
      parallel_tasks(padded.update(), in.y, H, copy);
    }
  };
  return op;
}

// ---- flat: stride 1, pixels vectorized along the padded rows laid end to end ----
//
// The pixel-vectorized form above tiles each output row: a row of 56 pixels
// takes two tiles of 32 (or four vectors of 16), 64 pixels computed for 56
// (ResNet-18's 56 x 56 int8 layers at 79 % of the VNNI peak, 90 % of what
// their tiles allowed). Here the input is repacked with its padding into rows
// of Wp = pl + W + pr quads laid end to end, and output position p = y * Wp +
// x reads tap (r, s) at p + r * dh * Wp + s * dw: one contiguous run of
// positions per block of rows, whose only waste is the Wp - OW columns past
// each row's end and the last tile's overshoot. A block of rows' sums (T
// channels x its positions, int32) goes to a scratch buffer that the
// epilogue reads a row at a time.

// The output rows per block and the fraction of the positions computed that
// are wanted: blocks of `rows` output rows in tiles of `pixels` positions,
// their sums at most `scratch_bytes` for `channels` channels.
struct FlatBlocks {
  int rows = 1;
  double coverage = 0;
};
FlatBlocks flat_blocks(int64_t OH, int64_t OW, int64_t Wp, int pixels, int channels, int64_t scratch_bytes) {
  FlatBlocks best;
  for (int64_t rows = 1; rows <= OH; ++rows) {
    const int64_t span = (rows - 1) * Wp + OW, tiles = (span + pixels - 1) / pixels;
    if (rows > 1 && tiles * pixels * channels * 4 > scratch_bytes) break;
    const int64_t blocks = (OH + rows - 1) / rows;  // the last one shifted in
    const double coverage = static_cast<double>(OH * OW) / static_cast<double>(blocks * tiles * pixels);
    if (coverage > best.coverage) best = {static_cast<int>(rows), coverage};
  }
  return best;
}

constexpr int64_t kFlatScratchBytes = 32 * 1024;
constexpr int kFlatChannels = 8;  // the channels of a typical tile, for the choice below

// Whether the flat form computes fewer wasted positions than the row form by
// a margin (ResNet-18's 56 x 56 layers: 0.875 -> 0.966; its 28 x 28 ones,
// 0.875 -> 0.907, stay in rows).
bool flat_applies(const lang::QnnConv2DAttrs& a, const lang::TensorType& input, const lang::TensorType& weight,
                  const lang::TensorType& out, int lanes) {
  const auto ws = lang::qnn_conv2d_oihw_weight(weight, a).shape;
  if (a.strides[0] != 1 || a.strides[1] != 1 || ws[2] * ws[3] == 1 || lang::blocked_quad_weight_block(a.kernel_layout) != 0)
    return false;
  const int64_t OH = out.shape[2], OW = out.shape[3], Wp = input.shape[3] + a.padding[1] + a.padding[3];
  if (OW < lanes) return false;
  const int blocks = least_covering_blocks(OW, lanes, 3), row_pixels = lanes * blocks;
  const double rows = static_cast<double>(OW) / static_cast<double>((OW + row_pixels - 1) / row_pixels * row_pixels);
  return flat_blocks(OH, OW, Wp, 2 * lanes, kFlatChannels, kFlatScratchBytes).coverage >= rows + 0.05;
}

LoweredOp lower_flat(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::QnnConv2DAttrs>(*ctx.binding.attrs);
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const auto& xs = args[0].type.shape;  // N, C, H, W
  const auto ws = lang::qnn_conv2d_oihw_weight(args[1].type, a).shape;  // K, C, R, S
  const int C = static_cast<int>(xs[1]), H = static_cast<int>(xs[2]), W = static_cast<int>(xs[3]);
  const int R = static_cast<int>(ws[2]), S = static_cast<int>(ws[3]);
  const int packs = (C + 3) / 4;
  const Geometry g(a);
  const int Wp = W + g.pl + static_cast<int>(a.padding[3]);
  const int64_t K = out_type.shape[1], OH = out_type.shape[2], OW = out_type.shape[3];
  const QuadDot dot(ctx.target, a.kernel_bits);
  const Expr fill = dot.fill(a.input_zero_point);

  // The padded rows end to end: the zero point everywhere, then the image.
  Func xp(ctx.name + "_xp"), wp(ctx.name + "_wp");
  Var cg("cg"), p("p"), cp("cp"), n("n"), k("k"), s("s"), r("r");
  xp(cg, p, cp, n) = fill;
  RDom in(0, W, 0, H, ctx.name + "_in");
  const Expr c = cp * 4 + cg;
  xp(cg, (in.y + g.pt) * Wp + in.x + g.pl, cp, n) =
      Halide::select(c < C, dot.input(args[0].func(in.x, in.y, Halide::min(c, C - 1), n)), fill);
  const bool packed_weight = a.kernel_layout != "OIHW";
  if (packed_weight) wp(cg, k, s, r, cp) = quad_weight_at(args[1], a, cg, k, s, r, cp);
  else
    wp(cg, k, s, r, cp) = Halide::select(c < C, Halide::cast<int8_t>(weight_at(args[1], a, s, r, Halide::min(c, C - 1), k)),
                                         Halide::cast<int8_t>(0));

  Func acc(ctx.name + "_acc"), sums(ctx.name + "_sums");
  Var ak("ak"), ap("ap"), an("an");
  Func start = accumulator_start(args, a, dot, C, R, S, ctx.name);
  RDom rd(0, dot.steps(), 0, S, 0, R, 0, packs, ctx.name + "_r");  // cg, s, r, cp
  acc(ak, ap, an) = start(ak);
  const QuadSums quad_sums = add_quad_products(
      acc, {ak, ap, an}, rd, dot,
      [=](const Expr& member, const std::vector<Expr>& step) {
        const Expr &s = step[0], &r = step[1], &p = step[2];
        return std::pair<Expr, Expr>{xp(member, ap + r * g.dh * Wp + s * g.dw, p, an), wp(member, ak, s, r, p)};
      },
      ctx.name);
  sums(ak, ap, an) = acc(ak, ap, an);
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return sums(v[1], v[2] * Wp + v[3], v[0]); });
  const int64_t work = out_type.element_count() * C * R * S;

  ScheduleHook schedule = [=](const ScheduleContext& sc) mutable {
    const std::vector<Var>& v = sc.output_vars;  // n, k, y, x
    Func out = sc.output;
    const int lanes = sc.vector_lanes;
    // B vectors of positions x T channels in registers, as the row form's.
    const RegisterTile tile = register_tile(sc, lanes, std::max<int64_t>(1, OW / lanes), K, dot.pair_registers());
    const int pixels = lanes * tile.blocks, channels = tile.pixels;
    const FlatBlocks rows = flat_blocks(OH, OW, Wp, pixels, channels, kFlatScratchBytes);
    Var ko("ko"), ki("ki"), yo("yo"), yi("yi"), xo("xo"), xi("xi"), blocks("blocks");
    out.split(v[1], ko, ki, channels, K >= channels ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf)
        .split(v[2], yo, yi, rows.rows, TailStrategy::ShiftInwards)
        .split(v[3], xo, xi, lanes, TailStrategy::ShiftInwards)
        .reorder(xi, xo, yi, ki, yo, ko, v[0])
        .vectorize(xi)
        .fuse(yo, ko, blocks);
    const int64_t count = ((OH + rows.rows - 1) / rows.rows) * ((K + channels - 1) / channels);
    const Var at = worth_parallel(work) ? parallel_tasks(out, blocks, count, work / out_type.shape[0]) : blocks;

    // A block's sums, positions innermost (the epilogue reads rows of them),
    // in tiles of B vectors; each tile's accumulators summed in registers.
    const std::vector<Var> sv = sums.args();  // ak, ap, an
    Var so("so"), si("si"), sb("sb"), svv("svv");
    sums.compute_at(out, at)
        .reorder_storage(sv[1], sv[0], sv[2])
        .split(sv[1], so, si, pixels, TailStrategy::RoundUp)
        .split(si, sb, svv, lanes)
        .reorder(svv, sb, sv[0], so, sv[2])
        .vectorize(svv)
        .unroll(sb)
        .unroll(sv[0]);
    acc.compute_at(sums, so).reorder_storage(ap, ak, an);
    schedule_tile_sums(acc, rd, ap, ak, lanes, TailStrategy::RoundUp, quad_sums);

    // Weights (unless already in quads), the accumulators' starts and the
    // repacked input, once per call before the loops.
    const std::vector<Var> wv = wp.args();
    if (!packed_weight) wp.compute_root().parallel(wv[4]).vectorize(wv[1], fitting_lanes(K, lanes), TailStrategy::GuardWithIf);
    start.compute_root().vectorize(start.args()[0], fitting_lanes(K, lanes), TailStrategy::GuardWithIf);
    const std::vector<Var> xv = xp.args();  // cg, p, cp, n
    xp.compute_root().vectorize(xv[1], lanes, TailStrategy::RoundUp).unroll(xv[0]);
    // Each (x, y) of the image writes its own position ((y + pt) * Wp + x +
    // pl, with x < W < Wp), which Halide cannot prove of a sum of two RVars.
    xp.update()
        .allow_race_conditions()
        .reorder(xv[0], in.x, in.y)
        .vectorize(in.x, lanes, TailStrategy::GuardWithIf)
        .unroll(xv[0]);
    const int64_t copy = int64_t{2} * 4 * (H + 2 * g.pt) * Wp;
    if (packs >= 2 && worth_parallel(copy * packs)) {
      parallel_tasks(xp, xv[2], packs, copy * packs);
      parallel_tasks(xp.update(), xv[2], packs, copy * packs);
    }
  };
  return {value, schedule, {}};
}

}  // namespace modelc::lower::qconv
