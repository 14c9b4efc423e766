// Compute rules and schedules of the nn.* operators.
#include "lang/ops/nn.h"

#include "lang/ops/layout.h"

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

// What a pooling window reads outside the input: nothing that wins a
// maximum (the lowest value of the type: max pooling also takes 8-bit
// integers), or 0 in a sum.
template <bool kMax>
Expr pool_exterior(const TensorFunc& x) {
  if (!kMax) return Expr(0.f);
  if (x.type.dtype == lang::DType::float32) return Halide::Float(32).min();
  return halide_type(x.type.dtype).min();
}

template <bool kMax>
LoweredOp lower_pool2d_any_layout(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::Pool2DAttrs>(*ctx.binding.attrs);
  const lang::Layout layout = lang::Layout::parse(a.data_layout);
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto s = lang::convert_shape(args[0].type.shape, layout, logical_nchw());
  const int H = static_cast<int>(s[2]), W = static_cast<int>(s[3]);
  Func padded = logical_with_exterior(args[0], layout, pool_exterior<kMax>(args[0]), ctx.name + "_pad");
  RDom r(0, static_cast<int>(a.pool_size[1]), 0, static_cast<int>(a.pool_size[0]), ctx.name + "_r");
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& v) {
    const std::vector<Expr> o = logical_index(layout, v);
    const Expr ix = o[3] * static_cast<int>(a.strides[1]) + r.x * static_cast<int>(a.dilation[1]) - static_cast<int>(a.padding[1]);
    const Expr iy = o[2] * static_cast<int>(a.strides[0]) + r.y * static_cast<int>(a.dilation[0]) - static_cast<int>(a.padding[0]);
    if (kMax) return Halide::maximum(padded(ix, iy, o[1], o[0]), ctx.name + "_maximum");
    const int hi_x = a.count_include_pad ? W + static_cast<int>(a.padding[3]) : W;
    const int hi_y = a.count_include_pad ? H + static_cast<int>(a.padding[2]) : H;
    const int lo_x = a.count_include_pad ? -static_cast<int>(a.padding[1]) : 0;
    const int lo_y = a.count_include_pad ? -static_cast<int>(a.padding[0]) : 0;
    const Expr counted = Halide::sum(Halide::select(ix >= lo_x && ix < hi_x && iy >= lo_y && iy < hi_y, 1, 0), ctx.name + "_sum");
    return Halide::sum(padded(ix, iy, o[1], o[0]), ctx.name + "_sum") / Halide::cast<float>(Halide::max(counted, 1));
  });
  const int64_t window = a.pool_size[0] * a.pool_size[1];
  ScheduleHook schedule = [layout, window](const ScheduleContext& sc) { schedule_blocked(sc, layout, Func(), {}, {}, window); };
  return {value, schedule, {}};
}

// ---- dense: x[M, K] . w[N, K]^T ----
//
// Both operands are contiguous along K, so K is split into vector-wide
// partial sums (lanes of K at a time), then summed across lanes; four
// columns share each load of x (DotColumns: over one row, four streams of
// weight rows a quarter of N apart).
LoweredOp lower_dense(std::span<const TensorFunc> operands, const LowerContext& ctx) {
  const std::vector<TensorFunc> args = with_float32_weight(operands, ctx);
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const int K = static_cast<int>(args[0].type.shape[1]);
  const int64_t N = out_type.shape[1];
  const DotColumns columns = DotColumns::choose(out_type.shape[0], N);
  const int lanes = 16;  // width of the partial sums; the schedule vectorizes it at the target width
  const int KO = K / lanes;
  const int tail = K - KO * lanes;
  Func x = args[0].func, w = args[1].func;
  Var u("u"), b("b"), q("q"), i("i");
  Func partial(ctx.name + "_partial");
  partial(u, b, q, i) = 0.f;
  RDom ro(0, std::max(KO, 1), ctx.name + "_ro");
  if (KO > 0) partial(u, b, q, i) += x(ro * lanes + u, i) * w(ro * lanes + u, columns.column(b, q));
  Func dot(ctx.name + "_dot");
  Expr total = sum_of_lanes(partial, lanes, b, q, i);
  if (tail > 0) {
    RDom rt(KO * lanes, tail, ctx.name + "_rt");
    total += Halide::sum(x(rt, i) * w(rt, columns.column(b, q)), ctx.name + "_sum");
  }
  dot(b, q, i) = total;
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return columns.at(dot, v[1], v[0]); });

  // A matrix-vector product streams its weights once: on two cores each
  // streams half (MobileNetV2's 1280x1000 classifier: 0.33 ms on one thread).
  // Each multiply-add of so few rows waits on a weight from memory, so the
  // work counts as if there were four rows (an LSTM step's 256 x 1024
  // recurrent product: 27 us on one thread, 1 MB streamed).
  const int64_t work = std::max<int64_t>(out_type.shape[0], 4) * N * K;
  return {value, row_dot_schedule(dot, partial, u, b, q, i, KO > 0 ? std::optional<RDom>(ro) : std::nullopt, lanes, columns, work),
          {}};
}

// The bits of float32 x rounded to bfloat16, to nearest even (a NaN stays a
// NaN), as the reference rounds it (lang/tensor.cpp): Halide 14's cast to
// BFloat(16) is not that rounding.
Expr bfloat16_bits(const Expr& x) {
  const Expr u = Halide::reinterpret(Halide::UInt(32), x);
  const Expr rounded = Halide::cast<uint16_t>((u + Halide::cast<uint32_t>(0x7fff) + ((u >> 16) & 1u)) >> 16);
  return Halide::select(is_nan_bits(x), Halide::cast<uint16_t>(0x7fc0), rounded);
}

// ---- batch_matmul with a bfloat16 weight on AMX tiles ----
//
// x's rows (every batch's, flattened) are rounded to bfloat16 into a [rows,
// Kp] buffer per task (Kp: K rounded up to 32, zero columns past K), y into
// k-pairs [Kp/2, Np, 2] once per call (Np: N rounded up to 16, zeros past
// N), and the runtime's tile kernel (runtime/modelc_amx.c) multiplies them
// into a float32 [rows, N] block per task, which the epilogue reads. One
// task is 32 rows (two row tiles), over column chunks when there are few
// row tiles.
LoweredOp lower_batch_matmul_amx(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const size_t rank = out_type.rank();
  const TensorFunc& x = args[0];
  const TensorFunc& y = args[1];
  const int K = static_cast<int>(x.type.shape.back());
  const int N = static_cast<int>(out_type.shape[rank - 1]);
  const int M = static_cast<int>(out_type.shape[rank - 2]);
  const int Kp = (K + 31) / 32 * 32, Np = (N + 15) / 16 * 16;
  const Expr zero = Halide::cast<uint16_t>(0);  // bfloat16 bits

  // x's element (row r of the flattened batches, column k): y is one matrix,
  // so x's batch axes are the output's.
  auto x_at = [&](Expr r, Expr k) {
    std::vector<Expr> index(rank);
    index[rank - 1] = k;
    for (size_t d = rank - 1; d-- > 0;) {
      const int extent = static_cast<int>(out_type.shape[d]);
      index[d] = d == 0 ? r : r % extent;
      r = r / extent;
    }
    return x.at(index);
  };
  Var k("k"), r("r"), p("p"), n("n"), kp("kp");
  Func a16(ctx.name + "_a16");
  a16(k, r) = Halide::select(k < K, bfloat16_bits(x_at(r, Halide::min(k, K - 1))), zero);
  Func pairs(ctx.name + "_pairs");
  const Expr kk = 2 * kp + p;
  pairs(p, n, kp) = Halide::select(kk < K && n < N,
                                   Halide::reinterpret(Halide::UInt(16), y.at({Halide::min(kk, K - 1), Halide::min(n, N - 1)})), zero);
  Var mn("mn"), mr("mr");
  Func product(ctx.name + "_amx");
  product.define_extern("modelc_amx_matmul_bf16", {a16, pairs, Expr(Kp), Expr(Np)}, Halide::Float(32), {mn, mr},
                        Halide::NameMangling::C);
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) {
    Expr row = v[0];
    for (size_t d = 1; d + 1 < rank; ++d) row = row * static_cast<int>(out_type.shape[d]) + v[d];
    return product(v[rank - 1], row);
  });

  const int64_t batches = out_type.element_count() / (int64_t{N} * M);
  const int64_t work = out_type.element_count() * K;
  ScheduleHook schedule = [=](const ScheduleContext& s) mutable {
    const int rows = std::min(M, 32);
    const int64_t row_tasks = batches * ((M + rows - 1) / rows);
    // Few row tiles: column chunks (multiples of 16) give both cores work.
    const int columns = row_tasks < 4 && N >= 512 ? (N / 4 + 15) / 16 * 16 : N;
    const int lanes = fitting_lanes(N, s.vector_lanes);
    const Var on = s.output_vars[rank - 1], om = s.output_vars[rank - 2];
    Var mo("mo"), mi("mi"), no("no"), ni("ni"), task("task");
    Func out = s.output;
    out.split(om, mo, mi, rows, TailStrategy::ShiftInwards)
        .split(on, no, ni, columns, TailStrategy::ShiftInwards)
        .reorder(ni, mi, no, mo)
        .vectorize(ni, lanes, TailStrategy::GuardWithIf)
        .fuse(no, mo, task);
    for (size_t d = rank - 2; d-- > 0;) {
      Var fused(task.name() + "_b" + std::to_string(d));
      out.fuse(task, s.output_vars[d], fused);
      task = fused;
    }
    if (worth_parallel(work)) out.parallel(task);
    product.compute_at(out, task);
    a16.compute_at(out, task).vectorize(k, 16);
    pairs.compute_root().bound(p, 0, 2).unroll(p).vectorize(n, 16);
    if (worth_parallel(int64_t{Kp} * Np)) parallel_tasks(pairs, kp, Kp / 2, int64_t{Kp} * Np);
  };
  return {value, schedule, {}};
}

// ---- batch_matmul: x[..., M, K] . y[..., K, N], batch axes broadcast ----
//
// y is contiguous along N, so N is vectorized: each x element broadcasts
// against a vector of y's row, accumulating a block of rows of the output.
// With a bfloat16 weight (ReducePrecision) the products are bfloat16's: x
// is rounded to bfloat16 too (its reference, lang/ops/nn.cpp), once per call; on AMX
// targets the tiles compute them (lower_batch_matmul_amx).
//
// nn.packed_matmul is the same product over a weight stored in panels of c
// columns ([N/c, K, c], lang/ops/nn.h): column n of row k is panel n / c,
// element (k, n % c); each vector of a column block reads one panel's row,
// and consecutive k are consecutive vectors, so there is no panel to copy.
//
// A bfloat16 weight in panels of row pairs ([N/c, K/2, c, 2]) is multiplied
// in pairs where the target's pair dot product is fast (KernelTarget::
// bf16_dot): per step, a vector of c columns' pairs of weights against the
// broadcast pair x[row, 2i], x[row, 2i + 1] (32 bits), a VectorReduce of
// two products per lane that Halide emits as vdpbf16ps (each product of
// bfloat16 values is exact in float32; the sums round as FMAs do). Zen 5:
// 425 GFLOP/s against 213 for float32 FMAs on a 128 x 256 x 1024 product.
// Elsewhere the pairs are read back as [K, N] (the AMX tiles, FMA).
LoweredOp lower_matmul(std::span<const TensorFunc> operands, const LowerContext& ctx, bool packed) {
  const bool pairs = packed && operands[1].type.rank() == 4;
  if (pairs && !ctx.bf16_dot) {
    std::vector<TensorFunc> unpaired(operands.begin(), operands.end());
    const TensorFunc& w = operands[1];
    const int c = static_cast<int>(w.type.shape[2]);
    Func view(ctx.name + "_unpaired");
    Var vn("vn"), vk("vk");
    view(vn, vk) = w.func(vk % 2, vn % c, vk / 2, vn / c);
    unpaired[1] = TensorFunc{view, lang::TensorType{{w.type.shape[1] * 2, w.type.shape[0] * c}, w.type.dtype}};
    return lower_matmul(unpaired, ctx, false);
  }
  const bool bf16_weight = operands[1].type.dtype == lang::DType::bfloat16;
  if (!packed && bf16_weight && ctx.amx && operands[1].type.rank() == 2) return lower_batch_matmul_amx(operands, ctx);
  std::vector<TensorFunc> args = pairs ? std::vector<TensorFunc>(operands.begin(), operands.end()) : with_float32_weight(operands, ctx);
  Func rounded;
  if (bf16_weight) {
    // float32 values rounded to bfloat16; in pairs, their bits.
    rounded = Func(ctx.name + "_x_bf16");
    const std::vector<Var> xv = make_vars(args[0].type.rank(), ctx.name + "_xr");
    std::vector<Expr> index(xv.begin(), xv.end());
    const Expr bits = bfloat16_bits(args[0].at(index));
    rounded(halide_order(xv)) = pairs ? bits : Halide::reinterpret(Halide::Float(32), Halide::cast<uint32_t>(bits) << 16);
    args[0].func = rounded;
  }
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const size_t rank = out_type.rank();
  const int K = static_cast<int>(args[0].type.shape.back());
  RDom k = pairs ? RDom(0, 2, 0, K / 2, ctx.name + "_k") : RDom(0, K, ctx.name + "_k");
  Func acc(ctx.name + "_acc");
  const std::vector<Var> vars = make_vars(rank, ctx.name + "_v");
  acc(halide_order(vars)) = 0.f;
  const Expr n_index = vars[rank - 1];
  const int c = packed ? static_cast<int>(args[1].type.shape[2]) : 0;
  if (pairs) {
    auto bf16 = [](const Expr& bits) { return Halide::cast<float>(Halide::reinterpret(Halide::BFloat(16), bits)); };
    const Expr x = args[0].at(batch_operand_index(args[0], vars, vars[rank - 2], 2 * k.y + k.x));
    acc(halide_order(vars)) += bf16(x) * bf16(args[1].func(k.x, n_index % c, k.y, n_index / c));
  } else {
    const Expr weight = packed ? args[1].func(n_index % c, k, n_index / c)
                               : args[1].at(batch_operand_index(args[1], vars, k, vars[rank - 1]));
    acc(halide_order(vars)) += args[0].at(batch_operand_index(args[0], vars, vars[rank - 2], k)) * weight;
  }
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return acc(halide_order(v)); });

  const int64_t N = out_type.shape[rank - 1], M = out_type.shape[rank - 2];
  const int64_t batches = out_type.element_count() / (N * M);
  const bool parallel = worth_parallel(out_type.element_count() * K);
  Func y = args[1].func;
  ScheduleHook schedule = [=](const ScheduleContext& s) mutable {
    // A register tile of B vectors of columns x T rows (lower/register_tile.h):
    // per step of k, B vectors of y's row k are loaded once and each of the T
    // elements x[row, k] is broadcast against them.
    const int lanes = fitting_lanes(N, s.vector_lanes);
    const RegisterTile tile = register_tile(s, lanes, N / lanes, M);
    const int columns = lanes * tile.blocks;
    const TailStrategy column_tail = N % columns == 0 || N >= columns ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
    const Var n = s.output_vars[rank - 1], m = s.output_vars[rank - 2];
    const Var an = vars[rank - 1], am = vars[rank - 2];
    Var no("no"), ni("ni"), mo("mo"), mi("mi"), nb("nb"), nv("nv"), tiles("tiles");
    Func out = s.output;
    out.split(n, no, ni, columns, column_tail)
        .split(m, mo, mi, tile.pixels, TailStrategy::ShiftInwards)
        .split(ni, nb, nv, lanes, TailStrategy::GuardWithIf)
        .reorder(nv, nb, mi, mo, no)
        .vectorize(nv)
        .unroll(nb)
        .unroll(mi);
    // Parallel over batches, else over column blocks when there are enough of
    // them, else over (row tile, column block) pairs.
    const int64_t column_blocks = (N + columns - 1) / columns;
    const bool batch_parallel = parallel && rank > 2 && batches >= 2;
    const bool column_parallel = parallel && !batch_parallel && column_blocks >= 4;
    const bool tile_parallel = parallel && !batch_parallel && !column_parallel;
    // Every batch axis: attention's [1, heads, M, N] has one image.
    if (batch_parallel) out.parallel(fuse_outer(out, s.output_vars, rank - 2));
    else if (column_parallel) out.parallel(no);
    else if (tile_parallel) out.fuse(mo, no, tiles).parallel(tiles);
    // The columns' slice of y (K x columns) is copied, once per column block,
    // into a contiguous panel that the row tiles then walk: read in place,
    // consecutive k are a row of y apart (4 KiB for N = 1024), so the slice
    // maps onto a few L1 sets and evicts itself (BERT's projections ran at
    // 40 % of peak). Worth it when several row tiles reuse the panel.
    if (!packed && !tile_parallel && M > tile.pixels) {
      Func panel = y.in(acc);
      panel.compute_at(out, no).vectorize(panel.args()[0], lanes, TailStrategy::GuardWithIf);
    }
    Var bn("bn"), vn("vn");
    acc.compute_at(out, tile_parallel ? tiles : mo)
        .split(an, bn, vn, lanes, TailStrategy::GuardWithIf)
        .vectorize(vn)
        .unroll(bn)
        .unroll(am);
    if (pairs)  // the pair innermost: a VectorReduce of 2 products per lane
      acc.update()
          .split(an, bn, vn, lanes, TailStrategy::GuardWithIf)
          .reorder(k.x, vn, bn, am, k.y)
          .atomic()
          .vectorize(k.x)
          .vectorize(vn)
          .unroll(bn)
          .unroll(am);
    else
      acc.update()
          .split(an, bn, vn, lanes, TailStrategy::GuardWithIf)
          .reorder(vn, bn, am, k)
          .vectorize(vn)
          .unroll(bn)
          .unroll(am);
    // The rounded x, once per call: rounding each broadcast element in the
    // register tile would cost more than its multiply-adds.
    if (rounded.defined())
      rounded.compute_root().vectorize(rounded.args()[0], fitting_lanes(K, s.vector_lanes), TailStrategy::GuardWithIf);
  };
  return {value, schedule, {}};
}

LoweredOp lower_batch_matmul(std::span<const TensorFunc> args, const LowerContext& ctx) { return lower_matmul(args, ctx, false); }
LoweredOp lower_packed_matmul(std::span<const TensorFunc> args, const LowerContext& ctx) { return lower_matmul(args, ctx, true); }

LoweredOp lower_bias_add(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  int64_t axis = attrs_as<lang::AxisAttrs>(*ctx.binding.attrs).axis;
  if (axis < 0) axis += static_cast<int64_t>(t.rank());
  return {define(ctx.name, t, [&](const std::vector<Var>& v) {
            std::vector<Expr> idx(v.begin(), v.end());
            return args[0].at(idx) + args[1].at({v[static_cast<size_t>(axis)]});
          }),
          {}, {}};
}

LoweredOp lower_batch_norm(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::BatchNormAttrs>(*ctx.binding.attrs);
  const lang::TensorType t = ctx.binding.types.at(0);
  const size_t axis = static_cast<size_t>(a.axis < 0 ? a.axis + static_cast<int64_t>(t.rank()) : a.axis);
  return {define(ctx.name, t, [&](const std::vector<Var>& v) {
            std::vector<Expr> idx(v.begin(), v.end());
            const Expr c = v[axis];
            const Expr scale = args[1].at({c}) / Halide::sqrt(args[4].at({c}) + static_cast<float>(a.epsilon));
            return (args[0].at(idx) - args[3].at({c})) * scale + args[2].at({c});
          }),
          {}, {}};
}

// Pooling windows over the padded input, vectorized along the output width
// (the last vector of a row shifted in with `tail` ShiftInwards).
ScheduleHook pooling_schedule(const lang::TensorType& out_type, int64_t window,
                              TailStrategy tail = TailStrategy::GuardWithIf) {
  return [out_type, window, tail](const ScheduleContext& s) {
    const int lanes = fitting_lanes(out_type.shape[3], s.vector_lanes);
    Func out = s.output;
    Var plane("plane");
    out.vectorize(s.output_vars[3], lanes, tail).fuse(s.output_vars[1], s.output_vars[0], plane);
    const int64_t work = out_type.element_count() * window;
    if (worth_parallel(work)) parallel_tasks(out, plane, out_type.shape[0] * out_type.shape[1], work);
  };
}

// Max pooling of 8-bit integers (a quantized CNN's), NCHW: the maximum over
// the window's rows first, each input row read in whole vectors, then over
// its columns from that row kept in cache. Gathered from the input as the
// float form reads it, every byte of a strided window was loaded alone
// (ResNet-18's int8 pool ran at 2.4 GB/s).
//
// When every window overlaps the input (no dilation, padding narrower than
// the window, the last window starting inside), reads past an edge are
// clamped to it: the edge value is in every window that reaches past it, so
// the maxima are the same, without a select per value. The last vector of a
// row is shifted in over the one before, where a predicated tail took as
// long as the rest. ResNet-18's int8 pool 0.155 -> 0.075 ms (whole vectors)
// -> 0.056 ms (clamped edges), `--kernels`; vectors of 32 or 64 bytes were
// slower (the stride-2 columns' shuffles), 64-byte rows ten times slower.
LoweredOp lower_max_pool2d_8bit(const TensorFunc& input, const Func& padded, const lang::Pool2DAttrs& a,
                                const lang::TensorType& t, const LowerContext& ctx) {
  const auto& is = input.type.shape;
  const int H = static_cast<int>(is[2]), W = static_cast<int>(is[3]);
  const auto overlaps = [&](int axis) {  // 0: rows, 1: columns
    const int64_t in = is[2 + axis], out = t.shape[2 + axis], k = a.pool_size[axis], pad = a.padding[axis];
    return a.dilation[axis] == 1 && pad < k && (out - 1) * a.strides[axis] - pad <= in - 1;
  };
  Var x("x"), y("y"), c("c"), n("n");
  Func source = padded;
  if (overlaps(0) && overlaps(1)) {
    source = Func(ctx.name + "_edge");
    source(x, y, c, n) = input.func(Halide::clamp(x, 0, W - 1), Halide::clamp(y, 0, H - 1), c, n);
  }
  RDom ry(0, static_cast<int>(a.pool_size[0]), ctx.name + "_ry");
  RDom rx(0, static_cast<int>(a.pool_size[1]), ctx.name + "_rx");
  Func rows(ctx.name + "_rows");  // (input column, output row, channel, image)
  rows(x, y, c, n) = Halide::maximum(
      source(x, y * static_cast<int>(a.strides[0]) + ry * static_cast<int>(a.dilation[0]) - static_cast<int>(a.padding[0]), c, n),
      ctx.name + "_rowmax");
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& v) {
    const Expr ix = v[3] * static_cast<int>(a.strides[1]) + rx * static_cast<int>(a.dilation[1]) - static_cast<int>(a.padding[1]);
    return Halide::maximum(rows(ix, v[2], v[1], v[0]), ctx.name + "_maximum");
  });
  const int64_t window = a.pool_size[0] * a.pool_size[1];
  ScheduleHook schedule = [t, window, rows, W](const ScheduleContext& s) mutable {
    pooling_schedule(t, window, TailStrategy::ShiftInwards)(s);
    rows.compute_at(s.output, s.output_vars[2]).vectorize(rows.args()[0], fitting_lanes(W, s.vector_lanes), TailStrategy::ShiftInwards);
  };
  return {value, schedule, {}};
}

// Max pooling of floats in NCHW (those a quantized CNN quantizes after):
// per output row, the maximum over the window's rows of each input column,
// read in whole vectors, into a row buffer that holds the lowest value over
// the padding; then the maximum over each window's columns from that buffer,
// whole vectors again. The generic form selected the padding per value over
// rows of 14 in vectors of 8 and a masked tail, and the 8-bit form's clamped
// edges gather every vector of a row of 28 or fewer (Inception's int8 build
// spent 28 % of its time in six 3x3 float pools before its 1x1 branches,
// 0.44-0.59 ms each; 0.10-0.15 ms so, `--kernels`). On ResNet-18's 8-bit
// stride-2 pool this form took 0.077 ms where the 8-bit one takes 0.057.
//
// Rows are clamped where every window overlaps the input vertically (the
// edge row is in every window that reaches past it, so the maxima are the
// same), else out-of-range rows read as the lowest value.
LoweredOp lower_max_pool2d_float(const TensorFunc& input, const Expr& lowest, const lang::Pool2DAttrs& a,
                                const lang::TensorType& t, const LowerContext& ctx) {
  const auto& is = input.type.shape;
  const int H = static_cast<int>(is[2]), W = static_cast<int>(is[3]);
  const int64_t OH = t.shape[2];
  const int sy = static_cast<int>(a.strides[0]), dy = static_cast<int>(a.dilation[0]), py = static_cast<int>(a.padding[0]);
  const bool rows_overlap = dy == 1 && a.padding[0] < a.pool_size[0] && (OH - 1) * sy - py <= H - 1;
  // Each maximum an expression of the window's taps (pool sizes are constants).
  const auto window_max = [](int taps, const std::function<Expr(int)>& tap) {
    Expr m = tap(0);
    for (int i = 1; i < taps; ++i) m = Halide::max(m, tap(i));
    return m;
  };
  Var x("x"), y("y"), c("c"), n("n");
  Func row(ctx.name + "_row");  // (input column, output row, channel, image), the padding the lowest value
  RDom rx(0, W, ctx.name + "_rx");
  row(x, y, c, n) = lowest;
  row(rx, y, c, n) = window_max(static_cast<int>(a.pool_size[0]), [&](int i) {
    const Expr iy = y * sy + i * dy - py;
    const Expr v = input.func(rx, Halide::clamp(iy, 0, H - 1), c, n);
    return rows_overlap ? v : Halide::select(iy >= 0 && iy < H, v, lowest);
  });
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& v) {
    return window_max(static_cast<int>(a.pool_size[1]), [&](int i) {
      return row(v[3] * static_cast<int>(a.strides[1]) + i * static_cast<int>(a.dilation[1]) - static_cast<int>(a.padding[1]), v[2], v[1], v[0]);
    });
  });
  const int64_t window = a.pool_size[0] * a.pool_size[1];
  ScheduleHook schedule = [t, window, row, rx, W](const ScheduleContext& s) mutable {
    // The last vector of a row guarded, not shifted in: Halide 14 read the
    // row buffer for a shifted-in vector at a constant offset with strided
    // columns as aligned 64-byte loads 32 bytes off their alignment
    // (`vmovaps 0xf20(%rsp)`), a crash whenever the stack was not 64-byte
    // aligned (a 1-D pool of 4 over 1000 columns, one run in two).
    pooling_schedule(t, window)(s);
    const int lanes = fitting_lanes(W, s.vector_lanes);
    row.compute_at(s.output, s.output_vars[2]).vectorize(row.args()[0], lanes, TailStrategy::GuardWithIf);
    row.update().vectorize(rx, lanes, TailStrategy::GuardWithIf);
  };
  return {value, schedule, {}};
}

template <bool kMax>
LoweredOp lower_pool2d(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::Pool2DAttrs>(*ctx.binding.attrs);
  if (a.data_layout != "NCHW") return lower_pool2d_any_layout<kMax>(args, ctx);
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto& s = args[0].type.shape;
  const int H = static_cast<int>(s[2]), W = static_cast<int>(s[3]);
  // Windows may overhang the input (padding, ceil_mode), so reads are always bounded.
  if (kMax && args[0].type.dtype == lang::DType::float32)
    return lower_max_pool2d_float(args[0], pool_exterior<kMax>(args[0]), a, t, ctx);
  Func padded = with_exterior(args[0], pool_exterior<kMax>(args[0]), ctx.name + "_pad");
  if (kMax) return lower_max_pool2d_8bit(args[0], padded, a, t, ctx);
  RDom r(0, static_cast<int>(a.pool_size[1]), 0, static_cast<int>(a.pool_size[0]), ctx.name + "_r");
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& v) {
    const Expr ix = v[3] * static_cast<int>(a.strides[1]) + r.x * static_cast<int>(a.dilation[1]) - static_cast<int>(a.padding[1]);
    const Expr iy = v[2] * static_cast<int>(a.strides[0]) + r.y * static_cast<int>(a.dilation[0]) - static_cast<int>(a.padding[0]);
    if (kMax) return Halide::maximum(padded(ix, iy, v[1], v[0]), ctx.name + "_maximum");
    // Window cells inside the input, or inside the padding when count_include_pad.
    const int hi_x = a.count_include_pad ? W + static_cast<int>(a.padding[3]) : W;
    const int hi_y = a.count_include_pad ? H + static_cast<int>(a.padding[2]) : H;
    const int lo_x = a.count_include_pad ? -static_cast<int>(a.padding[1]) : 0;
    const int lo_y = a.count_include_pad ? -static_cast<int>(a.padding[0]) : 0;
    const Expr counted = Halide::sum(Halide::select(ix >= lo_x && ix < hi_x && iy >= lo_y && iy < hi_y, 1, 0), ctx.name + "_sum");
    return Halide::sum(padded(ix, iy, v[1], v[0]), ctx.name + "_sum") / Halide::cast<float>(Halide::max(counted, 1));
  });
  return {value, pooling_schedule(t, a.pool_size[0] * a.pool_size[1]), {}};
}

// Mean over H and W, in NCHW or a layout of it (NHWC, NCHW{k}c): the
// innermost axis (W for NCHW, channels otherwise) is vectorized.
LoweredOp lower_global_avg_pool(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const lang::Layout layout = lang::Layout::parse(attrs_as<lang::GlobalPool2DAttrs>(*ctx.binding.attrs).data_layout);
  const auto& s = args[0].type.shape;
  const auto h_axis = static_cast<size_t>(layout.position_of('H')), w_axis = static_cast<size_t>(layout.position_of('W'));
  RDom r(0, static_cast<int>(s[w_axis]), 0, static_cast<int>(s[h_axis]), ctx.name + "_r");
  const float inv = 1.f / static_cast<float>(s[h_axis] * s[w_axis]);
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& v) {
    std::vector<Expr> idx(v.begin(), v.end());
    idx[h_axis] = r.y;
    idx[w_axis] = r.x;
    return Halide::sum(args[0].at(idx), ctx.name + "_sum") * inv;
  });
  // Channels are contiguous in the result: the channel block, or C itself.
  const int sub = layout.position_of('c');
  const auto channels = static_cast<size_t>(sub >= 0 ? sub : layout.position_of('C'));
  const int64_t work = args[0].type.element_count();
  const int outer_channels = sub >= 0 ? layout.position_of('C') : -1;  // the blocks of NCHW{k}c
  ScheduleHook schedule = [t, channels, work, outer_channels](const ScheduleContext& sc) {
    Func out = sc.output;
    const int lanes = fitting_lanes(t.shape[channels], sc.vector_lanes);
    out.vectorize(sc.output_vars[channels], lanes, TailStrategy::GuardWithIf);
    if (!worth_parallel(work)) return;
    // One image, many channel blocks (a squeeze-and-excitation over 112 x 112):
    // parallel over the blocks as well as the batch.
    out.parallel(fuse_outer(out, sc.output_vars, outer_channels == 1 ? 2 : 1));
  };
  return {value, schedule, {}};
}

// softmax along the innermost axis (attention scores, classifier outputs),
// one row at a time: the row's maximum and sum as vectors of partial results
// (lanes of the row side by side, then across lanes), e^(x - max) kept for
// the row, then scaled by 1 / sum. Rows in parallel. Reducing the row as
// scalars, over buffers computed at root, took ViT's attention softmax (6
// heads x 196 x 196) 0.3 ms on one core, about five times this.
LoweredOp lower_softmax_rows(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const size_t rank = t.rank();
  const int n = static_cast<int>(t.shape[rank - 1]);
  constexpr int kLanes = 8;  // partial results per row; the schedule vectorizes them at the target's width
  const int chunks = (n + kLanes - 1) / kLanes;
  const std::vector<Var> v = make_vars(rank, ctx.name + "_v");  // IR order; v.back() runs along the row
  const std::vector<Var> outer(v.begin(), v.end() - 1);
  const std::vector<Var> outer_h = halide_order(outer);
  auto at = [&](const Expr& i) {
    std::vector<Expr> idx(outer.begin(), outer.end());
    idx.push_back(i);
    return args[0].at(idx);
  };
  auto row_args = [&](std::vector<Halide::Var> first) {  // Halide order: `first`, then the row's coordinates
    first.insert(first.end(), outer_h.begin(), outer_h.end());
    return first;
  };
  Var u(ctx.name + "_u"), i(ctx.name + "_i");
  RDom ro(0, chunks, ctx.name + "_ro"), ru(0, kLanes, ctx.name + "_ru");
  Func part_max(ctx.name + "_part_max"), mx(ctx.name + "_max"), e(ctx.name + "_exp"), part_sum(ctx.name + "_part_sum"),
      inv(ctx.name + "_inv");
  part_max(row_args({u})) = Halide::Float(32).min();
  part_max(row_args({u})) = Halide::max(part_max(row_args({u})), at(Halide::min(ro * kLanes + u, n - 1)));
  std::vector<Expr> lane_args{ru};
  lane_args.insert(lane_args.end(), outer_h.begin(), outer_h.end());
  mx(outer_h) = Halide::maximum(part_max(lane_args), ctx.name + "_maximum");
  e(row_args({i})) = exp_bounded(at(i) - mx(outer_h));  // <= 0
  std::vector<Expr> chunk_args{Halide::min(ro * kLanes + u, n - 1)};
  chunk_args.insert(chunk_args.end(), outer_h.begin(), outer_h.end());
  part_sum(row_args({u})) = 0.f;
  part_sum(row_args({u})) += Halide::select(ro * kLanes + u < n, e(chunk_args), 0.f);
  inv(outer_h) = 1.f / Halide::sum(part_sum(lane_args), ctx.name + "_sum");
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& w) {
    std::vector<Expr> row(w.begin(), w.end() - 1);
    std::vector<Expr> idx{w.back()};
    const std::vector<Expr> row_h = halide_order(row);
    idx.insert(idx.end(), row_h.begin(), row_h.end());
    return e(idx) * inv(row_h);
  });
  const int64_t work = t.element_count() * 24;  // about exp's cost per element
  ScheduleHook schedule = [=](const ScheduleContext& sc) mutable {
    Func out = sc.output;
    const std::vector<Var>& w = sc.output_vars;
    const int lanes = std::min(kLanes, sc.vector_lanes);
    Var row = fuse_outer(out, w, w.size() - 1);
    out.vectorize(w.back(), fitting_lanes(n, sc.vector_lanes), TailStrategy::GuardWithIf);
    if (w.size() > 1 && worth_parallel(work)) row = parallel_tasks(out, row, t.element_count() / n, work);
    const Halide::LoopLevel at_row = w.size() > 1 ? Halide::LoopLevel(out, row) : Halide::LoopLevel::root();
    for (Func f : {part_max, part_sum}) {
      f.compute_at(at_row).vectorize(u, lanes);
      f.update().vectorize(u, lanes);
    }
    mx.compute_at(at_row);
    inv.compute_at(at_row);
    e.compute_at(at_row).vectorize(i, fitting_lanes(n, sc.vector_lanes), TailStrategy::ShiftInwards);
  };
  return {value, schedule, {}};
}

// softmax along one axis: max and sum are reductions computed at root.
LoweredOp lower_softmax(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  int64_t axis = attrs_as<lang::AxisAttrs>(*ctx.binding.attrs).axis;
  if (axis < 0) axis += static_cast<int64_t>(t.rank());
  const auto ax = static_cast<size_t>(axis);
  if (ax + 1 == t.rank() && t.dtype == lang::DType::float32 && t.shape[ax] > 0) return lower_softmax_rows(args, ctx);
  RDom r(0, static_cast<int>(t.shape[ax]), ctx.name + "_r");
  auto with_axis = [&](const std::vector<Var>& v, Expr e) {
    std::vector<Expr> idx(v.begin(), v.end());
    idx[ax] = e;
    return idx;
  };
  TensorFunc mx = define(ctx.name + "_max", t, [&](const std::vector<Var>& v) {
    return Halide::maximum(args[0].at(with_axis(v, r.x)), ctx.name + "_maximum");
  });
  TensorFunc e = define(ctx.name + "_exp", t, [&](const std::vector<Var>& v) {
    std::vector<Expr> idx(v.begin(), v.end());
    return exp_bounded(args[0].at(idx) - mx.at(with_axis(v, 0)));  // <= 0
  });
  TensorFunc sum = define(ctx.name + "_sum", t, [&](const std::vector<Var>& v) {
    return Halide::sum(e.at(with_axis(v, r.x)), ctx.name + "_sum");
  });
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& v) {
    std::vector<Expr> idx(v.begin(), v.end());
    return e.at(idx) / sum.at(with_axis(v, 0));
  });
  return {value, {}, {mx.func, e.func, sum.func}};
}

}  // namespace

void register_nn_lowerings(LoweringRegistry& r) {
  r.add("nn.dense", lower_dense);
  r.add("nn.batch_matmul", lower_batch_matmul);
  r.add("nn.packed_matmul", lower_packed_matmul);
  r.add("nn.bias_add", lower_bias_add);
  r.add("nn.batch_norm", lower_batch_norm);
  r.add("nn.max_pool2d", lower_pool2d<true>);
  r.add("nn.avg_pool2d", lower_pool2d<false>);
  r.add("nn.global_avg_pool2d", lower_global_avg_pool);
  r.add("nn.softmax", lower_softmax);
}

}  // namespace modelc::lower
