// Compute rules and schedules of qnn.dense and qnn.batch_matmul (8-bit
// operands, int32 accumulators; lang/ops/qnn.h).
//
// qnn.dense over four rows or more, uint8 x by int8 weights in quads
// ([K/4, N, 4], AlterOpLayout's), on a target with an 8-bit dot product
// (VNNI's vpdpbusd, Arm's sdot) or, with 7-bit weights, AVX2's byte pairs:
// a vector of output columns adds, per quad of K, the broadcast quad of a
// row of x times the columns' quads, as qnn.conv2d's quads form does with
// output channels vectorized (lower/ops/qnn_conv2d.h: QuadDot). Otherwise
// it repacks x, less its zero point, into int16 pairs along K and reads the
// weights as int16 pairs (sign-extended from the pairs AlterOpLayout packed
// for AVX2, [K/2, N, 2], else repacked per call), as qnn.conv2d's paired
// form does: a vector of 8 output columns
// accumulates, per pair of K, a broadcast pair of x times 16 weights, which
// is vpmaddwd. Both keep B vectors of columns x T rows in registers; on AMX
// targets the tiles compute it (lower_qnn_dense_amx).
// qnn.batch_matmul (matrix products of two activations, rare in quantized
// models) is a plain int32 product vectorized along N.
#include "lang/ops/qnn.h"

#include "lower/ops/qnn.h"
#include "lower/ops/qnn_conv2d.h"
#include "lower/register_tile.h"
#include "lower/tensor_func.h"

namespace modelc::lower {
namespace {

using Halide::Expr;
using Halide::Func;
using Halide::RDom;
using Halide::TailStrategy;
using Halide::Var;
using lang::attrs_as;

Expr column_zero_point(const lang::QnnMatmulAttrs& a, const Expr& n, const std::string& name) {
  if (a.kernel_zero_point.size() == 1) return Expr(static_cast<int32_t>(a.kernel_zero_point[0]));
  Halide::Buffer<int32_t> b(static_cast<int>(a.kernel_zero_point.size()), name);
  for (size_t i = 0; i < a.kernel_zero_point.size(); ++i) b(static_cast<int>(i)) = static_cast<int32_t>(a.kernel_zero_point[i]);
  return b(n);
}

// The weight of column n at k, in any layout ([N, K], or the quads or pairs
// AlterOpLayout packs: [K/4, N, 4], [K/2, N, 2]).
Expr dense_weight_at(const TensorFunc& w, const lang::QnnMatmulAttrs& a, const Expr& k, const Expr& n) {
  if (a.kernel_layout == lang::kQnnDenseQuadLayout) return w.func(k % 4, n, k / 4);
  if (a.kernel_layout == lang::kQnnDensePairLayout) return w.func(k % 2, n, k / 2);
  return w.func(k, n);
}

// Where the sums of a product that multiplies x as it is (zero point
// included: AMX's tiles, the quads) start, per output column j: the bias,
// less x's zero point `zx` (as the kernel holds x) times the sum of the
// column's weights.
Func column_start(std::span<const TensorFunc> args, const lang::QnnMatmulAttrs& a, int32_t zx, int K, const std::string& name) {
  Func start(name + "_start");
  Var j("j");
  Expr init = args.size() > 2 ? Expr(Halide::cast<int32_t>(args[2].func(j))) : Expr(0);
  if (zx != 0) {
    RDom rk(0, K, name + "_rk");
    init = init - zx * Halide::sum(Halide::cast<int32_t>(dense_weight_at(args[1], a, rk, j)), name + "_wsum");
  }
  start(j) = init;
  return start;
}

// Fewer than four rows (a classifier at batch 1): the product streams its
// weights once, each row of W contiguous along K, so K is split into
// vector-wide int32 partial sums per output, as the float dense kernel does,
// instead of repacking W into pairs on every call (ResNet-18's 512 x 1000
// classifier: 0.28 ms per call for half a megabyte of weights).
//
// On VNNI, with uint8 x whose zero point AlterOpLayout folded into the bias
// and int8 weights of zero point 0 in [N, K], each lane of a partial sum
// takes four consecutive K per step (uint8 x int8 -> int32: vpdpbusd, 64
// bytes of a weight row per instruction) where it took one with a widening
// int32 multiply: MobileNetV2's int8 1280 x 1000 classifier, Zen 4, one
// thread: 0.132 ms.
//
// On Arm with the dot-product extension the same form takes udot (uint8 x
// uint8: qconv::QuadDot): the weights as uint8 w + 128 (their top bit
// flipped, in the loop: each weight vector is loaded once), and 128 times the
// row's sum of x off each output. Moving x to int8 instead (sdot, as the
// convolutions do) would take 128 * sum(weights) of each column off, a
// second pass over the weights on every call.
bool rows_in_quads(const lang::QnnMatmulAttrs& a, std::span<const TensorFunc> args, const LowerContext& ctx) {
  return qconv::QuadDot(ctx.target).available && a.kernel_layout == "NK" && a.input_zero_point == 0 &&
         qconv::u8_times_symmetric_s8(a.kernel_zero_point, args);
}

LoweredOp lower_qnn_dense_rows(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::QnnMatmulAttrs>(*ctx.binding.attrs);
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const int K = static_cast<int>(args[0].type.shape[1]);
  const bool quads = rows_in_quads(a, args, ctx);
  const bool unsigned_weights = quads && qconv::QuadDot(ctx.target).signed_input;  // Arm: udot
  const int per_lane = quads ? 4 : 1;  // consecutive K a lane sums per step
  const int lanes = 16;                // width of the partial sums; the schedule vectorizes it at the target width
  const int KO = K / (lanes * per_lane), tail = K - KO * lanes * per_lane;
  const int64_t N = out_type.shape[1];
  const DotColumns columns = DotColumns::choose(out_type.shape[0], N);
  const int32_t zx = static_cast<int32_t>(a.input_zero_point);
  Func x = args[0].func;
  Var u("u"), b("b"), q("q"), i("i");
  auto product = [&](const Expr& k, const Expr& column) {
    if (unsigned_weights)
      return Halide::cast<int32_t>(x(k, i)) *
             Halide::cast<int32_t>(Halide::reinterpret<uint8_t>(args[1].func(k, column) ^ Halide::cast<int8_t>(-128)));
    if (quads) return Halide::cast<int32_t>(x(k, i)) * Halide::cast<int32_t>(args[1].func(k, column));
    return (Halide::cast<int32_t>(x(k, i)) - zx) *
           (Halide::cast<int32_t>(dense_weight_at(args[1], a, k, column)) - column_zero_point(a, column, ctx.name + "_wzp"));
  };
  Func partial(ctx.name + (quads ? "_quads" : "_partial"));
  partial(u, b, q, i) = 0;
  const RDom ro = quads ? RDom(0, per_lane, 0, std::max(KO, 1), ctx.name + "_ro") : RDom(0, std::max(KO, 1), ctx.name + "_ro");
  if (KO > 0)
    partial(u, b, q, i) +=
        product(quads ? (ro.y * lanes + u) * per_lane + ro.x : ro.x * lanes + u, columns.column(b, q));
  Expr total = sum_of_lanes(partial, lanes, b, q, i);
  if (tail > 0) {
    RDom rt(KO * lanes * per_lane, tail, ctx.name + "_rt");
    total += Halide::sum(product(rt, columns.column(b, q)), ctx.name + "_tail");
  }
  // udot's weights are w + 128: 128 times the row's sum comes off.
  Func row_sum(ctx.name + "_row_sum");
  if (unsigned_weights) {
    RDom rk(0, K, ctx.name + "_rk");
    row_sum(i) = Halide::sum(Halide::cast<int32_t>(x(rk, i)), ctx.name + "_xsum");
    total -= 128 * row_sum(i);
  }
  Func dot(ctx.name + "_dot");
  dot(b, q, i) = (args.size() > 2 ? Expr(Halide::cast<int32_t>(args[2].func(columns.column(b, q)))) : Expr(0)) + total;
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return columns.at(dot, v[1], v[0]); });

  const int64_t work = 4 * N * K;  // waits on its weights: counted as four rows (lower_dense)
  ScheduleHook schedule =
      row_dot_schedule(dot, partial, u, b, q, i, KO > 0 ? std::optional<RDom>(ro) : std::nullopt, lanes, columns, work, quads);
  if (unsigned_weights)
    schedule = [=](const ScheduleContext& s) mutable {
      schedule(s);
      row_sum.compute_root();
    };
  return {value, schedule, {}};
}

// Over four rows or more on AMX tiles: the product is a 1x1 convolution
// whose pixels are x's rows and whose channels are K, computed by the
// runtime's tile kernel (runtime/modelc_amx.c, modelc_amx_conv_u8s8) into
// int32 rows with the output columns contiguous. x is copied into the
// kernel's blocks of 64 (its rows as they are); W is read in place when
// AlterOpLayout packed it in quads ([K/4, N, 4]) and N fills 16-column tiles,
// else packed per call (columns padded to 16); the input zero point's share
// comes off the bias as in the VNNI convolution.
LoweredOp lower_qnn_dense_amx(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::QnnMatmulAttrs>(*ctx.binding.attrs);
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const int M = static_cast<int>(out_type.shape[0]), N = static_cast<int>(out_type.shape[1]);
  const int K = static_cast<int>(args[0].type.shape[1]);
  const int Np = (N + 15) / 16 * 16;
  const int32_t zx = static_cast<int32_t>(a.input_zero_point);
  Func x = args[0].func;
  Func blocked(ctx.name + "_blocked");
  Var c64("c64"), px("px"), py("py"), cb("cb"), pn("pn");
  blocked(c64, px, py, cb, pn) = x(cb * 64 + c64, px);
  // The weight in quads as it is, when AlterOpLayout packed it and N fills
  // 16-column tiles; else packed per call.
  const bool in_place = a.kernel_layout == lang::kQnnDenseQuadLayout && N % 16 == 0;
  Func quads = in_place ? args[1].func : Func(ctx.name + "_quads");
  Var g("g"), n("n"), q("q");
  if (!in_place)
    quads(g, n, q) = Halide::select(n < N, dense_weight_at(args[1], a, q * 4 + g, Halide::min(n, N - 1)), Halide::cast<int8_t>(0));
  Var sx("sx"), sy("sy"), sk("sk"), sn("sn");
  Func sums(ctx.name + "_amx");
  sums.define_extern("modelc_amx_conv_u8s8",
                     {blocked, quads, Expr(K / 64), Expr(Np), Expr(1), Expr(1), Expr(1), Expr(1), Expr(1), Expr(1), Expr(0), Expr(0)},
                     Halide::Int(32), {sx, sy, sk, sn}, Halide::NameMangling::C);
  Func start = column_start(args, a, zx, K, ctx.name);
  const Var j = start.args()[0];
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return sums(v[0], 0, v[1], 0) + start(v[1]); });

  const int64_t work = int64_t{M} * N * K;
  ScheduleHook schedule = [=](const ScheduleContext& sc) mutable {
    const std::vector<Var>& v = sc.output_vars;  // m, n
    const int rows = std::min(M, 32);
    const int lanes = fitting_lanes(N, sc.vector_lanes);
    Func out = sc.output;
    Var mo("mo"), mi("mi");
    out.split(v[0], mo, mi, rows, TailStrategy::ShiftInwards).vectorize(v[1], lanes, TailStrategy::GuardWithIf);
    if (worth_parallel(work)) out.parallel(mo);
    sums.compute_at(out, mo).reorder_storage(sk, sx, sy, sn);
    blocked.compute_at(out, mo).vectorize(c64, 16);
    if (!in_place) {
      quads.compute_root().bound(g, 0, 4).unroll(g).vectorize(n, 16);
      if (worth_parallel(int64_t{Np} * K)) parallel_tasks(quads, q, K / 4, int64_t{Np} * K);
    }
    start.compute_root().vectorize(j, 16, TailStrategy::GuardWithIf);
  };
  return {value, schedule, {}};
}

// The register tile of a product over rows whose N columns are vectorized:
// B vectors of columns x T rows, the loops of `out` (m, n) split so, `acc`
// (an, am) computed per tile, in parallel over tiles where worth it.
// Returns the loop acc is computed at.
Var tile_product_rows(Func out, const std::vector<Var>& v, const RegisterTile& tile, int lanes, int64_t M, int64_t N,
                      bool parallel) {
  const int columns = lanes * tile.blocks;
  Var mo("mo"), mi("mi"), no("no"), ni("ni"), nb("nb"), nv("nv"), tiles("tiles");
  out.split(v[1], no, ni, columns, N >= columns ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf)
      .split(v[0], mo, mi, tile.pixels, M >= tile.pixels ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf)
      .split(ni, nb, nv, lanes, TailStrategy::GuardWithIf)
      .reorder(nv, nb, mi, mo, no)
      .vectorize(nv)
      .unroll(nb)
      .unroll(mi);
  if (!parallel) return mo;
  out.fuse(mo, no, tiles).parallel(tiles);
  return tiles;
}

// qnn.dense over four rows or more in quads: uint8 x, int8 weights of zero
// point 0 in [K/4, N, 4], on a target whose QuadDot takes the weight's bits.
bool dense_quads_apply(const lang::QnnMatmulAttrs& a, std::span<const TensorFunc> args, const LowerContext& ctx) {
  return qconv::QuadDot(ctx.target, a.kernel_bits).available && a.kernel_layout == lang::kQnnDenseQuadLayout &&
         qconv::u8_times_symmetric_s8(a.kernel_zero_point, args);
}

// Each step adds to a vector of columns the quad of x(., m), broadcast (32
// bits), times the columns' quads (lanes x 4 contiguous bytes of the
// weight): one vpdpbusd or sdot, or byte pairs' vpmaddubsw, vpmaddwd and add.
// x keeps its zero point (vpdpbusd wants unsigned bytes; Arm's quads move x
// to int8 and the zero point with it): the sums start at bias - zero point
// x sum of the column's weights, which AlterOpLayout's folding into the bias
// usually makes the bias alone. The operands are read as they are: x's rows
// are contiguous along K, the weights' quads along N.
LoweredOp lower_qnn_dense_quads(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::QnnMatmulAttrs>(*ctx.binding.attrs);
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const int64_t M = out_type.shape[0], N = out_type.shape[1];
  const int K = static_cast<int>(args[0].type.shape[1]);
  const qconv::QuadDot dot(ctx.target, a.kernel_bits);
  const TensorFunc x = args[0], w = args[1];
  Func start = column_start(args, a, dot.zero_point(a.input_zero_point), K, ctx.name);
  const Var j = start.args()[0];
  Func acc(ctx.name + "_acc");
  Var an("an"), am("am");
  RDom rd(0, dot.steps(), 0, K / 4, ctx.name + "_r");  // a quad's members (or pairs), quads
  acc(an, am) = start(an);
  const qconv::QuadOperands operands = [=](const Expr& member, const std::vector<Expr>& step) {
    return std::pair<Expr, Expr>{dot.input(x.func(step[0] * 4 + member, am)), w.func(member, an, step[0])};
  };
  const qconv::QuadSums sums = qconv::add_quad_products(acc, {an, am}, rd, dot, operands, ctx.name);
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return acc(v[1], v[0]); });

  const bool parallel = worth_parallel(M * N * K);
  ScheduleHook schedule = [=](const ScheduleContext& sc) mutable {
    const int lanes = fitting_lanes(N, sc.vector_lanes);
    // With AVX2's 16 registers, two more to an epilogue that computes a
    // polynomial per element (GELU: erf as a rational function), whose
    // temporaries otherwise spill accumulators: BERT's 128 x 1024 x 256
    // projections with GELU in byte pairs 2.36 -> 2.10 ms together (tiles
    // of 2 x 4, not 3 x 3), four more 2.47 (Zen 3, `--kernels`, two
    // alternated rounds). int16 pairs' form was no faster so.
    const int epilogue = register_file(sc.target).vector_registers <= 16 && sc.ops_per_element >= 8 ? 2 : 0;
    const RegisterTile tile =
        register_tile(sc, lanes, std::max<int64_t>(1, N / lanes), M, dot.pair_registers() + epilogue);
    const Var at = tile_product_rows(sc.output, sc.output_vars, tile, lanes, M, N, parallel);
    acc.compute_at(sc.output, at);
    qconv::schedule_tile_sums(acc, rd, an, am, lanes, TailStrategy::GuardWithIf, sums);
    start.compute_root().vectorize(j, fitting_lanes(N, lanes), TailStrategy::GuardWithIf);
  };
  return {value, schedule, {}};
}

LoweredOp lower_qnn_dense(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::QnnMatmulAttrs>(*ctx.binding.attrs);
  const lang::TensorType out_type = ctx.binding.types.at(0);
  if (out_type.shape[0] < 4) return lower_qnn_dense_rows(args, ctx);
  if (ctx.amx && qnn_dense_on_amx(a, args[0].type, args[1].type, out_type)) return lower_qnn_dense_amx(args, ctx);
  if (dense_quads_apply(a, args, ctx)) return lower_qnn_dense_quads(args, ctx);
  const int K = static_cast<int>(args[0].type.shape[1]);
  const int pairs = (K + 1) / 2;
  const int32_t zx = static_cast<int32_t>(a.input_zero_point);
  Func xp(ctx.name + "_xp"), wp(ctx.name + "_wp");
  Var k2("k2"), kp("kp"), m("m"), n("n");
  const bool paired_weight = a.kernel_layout == lang::kQnnDensePairLayout;
  {
    const Expr kk = kp * 2 + k2, inside = kk < K, clamped = Halide::min(kk, K - 1);
    xp(k2, kp, m) = Halide::select(inside, Halide::cast<int16_t>(Halide::cast<int32_t>(args[0].func(clamped, m)) - zx),
                                   Halide::cast<int16_t>(0));
    // Pairs packed at compile time (K even) are read as they are.
    if (paired_weight)
      wp(k2, n, kp) = Halide::cast<int16_t>(Halide::cast<int32_t>(args[1].func(k2, n, kp)) - column_zero_point(a, n, ctx.name + "_wzp"));
    else
      wp(k2, n, kp) = Halide::select(
          inside,
          Halide::cast<int16_t>(Halide::cast<int32_t>(dense_weight_at(args[1], a, clamped, n)) - column_zero_point(a, n, ctx.name + "_wzp")),
          Halide::cast<int16_t>(0));
  }
  Func acc(ctx.name + "_acc");
  Var an("an"), am("am");
  RDom rd(0, 2, 0, pairs, ctx.name + "_r");  // k2, kp
  acc(an, am) = args.size() > 2 ? Expr(Halide::cast<int32_t>(args[2].func(an))) : Expr(0);
  acc(an, am) += Halide::cast<int32_t>(xp(rd.x, rd.y, am)) * Halide::cast<int32_t>(wp(rd.x, an, rd.y));
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return acc(v[1], v[0]); });

  const int64_t M = out_type.shape[0], N = out_type.shape[1];
  const bool parallel = worth_parallel(M * N * K);
  ScheduleHook schedule = [=](const ScheduleContext& sc) mutable {
    const std::vector<Var>& v = sc.output_vars;  // m, n
    const int lanes = fitting_lanes(N, sc.vector_lanes);
    // Weights packed in pairs are sign-extended into registers, and
    // vpmaddwd's product needs one more (it cannot add in place): BERT's
    // int8 dense kernels 8.7-9.6 -> 7.3-7.4 ms with it, 7.7-9.8 with two
    // (`--kernels`, Zen 3, alternated).
    const RegisterTile tile = register_tile(sc, lanes, std::max<int64_t>(1, N / lanes), M, paired_weight ? 1 : 0);
    const Var at = tile_product_rows(sc.output, v, tile, lanes, M, N, parallel);
    Var anb("anb"), anv("anv");
    acc.compute_at(sc.output, at).split(an, anb, anv, lanes, TailStrategy::GuardWithIf).vectorize(anv).unroll(anb).unroll(am);
    acc.update()
        .split(an, anb, anv, lanes, TailStrategy::GuardWithIf)
        .reorder(rd.x, anv, anb, am, rd.y)
        .atomic()
        .vectorize(rd.x)
        .vectorize(anv)
        .unroll(anb)
        .unroll(am);
    xp.compute_root();
    const std::vector<Var> wv = wp.args();
    if (!paired_weight) wp.compute_root().parallel(wv[2]).vectorize(wv[1], lanes, TailStrategy::GuardWithIf);
  };
  return {value, schedule, {}};
}

LoweredOp lower_qnn_batch_matmul(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::QnnMatmulAttrs>(*ctx.binding.attrs);
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const size_t rank = out_type.rank();
  const int K = static_cast<int>(args[0].type.shape.back());
  RDom k(0, K, ctx.name + "_k");
  Func acc(ctx.name + "_acc");
  const std::vector<Var> vars = make_vars(rank, ctx.name + "_v");
  const Expr lhs = Halide::cast<int32_t>(args[0].at(batch_operand_index(args[0], vars, vars[rank - 2], k))) - static_cast<int32_t>(a.input_zero_point);
  const Expr rhs = Halide::cast<int32_t>(args[1].at(batch_operand_index(args[1], vars, k, vars[rank - 1]))) -
                   column_zero_point(a, vars[rank - 1], ctx.name + "_wzp");
  acc(halide_order(vars)) = 0;
  acc(halide_order(vars)) += lhs * rhs;
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return acc(halide_order(v)); });
  const int64_t N = out_type.shape[rank - 1];
  ScheduleHook schedule = [=](const ScheduleContext& sc) mutable {
    const int lanes = fitting_lanes(N, sc.vector_lanes);
    Var no("no"), ni("ni");
    Func out = sc.output;
    out.split(sc.output_vars[rank - 1], no, ni, lanes, TailStrategy::GuardWithIf).vectorize(ni);
    acc.compute_at(out, no).vectorize(vars[rank - 1], lanes, TailStrategy::GuardWithIf);
    acc.update().vectorize(vars[rank - 1], lanes, TailStrategy::GuardWithIf);
  };
  return {value, schedule, {}};
}

}  // namespace

bool qnn_dense_on_amx(const lang::QnnMatmulAttrs& a, const lang::TensorType& input, const lang::TensorType& weight,
                      const lang::TensorType& output) {
  if (input.dtype != lang::DType::uint8 || weight.dtype != lang::DType::int8 || input.rank() != 2 || output.shape[0] < 4 ||
      a.kernel_layout == lang::kQnnDensePairLayout)
    return false;
  for (int64_t zp : a.kernel_zero_point)
    if (zp != 0) return false;
  return input.shape[1] % 64 == 0;
}

void register_qnn_matmul_lowerings(LoweringRegistry& r) {
  r.add("qnn.dense", lower_qnn_dense);
  r.add("qnn.batch_matmul", lower_qnn_batch_matmul);
}

}  // namespace modelc::lower
