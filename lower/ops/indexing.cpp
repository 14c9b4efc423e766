// Compute rules of gather_nd and the scatters.
//
// gather_nd is pure index arithmetic. A scatter is a Func whose pure
// definition copies `data` and whose one update definition walks `updates` in
// row-major order, writing (or adding, multiplying) each element at the place
// its indices name; walking in order gives ONNX's meaning to duplicate
// indices (the last write wins, or every update accumulates). Indices are
// clamped into their axes, so a bad index changes a result but never writes
// outside the buffer (the reference kernel reports it instead).
#include "lang/ops/indexing.h"

#include "lower/tensor_func.h"

namespace modelc::lower {
namespace {

using Halide::Expr;
using Halide::RDom;
using Halide::Var;

// An index read from an integer tensor, counted from the end when negative
// and clamped into [0, extent).
Expr clamped_index(const Expr& raw, int64_t extent) {
  Expr i = Halide::cast<int32_t>(raw);
  i = Halide::select(i < 0, i + static_cast<int>(extent), i);
  return Halide::clamp(i, 0, static_cast<int>(extent) - 1);
}

std::vector<Expr> exprs(std::span<const Var> vars) { return {vars.begin(), vars.end()}; }

LoweredOp lower_gather_nd(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const lang::TensorType t = ctx.binding.types.at(0);
  const auto& data = args[0].type;
  const auto& indices = args[1].type;
  const auto batch = static_cast<size_t>(lang::attrs_as<lang::GatherNDAttrs>(*ctx.binding.attrs).batch_dims);
  const auto depth = static_cast<size_t>(indices.shape.back());
  const size_t tuple_rank = indices.rank() - 1;  // result axes that pick the index tuple
  return {define(ctx.name, t, [&](const std::vector<Var>& v) {
            std::vector<Expr> at(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(tuple_rank));
            std::vector<Expr> src(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(batch));
            for (size_t m = 0; m < depth; ++m) {
              at.push_back(static_cast<int>(m));
              src.push_back(clamped_index(args[1].at(at), data.shape[batch + m]));
              at.pop_back();
            }
            src.insert(src.end(), v.begin() + static_cast<std::ptrdiff_t>(tuple_rank), v.end());
            return args[0].at(src);
          }),
          {}, {}};
}

// A reduction domain over `shape` whose loops run in row-major order (its
// first dimension is Halide's innermost loop), and its variables in IR order.
struct RowMajorDomain {
  RDom domain;
  std::vector<Expr> at;  // IR order
};

RowMajorDomain row_major_domain(const std::vector<int64_t>& shape, const std::string& name) {
  Halide::Region extents;
  for (size_t d = shape.size(); d-- > 0;) extents.push_back(Halide::Range(0, static_cast<int>(shape[d])));
  if (extents.empty()) extents.push_back(Halide::Range(0, 1));  // a scalar: one update
  RowMajorDomain r{RDom(extents, name), {}};
  for (size_t d = 0; d < shape.size(); ++d) r.at.push_back(r.domain[static_cast<int>(shape.size() - 1 - d)]);
  return r;
}

// The pure copy of data, and the scatter of `value` (read at `r`) to `target`
// (IR order), in the reduction's way.
TensorFunc scatter_func(const TensorFunc& data, const std::vector<Expr>& target, const Expr& value,
                        lang::ScatterReduction reduction, const std::string& name) {
  TensorFunc f = define(name, data.type, [&](const std::vector<Var>& v) { return data.at(exprs(v)); });
  const std::vector<Expr> lhs = halide_order(target);
  switch (reduction) {
    case lang::ScatterReduction::none: f.func(lhs) = value; break;
    case lang::ScatterReduction::add: f.func(lhs) = f.func(lhs) + value; break;
    case lang::ScatterReduction::mul: f.func(lhs) = f.func(lhs) * value; break;
  }
  return f;
}

// The update runs serially over the updates except along `free_dims`:
// update dimensions (IR order, innermost last) that the target uses
// unchanged, so that updates differing in one never meet. The innermost of
// those is vectorized when it is the innermost loop and wide enough; the
// outermost runs in parallel when there is enough work. Either keeps the
// order of the updates that land on one element.
void schedule_update(Halide::Func func, const RowMajorDomain& r, const std::vector<int64_t>& shape,
                     const std::vector<size_t>& free_dims, int vector_lanes) {
  Halide::Stage update = func.update(0);
  if (free_dims.empty()) {
    update.unscheduled();  // serial, in order, on purpose
    return;
  }
  const size_t inner = free_dims.back(), outer = free_dims.front();
  const int lanes = fitting_lanes(shape[inner], vector_lanes);
  const bool vectorized = lanes > 1 && inner + 1 == shape.size();
  if (vectorized) update.vectorize(r.domain[0], lanes);
  int64_t work = 1;
  for (int64_t e : shape) work *= e;
  if ((vectorized && outer == inner) || shape[outer] < 2 || work < (1 << 14)) {
    if (!vectorized) update.unscheduled();
    return;
  }
  // A parallel loop must be outermost: move it out of the loops over the
  // other dimensions, whose order inside each thread stays row-major.
  const Halide::RVar p = r.domain[static_cast<int>(shape.size() - 1 - outer)];
  std::vector<Halide::VarOrRVar> order;
  for (int d = 0; d < r.domain.dimensions(); ++d)
    if (r.domain[d].name() != p.name()) order.emplace_back(r.domain[d]);
  order.emplace_back(p);
  update.reorder(order).parallel(p);
}

// The copy of data is an injective loop nest, and so is the kernel's output
// (the scatter's value and its fused elementwise consumers).
ScheduleHook scatter_schedule(const TensorFunc& f, const RowMajorDomain& r, const std::vector<int64_t>& updates_shape,
                              const std::vector<size_t>& free_dims) {
  return [f, r, updates_shape, free_dims](const ScheduleContext& ctx) {
    schedule_injective(ctx);
    Halide::Func func = f.func;  // another handle on the same Function (the captured one is const)
    const std::vector<Var> pure = func.args();  // Halide order
    schedule_injective(ScheduleContext{func, halide_order(pure), f.type, ctx.target, ctx.vector_lanes});
    schedule_update(func, r, updates_shape, free_dims, ctx.vector_lanes);
  };
}

LoweredOp lower_scatter_nd(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = lang::attrs_as<lang::ScatterNDAttrs>(*ctx.binding.attrs);
  const auto& data = args[0].type;
  const auto& updates = args[2].type;
  const auto depth = static_cast<size_t>(args[1].type.shape.back());
  const size_t tuple_rank = args[1].type.rank() - 1;  // update axes that pick the index tuple
  const RowMajorDomain r = row_major_domain(updates.shape, ctx.name + "_r");
  std::vector<Expr> target;
  std::vector<Expr> at(r.at.begin(), r.at.begin() + static_cast<std::ptrdiff_t>(tuple_rank));
  for (size_t m = 0; m < depth; ++m) {
    at.push_back(static_cast<int>(m));
    target.push_back(clamped_index(args[1].at(at), data.shape[m]));
    at.pop_back();
  }
  std::vector<size_t> slice_dims;  // the update axes that run along data's trailing axes
  for (size_t d = tuple_rank; d < updates.rank(); ++d) {
    target.push_back(r.at[d]);
    slice_dims.push_back(d);
  }
  const TensorFunc f = scatter_func(args[0], target, args[2].at(r.at), lang::parse_scatter_reduction(a.reduction), ctx.name);
  return {f, scatter_schedule(f, r, updates.shape, slice_dims), {f.func}};
}

LoweredOp lower_scatter_elements(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = lang::attrs_as<lang::ScatterElementsAttrs>(*ctx.binding.attrs);
  const auto& data = args[0].type;
  const auto& indices = args[1].type;
  const auto axis = static_cast<size_t>(a.axis < 0 ? a.axis + static_cast<int64_t>(data.rank()) : a.axis);
  const RowMajorDomain r = row_major_domain(indices.shape, ctx.name + "_r");
  std::vector<Expr> target = r.at;
  target[axis] = clamped_index(args[1].at(r.at), data.shape[axis]);
  std::vector<size_t> other_dims;  // every update axis but the scatter axis
  for (size_t d = 0; d < indices.rank(); ++d)
    if (d != axis) other_dims.push_back(d);
  const TensorFunc f = scatter_func(args[0], target, args[2].at(r.at), lang::parse_scatter_reduction(a.reduction), ctx.name);
  return {f, scatter_schedule(f, r, indices.shape, other_dims), {f.func}};
}

}  // namespace

void register_indexing_lowerings(LoweringRegistry& r) {
  r.add("gather_nd", lower_gather_nd);
  r.add("scatter_nd", lower_scatter_nd);
  r.add("scatter_elements", lower_scatter_elements);
}

}  // namespace modelc::lower
