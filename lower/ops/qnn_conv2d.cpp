// Compute rules and schedules of qnn.conv2d (NCHW 8-bit input, OIHW 8-bit
// weights, int32 accumulators; lang/ops/qnn.h), groups 1, in these forms:
//
//  - paired (groups 1): the reduction runs over pairs of input channels. The
//    input, less its zero point, is repacked per call into int16 with the two
//    channels of a pair adjacent ((c2, x, y, c/2, n)); the weights, less
//    theirs, are read as int16 pairs (c2, k, s, r, c/2): sign-extended from
//    the blocks of pairs AlterOpLayout packed at compile time
//    (lang::kQnnBlockedPairWeightLayout, AVX2), else repacked per call in
//    blocks of a vector of output channels. The accumulator of a vector
//    of 8 (AVX2) output channels then adds, per pair, the products of one
//    broadcast 32-bit input pair with 16 weights: Halide vectorizes the pair
//    as a VectorReduce of int16 x int16 -> int32, which x86 emits as
//    vpmaddwd (16 multiply-adds per instruction, no saturation: the
//    operands are at most 9 bits). A register tile of B vectors of channels x
//    T output pixels (lower/register_tile.h) stays in registers as in the
//    float blocked convolution. Repacking costs one pass over the input per
//    call, small beside the C*R*S multiply-adds per output.
//  - quads (groups 1, uint8 input, int8 weights with zero point 0, targets
//    with VNNI: Halide 14 calls it avx512_sapphirerapids): four channels per
//    step as uint8 x int8 -> int32, which is vpdpbusd; on Arm with the
//    dot-product extension int8 x int8, which is sdot, the input moved to
//    int8 as it is repacked (QuadDot, lower/ops/qnn_conv2d.h). The weights arrive in
//    quads when AlterOpLayout packed them at compile time (C % 4 == 0:
//    lang::kQnnQuadWeightLayout), and are read as they are; else repacked. The input keeps its
//    zero point (vpdpbusd wants unsigned bytes); the accumulator starts at
//    bias - x_zero_point * sum(weights of the channel), which removes it.
//    Output channels are vectorized where AlterOpLayout packed the weights in
//    blocks of a vector of channels (16, lang::kQnnBlockedQuadWeightLayout, or 8: narrow rows),
//    each block's weights one stream through the reduction. Elsewhere, with
//    rows of a vector or more, the quads vectorize output pixels
//    instead (each 64-byte load holds 16 pixels' quads, each output
//    channel's quad is broadcast), so that NCHW rows are stored whole; the
//    repacked input's columns are split in stride phases, so that a strided
//    convolution's taps read consecutive pixels' quads too.
//  - quads over a kernel row's taps packed with 1-3 input channels (a stem's
//    7 taps x 3 channels in 6 quads, not 7; in int16 pairs, 11 pairs, not
//    14), and along padded rows laid end to end for stride-1 rows that whole
//    vectors do not fill, both on VNNI and Arm's sdot: the input laid out
//    anew for this form (lower/ops/qnn_conv2d_rows.cpp).
//  - on AMX tiles, where the host has them: lower/ops/qnn_conv2d_amx.cpp.
//  - grouped, groups of whole quads of input channels (RegNet, ResNeXt), on
//    VNNI or sdot: the quads form with pixels vectorized, a register tile's channels
//    within one group (grouped_tile).
// Other groups > 1 (depthwise, groups of 1-3 channels, no 8-bit dot product):
// lower/ops/qnn_depthwise.cpp.
//
// A fused qnn.requantize (and clamp) runs on each accumulator as it is stored.
#include "lang/ops/qnn.h"

#include "lower/ops/qnn.h"
#include "lower/ops/qnn_conv2d.h"
#include "lower/ops/spatial.h"
#include "lower/register_tile.h"
#include "lower/tensor_func.h"

namespace modelc::lower {

namespace qconv {

using Halide::Expr;
using Halide::Func;
using Halide::RDom;
using Halide::TailStrategy;
using Halide::Var;

Expr kernel_zero_point(const lang::QnnConv2DAttrs& a, const Expr& k, const std::string& name) {
  if (a.kernel_zero_point.size() == 1) return Expr(static_cast<int32_t>(a.kernel_zero_point[0]));
  Halide::Buffer<int32_t> b(static_cast<int>(a.kernel_zero_point.size()), name);
  for (size_t i = 0; i < a.kernel_zero_point.size(); ++i) b(static_cast<int>(i)) = static_cast<int32_t>(a.kernel_zero_point[i]);
  return b(k);
}

Expr quad_weight_at(const TensorFunc& w, const lang::QnnConv2DAttrs& a, const Expr& cg, const Expr& k, const Expr& s,
                    const Expr& r, const Expr& cp) {
  if (const int block = static_cast<int>(lang::blocked_quad_weight_block(a.kernel_layout)))
    return w.func(cg, k % block, s, r, cp, k / block);
  return w.func(cg, k, s, r, cp);
}

Expr weight_at(const TensorFunc& w, const lang::QnnConv2DAttrs& a, const Expr& s, const Expr& r, const Expr& c, const Expr& k) {
  if (a.kernel_layout == "OIHW") return w.func(s, r, c, k);
  if (a.kernel_layout == lang::kQnnBlockedPairWeightLayout)
    return w.func(c % 2, k % static_cast<int>(lang::kQnnPairWeightBlock), s, r, c / 2, k / static_cast<int>(lang::kQnnPairWeightBlock));
  return quad_weight_at(w, a, c % 4, k, s, r, c / 4);
}

Expr bias_of(std::span<const TensorFunc> args, const Expr& k) {
  return args.size() > 2 ? Expr(Halide::cast<int32_t>(args[2].func(k))) : Expr(0);
}

bool has_vnni(const Halide::Target& t) { return t.has_feature(Halide::Target::AVX512_SapphireRapids); }

QuadDot::QuadDot(const Halide::Target& t, int64_t kernel_bits) {
  signed_input = t.arch == Halide::Target::ARM && t.bits == 64 && t.has_feature(Halide::Target::ARMDotProd);
  byte_pairs = t.arch == Halide::Target::X86 && t.has_feature(Halide::Target::AVX2) && !has_vnni(t) && kernel_bits <= 7;
  available = has_vnni(t) || signed_input || byte_pairs;
}

QuadSums add_quad_products(Func acc, const std::vector<Var>& vars, const RDom& rd, const QuadDot& dot,
                           const QuadOperands& operands, const std::string& name) {
  std::vector<Expr> at(vars.begin(), vars.end());
  std::vector<Expr> step;
  for (int d = 1; d < rd.dimensions(); ++d) step.push_back(rd[d]);
  if (!dot.byte_pairs) {
    auto [x, w] = operands(rd.x, step);
    acc(at) += Halide::cast<int32_t>(x) * Halide::cast<int32_t>(w);
    return {};
  }
  // pairs(j, vars..., step...): members 2j and 2j + 1 of the quad at a step,
  // summed in int16 as Halide's saturating VectorReduce, which x86 emits as
  // vpmaddubsw (the override of atomic's associativity check: the first add
  // is to zero, the second cannot saturate with 7-bit weights). The ones are
  // a Func so that the simplifier keeps the multiply that becomes vpmaddwd.
  QuadSums sums{Func(name + "_pairs"), Func(name + "_ones"), RDom(0, 2, name + "_rj")};
  Var j(name + "_j");
  std::vector<Expr> pure{j}, pure_step;
  pure.insert(pure.end(), at.begin(), at.end());
  for (size_t d = 0; d < step.size(); ++d) pure_step.push_back(Var(name + "_step" + std::to_string(d)));
  pure.insert(pure.end(), pure_step.begin(), pure_step.end());
  auto [x, w] = operands(2 * j + sums.members.x, pure_step);
  sums.pairs(pure) = Halide::cast<int16_t>(0);
  sums.pairs(pure) = Halide::Internal::saturating_add(sums.pairs(pure), Halide::cast<int16_t>(x) * Halide::cast<int16_t>(w));
  sums.ones(j) = Halide::cast<int16_t>(1);
  std::vector<Expr> pair_at{rd.x};
  pair_at.insert(pair_at.end(), at.begin(), at.end());
  pair_at.insert(pair_at.end(), step.begin(), step.end());
  acc(at) += Halide::cast<int32_t>(sums.pairs(pair_at)) * Halide::cast<int32_t>(sums.ones(rd.x));
  return sums;
}

void schedule_pairs(const QuadSums& sums, const Func& acc, const Var& at, const Var& along, int lanes) {
  if (!sums.pairs.defined()) return;
  // Pairs (j) innermost, then `along`; the update's pair members (rj) inside them.
  Func pairs = sums.pairs, ones = sums.ones;
  const std::vector<Var> pv = pairs.args();
  const Halide::RVar rj = sums.members.x;
  Var po(along.name() + "po"), pi(along.name() + "pi");
  std::vector<Halide::VarOrRVar> order{pv[0], pi};
  for (size_t i = 1; i < pv.size(); ++i)
    if (pv[i].name() != along.name()) order.emplace_back(pv[i]);
  pairs.compute_at(acc, at).split(along, po, pi, lanes, TailStrategy::RoundUp).reorder(order).vectorize(pv[0]).vectorize(pi);
  order.insert(order.begin(), rj);
  pairs.update()
      .split(along, po, pi, lanes, TailStrategy::RoundUp)
      .reorder(order)
      .atomic(true)
      .vectorize(rj)
      .vectorize(pv[0])
      .vectorize(pi);
  ones.compute_root();
}

void schedule_tile_sums(Func acc, const RDom& rd, const Var& along, const Var& unrolled, int lanes, TailStrategy tail,
                        const QuadSums& sums) {
  Var b(along.name() + "b"), v(along.name() + "v");
  acc.split(along, b, v, lanes, tail).vectorize(v).unroll(b).unroll(unrolled);
  std::vector<Halide::VarOrRVar> order{rd.x, v, b, unrolled};  // then the steps (taps, packs), inner first
  for (int d = 1; d < rd.dimensions(); ++d) order.emplace_back(rd[d]);
  acc.update()
      .split(along, b, v, lanes, tail)
      .reorder(order)
      .atomic()
      .vectorize(rd.x)
      .vectorize(v)
      .unroll(b)
      .unroll(unrolled);
  schedule_pairs(sums, acc, b, along, lanes);
}

Expr QuadDot::input(const Expr& x) const {
  return signed_input ? Halide::reinterpret<int8_t>(x ^ Halide::cast<uint8_t>(0x80)) : x;
}

int32_t QuadDot::zero_point(int64_t x_zero_point) const {
  return static_cast<int32_t>(signed_input ? x_zero_point - 128 : x_zero_point);
}

Expr QuadDot::fill(int64_t x_zero_point) const {
  return Halide::cast(signed_input ? Halide::Int(8) : Halide::UInt(8), zero_point(x_zero_point));
}

bool u8_times_symmetric_s8(std::span<const int64_t> kernel_zero_point, std::span<const TensorFunc> args) {
  bool symmetric = true;
  for (int64_t zp : kernel_zero_point) symmetric = symmetric && zp == 0;
  return symmetric && args[0].type.dtype == lang::DType::uint8 && args[1].type.dtype == lang::DType::int8;
}

Func accumulator_start(std::span<const TensorFunc> args, const lang::QnnConv2DAttrs& a, const QuadDot& dot, int C, int R,
                       int S, const std::string& name) {
  Func start(name + "_start");
  Var k("k");
  Expr init = bias_of(args, k);
  const int32_t zx = dot.zero_point(a.input_zero_point);
  if (zx != 0) {
    RDom rw(0, S, 0, R, 0, C, name + "_rw");
    init = init - zx * Halide::sum(Halide::cast<int32_t>(weight_at(args[1], a, rw.x, rw.y, rw.z, k)), name + "_wsum");
  }
  start(k) = init;
  return start;
}

int least_covering_blocks(int64_t width, int lanes, int blocks) {
  int best = 1;
  int64_t best_cover = INT64_MAX;
  for (int b = 1; b <= blocks; ++b) {
    const int64_t span = int64_t{b} * lanes, cover = (width + span - 1) / span * span;
    if (cover <= best_cover) best = b, best_cover = cover;
  }
  return best;
}
}  // namespace qconv

namespace {

using Halide::Expr;
using Halide::Func;
using Halide::RDom;
using Halide::TailStrategy;
using Halide::Var;
using lang::attrs_as;
using namespace qconv;

bool quads_apply(const lang::QnnConv2DAttrs& a, std::span<const TensorFunc> args) {
  return a.groups == 1 && a.kernel_layout != lang::kQnnBlockedPairWeightLayout && u8_times_symmetric_s8(a.kernel_zero_point, args);
}

// The register tile of a grouped convolution's quads form (pixels
// vectorized): B vectors of `lanes` pixels by T channels of one group, T a
// divisor of the group's KG output channels. Chosen when the sums are
// defined, which index a tile's group by the tile: Halide's bounds of
// k % KG for a tile smaller than a group spanned the whole group (RegNet's
// first grouped layer computed every tile twice, 4x slower).
struct GroupedTile {
  int lanes = 16, blocks = 1, channels = 1;
};

GroupedTile grouped_tile(const Halide::Target& target, int64_t OW, int64_t KG) {
  GroupedTile t;
  // Rows narrower than a vector take half vectors (256-bit vpdpbusd, as
  // fast per lane on Zen 4), the last rounded up.
  t.lanes = target.natural_vector_size<float>();
  while (t.lanes > 8 && t.lanes > OW) t.lanes /= 2;
  const RegisterFile registers = register_file(target);
  RegisterTile tile = choose_register_tile(registers, t.lanes, std::max<int64_t>(1, OW / t.lanes), KG, 0);
  if (const int fewer = least_covering_blocks(OW, t.lanes, tile.blocks); fewer < tile.blocks)
    tile = choose_register_tile(registers, t.lanes, fewer, KG, 0);
  t.blocks = tile.blocks;
  t.channels = std::max(1, tile.pixels);
  while (KG % t.channels != 0) --t.channels;
  return t;
}

// Grouped convolutions whose groups hold whole quads of input channels
// (RegNet's 24, ResNeXt's 4; not depthwise) take the quads form with pixels
// vectorized on VNNI or sdot (not where no divisor of the group's channels gives a
// tile of 4 channels or more).
bool grouped_quads_apply(const lang::QnnConv2DAttrs& a, std::span<const TensorFunc> args, const LowerContext& ctx) {
  if (a.groups <= 1 || lang::blocked_quad_weight_block(a.kernel_layout) != 0 ||
      lang::qnn_conv2d_oihw_weight(args[1].type, a).shape[1] % 4 != 0 || ctx.producer ||
      !QuadDot(ctx.target, a.kernel_bits).available || !u8_times_symmetric_s8(a.kernel_zero_point, args))
    return false;
  const lang::TensorType& out = ctx.binding.types.at(0);
  const int64_t KG = out.shape[1] / a.groups;
  return grouped_tile(ctx.target, out.shape[3], KG).channels >= std::min<int64_t>(KG, 4);
}

}  // namespace

namespace qconv {

// ---- paired and quads: output channels or pixels vectorized ----

LoweredOp lower_packed(std::span<const TensorFunc> args, const LowerContext& ctx, int group) {
  const auto& a = attrs_as<lang::QnnConv2DAttrs>(*ctx.binding.attrs);
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const auto& xs = args[0].type.shape;  // N, C, H, W
  const auto ws = lang::qnn_conv2d_oihw_weight(args[1].type, a).shape;  // K, C, R, S
  const int C = static_cast<int>(xs[1]), H = static_cast<int>(xs[2]), W = static_cast<int>(xs[3]);
  const int R = static_cast<int>(ws[2]), S = static_cast<int>(ws[3]);
  // Grouped (quads only, pixels vectorized): each output channel's sums run
  // over the CW channels of its group, the group's packs of the input.
  const int CW = static_cast<int>(ws[1]), G = static_cast<int>(a.groups);
  const int64_t K = out_type.shape[1], KG = K / G;
  const int packs = (CW + group - 1) / group;
  const GroupedTile grouped = G > 1 ? grouped_tile(ctx.target, out_type.shape[3], KG) : GroupedTile{};
  const bool quads = group == 4;
  const bool packed_weight = a.kernel_layout != "OIHW";
  // Blocks of 16 output channels: AlterOpLayout's choice for rows narrower
  // than a vector, read with the output channels vectorized (below).
  const bool blocked_weight = lang::blocked_quad_weight_block(a.kernel_layout) != 0;
  const Geometry g(a);
  const int32_t zx = static_cast<int32_t>(a.input_zero_point);
  const QuadDot dot(ctx.target, a.kernel_bits);
  // A strided row's taps unrolled: each tap's column phase and offset are
  // then constants (computed in the loop, ResNet-18's 7x7 stride-2 stem
  // spent its time on the addresses of its loads).
  const bool unroll_taps = g.sw > 1 && S <= 7;

  // Input (Halide order (cg, xq, ph, y, cp, n): column xq * sw + ph, the
  // columns of a strided convolution split in sw phases so that a tap reads
  // consecutive output pixels' groups contiguously) and weights ((cg, k, s,
  // r, cp)), repacked.
  Func xp(ctx.name + "_xp"), wp(ctx.name + "_wp"), wp_blocks(ctx.name + "_wpb");
  // Int16 pairs from 8-bit weights that AlterOpLayout packed in pairs
  // (lang::kQnnBlockedPairWeightLayout: AVX2 without VNNI) are read as they
  // are: a step's 16 bytes of a block, sign-extended, are a vector of 8
  // channels' pairs.
  const bool paired_weight = a.kernel_layout == lang::kQnnBlockedPairWeightLayout;
  // Else int16 pairs' weights are repacked per call, in blocks of a vector
  // of output channels where the channels fill whole blocks (below); so are
  // pair blocks for a convolution computed inside a depthwise one, whose
  // pixel vectors take each channel's pair as one broadcast 32-bit load (from
  // the bytes: a load, a move, a sign extension and a broadcast).
  const int vector_ints = ctx.target.natural_vector_size<int32_t>();
  const int weight_block = !quads && (!paired_weight || ctx.producer) && K % vector_ints == 0 ? vector_ints : 0;
  const bool pairs_widened = paired_weight && weight_block == lang::kQnnPairWeightBlock;  // the blocks as they are, in int16
  Var cg("cg"), xq("xq"), ph("ph"), y("y"), cp("cp"), n("n"), k("k"), s("s"), r("r");
  // Where a row's taps reach past either end of the input row, the repacked
  // row is written in two stages: the fill over the whole of it, then each
  // stride phase's interior columns read as they are (`interiors`: an RDom
  // of (column, row) per phase). In one stage, select(inside, input(clamp(x)),
  // fill), the vectors across a border loaded their bytes one vpinsrb at a
  // time (Halide's loop partitioning leaves them the clamped index): every
  // vector of a row of 14 or 28 pixels, and 5.5 % of int8 ResNet-18's time.
  const int64_t OW = out_type.shape[3];
  const bool x_borders = g.pl > 0 || (OW - 1) * g.sw + (S - 1) * g.dw - g.pl >= W;
  std::vector<RDom> interiors;
  // A strided 1x1 convolution without padding: xp holds just the pixels it
  // reads, indexed by output row and column (below).
  const bool subsampled = R == 1 && S == 1 && g.pl == 0 && g.pt == 0 && (g.sw > 1 || g.sh > 1) && !x_borders;
  // Strided reads of the input go through copies of its rows (one per stage
  // of xp that reads it, computed in that stage's loop over rows): from a
  // buffer of its own Halide loads whole vectors and picks every sw-th byte
  // (vpermt2b); from the caller's it must not read past the last byte it
  // needs, and LLVM assembled each such vector byte by byte (vpinsrb).
  // `columns`: how many of a row's columns the stage reads (every sw-th).
  std::vector<std::pair<Func, int64_t>> row_copies;  // a copy, the columns it holds
  const auto strided_input = [&](int64_t columns) -> Func {
    if (g.sw == 1) return args[0].func;
    Func copy(ctx.name + "_row" + std::to_string(row_copies.size()));
    Var rx("rx"), ry("ry"), rc("rc"), rn("rn");
    copy(rx, ry, rc, rn) = args[0].func(rx, ry, rc, rn);
    row_copies.emplace_back(copy, (columns - 1) * g.sw + 1);
    return copy;
  };
  {
    const Expr c = cp * group + cg, x = xq * g.sw + ph;
    const Expr fill = quads ? dot.fill(zx) : Expr(Halide::cast<int16_t>(0));
    // Outside the image: the zero point (a real zero); past the last channel the weights are zero.
    const auto repacked = [&](const Expr& value) {
      return quads ? dot.input(value) : Expr(Halide::cast<int16_t>(Halide::cast<int32_t>(value) - zx));
    };
    if (x_borders) {
      xp(cg, xq, ph, y, cp, n) = fill;
      for (int p = 0; p < g.sw; ++p) {
        const int columns = (W - p + g.sw - 1) / g.sw;
        if (columns <= 0) continue;
        RDom in(0, columns, 0, H, ctx.name + "_in" + std::to_string(p));
        const Expr value = strided_input(columns)(in.x * g.sw + p, in.y, Halide::min(c, C - 1), n);
        xp(cg, in.x, p, in.y, cp, n) = Halide::select(c < C, repacked(value), fill);
        interiors.push_back(in);
      }
    } else if (subsampled) {
      // A strided 1x1 convolution without padding reads column xq * sw
      // (phase 0) of row y * sh: xp's rows are the output's, and no index is
      // clamped (Halide could not prove clamped strided columns inside, and
      // ResNet-18's stride-2 shortcuts gathered them one vpinsrb at a time).
      const Expr value = strided_input(OW)(xq * g.sw, y * g.sh, Halide::min(c, C - 1), n);
      xp(cg, xq, ph, y, cp, n) = Halide::select(c < C, repacked(value), fill);
    } else {
      const Expr inside_x = x >= 0 && x < W, inside_rest = y >= 0 && y < H && c < C;
      const Expr value = args[0].func(Halide::clamp(x, 0, W - 1), Halide::clamp(y, 0, H - 1), Halide::min(c, C - 1), n);
      xp(cg, xq, ph, y, cp, n) = inside_or(inside_x, inside_rest, repacked(value), fill);
    }
    const auto weight_value = [&](const Expr& channel) {
      const Expr wv = Halide::cast<int32_t>(weight_at(args[1], a, s, r, Halide::min(c, CW - 1), channel)) -
                      kernel_zero_point(a, channel, ctx.name + "_wzp");
      return Halide::select(c < CW, Halide::cast(quads ? Halide::Int(8) : Halide::Int(16), wv),
                            Halide::cast(quads ? Halide::Int(8) : Halide::Int(16), 0));
    };
    // Quads from a weight already in quads (C % 4 == 0, zero points 0): read as they are.
    if (quads && packed_weight) wp(cg, k, s, r, cp) = quad_weight_at(args[1], a, cg, k, s, r, cp);
    else if (weight_block > 0) {
      // Int16 pairs stored in blocks of a vector of output channels
      // (cg, k % block, s, r, cp, k / block): a tile's weights are then one
      // stream through its whole reduction, where in (cg, k, s, r, cp) each
      // step's 32 bytes lay 4 K bytes past the last (ResNet-18's 7 x 7 int8
      // layers, 4.7 MB of pairs each, at a third of the pairs' peak).
      Var kb("kb"), ki("ki");
      if (pairs_widened)
        wp_blocks(cg, ki, s, r, cp, kb) =
            Halide::cast<int16_t>(Halide::cast<int32_t>(args[1].func(cg, ki, s, r, cp, kb)) -
                                  kernel_zero_point(a, kb * weight_block + ki, ctx.name + "_wzp"));
      else
        wp_blocks(cg, ki, s, r, cp, kb) = weight_value(kb * weight_block + ki);
      wp(cg, k, s, r, cp) = wp_blocks(cg, k % weight_block, s, r, cp, k / weight_block);
    } else if (paired_weight)
      wp(cg, k, s, r, cp) = Halide::cast<int16_t>(Halide::cast<int32_t>(weight_at(args[1], a, s, r, cp * 2 + cg, k)) -
                                                  kernel_zero_point(a, k, ctx.name + "_wzp"));
    else
      wp(cg, k, s, r, cp) = weight_value(k);
  }

  Func acc(ctx.name + (G > 1 ? "_group_acc" : "_acc"));
  Var ak("ak"), ag("ag"), ax("ax"), ay("ay"), an("an");
  // Grouped: the sums of channel ak of register tile ag (channel ag * T +
  // ak, T = grouped.channels), whose group reads its packs of the input
  // from (ag / (KG / T)) * packs on. A tile's channels then share each
  // vector of input they load: with the group taken from each channel's
  // index every channel of a tile loaded its own (RegNet's 28 x 28 layers
  // with groups of 24 channels at 20 % of the int8 peak, their loop
  // spilling the addresses).
  const int T = grouped.channels, tiles_per_group = static_cast<int>(KG) / T;
  const std::vector<Var> acc_vars = G > 1 ? std::vector<Var>{ak, ag, ax, ay, an} : std::vector<Var>{ak, ax, ay, an};
  const Expr channel = G > 1 ? ag * T + ak : Expr(ak);
  // quads: the input's zero point, times the sum of each channel's weights, comes off the start.
  Func start = accumulator_start(args, a, dot, CW, R, S, ctx.name);
  RDom rd(0, quads ? dot.steps() : group, 0, S, 0, R, 0, packs, ctx.name + "_r");  // cg, s, r, cp
  acc(acc_vars) = quads ? start(channel) : bias_of(args, channel);
  const QuadOperands operands = [=](const Expr& member, const std::vector<Expr>& step) {
    const Expr &s = step[0], &r = step[1], &p = step[2];
    const Expr q = s * g.dw - g.pl;  // the tap's column is ax * sw + q: phase q mod sw
    const Expr row = subsampled ? Expr(ay) : g.iy(ay, r);
    const Expr pack = G > 1 ? (ag / tiles_per_group) * packs + p : p;
    return std::pair<Expr, Expr>{xp(member, ax + q / g.sw, q % g.sw, row, pack, an), wp(member, channel, s, r, p)};
  };
  // (int16 pairs: the products of 8-bit weights' QuadDot, never byte pairs.)
  const QuadSums sums = add_quad_products(acc, acc_vars, rd, quads ? dot : QuadDot(ctx.target, 8), operands, ctx.name);
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) {
    return G > 1 ? acc(v[1] % T, v[1] / T, v[3], v[2], v[0]) : acc(v[1], v[3], v[2], v[0]);
  });

  const int64_t work = out_type.element_count() * CW * R * S;
  // The sums of the form that vectorizes pixels, computed at `at` of `f`:
  // vectors of `lanes` pixels of each output channel, each step one vpdpbusd
  // of a vector of pixels' groups of input channels times the broadcast
  // group of one output channel's weights.
  auto pixel_sums = [=](const Func& f, const Var& at, int lanes, TailStrategy tail) mutable {
    acc.compute_at(f, at).reorder_storage(ax, ak, ay, an);
    schedule_tile_sums(acc, rd, ax, ak, lanes, tail, sums);
  };
  // Copy i of the input's rows, made in `loop`, a loop over rows of one of
  // xp's stages (an input row, or a subsampled convolution's output row;
  // each stage's row loop has a name of its own. Halide 14 took a stage's
  // index only for the first stage that a Func's updates add.)
  auto schedule_row_copy = [=](size_t i, const Halide::VarOrRVar& loop, int lanes) mutable {
    if (i >= row_copies.size()) return;
    auto [copy, extent] = row_copies[i];
    copy.compute_at(Halide::LoopLevel(xp, loop))
        .vectorize(copy.args()[0], lanes, extent >= lanes ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf);
  };
  // Input rows xp holds (a 1x1 convolution without padding: the output's).
  const int64_t xp_rows = subsampled ? out_type.shape[2] : H + 2 * g.pt;
  // The weights and sums a kernel multiplies by, and unless `repack` is
  // false the repacked input, computed once per call before its loops.
  auto operands_once = [=](int lanes, bool repack) mutable {
    const std::vector<Var> wv = wp.args();
    if (weight_block > 0) {
      const std::vector<Var> bv = wp_blocks.args();  // cg, k % block, s, r, cp, k / block
      wp_blocks.compute_root().parallel(bv[5]).bound(bv[0], 0, 2).bound(bv[1], 0, weight_block);
      // The pair blocks widened: a block's step is one run of 16 bytes.
      if (pairs_widened) wp_blocks.fuse(bv[0], bv[1], Var("pair_lanes")).vectorize(Var("pair_lanes"));
      else wp_blocks.vectorize(bv[1]).unroll(bv[0]);
    } else if (!(quads && packed_weight) && !paired_weight)
      wp.compute_root().parallel(wv[4]).vectorize(wv[1], fitting_lanes(K, lanes), TailStrategy::GuardWithIf);
    if (quads) start.compute_root().vectorize(start.args()[0], fitting_lanes(K, lanes), TailStrategy::GuardWithIf);
    if (!repack) return;
    // A vector of pixels per channel of a group, the group's channels unrolled
    // so that Halide interleaves their stores into whole vectors; rows of
    // whole vectors, the last shifted in, where the columns fill one.
    const std::vector<Var> xv = xp.args();
    const TailStrategy xp_tail = W / g.sw >= lanes ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
    xp.compute_root().vectorize(xv[1], lanes, xp_tail).unroll(xv[0]);
    for (size_t i = 0; i < interiors.size(); ++i) {
      // The group's channels innermost and unrolled, so that Halide
      // interleaves their stores into whole vectors as in the pure stage;
      // masked loads and stores where a row ends inside a vector.
      xp.update(static_cast<int>(i))
          .reorder(xv[0], interiors[i].x, interiors[i].y)
          .vectorize(interiors[i].x, lanes, TailStrategy::GuardWithIf)
          .unroll(xv[0]);
    }
    // In parallel over its channel groups, or over rows where there is one:
    // a stem's three channels are one group, and its 224 x 224 input was
    // repacked on one core while the other waited (MobileNetV2's int8 stem
    // 0.78x at two threads, `--kernels`, two alternated rounds; by rows with
    // up to 8 groups, layers of 24 channels were 1.07x).
    const int64_t channel_groups = (C + group - 1) / group;
    const int64_t copy = int64_t{2} * group * xp_rows * (W + 2 * g.pl);
    // Channel groups in tasks, and only where the copy is worth a parallel
    // loop: MobileNetV2's 14 x 14 1x1 layers had repacked theirs in 16-144
    // parallel iterations of a microsecond each, and ran slower on two
    // cores than on one.
    Halide::VarOrRVar pure_rows = xv[3];
    std::vector<Halide::VarOrRVar> update_rows;
    for (const RDom& in : interiors) update_rows.emplace_back(in.y);
    if (channel_groups >= 2 && worth_parallel(copy * channel_groups)) {
      parallel_tasks(xp, xv[4], channel_groups, copy * channel_groups);
      for (size_t i = 0; i < interiors.size(); ++i)
        parallel_tasks(xp.update(static_cast<int>(i)), xv[4], channel_groups, copy * channel_groups);
    } else if (worth_parallel(copy)) {
      pure_rows = parallel_tasks(Halide::Stage(xp), xv[3], xp_rows, copy);
      for (size_t i = 0; i < interiors.size(); ++i)
        update_rows[i] = parallel_tasks(xp.update(static_cast<int>(i)), interiors[i].y, H, copy);
    }
    if (subsampled) schedule_row_copy(0, pure_rows, lanes);
    for (size_t i = 0; i < interiors.size(); ++i) schedule_row_copy(i, update_rows[i], lanes);
  };
  ScheduleHook schedule = [=](const ScheduleContext& sc) mutable {
    const std::vector<Var>& v = sc.output_vars;  // n, k, y, x
    Func out = sc.output;
    Var xo("xo"), xi("xi"), ko("ko"), ki("ki"), kb("kb"), kv("kv"), rows("rows"), task("task"), rows_in("rows_in");
    bool pointwise_tasks = false;  // the input repacked per task (below)
    if (quads && (OW >= sc.vector_lanes || G > 1) && !blocked_weight) {
      // Pixels vectorized: each step loads B vectors of 16 pixels' quads (64
      // contiguous bytes of the repacked input) and adds to them the
      // broadcast quad of each of T output channels (vpdpbusd). The
      // accumulators then lie along the output's rows: the epilogue stores
      // whole vectors of NCHW, where with channels vectorized each output
      // byte was stored alone (MobileNetV2's 1x1 layers over 16-32 channels
      // spent more time storing than multiplying).
      // (A grouped convolution takes the tile its sums were defined with,
      // also on rows narrower than a vector: its channels cannot be
      // vectorized, a vector's lanes would read several groups.)
      const int lanes = G > 1 ? grouped.lanes : sc.vector_lanes;
      const bool whole = OW >= lanes;
      RegisterTile tile = G > 1 ? RegisterTile{grouped.blocks, grouped.channels, 1}
                                : register_tile(sc, lanes, OW / lanes, K, dot.pair_registers());
      // A row's last tile is shifted in and recomputes the overlap: with 3
      // vectors of 16 a 56-pixel row computed 96 pixels, with 2 (or 1) 64.
      // Fewer vectors where that computes fewer pixels (ResNet-18's 56 x 56
      // int8 layers, Zen 5: 44-49 % of the int8 peak with 3).
      if (const int fewer = least_covering_blocks(OW, lanes, tile.blocks); fewer < tile.blocks && sc.knobs.empty() && G == 1)
        tile = register_tile(sc, lanes, fewer, K, dot.pair_registers());
      const int pixels = lanes * tile.blocks, channels = tile.pixels;
      const TailStrategy x_tail = whole ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
      out.split(v[3], xo, xi, pixels, x_tail)
          .split(xi, kb, kv, lanes, x_tail);
      // (Grouped: tiles divide the channels exactly, each within a group.)
      const TailStrategy k_tail = G > 1 ? TailStrategy::RoundUp
                                  : K >= channels ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
      out.split(v[1], ko, ki, channels, k_tail);
      // Pointwise and in parallel: each task takes whole image rows (every
      // channel block of a row, weights swept from L2) and repacks just
      // those rows of the input, so that the core that multiplies them has
      // them in its caches. Repacked whole beforehand, in parallel over
      // channel groups, every row was half in the other core's L2:
      // MobileNetV2's int8 1x1 layers ran 0.6-0.85x as fast on two cores as
      // on one (Zen 5, `--kernels`).
      const int64_t row_loops = out_type.shape[2] * ((K + channels - 1) / channels);
      // (With borders the input is repacked whole: its update's RDom covers every row.)
      pointwise_tasks = R == 1 && S == 1 && interiors.empty() && worth_parallel(work);
      if (pointwise_tasks) out.reorder(kv, kb, ki, xo, ko, v[2], v[0]).fuse(ko, v[2], rows);
      else out.reorder(kv, kb, ki, xo, v[2], ko, v[0]).fuse(v[2], ko, rows);
      out.vectorize(kv).unroll(kb).unroll(ki);
      if (pointwise_tasks) {
        const int size = static_cast<int>(parallel_task_size(row_loops, work / out_type.shape[0]));
        out.split(rows, task, rows_in, size, TailStrategy::GuardWithIf).parallel(task);
      } else if (worth_parallel(work)) {
        parallel_tasks(out, rows, row_loops, work / out_type.shape[0]);
      }
      pixel_sums(out, xo, lanes, whole ? TailStrategy::GuardWithIf : TailStrategy::RoundUp);
      if (unroll_taps) acc.update().unroll(rd.y);
    } else {
      const int lanes = fitting_lanes(K, sc.vector_lanes);
      // A strided row's taps are unrolled (below), each with its broadcasts
      // and addresses: with 12 of AVX-512's 32 registers left to them the
      // tile keeps at most about 16 accumulators. ResNet-18's 56 -> 28 and
      // 28 -> 14 layers took 2 x 14 tiles without, 2 x 7 with: 0.218 ->
      // 0.197 and 0.204 -> 0.176 ms (`--kernels`, alternated builds; what
      // `modelc tune` had found). With 4 left the second was 1.2x slower.
      // On AVX2 (16 registers) 12 left a tile of one vector, and byte pairs'
      // two more none; with 4 ResNet-18's int8 14 -> 7 layer (byte pairs)
      // takes a tile of 1 x 7 channel vectors x pixels, where 1 x 6 computed
      // 12 pixels for 7: 1.52 -> 0.86 ms (`--kernels`, Zen 3).
      // Int16 pairs from weights in blocks of pairs hold each sign-extended
      // weight vector in a register and need one more for vpmaddwd's product
      // (it cannot add in place): int8 ResNet-18 35.0 -> 31.0 ms with it,
      // 34.1 with two (`--kernels`, Zen 3, alternated).
      const int taps_registers =
          (quads && unroll_taps ? (register_file(sc.target).vector_registers > 16 ? 12 : 4) : 0) + dot.pair_registers() +
          (paired_weight ? 1 : 0);
      const RegisterTile tile = register_tile(sc, lanes, std::max<int64_t>(1, K / lanes), OW, taps_registers);
      const int channels = lanes * tile.blocks;
      const TailStrategy k_tail = K >= channels ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
      // With a kernel window (R x S > 1), a register tile's outputs are
      // stored along rows: the tile (in registers) is read transposed, a
      // vector of T pixels per channel, where a vector of channels at a pixel
      // was stored a byte at a time into NCHW's planes (7 % of ResNet-18's
      // 28 x 28 int8 layers' samples). ResNet-18's stride-1 3x3 layers
      // 2-4 % faster each (`--kernels`, alternated builds; stride 2 as
      // before); MobileNetV2's 1x1 layers were up to 15 % slower so, and keep
      // the channel vectors.
      const bool transposed = quads && R * S > 1;
      out.split(v[3], xo, xi, tile.pixels, OW >= tile.pixels ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf)
          .split(v[1], ko, ki, channels, k_tail);
      if (transposed) out.reorder(xi, ki, xo, v[2], ko, v[0]).vectorize(xi).unroll(ki);
      else
        out.split(ki, kb, kv, lanes, TailStrategy::GuardWithIf)
            .reorder(kv, xi, kb, xo, v[2], ko, v[0])
            .vectorize(kv)
            .unroll(xi)
            .unroll(kb);
      out.fuse(v[2], ko, rows);
      // Rows stay inside channel blocks here: these rows are narrower than a
      // vector, several to a cache line, and tasks of whole image rows
      // (every channel block) wrote into each other's lines (MobileNetV2's
      // 7 x 7 1x1 layers 16x slower on two cores).
      // Tasks of whole channel blocks (every row of their planes).
      const int64_t OH = out_type.shape[2];
      if (worth_parallel(work)) parallel_tasks(out, rows, OH * ((K + channels - 1) / channels), work / out_type.shape[0], OH);
      // Per step of the reduction: the B weight vectors stay in registers, each
      // of the T input groups is broadcast once and used right away.
      acc.compute_at(out, xo);
      if (transposed) acc.store_in(Halide::MemoryType::Register);
      schedule_tile_sums(acc, rd, ak, ax, lanes, TailStrategy::GuardWithIf, sums);
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
      if (subsampled) schedule_row_copy(0, xv[3], sc.vector_lanes);
    }
  };
  if (!ctx.producer) return {value, schedule, {}};

  // Computed inside a depthwise convolution's loops (FuseOps' producer
  // fusion, lower/ops/qnn_depthwise.cpp): `stage` holds the rows of the
  // consumer's block of channels that it computes at a time, pixels
  // vectorized as in the pointwise form above (each step B vectors of 16
  // pixels' groups times the broadcast group of each channel), the input repacked once
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
  // Channels per tile, which the consumer's blocks take: 4, and 8 where one
  // vector covers a row. A tile's sums are chains of dependent vpdpbusd, one
  // per vector and channel, and 4 chains left MobileNetV2's 14 -> 7 layer
  // waiting on them (the loads of 14-pixel rows a third of its time).
  const int channels = blocks == 1 && K >= 8 ? 8 : 4;
  // Fewer vectors of pixels where the tile's sums, its pixel vectors, the
  // broadcast and the pairs' products (vpmaddwd cannot add in place; byte
  // pairs keep two) would not fit the registers: on AVX2's 16 a 4 x 4 tile
  // spilled. MobileNetV2's fused int8 kernels (Zen 3, `--kernels`, two
  // alternated rounds): 8-bit weights 4.42-4.46 -> 4.22-4.25 ms, 7-bit
  // 2.74-2.76 -> 2.68-2.71.
  const int extra = quads ? dot.pair_registers() : 1;
  while (blocks > 1 && blocks * channels + blocks + 1 + extra > register_file(ctx.target).vector_registers) --blocks;
  const int pixels = lanes * blocks;
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

}  // namespace qconv

namespace {

LoweredOp lower_qnn_conv2d(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::QnnConv2DAttrs>(*ctx.binding.attrs);
  if (a.groups != 1) return grouped_quads_apply(a, args, ctx) ? lower_packed(args, ctx, 4) : lower_grouped(args, ctx);
  // A convolution computed inside a depthwise one's loops takes VNNI's quads
  // (or pairs): its stage is a schedule of Halide loops, not a tile kernel.
  if (ctx.amx && !ctx.producer && qnn_conv2d_on_amx(a, args[0].type, args[1].type))
    return row_taps_apply(a, args[0].type, args[1].type) ? lower_row_taps_amx(args, ctx) : lower_quads_amx(args, ctx);
  if (QuadDot(ctx.target, a.kernel_bits).available && quads_apply(a, args)) {
    const int lanes = ctx.target.natural_vector_size<float>();
    if (!ctx.producer && taps_packed_apply(a, args[0].type, args[1].type, ctx.binding.types.at(0), lanes, 4))
      return lower_taps_in_quads(args, ctx, 4);
    if (!ctx.producer && flat_applies(a, args[0].type, args[1].type, ctx.binding.types.at(0), lanes))
      return lower_flat(args, ctx);
    return lower_packed(args, ctx, 4);
  }
  // ResNet-18's int8 stem on AVX2 (Zen 3, `--kernels`): 2.63 -> 2.05-2.08 ms.
  if (!ctx.producer &&
      taps_packed_apply(a, args[0].type, args[1].type, ctx.binding.types.at(0), ctx.target.natural_vector_size<float>(), 2))
    return lower_taps_in_quads(args, ctx, 2);
  return lower_packed(args, ctx, 2);
}

}  // namespace

void register_qnn_conv2d_lowerings(LoweringRegistry& r) { r.add("qnn.conv2d", lower_qnn_conv2d); }

}  // namespace modelc::lower
