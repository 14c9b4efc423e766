// Reductions over a set of axes: sum, mean, max, min, prod.
#include "lang/ops/reduce.h"

#include <algorithm>
#include <limits>

#include "lang/ops/op_helpers.h"

namespace modelc::lang {

std::vector<int64_t> reduction_axes(const ReduceAttrs& attrs, size_t rank) {
  std::vector<int64_t> axes;
  if (attrs.axes.empty())
    for (size_t i = 0; i < rank; ++i) axes.push_back(static_cast<int64_t>(i));
  for (int64_t a : attrs.axes) axes.push_back(ops::normalize_axis(a, rank));
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return axes;
}

namespace {

enum class Reducer { sum, mean, max, min, prod };

std::vector<TensorType> reduce_type(std::span<const TensorType> args, const Attrs& attrs) {
  const auto& a = attrs_as<ReduceAttrs>(attrs);
  const auto axes = reduction_axes(a, args[0].rank());
  TensorType out{{}, args[0].dtype};
  for (size_t d = 0; d < args[0].rank(); ++d) {
    const bool reduced = std::binary_search(axes.begin(), axes.end(), static_cast<int64_t>(d));
    if (!reduced) out.shape.push_back(args[0].shape[d]);
    else if (a.keepdims) out.shape.push_back(1);
  }
  return {out};
}

std::vector<Tensor> reduce_reference(Reducer reducer, std::span<const Tensor> args, const Attrs& attrs,
                                     std::span<const TensorType> types) {
  const auto& in = args[0].type();
  const auto axes = reduction_axes(attrs_as<ReduceAttrs>(attrs), in.rank());
  // Output index of every input element: drop (or zero) the reduced axes.
  std::vector<int64_t> kept_shape = in.shape;
  int64_t group = 1;
  for (int64_t a : axes) {
    group *= in.shape[static_cast<size_t>(a)];
    kept_shape[static_cast<size_t>(a)] = 1;
  }
  const auto out_strides = contiguous_strides(kept_shape);
  const auto n_out = static_cast<size_t>(types[0].element_count());
  std::vector<double> acc(n_out, reducer == Reducer::max   ? -std::numeric_limits<double>::infinity()
                                 : reducer == Reducer::min ? std::numeric_limits<double>::infinity()
                                 : reducer == Reducer::prod ? 1.0
                                                            : 0.0);
  std::vector<int64_t> idx(in.rank(), 0);
  for (int64_t flat = 0; flat < in.element_count(); ++flat) {
    int64_t o = 0;
    for (size_t d = 0; d < in.rank(); ++d)
      if (kept_shape[d] != 1) o += idx[d] * out_strides[d];
    const double v = args[0].element_as_double(static_cast<size_t>(flat));
    double& r = acc[static_cast<size_t>(o)];
    switch (reducer) {
      case Reducer::sum:
      case Reducer::mean: r += v; break;
      case Reducer::max: r = std::max(r, v); break;
      case Reducer::min: r = std::min(r, v); break;
      case Reducer::prod: r *= v; break;
    }
    for (size_t d = in.rank(); d-- > 0;) {
      if (++idx[d] < in.shape[d]) break;
      idx[d] = 0;
    }
  }
  if (reducer == Reducer::mean)
    for (double& r : acc) r /= static_cast<double>(group);
  Tensor out(types[0]);
  for (size_t i = 0; i < n_out; ++i) out.set_element(i, acc[i]);
  return {std::move(out)};
}

void add_reduce_op(OpRegistry& r, const char* name, Reducer reducer) {
  OpDef def;
  def.name = name;
  def.summary = std::string("reduces `axes` by ") + name;
  def.pattern = OpPattern::reduction;
  def.make_attrs = [] { return std::make_unique<ReduceAttrs>(); };
  def.infer_type = reduce_type;
  def.reference = [reducer](std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
    return reduce_reference(reducer, args, attrs, types);
  };
  r.add(std::move(def));
}

}  // namespace

void register_reduce_ops(OpRegistry& r) {
  add_reduce_op(r, "sum", Reducer::sum);
  add_reduce_op(r, "mean", Reducer::mean);
  add_reduce_op(r, "max", Reducer::max);
  add_reduce_op(r, "min", Reducer::min);
  add_reduce_op(r, "prod", Reducer::prod);
}

}  // namespace modelc::lang
