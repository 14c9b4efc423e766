#include "lower/ops/spatial.h"

namespace modelc::lower {

using Halide::Expr;
using Halide::Func;
using Halide::TailStrategy;
using Halide::Var;

bool any_padding(const std::vector<int64_t>& padding) { return padding[0] || padding[1] || padding[2] || padding[3]; }

int folded_window_rows(int R, int dilation, int stride) {
  int rows = 1;
  while (rows < std::max((R - 1) * dilation + 1, stride)) rows *= 2;
  return rows;
}

Expr inside_or(const Expr& inside_w, const Expr& inside_rest, const Expr& value, const Expr& fill) {
  return Halide::select(inside_w, Halide::likely(Halide::select(inside_rest, value, fill)), fill);
}

Func with_exterior(const TensorFunc& x, Expr fill, const std::string& name) {
  const auto& s = x.type.shape;  // N, C, H, W
  Func f(name);
  Var w, h, c, n;
  Expr cw = Halide::clamp(w, 0, static_cast<int>(s[3]) - 1);
  Expr ch = Halide::clamp(h, 0, static_cast<int>(s[2]) - 1);
  f(w, h, c, n) = inside_or(w >= 0 && w < static_cast<int>(s[3]), h >= 0 && h < static_cast<int>(s[2]), x.func(cw, ch, c, n), fill);
  return f;
}

const lang::Layout& logical_nchw() {
  static const lang::Layout layout = lang::Layout::parse("NCHW");
  return layout;
}

Func logical_with_exterior(const TensorFunc& x, const lang::Layout& layout, Expr fill, const std::string& name) {
  const auto s = lang::convert_shape(x.type.shape, layout, logical_nchw());  // N, C, H, W
  Func f(name);
  Var w, h, c, n;
  Expr cw = Halide::clamp(w, 0, static_cast<int>(s[3]) - 1);
  Expr ch = Halide::clamp(h, 0, static_cast<int>(s[2]) - 1);
  f(w, h, c, n) = inside_or(w >= 0 && w < static_cast<int>(s[3]), h >= 0 && h < static_cast<int>(s[2]),
                            x.at(lang::source_index(layout, logical_nchw(), std::vector<Expr>{n, c, ch, cw})), fill);
  return f;
}

std::vector<Expr> logical_index(const lang::Layout& layout, const std::vector<Var>& v) {
  return lang::source_index(logical_nchw(), layout, std::vector<Expr>(v.begin(), v.end()));
}

Var schedule_blocked(const ScheduleContext& s, const lang::Layout& layout, Func acc, const std::vector<Var>& acc_vars,
                     const std::vector<Halide::RVar>& reduction, int64_t work_per_element) {
  const std::vector<Var>& v = s.output_vars;
  const size_t inner = v.size() - 1;
  const auto w_axis = static_cast<size_t>(layout.position_of('W'));
  const int lanes = fitting_lanes(s.output_type.shape[inner], s.vector_lanes);
  const int columns = s.output_type.shape[w_axis] >= 4 && w_axis != inner ? 4 : 1;
  Func out = s.output;
  // The accumulator lives per tile: a column group of channel vectors, or
  // in NCHW (the width is the vector) one vector of the width.
  Var tile("wo"), wi("wi");
  if (w_axis != inner) {
    out.split(v[w_axis], tile, wi, columns, TailStrategy::GuardWithIf).reorder(v[inner], wi, tile).unroll(wi);
    out.vectorize(v[inner], lanes, TailStrategy::GuardWithIf);
  } else {
    out.split(v[inner], tile, wi, lanes, TailStrategy::GuardWithIf).vectorize(wi);
  }
  // Rows: every axis outside W but the batch (channel blocks and H), fused
  // into one loop that runs in parallel tasks when the kernel is worth it
  // (parallel over H alone ran one parallel loop per channel block, each of
  // rows of a microsecond: slower on two threads than on one).
  std::vector<Var> outer;
  int64_t row_count = 1;
  for (size_t d = 1; d < w_axis; ++d) {
    outer.push_back(v[d]);
    row_count *= s.output_type.shape[d];
  }
  Var rows = outer.empty() ? v[0] : fuse_outer(out, outer, outer.size());
  const int64_t work = s.output_type.element_count() * std::max<int64_t>(1, work_per_element);
  if (!outer.empty() && row_count > 1 && worth_parallel(work))
    rows = parallel_tasks(out, rows, row_count, work / std::max<int64_t>(1, s.output_type.shape[0]));
  if (!acc.defined()) return rows;
  acc.compute_at(out, tile).vectorize(acc_vars[inner], lanes, TailStrategy::GuardWithIf);
  if (w_axis != inner) acc.unroll(acc_vars[w_axis]);
  std::vector<Halide::VarOrRVar> order{acc_vars[inner]};
  if (w_axis != inner) order.push_back(acc_vars[w_axis]);
  for (const Halide::RVar& r : reduction) order.push_back(r);
  acc.update().reorder(order).vectorize(acc_vars[inner], lanes, TailStrategy::GuardWithIf);
  if (w_axis != inner) acc.update().unroll(acc_vars[w_axis]);
  return rows;
}

}  // namespace modelc::lower
