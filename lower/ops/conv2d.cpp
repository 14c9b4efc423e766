// Compute rules and schedules of nn.conv2d, one per form:
//
//  - blocked: a dense convolution (groups 1) whose result is NCHW{k}c, input
//    NCHW{k}c or NCHW, weights packed at compile time (OIHW{ki}i{ko}o, or
//    OIHW{ko}o for an NCHW input). The fast path of CNNs on CPUs: a register
//    tile of B channel blocks x T output pixels (lower/register_tile.h)
//    accumulates while the reduction walks input channels, then the kernel
//    window; bias, activation and residual add run on the tile as it is
//    stored.
//  - depthwise blocked: groups == channels, NCHW{k}c in and out; each channel
//    block is a vector, T pixels per tile.
//  - grouped, narrow: groups of fewer channels than a block, NCHW{k}c in and
//    out, OHWI{k}o weights; a block's groups side by side in a vector.
//  - NCHW x OIHW: the model's own layout (layout: NCHW); width vectorized.
//  - anything else (NHWC, grouped in a blocked layout, ...): one rule over
//    logical indices, mapped onto the physical layouts by lang::source_index.
#include "lang/ops/nn.h"

#include "lang/ops/layout.h"
#include "lower/ops/spatial.h"
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

struct ConvGeometry {
  int sw, sh, dw, dh, pl, pt;  // strides, dilation, left/top padding
  explicit ConvGeometry(const lang::Conv2DAttrs& a)
      : sw(static_cast<int>(a.strides[1])), sh(static_cast<int>(a.strides[0])), dw(static_cast<int>(a.dilation[1])),
        dh(static_cast<int>(a.dilation[0])), pl(static_cast<int>(a.padding[1])), pt(static_cast<int>(a.padding[0])) {}
  Expr ix(Expr x, Expr s) const { return x * sw + s * dw - pl; }
  Expr iy(Expr y, Expr r) const { return y * sh + r * dh - pt; }
};

// The physical input with zeros outside its spatial extent, in Halide order:
// (ci, x, y, cb, n) for NCHW{k}c, (x, y, c, n) for NCHW. Computed once per
// call when the convolution pads, so the inner loop never tests the border.
Func padded_input(const TensorFunc& x, bool blocked, bool pads, const std::string& name) {
  const auto& s = x.type.shape;
  const int H = static_cast<int>(s[2]), W = static_cast<int>(s[3]);
  Func f(name);
  Var ci("ci"), w("w"), h("h"), c("c"), n("n");
  if (!pads) {
    if (blocked) f(ci, w, h, c, n) = x.func(ci, w, h, c, n);
    else f(w, h, c, n) = x.func(w, h, c, n);
    return f;
  }
  const Expr inside_w = w >= 0 && w < W, inside_h = h >= 0 && h < H;
  const Expr cw = Halide::clamp(w, 0, W - 1), ch = Halide::clamp(h, 0, H - 1);
  if (blocked) f(ci, w, h, c, n) = inside_or(inside_w, inside_h, x.func(ci, cw, ch, c, n), 0.f);
  else f(w, h, c, n) = inside_or(inside_w, inside_h, x.func(cw, ch, c, n), 0.f);
  return f;
}

// Materializes a padded input: rows in parallel, the innermost axis vectorized.
void schedule_padded_input(Func padded, const ScheduleContext& s) {
  const std::vector<Var> args = padded.args();
  padded.compute_root().vectorize(args[0], s.vector_lanes, TailStrategy::GuardWithIf).parallel(args[args.size() - 2]);
}

// ---- blocked: out NCHW{ko}c; grouped when each group fills whole blocks ----
bool is_blocked_dense(const lang::Conv2DAttrs& a, const lang::TensorType& out_type) {
  const lang::Layout out = lang::Layout::parse(a.out_layout), data = lang::Layout::parse(a.data_layout);
  if (a.groups < 1 || out.primal() != "NCHW" || out.rank() != 5 || !out.factor_of('C')) return false;
  const int64_t ki = data.factor_of('C'), ko = out.factor_of('C');
  if (data.str() == "NCHW") return a.groups == 1 && a.kernel_layout == "OIHW" + std::to_string(ko) + "o";
  return data.rank() == 5 && data.primal() == "NCHW" && out_type.shape[1] % a.groups == 0 &&
         a.kernel_layout == "OIHW" + std::to_string(ki) + "i" + std::to_string(ko) + "o";
}

LoweredOp lower_conv2d_blocked(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::Conv2DAttrs>(*ctx.binding.attrs);
  const lang::TensorType out_type = ctx.binding.types.at(0);  // N, K/ko, OH, OW, ko
  const lang::Layout data = lang::Layout::parse(a.data_layout);
  const bool blocked_input = data.factor_of('C') != 0;
  const auto& xs = args[0].type.shape;   // N, C/ki, H, W, ki  or  N, C, H, W
  const auto& ws = args[1].type.shape;   // K/ko, C/ki, R, S, ki, ko  or  K/ko, C, R, S, ko
  const int ki = blocked_input ? static_cast<int>(xs[4]) : 1;
  const int input_blocks = static_cast<int>(ws[1]);  // of one group: all of them when groups is 1
  const int group_blocks = static_cast<int>(out_type.shape[1] / a.groups);  // output blocks per group
  const int R = static_cast<int>(ws[2]), S = static_cast<int>(ws[3]);
  const bool pads = any_padding(a.padding);
  const bool prologue = !ctx.computed.empty() && ctx.computed[0];
  const ConvGeometry g(a);

  Func padded = padded_input(args[0], blocked_input, pads, ctx.name + "_pad");
  Func acc(ctx.name + "_conv");
  Var k("k"), x("x"), y("y"), kb("kb"), n("n");
  RDom r(0, ki, 0, S, 0, R, 0, input_blocks, ctx.name + "_r");  // ci, s, r, cb
  const Expr ix = g.ix(x, r.y), iy = g.iy(y, r.z);
  const Expr cb = a.groups == 1 ? Expr(r.w) : (kb / group_blocks) * input_blocks + r.w;  // input block
  const Expr in = blocked_input ? padded(r.x, ix, iy, cb, n) : padded(ix, iy, r.w, n);
  const Expr w = blocked_input ? args[1].func(k, r.x, r.y, r.z, r.w, kb) : args[1].func(k, r.y, r.z, r.w, kb);
  acc(k, x, y, kb, n) = 0.f;
  acc(k, x, y, kb, n) += in * w;
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return acc(halide_order(v)); });

  const int64_t work = out_type.element_count() * ki * input_blocks * R * S;
  const TensorFunc weight = args[1];
  const int64_t input_elements = args[0].type.element_count() / out_type.shape[0];  // of one image
  // A register tile of `f` (the output, or a stage holding the value inside
  // a consumer; vars in Halide order k, x, y, kb, n): B blocks x T pixels,
  // the accumulator computed per tile. Returns the loop over block tiles.
  // Weight vectors of the B blocks stay in registers while each of the T
  // input values is broadcast once and used right away: B + 1 registers
  // beside the accumulators (x inside kb would keep T broadcasts alive).
  // With tile.rows 2 the T pixels are T / 2 of two rows (y split as well).
  // Returns the loops over block tiles and over (pairs of) rows.
  auto tile_loops = [=](Func f, const RegisterTile& tile) mutable {
    const std::vector<Var> fv = f.args();
    Var xo("xo"), xi("xi"), bo("bo"), bi("bi"), yo("yo"), yi("yi");
    f.split(fv[1], xo, xi, tile.pixels / tile.rows, TailStrategy::ShiftInwards)
        .split(fv[3], bo, bi, tile.blocks, TailStrategy::ShiftInwards);
    if (tile.rows > 1) {
      f.split(fv[2], yo, yi, tile.rows, TailStrategy::ShiftInwards).reorder(fv[0], xi, yi, bi, xo, yo, bo, fv[4]).unroll(yi);
    } else {
      f.reorder(fv[0], xi, bi, xo, fv[2], bo, fv[4]);
    }
    f.vectorize(fv[0]).unroll(xi).unroll(bi);
    acc.compute_at(f, xo).vectorize(k).unroll(x).unroll(kb);
    acc.update().reorder(k, kb, x, y, r.x, r.y, r.z, r.w).vectorize(k).unroll(kb).unroll(x);
    if (tile.rows > 1) {
      acc.unroll(y);
      acc.update().unroll(y);
    }
    return std::make_pair(bo, tile.rows > 1 ? yo : fv[2]);
  };
  ScheduleHook schedule = [=](const ScheduleContext& s) mutable {
    const int ko = static_cast<int>(out_type.shape[4]);
    // From an NCHW input (a stem), LLVM keeps two more vectors live than the
    // tile model counts: MobileNetV2's 3x3 stride-2 stem spilled with 2 x 14
    // and took 0.23-0.32 ms; 2 x 8 took 0.17-0.18 (EfficientNet-B0's stem
    // 0.38 -> 0.32 ms), measured with `modelc bench --kernels`.
    const int reserved = blocked_input ? 0 : 2;
    RegisterTile tile = register_tile(s, ko, out_type.shape[1], out_type.shape[3], reserved);
    // Without tuned knobs the tile may take its pixels from two rows where
    // that recomputes fewer pixels at the row's end (lower/register_tile.h):
    // MobileNetV2's 14 x 14 projections into 12 blocks, 3 x 4 in 2 x 2
    // pixels, 0.52 -> 0.46 and 0.17 -> 0.15 ms (`--kernels`, Zen 3, one
    // thread, alternated twice), the model 1 % (whole runs, noisy).
    if (s.knobs.empty()) tile = over_two_rows(tile, out_type.shape[3], out_type.shape[2]);
    const int tile_rows = tile.rows;
    Func out = s.output;
    Var rows("rows");
    const auto [bo, yrow] = tile_loops(out, tile);
    // Too few rows and channel tiles to share among threads (a 1-D
    // convolution, whose rows are one): strips of each row's pixel tiles
    // join them, at least four tiles a strip. A 1-D audio classifier's
    // 64-channel layers over 4000 and 1000 samples ran on one core.
    const int64_t row_tile_count =
        (out_type.shape[2] + tile_rows - 1) / tile_rows * ((out_type.shape[1] + tile.blocks - 1) / tile.blocks);
    const int64_t row_tiles = (out_type.shape[3] + tile.pixels / tile_rows - 1) / (tile.pixels / tile_rows);
    constexpr int64_t kTasks = 8;  // as parallel_tasks makes where there are that many iterations
    const int64_t strips =
        row_tile_count >= kTasks ? 1 : std::clamp<int64_t>((kTasks + row_tile_count - 1) / row_tile_count, 1, row_tiles / 4);
    Var strip("strip");
    if (strips > 1) {
      Var xo("xo"), xsi("xsi");
      out.split(xo, strip, xsi, static_cast<int>((row_tiles + strips - 1) / strips), TailStrategy::GuardWithIf)
          .reorder(xsi, yrow, bo, strip);
      acc.compute_at(out, xsi);  // per tile, as tile_loops placed it
    }
    // rows: the row and channel-block tiles of one image (the batch is outside),
    // cut into contiguous parts, one per thread (runtime/modelc_executor.c).
    // A thread reads the whole input and the weights of its channel tiles
    // when the channel tiles are outside, its rows of the input and every
    // weight when the rows are: the smaller of the two is read whole.
    if (weight.type.element_count() < input_elements) {
      out.reorder(bo, yrow).fuse(bo, yrow, rows);
    } else {
      out.fuse(yrow, bo, rows);
    }
    if (strips > 1) out.fuse(rows, strip, rows);
    const int64_t row_count = row_tile_count * strips;
    const Var row_loop = worth_parallel(work) ? parallel_tasks(out, rows, row_count, work / out_type.shape[0]) : rows;
    schedule_widened(weight, Halide::LoopLevel(out, row_loop), 0);  // the B blocks' weights, for a row of tiles
    if (pads) {
      schedule_padded_input(padded, s);
    } else if (prologue) {
      // An input the kernel computes (FuseOps' prologue fusion: a squeeze-and-
      // excitation scale) is computed for the rows a row of tiles reads, into
      // a buffer that stays in cache, instead of once per broadcast.
      padded.compute_at(out, row_loop).vectorize(padded.args()[0]);
    }
  };
  if (pads || weight.widened) return {value, schedule, {}};
  // Computed inside a depthwise convolution's loops (ProducerStage): `stage`
  // holds a few rows of B output blocks (the template's register tile, which
  // the consumer's tasks take together), in the same register tiles. Its
  // epilogue runs on every accumulator inside the tile, and LLVM interleaves
  // the tile's epilogues: with 32 registers six are left to their temporaries
  // (EfficientNet-B0's swish spilled with 3 x 7 and 2 x 14 tiles: its fused
  // expansion kernels 2-10 % faster with 3 x 7 and 2 x 7, the model 2-3 %
  // at one thread in two alternated profiles; MobileNetV2's clip unchanged).
  // With AVX2's 16, five (tiles of 2 x 4, not 3 x 4, which fill all 16
  // before any temporary): EfficientNet-B0's 112 x 112 expansion kernel
  // 1.38-2.71 -> 1.16-1.18 ms, its fused kernels 8.5 -> 7.2 ms together,
  // MobileNetV2's 3.84 -> 3.82 (Zen 3, one thread, `--kernels` in three
  // alternated rounds; four reserved the same within the noise, six slower).
  const RegisterFile registers = register_file(ctx.target);
  const RegisterTile tile = choose_register_tile(registers, static_cast<int>(out_type.shape[4]), out_type.shape[1],
                                                 out_type.shape[3], registers.vector_registers >= 32 ? 6 : 5);
  ProducerStage stage{[=](Func stage) mutable { tile_loops(stage, tile); }, tile.blocks, work};
  return {value, schedule, {}, stage};
}

// ---- depthwise blocked: groups == C == K, NCHW{k}c in and out, OIHW{k}o weights ----
bool is_depthwise_blocked(const lang::Conv2DAttrs& a, const lang::TensorType& in, const lang::TensorType& out) {
  const lang::Layout o = lang::Layout::parse(a.out_layout), d = lang::Layout::parse(a.data_layout);
  if (o.primal() != "NCHW" || o.rank() != 5 || d.str() != o.str() || !o.factor_of('C')) return false;
  const int64_t channels = in.shape[1] * in.shape[4];
  return a.groups > 1 && a.groups == channels && out.shape[1] * out.shape[4] == channels &&
         a.kernel_layout == "OIHW" + std::to_string(o.factor_of('C')) + "o";
}

LoweredOp lower_conv2d_depthwise_blocked(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::Conv2DAttrs>(*ctx.binding.attrs);
  const lang::TensorType out_type = ctx.binding.types.at(0);  // N, C/k, OH, OW, k
  const auto& ws = args[1].type.shape;                        // C/k, 1, R, S, k
  const int R = static_cast<int>(ws[2]), S = static_cast<int>(ws[3]);
  const bool pads = any_padding(a.padding);
  const ConvGeometry g(a);

  // The input through a Func of its own: where FuseOps fused the convolution
  // producing it into this kernel, the schedule computes it here, rows as
  // they are needed (ProducerStage); otherwise it is inlined.
  Func staged(ctx.name + "_in");
  Var k("k"), x("x"), y("y"), cb("cb"), n("n");
  staged(k, x, y, cb, n) = args[0].func(k, x, y, cb, n);
  Func padded = padded_input(TensorFunc{staged, args[0].type}, true, pads, ctx.name + "_pad");
  Func acc(ctx.name + "_conv");
  RDom r(0, S, 0, R, ctx.name + "_r");
  acc(k, x, y, cb, n) = 0.f;
  acc(k, x, y, cb, n) += padded(k, g.ix(x, r.x), g.iy(y, r.y), cb, n) * args[1].func(k, r.x, r.y, 0, cb);
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return acc(halide_order(v)); });

  // Each multiply-add loads its own input vector: one takes about four times
  // as long as in a dense convolution, and parallel loops are weighed so.
  const int64_t work = out_type.element_count() * R * S * 4;
  const TensorFunc weight = args[1];
  ScheduleHook schedule = [=](const ScheduleContext& s) mutable {
    const std::vector<Var>& v = s.output_vars;  // n, cb, y, x, k
    const int block = static_cast<int>(out_type.shape[4]);
    // No weight vector is shared between pixels' inputs here: each FMA loads
    // its own input vector, so the tile only needs to keep enough FMAs in
    // flight. With the taps of a row unrolled, an input vector serves S
    // neighbouring outputs and stays in a register meanwhile: about one
    // register per accumulator. Leaving half the registers to them, T is 7
    // with AVX2 (instead of 14, which spilled: 1.3-2x slower per layer in
    // `modelc tune` on MobileNetV2 and EfficientNet-B0, Zen 3).
    const int reserved = register_file(s.target).vector_registers / 2 - 1;
    const RegisterTile tile = register_tile(s, block, 1, out_type.shape[3], reserved);
    Func out = s.output;
    Var xo("xo"), xi("xi");
    out.split(v[3], xo, xi, tile.pixels, TailStrategy::ShiftInwards)
        .reorder(v[4], xi, xo, v[2], v[1], v[0])
        .vectorize(v[4])
        .unroll(xi);
    // Channel blocks in parallel, rows in order within a block: the padded
    // input rows a row reads are computed as the rows advance (Halide's sliding
    // window keeps the R rows in a small folded buffer), so the input is read
    // from memory once and never copied whole.
    Var row = v[2], channel_block = v[1];
    const int64_t CB = out_type.shape[1], OH = out_type.shape[2];
    // A task takes a group of channel blocks (a fused producer's register
    // tile, else one block), each row's blocks one after the other, and a
    // strip of rows: at least 4 tasks where strips keep 4 rows or more (a
    // strip computes the R - 1 rows above it again). A fused producer's rows
    // are computed the same way, before the padded rows that read them.
    // Strips also keep a thread's part of the image on its core: the layer
    // before (a stem, its rows outside: lower_conv2d_blocked) left each
    // thread its rows in cache, and split by blocks alone, each read half of
    // its block from the other core. MobileNetV2's first depthwise layer (two
    // blocks, no producer) 0.87x at two threads, and the projection after it,
    // which reads what it wrote, 0.72x (`--kernels`, two alternated rounds;
    // whole runs within the noise).
    const int blocks = s.producer ? static_cast<int>(std::min<int64_t>(s.producer->blocks, CB)) : 1;
    const int64_t groups = (CB + blocks - 1) / blocks;
    // Planes of 28 rows or more take 2 strips at least (4 from 112 rows), the
    // strips outermost: the tasks of a team's first member are then the
    // upper rows of every channel, as in the 1x1 layers around (their rows
    // outside, lower_conv2d_blocked), so each core reads the rows it wrote
    // and writes the rows the next layer reads on it. Split by channel groups
    // alone, each core read half of the expansion's input from the other
    // core, and the projection half of this output: MobileNetV2's fused
    // 28 x 28 layer (6 groups) 0.118-0.127 -> 0.087-0.092 ms at two threads
    // and the projection after it 0.075-0.087 -> 0.054-0.055, the other
    // layers unchanged (`--kernels`, three alternated rounds; at one thread
    // the first 0-6 % slower, its halo rows).
    const int64_t min_strips = OH >= 112 ? 4 : OH >= 28 ? 2 : 1;
    const int64_t strips =
        std::clamp<int64_t>(std::max((4 + groups - 1) / groups, min_strips), 1, std::max<int64_t>(1, OH / 4));
    if (s.producer || strips > 1) {
      Var cbo("cbo"), cbi("cbi"), ys("ys"), yi("yi"), task("task");
      out.split(v[1], cbo, cbi, blocks, TailStrategy::ShiftInwards);
      if (strips > 1) {
        out.split(v[2], ys, yi, static_cast<int>((OH + strips - 1) / strips), TailStrategy::ShiftInwards)
            .reorder(xo, cbi, yi, cbo, ys, v[0])
            .fuse(cbo, ys, task);
        row = yi;
      } else {
        out.reorder(xo, cbi, v[2], cbo, v[0]).rename(cbo, task);
      }
      channel_block = task;
      if (worth_parallel(work + (s.producer ? s.producer->work : 0))) out.parallel(task);
    } else if (worth_parallel(work)) {
      // Four blocks or more, no producer: the blocks in tasks, rows in order.
      channel_block = parallel_tasks(out, v[1], CB, work / out_type.shape[0]);
    }
    acc.compute_at(out, xo).vectorize(k).unroll(x);
    acc.update().reorder(k, x, r.x, r.y).vectorize(k).unroll(x).unroll(r.x);
    schedule_widened(weight, Halide::LoopLevel(out, channel_block), 0);  // the block's R x S taps
    if (pads) {
      const std::vector<Var> pv = padded.args();  // ci, x, y, cb, n
      padded.store_at(out, channel_block).compute_at(out, row).vectorize(pv[0]);
    }
    if (s.producer) {
      const std::vector<Var> sv = staged.args();  // ci, x, y, cb, n
      staged.store_at(out, channel_block).compute_at(out, row).fold_storage(sv[2], folded_window_rows(R, g.dh, g.sh));
      s.producer->apply(staged);
    }
  };
  LoweredOp lowered{value, schedule, {}};
  lowered.takes_producer = true;
  return lowered;
}

// ---- grouped, narrow groups: g channels per group in and out, g < k, k % g == 0,
// NCHW{k}c in and out, OHWI{k}o weights ----
//
// A block holds k / g whole groups. Output lane c of a block sums, over the
// g input channels i of its group, the input lane (c / g) g + i times the
// weight of (c, i): the accumulator is indexed by (lane within the group,
// group within the block), both vectorized, so Halide loads the input
// block's lanes i, g + i, 2g + i, ... once per pixel and spreads each over
// its group's lanes (a permute), where one index c / g * g + i gathered
// lane by lane. ResNeXt's 4-channel groups at 16 lanes (32 groups of a
// 128-channel 3x3 layer, 56 x 56): 122 GFLOP/s of useful multiply-adds on one
// Zen 5 core in a standalone test, against 25-35 through the generic rule and
// about 42 with four groups joined by zero weights.
bool is_grouped_narrow(const lang::Conv2DAttrs& a, const lang::TensorType& in, const lang::TensorType& out) {
  const lang::Layout o = lang::Layout::parse(a.out_layout), d = lang::Layout::parse(a.data_layout);
  if (o.primal() != "NCHW" || o.rank() != 5 || d.str() != o.str() || !o.factor_of('C')) return false;
  const int64_t k = o.factor_of('C'), channels = in.shape[1] * in.shape[4];
  if (a.groups <= 1 || channels % a.groups != 0 || out.shape[1] * out.shape[4] != channels) return false;
  const int64_t g = channels / a.groups;
  return g < k && k % g == 0 && a.kernel_layout == "OHWI" + std::to_string(k) + "o";
}

LoweredOp lower_conv2d_grouped_narrow(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::Conv2DAttrs>(*ctx.binding.attrs);
  const lang::TensorType out_type = ctx.binding.types.at(0);  // N, C/k, OH, OW, k
  const auto& ws = args[1].type.shape;                        // C/k, R, S, g, k
  const int R = static_cast<int>(ws[1]), S = static_cast<int>(ws[2]), G = static_cast<int>(ws[3]);
  const int block = static_cast<int>(ws[4]);
  const bool pads = any_padding(a.padding);
  const ConvGeometry geo(a);
  Func padded = padded_input(args[0], true, pads, ctx.name + "_pad");
  Func acc(ctx.name + "_conv");
  Var cl("cl"), cg("cg"), x("x"), y("y"), cb("cb"), n("n");
  RDom r(0, G, 0, S, 0, R, ctx.name + "_r");  // input channel of the group, tap column, tap row
  acc(cl, cg, x, y, cb, n) = 0.f;
  acc(cl, cg, x, y, cb, n) +=
      padded(cg * G + r.x, geo.ix(x, r.y), geo.iy(y, r.z), cb, n) * args[1].func(cg * G + cl, r.x, r.y, r.z, cb);
  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) {  // n, cb, y, x, k
    return acc(v[4] % G, v[4] / G, v[3], v[2], v[1], v[0]);
  });
  const int64_t work = out_type.element_count() * G * R * S;
  const TensorFunc weight = args[1];
  ScheduleHook schedule = [=](const ScheduleContext& s) mutable {
    const std::vector<Var>& v = s.output_vars;  // n, cb, y, x, k
    // T accumulators, the S x g weight vectors of a kernel row and the spread
    // inputs of T + S - 1 pixels: 8 pixels with 32 registers (4, 6, 12 and
    // 14 were slower in the standalone test), 4 with 16.
    const int64_t OW = out_type.shape[3], OH = out_type.shape[2], CB = out_type.shape[1];
    const int T = static_cast<int>(std::min<int64_t>(register_file(s.target).vector_registers >= 32 ? 8 : 4, OW));
    Func out = s.output;
    Var xo("xo"), xi("xi");
    out.split(v[3], xo, xi, T, TailStrategy::ShiftInwards)
        .reorder(v[4], xi, xo, v[2], v[1], v[0])
        .vectorize(v[4])
        .unroll(xi);
    // Tasks: channel blocks, and strips of rows where the blocks are fewer
    // than eight; rows in order within a task, the padded input rows a row
    // reads computed as they advance (a sliding window, as for depthwise).
    const int64_t strips = std::clamp<int64_t>((8 + CB - 1) / CB, 1, std::max<int64_t>(1, OH / 4));
    Var row = v[2], task = v[1];
    if (strips > 1) {
      Var ys("ys"), yi("yi"), t("task");
      out.split(v[2], ys, yi, static_cast<int>((OH + strips - 1) / strips), TailStrategy::ShiftInwards)
          .reorder(xo, yi, v[1], ys, v[0])
          .fuse(v[1], ys, t);
      row = yi;
      task = t;
    }
    if (worth_parallel(work)) out.parallel(task);
    acc.compute_at(out, xo).bound_extent(cl, G).bound_extent(cg, block / G).vectorize(cl).vectorize(cg).unroll(x);
    acc.update()
        .reorder(cl, cg, x, r.y, r.x, r.z)
        .vectorize(cl)
        .vectorize(cg)
        .unroll(x)
        .unroll(r.x)
        .unroll(r.y);
    schedule_widened(weight, Halide::LoopLevel(out, task), 0);  // the block's R x S x g weight vectors
    if (pads) {
      const std::vector<Var> pv = padded.args();  // ci, x, y, cb, n
      padded.store_at(out, task).compute_at(out, row).vectorize(pv[0]);
    }
  };
  return {value, schedule, {}};
}

// ---- any layout: logical indices over the physical layouts ----
//
// The accumulator is indexed like the physical result, whose innermost axis
// (the channel block of NCHW{k}c, the channels of NHWC) is vectorized: each
// input element broadcasts against a vector of weights of consecutive output
// channels.
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
  const ConvGeometry g(a);

  const std::vector<Var> av = make_vars(out_type.rank(), ctx.name + "_a");
  const std::vector<Expr> o = logical_index(out_layout, av);  // n, k, oy, ox
  Func acc(ctx.name + "_conv");
  RDom r(0, static_cast<int>(ws[3]), 0, static_cast<int>(ws[2]), 0, CG, ctx.name + "_r");  // s, r, channel
  const Expr ic = a.groups == 1 ? Expr(r.z) : (o[1] / KG) * CG + r.z;
  const Expr wv = weight.at(lang::source_index(kernel, oihw, std::vector<Expr>{o[1], r.z, r.y, r.x}));
  acc(halide_order(av)) = 0.f;
  acc(halide_order(av)) += padded(g.ix(o[3], r.x), g.iy(o[2], r.y), ic, o[0]) * wv;

  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return acc(halide_order(v)); });
  ScheduleHook schedule = [=](const ScheduleContext& s) mutable {
    const Var row = schedule_blocked(s, out_layout, acc, av, {r.x, r.y, r.z}, int64_t{CG} * ws[2] * ws[3]);
    // As for NCHW: the padded input an output row reads, stored per row.
    if (any_padding(a.padding)) padded.compute_at(s.output, row);
  };
  return {value, schedule, {}};
}

// ---- NCHW x OIHW ----
//
// Direct convolution into an accumulator computed per output tile of
// (lanes x block) = (width x output channels): the width is vectorized, the
// channel block unrolled, so each input vector load feeds `block` FMAs.
LoweredOp lower_conv2d_nchw(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = attrs_as<lang::Conv2DAttrs>(*ctx.binding.attrs);
  const lang::TensorType out_type = ctx.binding.types.at(0);
  const auto& ws = args[1].type.shape;  // K, C/groups, R, S
  const int CG = static_cast<int>(ws[1]);
  const int KG = static_cast<int>(ws[0] / a.groups);
  const bool pads = any_padding(a.padding);
  Func padded = pads ? with_exterior(args[0], Expr(0.f), ctx.name + "_pad") : args[0].func;
  Func weight = args[1].func;
  const ConvGeometry g(a);

  Func acc(ctx.name + "_conv");
  Var x("x"), y("y"), c("c"), n("n");
  RDom r(0, static_cast<int>(ws[3]), 0, static_cast<int>(ws[2]), 0, CG, ctx.name + "_r");  // s, r, channel
  const Expr ic = a.groups == 1 ? Expr(r.z) : (c / KG) * CG + r.z;
  acc(x, y, c, n) = 0.f;
  acc(x, y, c, n) += padded(g.ix(x, r.x), g.iy(y, r.y), ic, n) * weight(r.x, r.y, r.z, c);

  TensorFunc value = define(ctx.name, out_type, [&](const std::vector<Var>& v) { return acc(v[3], v[2], v[1], v[0]); });

  const int64_t out_w = out_type.shape[3], out_c = out_type.shape[1];
  // A block of output channels shares each input vector load only when every
  // output channel reads every input channel: with AVX-512, 16 channels x 16
  // lanes fill 16 of the 32 vector registers with accumulators.
  const bool dense_channels = a.groups == 1;
  const TensorFunc widened_weight = args[1];
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
    // Half-precision weights widened once per call, before the rows: every
    // row reads all of them (widening per row and channel block converted
    // about one weight per multiply-add vector on the 7x7 layers).
    schedule_widened_once(widened_weight, s.vector_lanes);
  };
  return {value, schedule, {}};
}

LoweredOp lower_conv2d(std::span<const TensorFunc> operands, const LowerContext& ctx) {
  const std::vector<TensorFunc> args = with_float32_weight(operands, ctx);
  const auto& a = attrs_as<lang::Conv2DAttrs>(*ctx.binding.attrs);
  if (a.data_layout == "NCHW" && a.kernel_layout == "OIHW" && a.out_layout == "NCHW") return lower_conv2d_nchw(args, ctx);
  if (is_blocked_dense(a, ctx.binding.types.at(0))) return lower_conv2d_blocked(args, ctx);
  if (is_depthwise_blocked(a, args[0].type, ctx.binding.types.at(0))) return lower_conv2d_depthwise_blocked(args, ctx);
  if (is_grouped_narrow(a, args[0].type, ctx.binding.types.at(0))) return lower_conv2d_grouped_narrow(args, ctx);
  return lower_conv2d_any_layout(args, ctx);
}

}  // namespace

void register_conv_lowerings(LoweringRegistry& r) { r.add("nn.conv2d", lower_conv2d); }

}  // namespace modelc::lower
