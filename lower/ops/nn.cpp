// Compute rules and schedules of the nn.* operators.
#include "lang/ops/nn.h"

#include "lang/ops/layout.h"

#include "lower/tensor_func.h"

namespace modelc::lower {
namespace {

using Halide::Expr;
using Halide::Func;
using Halide::RDom;
using Halide::TailStrategy;
using Halide::Var;
using lang::attrs_as;

bool any_padding(const std::vector<int64_t>& padding) {
  return padding[0] || padding[1] || padding[2] || padding[3];
}

// The NCHW input, reading `fill` outside [0, extent) of the two spatial axes.
Func with_exterior(const TensorFunc& x, Expr fill, const std::string& name) {
  const auto& s = x.type.shape;  // N, C, H, W
  Func f(name);
  Var w, h, c, n;
  Expr inside = w >= 0 && w < static_cast<int>(s[3]) && h >= 0 && h < static_cast<int>(s[2]);
  Expr cw = Halide::clamp(w, 0, static_cast<int>(s[3]) - 1);
  Expr ch = Halide::clamp(h, 0, static_cast<int>(s[2]) - 1);
  f(w, h, c, n) = Halide::select(inside, x.func(cw, ch, c, n), fill);
  return f;
}

// ---- conv2d and pooling in other layouts (NHWC, NCHW16c, ...) ----
//
// The compute is written over logical NCHW / OIHW indices; lang::source_index
// maps them onto the physical layouts, so one rule serves every layout. The
// accumulator is indexed like the physical result, whose innermost axis (the
// channel block of NCHW{k}c, the channels of NHWC) is vectorized: each input
// element broadcasts against a vector of weights of consecutive output channels.

const lang::Layout& logical_nchw() {
  static const lang::Layout layout = lang::Layout::parse("NCHW");
  return layout;
}

// Logical (w, h, c, n) of a tensor stored in `layout`, reading `fill` outside the spatial extent.
Func logical_with_exterior(const TensorFunc& x, const lang::Layout& layout, Expr fill, const std::string& name) {
  const auto s = lang::convert_shape(x.type.shape, layout, logical_nchw());  // N, C, H, W
  Func f(name);
  Var w, h, c, n;
  Expr inside = w >= 0 && w < static_cast<int>(s[3]) && h >= 0 && h < static_cast<int>(s[2]);
  Expr cw = Halide::clamp(w, 0, static_cast<int>(s[3]) - 1);
  Expr ch = Halide::clamp(h, 0, static_cast<int>(s[2]) - 1);
  f(w, h, c, n) = Halide::select(inside, x.at(lang::source_index(layout, logical_nchw(), std::vector<Expr>{n, c, ch, cw})), fill);
  return f;
}

// Logical NCHW index of the physical result index `v` in `layout`.
std::vector<Expr> logical_index(const lang::Layout& layout, const std::vector<Var>& v) {
  return lang::source_index(logical_nchw(), layout, std::vector<Expr>(v.begin(), v.end()));
}

// Vectorizes the innermost axis of a result in `layout`, unrolls a few
// columns of W around it and runs rows in parallel.
void schedule_blocked(const ScheduleContext& s, const lang::Layout& layout, Func acc, const std::vector<Var>& acc_vars,
                      const std::vector<Halide::RVar>& reduction) {
  const std::vector<Var>& v = s.output_vars;
  const size_t inner = v.size() - 1;
  const auto w_axis = static_cast<size_t>(layout.position_of('W'));
  const auto h_axis = static_cast<size_t>(layout.position_of('H'));
  const int lanes = fitting_lanes(s.output_type.shape[inner], s.vector_lanes);
  const int columns = s.output_type.shape[w_axis] >= 4 && w_axis != inner ? 4 : 1;
  Func out = s.output;
  Var wo("wo"), wi("wi");
  out.split(v[w_axis], wo, wi, columns, TailStrategy::GuardWithIf).vectorize(v[inner], lanes, TailStrategy::GuardWithIf);
  if (w_axis != inner) out.reorder(v[inner], wi, wo).unroll(wi);
  out.parallel(v[h_axis]);
  if (!acc.defined()) return;
  acc.compute_at(out, wo).vectorize(acc_vars[inner], lanes, TailStrategy::GuardWithIf);
  if (w_axis != inner) acc.unroll(acc_vars[w_axis]);
  std::vector<Halide::VarOrRVar> order{acc_vars[inner]};
  if (w_axis != inner) order.push_back(acc_vars[w_axis]);
  for (const Halide::RVar& r : reduction) order.push_back(r);
  acc.update().reorder(order).vectorize(acc_vars[inner], lanes, TailStrategy::GuardWithIf);
  if (w_axis != inner) acc.update().unroll(acc_vars[w_axis]);
}

LoweredOp lower_conv2d_any_layout(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::Conv2DAttrs>(*ctx.binding.attrs);
  const lang::Layout data = lang::Layout::parse(a.data_layout), out_layout = lang::Layout::parse(a.out_layout);
  const lang::Layout kernel = lang::Layout::parse(a.kernel_layout), oihw = lang::Layout::parse("OIHW");
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const auto ws = lang::convert_shape(args[1].type.shape, kernel, oihw);  // K, C/groups, R, S
  const int CG = static_cast<int>(ws[1]);
  const int KG = static_cast<int>(ws[0] / a.groups);
  Func padded = logical_with_exterior(args[0], data, Expr(0.f), ctx.name + "_pad");
  const TensorFunc weight = args[1];

  const std::vector<Var> av = make_vars(out_type.rank(), ctx.name + "_a");
  const std::vector<Expr> o = logical_index(out_layout, av);  // n, k, oy, ox
  Func acc(ctx.name + "_conv");
  RDom r(0, static_cast<int>(ws[3]), 0, static_cast<int>(ws[2]), 0, CG, ctx.name + "_r");  // s, r, channel
  const Expr ix = o[3] * static_cast<int>(a.strides[1]) + r.x * static_cast<int>(a.dilation[1]) - static_cast<int>(a.padding[1]);
  const Expr iy = o[2] * static_cast<int>(a.strides[0]) + r.y * static_cast<int>(a.dilation[0]) - static_cast<int>(a.padding[0]);
  const Expr ic = a.groups == 1 ? Expr(r.z) : (o[1] / KG) * CG + r.z;
  const Expr wv = weight.at(lang::source_index(kernel, oihw, std::vector<Expr>{o[1], r.z, r.y, r.x}));
  acc(halide_order(av)) = 0.f;
  acc(halide_order(av)) += padded(ix, iy, ic, o[0]) * wv;

  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return acc(halide_order(v)); });
  ScheduleHook schedule = [=](const ScheduleContext& s) mutable {
    schedule_blocked(s, out_layout, acc, av, {r.x, r.y, r.z});
    // As for NCHW: the padded input an output row reads, stored per row.
    if (any_padding(a.padding)) padded.compute_at(s.output, s.output_vars[static_cast<size_t>(out_layout.position_of('H'))]);
  };
  return {value, schedule, {}};
}

template <bool kMax>
LoweredOp lower_pool2d_any_layout(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::Pool2DAttrs>(*ctx.binding.attrs);
  const lang::Layout layout = lang::Layout::parse(a.data_layout);
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto s = lang::convert_shape(args[0].type.shape, layout, logical_nchw());
  const int H = static_cast<int>(s[2]), W = static_cast<int>(s[3]);
  Func padded = logical_with_exterior(args[0], layout, kMax ? Halide::Float(32).min() : Expr(0.f), ctx.name + "_pad");
  RDom r(0, static_cast<int>(a.pool_size[1]), 0, static_cast<int>(a.pool_size[0]), ctx.name + "_r");
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& v) {
    const std::vector<Expr> o = logical_index(layout, v);
    const Expr ix = o[3] * static_cast<int>(a.strides[1]) + r.x * static_cast<int>(a.dilation[1]) - static_cast<int>(a.padding[1]);
    const Expr iy = o[2] * static_cast<int>(a.strides[0]) + r.y * static_cast<int>(a.dilation[0]) - static_cast<int>(a.padding[0]);
    if (kMax) return Halide::maximum(padded(ix, iy, o[1], o[0]));
    const int hi_x = a.count_include_pad ? W + static_cast<int>(a.padding[3]) : W;
    const int hi_y = a.count_include_pad ? H + static_cast<int>(a.padding[2]) : H;
    const int lo_x = a.count_include_pad ? -static_cast<int>(a.padding[1]) : 0;
    const int lo_y = a.count_include_pad ? -static_cast<int>(a.padding[0]) : 0;
    const Expr counted = Halide::sum(Halide::select(ix >= lo_x && ix < hi_x && iy >= lo_y && iy < hi_y, 1, 0));
    return Halide::sum(padded(ix, iy, o[1], o[0])) / Halide::cast<float>(Halide::max(counted, 1));
  });
  ScheduleHook schedule = [layout](const ScheduleContext& sc) { schedule_blocked(sc, layout, Func(), {}, {}); };
  return {value, schedule, {}};
}

// ---- conv2d, NCHW x OIHW ----
//
// Direct convolution into an accumulator computed per output tile of
// (lanes x block) = (width x output channels): the width is vectorized, the
// channel block unrolled, so each input vector load feeds `block` FMAs.
LoweredOp lower_conv2d(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::Conv2DAttrs>(*ctx.binding.attrs);
  if (a.data_layout != "NCHW" || a.kernel_layout != "OIHW" || a.out_layout != "NCHW") return lower_conv2d_any_layout(args, ctx);
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const auto& ws = args[1].type.shape;  // K, C/groups, R, S
  const int CG = static_cast<int>(ws[1]);
  const int KG = static_cast<int>(ws[0] / a.groups);
  const bool pads = any_padding(a.padding);
  Func padded = pads ? with_exterior(args[0], Expr(0.f), ctx.name + "_pad") : args[0].func;
  Func weight = args[1].func;

  Func acc(ctx.name + "_conv");
  Var x("x"), y("y"), c("c"), n("n");
  RDom r(0, static_cast<int>(ws[3]), 0, static_cast<int>(ws[2]), 0, CG, ctx.name + "_r");  // s, r, channel
  const Expr ix = x * static_cast<int>(a.strides[1]) + r.x * static_cast<int>(a.dilation[1]) - static_cast<int>(a.padding[1]);
  const Expr iy = y * static_cast<int>(a.strides[0]) + r.y * static_cast<int>(a.dilation[0]) - static_cast<int>(a.padding[0]);
  const Expr ic = a.groups == 1 ? Expr(r.z) : (c / KG) * CG + r.z;
  acc(x, y, c, n) = 0.f;
  acc(x, y, c, n) += padded(ix, iy, ic, n) * weight(r.x, r.y, r.z, c);

  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return acc(v[3], v[2], v[1], v[0]); });

  const int64_t out_w = out_type.shape[3], out_c = out_type.shape[1];
  // A block of output channels shares each input vector load only when every
  // output channel reads every input channel: with AVX-512, 16 channels x 16
  // lanes fill 16 of the 32 vector registers with accumulators.
  const bool dense_channels = a.groups == 1;
  ScheduleHook schedule = [=](const ScheduleContext& s) mutable {
    const int lanes = fitting_lanes(out_w, s.vector_lanes);
    const int block = dense_channels && out_c >= 16 && s.vector_lanes >= 16 ? 16 : out_c >= 8 ? 8 : static_cast<int>(out_c);
    const Var ox = s.output_vars[3], oy = s.output_vars[2], oc = s.output_vars[1], on = s.output_vars[0];
    Var xo("xo"), xi("xi"), co("co"), ci("ci");
    Func out = s.output;
    out.split(ox, xo, xi, lanes, TailStrategy::ShiftInwards)
        .split(oc, co, ci, block, TailStrategy::ShiftInwards)
        .reorder(xi, ci, xo, co, oy, on)
        .vectorize(xi)
        .unroll(ci)
        .parallel(oy);
    // The padded input rows one output row reads, stored per row: the inner
    // loop then loads plain vectors instead of selecting against the border.
    if (pads) padded.compute_at(out, oy).vectorize(padded.args()[0], s.vector_lanes, TailStrategy::GuardWithIf);
    acc.compute_at(out, xo).vectorize(x, lanes, TailStrategy::GuardWithIf).unroll(c);
    acc.update().reorder(x, c, r.x, r.y, r.z).vectorize(x, lanes, TailStrategy::GuardWithIf).unroll(c);
  };
  return {value, schedule, {}};
}

// ---- dense: x[M, K] . w[N, K]^T ----
//
// Both operands are contiguous along K, so K is split into vector-wide
// partial sums (lanes of K at a time), then summed across lanes; a block of
// outputs shares each load of x.
LoweredOp lower_dense(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const int K = static_cast<int>(args[0].type.shape[1]);
  const int lanes = 16;  // width of the partial sums; the schedule vectorizes it at the target width
  const int KO = K / lanes;
  const int tail = K - KO * lanes;
  Func x = args[0].func, w = args[1].func;
  Var u("u"), j("j"), i("i");
  Func partial(ctx.name + "_partial");
  partial(u, j, i) = 0.f;
  RDom ro(0, std::max(KO, 1), ctx.name + "_ro");
  if (KO > 0) partial(u, j, i) += x(ro * lanes + u, i) * w(ro * lanes + u, j);
  Func dot(ctx.name + "_dot");
  RDom ru(0, lanes, ctx.name + "_ru");
  Expr total = Halide::sum(partial(ru, j, i));
  if (tail > 0) {
    RDom rt(KO * lanes, tail, ctx.name + "_rt");
    total += Halide::sum(x(rt, i) * w(rt, j));
  }
  dot(j, i) = total;
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return dot(v[1], v[0]); });

  const int64_t N = out_type.shape[1];
  // Each parallel task recomputes its own partial-sum buffer: worth it only
  // for large products (a big matrix-vector product, memory bound).
  const bool parallel = worth_parallel(out_type.shape[0] * N * K / 16);
  ScheduleHook schedule = [=](const ScheduleContext& s) mutable {
    const int block = N >= 4 ? 4 : 1;
    Var jo("jo"), ji("ji");
    Func out = s.output;
    out.split(s.output_vars[1], jo, ji, block, TailStrategy::GuardWithIf);
    if (parallel) out.parallel(jo);
    partial.compute_at(out, jo).vectorize(u, std::min(lanes, s.vector_lanes)).unroll(j);
    if (KO > 0) partial.update().reorder(u, j, ro, i).vectorize(u, std::min(lanes, s.vector_lanes)).unroll(j);
  };
  return {value, schedule, {}};
}

// ---- batch_matmul: x[..., M, K] . y[..., K, N], batch axes broadcast ----
//
// y is contiguous along N, so N is vectorized: each x element broadcasts
// against a vector of y's row, accumulating a block of rows of the output.
LoweredOp lower_batch_matmul(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const size_t rank = out_type.rank();
  const int K = static_cast<int>(args[0].type.shape.back());
  RDom k(0, K, ctx.name + "_k");
  // Batch index of an operand broadcast to the output's batch axes.
  auto operand_index = [&](const TensorFunc& a, const std::vector<Var>& v, Expr row, Expr col) {
    std::vector<Expr> idx;
    const size_t batch = a.type.rank() - 2, offset = (rank - 2) - batch;
    for (size_t d = 0; d < batch; ++d) idx.push_back(a.type.shape[d] == 1 ? Expr(0) : Expr(v[offset + d]));
    idx.push_back(row);
    idx.push_back(col);
    return idx;
  };
  Func acc(ctx.name + "_acc");
  const std::vector<Var> vars = make_vars(rank, ctx.name + "_v");
  acc(halide_order(vars)) = 0.f;
  acc(halide_order(vars)) += args[0].at(operand_index(args[0], vars, vars[rank - 2], k)) *
                             args[1].at(operand_index(args[1], vars, k, vars[rank - 1]));
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return acc(halide_order(v)); });

  const int64_t N = out_type.shape[rank - 1], M = out_type.shape[rank - 2];
  const bool parallel = worth_parallel(out_type.element_count() * K);
  ScheduleHook schedule = [=](const ScheduleContext& s) mutable {
    const int lanes = fitting_lanes(N, s.vector_lanes);
    const int rows = M >= 4 ? 4 : static_cast<int>(M);
    Var no("no"), ni("ni"), mo("mo"), mi("mi");
    Func out = s.output;
    out.split(s.output_vars[rank - 1], no, ni, lanes, TailStrategy::GuardWithIf)
        .split(s.output_vars[rank - 2], mo, mi, rows, TailStrategy::GuardWithIf)
        .reorder(ni, mi, no, mo)
        .vectorize(ni)
        .unroll(mi);
    if (parallel && rank > 2) out.parallel(s.output_vars[0]);
    else if (parallel) out.parallel(mo);
    acc.compute_at(out, no).vectorize(vars[rank - 1], lanes, TailStrategy::GuardWithIf).unroll(vars[rank - 2]);
    acc.update().reorder(vars[rank - 1], vars[rank - 2], k).vectorize(vars[rank - 1], lanes, TailStrategy::GuardWithIf).unroll(vars[rank - 2]);
  };
  return {value, schedule, {}};
}

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

// Pooling windows over the padded input, vectorized along the output width.
ScheduleHook pooling_schedule(const lang::TensorType& out_type) {
  return [out_type](const ScheduleContext& s) {
    const int lanes = fitting_lanes(out_type.shape[3], s.vector_lanes);
    Func out = s.output;
    Var plane("plane");
    out.vectorize(s.output_vars[3], lanes, TailStrategy::GuardWithIf)
        .fuse(s.output_vars[1], s.output_vars[0], plane)
        .parallel(plane);
  };
}

template <bool kMax>
LoweredOp lower_pool2d(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::Pool2DAttrs>(*ctx.binding.attrs);
  if (a.data_layout != "NCHW") return lower_pool2d_any_layout<kMax>(args, ctx);
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto& s = args[0].type.shape;
  const int H = static_cast<int>(s[2]), W = static_cast<int>(s[3]);
  // Windows may overhang the input (padding, ceil_mode), so reads are always bounded.
  Func padded = with_exterior(args[0], kMax ? Halide::Float(32).min() : Expr(0.f), ctx.name + "_pad");
  RDom r(0, static_cast<int>(a.pool_size[1]), 0, static_cast<int>(a.pool_size[0]), ctx.name + "_r");
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& v) {
    const Expr ix = v[3] * static_cast<int>(a.strides[1]) + r.x * static_cast<int>(a.dilation[1]) - static_cast<int>(a.padding[1]);
    const Expr iy = v[2] * static_cast<int>(a.strides[0]) + r.y * static_cast<int>(a.dilation[0]) - static_cast<int>(a.padding[0]);
    if (kMax) return Halide::maximum(padded(ix, iy, v[1], v[0]));
    // Window cells inside the input, or inside the padding when count_include_pad.
    const int hi_x = a.count_include_pad ? W + static_cast<int>(a.padding[3]) : W;
    const int hi_y = a.count_include_pad ? H + static_cast<int>(a.padding[2]) : H;
    const int lo_x = a.count_include_pad ? -static_cast<int>(a.padding[1]) : 0;
    const int lo_y = a.count_include_pad ? -static_cast<int>(a.padding[0]) : 0;
    const Expr counted = Halide::sum(Halide::select(ix >= lo_x && ix < hi_x && iy >= lo_y && iy < hi_y, 1, 0));
    return Halide::sum(padded(ix, iy, v[1], v[0])) / Halide::cast<float>(Halide::max(counted, 1));
  });
  return {value, pooling_schedule(t), {}};
}

LoweredOp lower_global_avg_pool(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto& s = args[0].type.shape;
  RDom r(0, static_cast<int>(s[3]), 0, static_cast<int>(s[2]), ctx.name + "_r");
  const float inv = 1.f / static_cast<float>(s[2] * s[3]);
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& v) {
    return Halide::sum(args[0].func(r.x, r.y, v[1], v[0])) * inv;
  });
  ScheduleHook schedule = [t](const ScheduleContext& sc) {
    Func out = sc.output;
    const int lanes = fitting_lanes(t.shape[1], sc.vector_lanes);
    out.vectorize(sc.output_vars[1], lanes, TailStrategy::GuardWithIf).parallel(sc.output_vars[0]);
  };
  return {value, schedule, {}};
}

// softmax along one axis: max and sum are reductions computed at root.
LoweredOp lower_softmax(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  int64_t axis = attrs_as<lang::AxisAttrs>(*ctx.binding.attrs).axis;
  if (axis < 0) axis += static_cast<int64_t>(t.rank());
  const auto ax = static_cast<size_t>(axis);
  RDom r(0, static_cast<int>(t.shape[ax]), ctx.name + "_r");
  auto with_axis = [&](const std::vector<Var>& v, Expr e) {
    std::vector<Expr> idx(v.begin(), v.end());
    idx[ax] = e;
    return idx;
  };
  TensorFunc mx = define(ctx.name + "_max", t, [&](const std::vector<Var>& v) {
    return Halide::maximum(args[0].at(with_axis(v, r.x)));
  });
  TensorFunc e = define(ctx.name + "_exp", t, [&](const std::vector<Var>& v) {
    std::vector<Expr> idx(v.begin(), v.end());
    return Halide::exp(args[0].at(idx) - mx.at(with_axis(v, 0)));
  });
  TensorFunc sum = define(ctx.name + "_sum", t, [&](const std::vector<Var>& v) {
    return Halide::sum(e.at(with_axis(v, r.x)));
  });
  TensorFunc value = define(ctx.name, t, [&](const std::vector<Var>& v) {
    std::vector<Expr> idx(v.begin(), v.end());
    return e.at(idx) / sum.at(with_axis(v, 0));
  });
  return {value, {}, {mx.func, e.func, sum.func}};
}

}  // namespace

void register_nn_lowerings(LoweringRegistry& r) {
  r.add("nn.conv2d", lower_conv2d);
  r.add("nn.dense", lower_dense);
  r.add("nn.batch_matmul", lower_batch_matmul);
  r.add("nn.bias_add", lower_bias_add);
  r.add("nn.batch_norm", lower_batch_norm);
  r.add("nn.max_pool2d", lower_pool2d<true>);
  r.add("nn.avg_pool2d", lower_pool2d<false>);
  r.add("nn.global_avg_pool2d", lower_global_avg_pool);
  r.add("nn.softmax", lower_softmax);
}

}  // namespace modelc::lower
