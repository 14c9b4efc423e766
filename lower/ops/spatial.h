// Internal to lower/ops: what the 2-D window operators (convolutions,
// pooling) share: reading an input with its exterior filled, logical NCHW
// indices of a tensor stored in another layout, and the generic schedule of a
// result in a channels-innermost layout.
#pragma once

#include <string>
#include <vector>

#include "lang/ops/layout.h"
#include "lower/tensor_func.h"

namespace modelc::lower {

bool any_padding(const std::vector<int64_t>& padding);

// The rows of a buffer that a window's input rows are computed into as the
// output rows advance, folded (Halide does not fold it by itself: it kept
// every row of the block, 1.6 MB for MobileNetV2's first layer): the first
// output row reads (R - 1) dilation + 1 rows, each later one `stride` new
// rows; a power of two at least both.
int folded_window_rows(int R, int dilation, int stride);

// `value` where the width's test `inside_w` and the other axes' `inside_rest`
// hold, else `fill`. The width's test is wrapped in likely(): Halide splits a
// loop along the width into the borders and an interior that loads whole
// vectors without it (as its BoundaryConditions do). Without it, a clamped
// index in a vectorized loop became a gather (an int8 max pool loaded its
// bytes one vpinsrb at a time); joined with the other axes' tests (min(w, h)
// >= 0), the interior Halide found ended at the row's index.
Halide::Expr inside_or(const Halide::Expr& inside_w, const Halide::Expr& inside_rest, const Halide::Expr& value,
                       const Halide::Expr& fill);

// The NCHW input, reading `fill` outside [0, extent) of the two spatial axes.
Halide::Func with_exterior(const TensorFunc& x, Halide::Expr fill, const std::string& name);

const lang::Layout& logical_nchw();

// Logical (w, h, c, n) of a tensor stored in `layout`, reading `fill` outside the spatial extent.
Halide::Func logical_with_exterior(const TensorFunc& x, const lang::Layout& layout, Halide::Expr fill,
                                   const std::string& name);

// Logical NCHW index of the physical result index `v` in `layout`.
std::vector<Halide::Expr> logical_index(const lang::Layout& layout, const std::vector<Halide::Var>& v);

// Vectorizes the innermost axis of a result in `layout`, unrolls a few
// columns of W around it and runs rows (channel blocks and H, fused) in
// parallel when `work_per_element` (multiply-adds or window reads per output
// element) makes it worth it; `acc` (when defined) is an accumulator indexed
// like the result, computed per tile. Returns the loop of one row.
Halide::Var schedule_blocked(const ScheduleContext& s, const lang::Layout& layout, Halide::Func acc,
                             const std::vector<Halide::Var>& acc_vars, const std::vector<Halide::RVar>& reduction,
                             int64_t work_per_element);

}  // namespace modelc::lower
