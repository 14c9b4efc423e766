// nn.conv2d_winograd (lang/ops/winograd.h): a Halide pipeline of four stages.
//
//   V[e][cb][t][ci] = Bh^T d Bw    input tiles transformed, at root
//   M[e][kb][t][ko] = U[e] . V[e]  one matrix product per tile position e, at root,
//                                  register-tiled like a blocked convolution
//   Mt              = Ah^T M       per output tile, as the output is stored
//   out             = Mt Aw (+ the fused epilogue: bias, activation, residual)
//
// with t the flattened tile index (ty * tiles_x + tx). The transforms are
// written out as sparse sums of the constant matrices' non-zero entries; a
// Func over a transform index (xi, nu, u, w) selects the sum of that index,
// and the schedules unroll those indices so each copy keeps only its own sum.
#include "lang/ops/winograd.h"

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

// sum_k c[row * n + k] * term(k) over the non-zero coefficients.
Expr sparse_row(const std::vector<double>& c, int row, int n, const std::function<Expr(int)>& term) {
  Expr sum;
  for (int k = 0; k < n; ++k) {
    const double w = c[static_cast<size_t>(row * n + k)];
    if (w == 0) continue;
    Expr t = term(k);
    if (w == -1) t = -t;
    else if (w != 1) t = static_cast<float>(w) * t;
    sum = sum.defined() ? sum + t : t;
  }
  return sum.defined() ? sum : Expr(0.f);
}

// The value of `rows` sums selected by `index` (unrolled by the schedule).
Expr select_row(Expr index, int rows, const std::function<Expr(int)>& row) {
  Expr e = row(rows - 1);
  for (int r = rows - 2; r >= 0; --r) e = Halide::select(index == r, row(r), e);
  return e;
}

LoweredOp lower_conv2d_winograd(std::span<const TensorFunc> operands, const LowerContext& ctx) {
  const std::vector<TensorFunc> args = with_float32_weight(operands, ctx);
  const auto& a = attrs_as<lang::Conv2DWinogradAttrs>(*ctx.binding.attrs);
  // Rows (h) and columns (w) each have their own F(m, r); a 1 x r or r x 1
  // kernel's other axis is the identity (m = a = 1).
  const lang::WinogradAxes mat = lang::winograd_axes(a.tile, a.kernel.at(0), a.kernel.at(1));
  const int mh = mat.h.m, mw = mat.w.m, ah = mat.h.a, aw = mat.w.a;
  const lang::TensorType out_type = ctx.binding.types.at(0);  // N, KB, OH, OW, ko
  const auto& xs = args[0].type.shape;                        // N, CB, H, W, ki
  const auto& us = args[1].type.shape;                        // ah*aw, KB, CB, ki, ko
  const int H = static_cast<int>(xs[2]), W = static_cast<int>(xs[3]);
  const int ki = static_cast<int>(xs[4]), CB = static_cast<int>(xs[1]);
  const int OH = static_cast<int>(out_type.shape[2]), OW = static_cast<int>(out_type.shape[3]);
  const int tiles_x = (OW + mw - 1) / mw, tiles_y = (OH + mh - 1) / mh, tiles = tiles_x * tiles_y;
  const int pt = static_cast<int>(a.padding[0]), pl = static_cast<int>(a.padding[1]);
  const Func x = args[0].func, u = args[1].func;
  const std::string& name = ctx.name;

  // Input tiles: d(ci, i, j, t, cb, n) is row j, column i of tile t.
  Var ci("ci"), i("i"), j("j"), t("t"), cb("cb"), n("n"), xi("xi"), nu("nu");
  auto d = [&](Expr c, Expr col, Expr row, Expr tile, Expr blk, Expr batch) {
    const Expr xx = (tile % tiles_x) * mw - pl + col, yy = (tile / tiles_x) * mh - pt + row;
    const Expr inside = xx >= 0 && xx < W && yy >= 0 && yy < H;
    return Halide::select(inside, x(c, Halide::clamp(xx, 0, W - 1), Halide::clamp(yy, 0, H - 1), blk, batch), 0.f);
  };
  Func rows_t(name + "_bt_rows");  // (Bw^T d^T)^T: the columns transformed, per row j
  rows_t(ci, xi, j, t, cb, n) = select_row(xi, aw, [&](int r) {
    return sparse_row(mat.w.bt, r, aw, [&](int k) { return d(ci, k, j, t, cb, n); });
  });
  Func v(name + "_v");  // V(ci, t, cb, xi, nu, n): row nu, column xi of Bh^T d Bw
  v(ci, t, cb, xi, nu, n) = select_row(nu, ah, [&](int r) {
    return sparse_row(mat.h.bt, r, ah, [&](int k) { return rows_t(ci, xi, k, t, cb, n); });
  });

  // M(ko, t, kb, xi, nu, n) = sum over channels of U[e] V[e], e = nu * aw + xi.
  Var ko("ko"), kb("kb");
  RDom r(0, ki, 0, CB, name + "_r");  // ci, cb
  Func acc(name + "_acc"), prod(name + "_m");
  acc(ko, t, kb, xi, nu, n) = 0.f;
  acc(ko, t, kb, xi, nu, n) += u(ko, r.x, r.y, kb, nu * aw + xi) * v(r.x, t, r.y, xi, nu, n);
  prod(ko, t, kb, xi, nu, n) = acc(ko, t, kb, xi, nu, n);

  // Output: Mt(ko, xi, w, t, kb, n) = sum_nu Ah^T[w][nu] M[nu][xi]; out = sum_xi Aw^T[u][xi] Mt(xi, w).
  Var w("w");
  Func cols_t(name + "_at_cols");
  cols_t(ko, xi, w, t, kb, n) = select_row(w, mh, [&](int row) {
    return sparse_row(mat.h.at, row, ah, [&](int k) { return prod(ko, t, kb, xi, k, n); });
  });
  TensorFunc value = define(name, out_type, [&](const std::vector<Var>& o) {  // n, kb, y, x, ko
    const Expr tile = (o[2] / mh) * tiles_x + o[3] / mw;
    return select_row(o[3] % mw, mw, [&](int col) {
      return sparse_row(mat.w.at, col, aw, [&](int k) { return cols_t(o[4], k, o[2] % mh, tile, o[1], o[0]); });
    });
  });

  const int64_t work = out_type.element_count() * ki * CB * a.kernel.at(0) * a.kernel.at(1);
  const TensorFunc weight = args[1];
  // By tiles or by stages. By stages (each at root, in parallel over its own
  // axis: V over channel blocks, M over the a x a positions, the output over
  // rows) every stage reads what the other core wrote, and the next call
  // writes it again while that core still holds it: on two cores of Zen 5
  // SqueezeNet's 56 x 56 layer ran 0.67x as fast as on one. By tiles each
  // task transforms its own rows of tiles, multiplies them at every position
  // and stores them: only the weights are shared, and each task reads all of
  // them, so that is the form where they are no larger than the transformed
  // tiles V and M (early layers; deep ones, with many channels over few
  // tiles, stay by stages).
  const int64_t weight_bytes = int64_t{4} * ah * aw * CB * ki * us[1] * us[4];
  const int64_t tile_bytes = int64_t{4} * ah * aw * tiles * (CB * ki + out_type.shape[1] * out_type.shape[4]);
  const bool by_tiles = worth_parallel(work) && tiles_y > 1 && weight_bytes <= tile_bytes;
  ScheduleHook schedule = [=](const ScheduleContext& s) mutable {
    const int block = static_cast<int>(us[4]);
    const int64_t blocks = us[1];
    const std::vector<Var>& o = s.output_vars;  // n, kb, y, x, ko
    Var tx("tx"), ox("ox"), ty("ty"), oy("oy"), rows("rows"), task("task"), ty_in("ty_in");
    Func out = s.output;
    out.split(o[3], tx, ox, mw, TailStrategy::GuardWithIf).split(o[2], ty, oy, mh, TailStrategy::GuardWithIf);
    // The loop of a task (by tiles) and the tiles it covers.
    Halide::LoopLevel task_level = Halide::LoopLevel::root();
    int task_tiles = tiles;
    if (by_tiles) {
      out.reorder(o[4], ox, oy, tx, o[1], ty, o[0]).vectorize(o[4]).unroll(ox).unroll(oy);
      const int size = static_cast<int>(parallel_task_size(tiles_y, work / out_type.shape[0]));
      if (size > 1) {
        out.split(ty, task, ty_in, size, TailStrategy::GuardWithIf).parallel(task);
        task_level = Halide::LoopLevel(out, task);
      } else {
        out.parallel(ty);
        task_level = Halide::LoopLevel(out, ty);
      }
      task_tiles = std::min(tiles, size * tiles_x);
    } else {
      out.reorder(o[4], ox, oy, tx, ty, o[1], o[0]).vectorize(o[4]).unroll(ox).unroll(oy).fuse(ty, o[1], rows);
      if (worth_parallel(work))
        parallel_tasks(out, rows, int64_t{tiles_y} * out_type.shape[1], out_type.element_count() / out_type.shape[0] * ah * aw);
    }
    // Input transform: a whole tile's a x a positions at once, channels in vectors.
    // (The transforms' work: about ah + aw multiply-adds per element they write.)
    v.compute_at(task_level).reorder(ci, xi, nu, t, cb, n).vectorize(ci).unroll(xi).unroll(nu);
    if (!by_tiles) parallel_tasks(v, cb, CB, int64_t{tiles} * ah * aw * ki * CB * (ah + aw));
    rows_t.compute_at(v, t).vectorize(ci).unroll(xi).unroll(j);
    // The matrix products: a register tile of B channel blocks x T tiles per position e.
    const RegisterTile tile = register_tile(s, block, blocks, task_tiles);
    Var to("to"), ti("ti"), bo("bo"), bi("bi"), e("e");
    prod.compute_at(task_level)
        .split(t, to, ti, tile.pixels, TailStrategy::ShiftInwards)
        .split(kb, bo, bi, tile.blocks, TailStrategy::ShiftInwards)
        .reorder(ko, ti, bi, to, bo, xi, nu, n)
        .vectorize(ko)
        .unroll(ti)
        .unroll(bi)
        .fuse(xi, nu, e);
    if (!by_tiles) prod.parallel(e);
    acc.compute_at(prod, to).vectorize(ko).unroll(t).unroll(kb);
    acc.update().reorder(ko, kb, t, r.x, r.y).vectorize(ko).unroll(kb).unroll(t);
    schedule_widened(weight, Halide::LoopLevel(prod, bo), 0);  // the B blocks' weights at one position, for every tile
    // Output transform, tile by tile, as the result (and its epilogue) is stored.
    cols_t.compute_at(out, tx).bound(xi, 0, aw).bound(w, 0, mh).vectorize(ko).unroll(xi).unroll(w);
  };
  return {value, schedule, {}};
}

}  // namespace

void register_winograd_lowerings(LoweringRegistry& r) { r.add("nn.conv2d_winograd", lower_conv2d_winograd); }

}  // namespace modelc::lower
