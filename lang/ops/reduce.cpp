// Reductions over a set of axes (sum, mean, max, min, prod), and along one
// axis: argmax, argmin, cumsum, topk.
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

// Outer x axis x inner decomposition of a shape around `axis`.
struct AxisSplit {
  int64_t outer = 1, extent = 1, inner = 1;
};

AxisSplit split_at(const std::vector<int64_t>& shape, size_t axis) {
  AxisSplit s;
  for (size_t d = 0; d < axis; ++d) s.outer *= shape[d];
  s.extent = shape[axis];
  for (size_t d = axis + 1; d < shape.size(); ++d) s.inner *= shape[d];
  return s;
}

// ---- argmax / argmin ----

std::vector<TensorType> arg_reduce_type(std::span<const TensorType> args, const Attrs& attrs) {
  const auto& a = attrs_as<ArgReduceAttrs>(attrs);
  const auto axis = static_cast<size_t>(ops::normalize_axis(a.axis, args[0].rank()));
  if (args[0].shape[axis] == 0)
    throw Error("axis " + std::to_string(axis) + " of " + args[0].str() + " is empty: it has no largest or smallest element");
  TensorType out{args[0].shape, DType::int64};
  if (a.keepdims) out.shape[axis] = 1;
  else out.shape.erase(out.shape.begin() + static_cast<std::ptrdiff_t>(axis));
  return {out};
}

template <bool kMax>
std::vector<Tensor> arg_reduce_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& a = attrs_as<ArgReduceAttrs>(attrs);
  const auto axis = static_cast<size_t>(ops::normalize_axis(a.axis, args[0].type().rank()));
  const AxisSplit s = split_at(args[0].type().shape, axis);
  Tensor out(types[0]);
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t i = 0; i < s.inner; ++i) {
      int64_t best = 0;
      double best_value = args[0].element_as_double(static_cast<size_t>(o * s.extent * s.inner + i));
      for (int64_t k = 1; k < s.extent; ++k) {
        const double v = args[0].element_as_double(static_cast<size_t>((o * s.extent + k) * s.inner + i));
        const bool better = kMax ? v > best_value : v < best_value;
        if (better || (a.select_last_index && v == best_value)) {
          best = k;
          best_value = v;
        }
      }
      out.set_element(static_cast<size_t>(o * s.inner + i), static_cast<double>(best));
    }
  return {std::move(out)};
}

// ---- cumsum ----

std::vector<TensorType> cumsum_type(std::span<const TensorType> args, const Attrs& attrs) {
  ops::normalize_axis(attrs_as<CumsumAttrs>(attrs).axis, args[0].rank());
  if (args[0].dtype == DType::boolean) ops::type_error("expects a numeric input, found " + args[0].str());
  return {args[0]};
}

std::vector<Tensor> cumsum_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& a = attrs_as<CumsumAttrs>(attrs);
  const auto axis = static_cast<size_t>(ops::normalize_axis(a.axis, types[0].rank()));
  const AxisSplit s = split_at(types[0].shape, axis);
  const bool single = types[0].dtype == DType::float32;
  Tensor out(types[0]);
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t i = 0; i < s.inner; ++i) {
      double acc = 0;
      float acc_f = 0;  // float32 tensors sum in float32, as the kernels do
      for (int64_t step = 0; step < s.extent; ++step) {
        const int64_t k = a.reverse ? s.extent - 1 - step : step;
        const auto at = static_cast<size_t>((o * s.extent + k) * s.inner + i);
        const double v = args[0].element_as_double(at);
        if (a.exclusive) out.set_element(at, single ? acc_f : acc);
        acc += v;
        acc_f += static_cast<float>(v);
        if (!a.exclusive) out.set_element(at, single ? acc_f : acc);
      }
    }
  return {std::move(out)};
}

// ---- topk ----

std::vector<TensorType> topk_type(std::span<const TensorType> args, const Attrs& attrs) {
  const auto& a = attrs_as<TopKAttrs>(attrs);
  const auto axis = static_cast<size_t>(ops::normalize_axis(a.axis, args[0].rank()));
  if (a.k < 0 || a.k > args[0].shape[axis])
    ops::type_error("topk: k=" + std::to_string(a.k) + " is not within axis " + std::to_string(axis) + " of " + args[0].str());
  if (a.ret_type != "values" && a.ret_type != "indices") ops::type_error("topk: ret_type must be values or indices");
  TensorType out{args[0].shape, a.ret_type == "values" ? args[0].dtype : DType::int64};
  out.shape[axis] = a.k;
  return {out};
}

std::vector<Tensor> topk_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& a = attrs_as<TopKAttrs>(attrs);
  const auto axis = static_cast<size_t>(ops::normalize_axis(a.axis, args[0].type().rank()));
  const AxisSplit s = split_at(args[0].type().shape, axis);
  Tensor out(types[0]);
  std::vector<int64_t> order(static_cast<size_t>(s.extent));
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t i = 0; i < s.inner; ++i) {
      auto value = [&](int64_t k) { return args[0].element_as_double(static_cast<size_t>((o * s.extent + k) * s.inner + i)); };
      for (int64_t k = 0; k < s.extent; ++k) order[static_cast<size_t>(k)] = k;
      std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
        return a.largest ? value(x) > value(y) : value(x) < value(y);
      });
      for (int64_t j = 0; j < a.k; ++j) {
        const int64_t k = order[static_cast<size_t>(j)];
        out.set_element(static_cast<size_t>((o * a.k + j) * s.inner + i),
                        a.ret_type == "values" ? value(k) : static_cast<double>(k));
      }
    }
  return {std::move(out)};
}

}  // namespace

void register_reduce_ops(OpRegistry& r) {
  r.add({"argmax", "index of the largest element along `axis`", 1, 1, OpPattern::reduction,
         [] { return std::make_unique<ArgReduceAttrs>(); }, arg_reduce_type, arg_reduce_reference<true>});
  r.add({"argmin", "index of the smallest element along `axis`", 1, 1, OpPattern::reduction,
         [] { return std::make_unique<ArgReduceAttrs>(); }, arg_reduce_type, arg_reduce_reference<false>});
  r.add({"cumsum", "running sum along `axis`", 1, 1, OpPattern::opaque, [] { return std::make_unique<CumsumAttrs>(); },
         cumsum_type, cumsum_reference});
  r.add({"topk", "the k largest or smallest elements along `axis`, or their indices", 1, 1, OpPattern::opaque,
         [] { return std::make_unique<TopKAttrs>(); }, topk_type, topk_reference});
  add_reduce_op(r, "sum", Reducer::sum);
  add_reduce_op(r, "mean", Reducer::mean);
  add_reduce_op(r, "max", Reducer::max);
  add_reduce_op(r, "min", Reducer::min);
  add_reduce_op(r, "prod", Reducer::prod);
}

}  // namespace modelc::lang
