// Tuple-indexed gathers and the scatters: gather_nd, scatter_nd and
// scatter_elements (ONNX GatherND, ScatterND, ScatterElements and Scatter).
#include "lang/ops/indexing.h"

#include <cstring>
#include <optional>
#include <type_traits>

#include "lang/ops/op_helpers.h"

namespace modelc::lang {

namespace {

std::optional<ScatterReduction> find_reduction(const std::string& reduction) {
  if (reduction == "none") return ScatterReduction::none;
  if (reduction == "add") return ScatterReduction::add;
  if (reduction == "mul") return ScatterReduction::mul;
  return std::nullopt;
}

void expect_integer_indices(const std::string& op, const TensorType& indices) {
  if (is_float(indices.dtype) || indices.dtype == DType::boolean || indices.dtype == DType::string)
    ops::type_error(op + ": expects indices of an integer type, found " + indices.str());
}

void expect_updates_dtype(const std::string& op, const TensorType& data, const TensorType& updates) {
  if (updates.dtype != data.dtype)
    ops::type_error(op + ": updates " + updates.str() + " must have the element type of data " + data.str());
}

void expect_reduction(const std::string& op, const std::string& reduction, const TensorType& data) {
  const auto r = find_reduction(reduction);
  if (!r) ops::type_error(op + ": reduction '" + reduction + "' is not none, add or mul");
  if (*r != ScatterReduction::none && data.dtype == DType::boolean)
    ops::type_error(op + ": reduction '" + reduction + "' needs numbers, data is " + data.str());
}

int64_t product(const std::vector<int64_t>& dims, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t d = begin; d < end; ++d) n *= dims[d];
  return n;
}

// Steps `idx` to the next index of `shape` in row-major order.
void advance(std::vector<int64_t>& idx, const std::vector<int64_t>& shape) {
  for (size_t d = shape.size(); d-- > 0;) {
    if (++idx[d] < shape[d]) return;
    idx[d] = 0;
  }
}

// indices[at], counted from the end when negative; throws when outside the axis.
int64_t wrapped_index(const std::string& op, const Tensor& indices, size_t at, const TensorType& data, size_t axis) {
  const int64_t raw = indices.element_as_int(at);
  const int64_t extent = data.shape[axis];
  const int64_t i = raw < 0 ? raw + extent : raw;
  if (i < 0 || i >= extent)
    throw Error(op + ": index " + std::to_string(raw) + " is out of range for axis " + std::to_string(axis) + " of data " +
                data.str() + " (valid: " + std::to_string(-extent) + " to " + std::to_string(extent - 1) + ")");
  return i;
}

void copy_elements(Tensor& out, size_t to, const Tensor& in, size_t from, size_t count) {
  const size_t elem = dtype_bytes(in.type().dtype);
  if (count == 0) return;  // an empty tensor's data() may be null, which memcpy must not see
  std::memcpy(out.mutable_bytes().data() + to * elem, in.bytes().data() + from * elem, count * elem);
}

// o = o + x or o * x in T's arithmetic (integers wrap, as in compiled kernels).
template <typename T>
void combine(Tensor& out, size_t to, const Tensor& updates, size_t from, ScatterReduction r) {
  T& o = out.mutable_values<T>()[to];
  const T x = updates.values<T>()[from];
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    o = static_cast<T>(r == ScatterReduction::add ? static_cast<U>(static_cast<U>(o) + static_cast<U>(x))
                                                  : static_cast<U>(static_cast<U>(o) * static_cast<U>(x)));
  } else {
    o = r == ScatterReduction::add ? o + x : o * x;
  }
}

// out[to + j] = updates[from + j] (none), or combined with it, for j < count.
void apply_updates(Tensor& out, size_t to, const Tensor& updates, size_t from, size_t count, ScatterReduction r) {
  if (r == ScatterReduction::none) {
    copy_elements(out, to, updates, from, count);
    return;
  }
  for (size_t j = 0; j < count; ++j) {
    switch (out.type().dtype) {
      case DType::float32: combine<float>(out, to + j, updates, from + j, r); break;
      case DType::int8: combine<int8_t>(out, to + j, updates, from + j, r); break;
      case DType::uint8: combine<uint8_t>(out, to + j, updates, from + j, r); break;
      case DType::int32: combine<int32_t>(out, to + j, updates, from + j, r); break;
      case DType::int64: combine<int64_t>(out, to + j, updates, from + j, r); break;
      default: {  // float16 / bfloat16: computed in double, rounded on store
        const double o = out.element_as_double(to + j), x = updates.element_as_double(from + j);
        out.set_element(to + j, r == ScatterReduction::add ? o + x : o * x);
      }
    }
  }
}

// ---- gather_nd ----

struct GatherNDShape {
  size_t batch = 0;  // batch_dims
  size_t depth = 0;  // k: the length of an index tuple
};

GatherNDShape gather_nd_shape(const TensorType& data, const TensorType& indices, const GatherNDAttrs& a) {
  const std::string op = "gather_nd";
  expect_integer_indices(op, indices);
  if (data.rank() == 0 || indices.rank() == 0)
    ops::type_error(op + ": data " + data.str() + " and indices " + indices.str() + " must have rank >= 1");
  const auto rank = static_cast<int64_t>(std::min(data.rank(), indices.rank()));
  if (a.batch_dims < 0 || a.batch_dims >= rank)
    ops::type_error(op + ": batch_dims " + std::to_string(a.batch_dims) + " must be in [0, " + std::to_string(rank) +
                    ") for data " + data.str() + " and indices " + indices.str());
  const auto b = static_cast<size_t>(a.batch_dims);
  for (size_t d = 0; d < b; ++d)
    if (data.shape[d] != indices.shape[d])
      ops::type_error(op + ": the first " + std::to_string(b) + " (batch) axes of data " + data.str() + " and indices " +
                      indices.str() + " differ");
  const int64_t k = indices.shape.back();
  if (k < 1 || k > static_cast<int64_t>(data.rank() - b))
    ops::type_error(op + ": the last axis of indices " + indices.str() + " (index tuples of length " + std::to_string(k) +
                    ") must be in [1, " + std::to_string(data.rank() - b) + "] for data " + data.str() +
                    " with batch_dims " + std::to_string(b));
  return {b, static_cast<size_t>(k)};
}

std::vector<TensorType> gather_nd_type(std::span<const TensorType> args, const Attrs& attrs) {
  const auto& data = args[0];
  const auto& indices = args[1];
  const GatherNDShape g = gather_nd_shape(data, indices, attrs_as<GatherNDAttrs>(attrs));
  TensorType out{std::vector<int64_t>(indices.shape.begin(), indices.shape.end() - 1), data.dtype};
  out.shape.insert(out.shape.end(), data.shape.begin() + static_cast<std::ptrdiff_t>(g.batch + g.depth), data.shape.end());
  return {out};
}

// Each index tuple selects one contiguous slice of data (its trailing axes),
// copied whole to the tuple's position of the result.
std::vector<Tensor> gather_nd_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const TensorType& data = args[0].type();
  const TensorType& indices = args[1].type();
  const GatherNDShape g = gather_nd_shape(data, indices, attrs_as<GatherNDAttrs>(attrs));
  const auto strides = contiguous_strides(data.shape);
  const std::vector<int64_t> tuples(indices.shape.begin(), indices.shape.end() - 1);
  const auto slice = static_cast<size_t>(product(data.shape, g.batch + g.depth, data.rank()));
  Tensor out(types[0]);
  std::vector<int64_t> t(tuples.size(), 0);
  for (int64_t flat = 0; flat < product(tuples, 0, tuples.size()); ++flat, advance(t, tuples)) {
    int64_t from = 0;
    for (size_t d = 0; d < g.batch; ++d) from += t[d] * strides[d];
    for (size_t m = 0; m < g.depth; ++m) {
      const size_t axis = g.batch + m;
      from += wrapped_index("gather_nd", args[1], static_cast<size_t>(flat) * g.depth + m, data, axis) * strides[axis];
    }
    copy_elements(out, static_cast<size_t>(flat) * slice, args[0], static_cast<size_t>(from), slice);
  }
  return {std::move(out)};
}

// The checks both scatters make: integer indices, updates of data's dtype, a known reduction.
void expect_scatter_operands(const std::string& op, std::span<const TensorType> args, const std::string& reduction) {
  expect_integer_indices(op, args[1]);
  expect_updates_dtype(op, args[0], args[2]);
  expect_reduction(op, reduction, args[0]);
}

// ---- scatter_nd ----

// The length of an index tuple (k); checks every shape.
size_t scatter_nd_depth(std::span<const TensorType> args, const ScatterNDAttrs& a) {
  const std::string op = "scatter_nd";
  const TensorType& data = args[0];
  const TensorType& indices = args[1];
  const TensorType& updates = args[2];
  expect_scatter_operands(op, args, a.reduction);
  if (data.rank() == 0 || indices.rank() == 0)
    ops::type_error(op + ": data " + data.str() + " and indices " + indices.str() + " must have rank >= 1");
  const int64_t k = indices.shape.back();
  if (k < 1 || k > static_cast<int64_t>(data.rank()))
    ops::type_error(op + ": the last axis of indices " + indices.str() + " (index tuples of length " + std::to_string(k) +
                    ") must be in [1, " + std::to_string(data.rank()) + "] for data " + data.str());
  std::vector<int64_t> expected(indices.shape.begin(), indices.shape.end() - 1);
  expected.insert(expected.end(), data.shape.begin() + k, data.shape.end());
  if (updates.shape != expected)
    ops::type_error(op + ": updates " + updates.str() + " must have shape " + shape_str(expected) +
                    " (indices.shape[:-1] + data.shape[" + std::to_string(k) + ":]) for data " + data.str() +
                    " and indices " + indices.str());
  return static_cast<size_t>(k);
}

std::vector<TensorType> scatter_nd_type(std::span<const TensorType> args, const Attrs& attrs) {
  scatter_nd_depth(args, attrs_as<ScatterNDAttrs>(attrs));
  return {args[0]};
}

std::vector<Tensor> scatter_nd_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType>) {
  const auto& a = attrs_as<ScatterNDAttrs>(attrs);
  const TensorType& data = args[0].type();
  const TensorType& indices = args[1].type();
  const std::vector<TensorType> types{data, indices, args[2].type()};
  const size_t k = scatter_nd_depth(types, a);
  const ScatterReduction reduction = parse_scatter_reduction(a.reduction);
  const auto strides = contiguous_strides(data.shape);
  const auto slice = static_cast<size_t>(product(data.shape, k, data.rank()));
  const int64_t tuples = product(indices.shape, 0, indices.rank() - 1);
  Tensor out = args[0];
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t to = 0;
    for (size_t m = 0; m < k; ++m)
      to += wrapped_index("scatter_nd", args[1], static_cast<size_t>(t) * k + m, data, m) * strides[m];
    apply_updates(out, static_cast<size_t>(to), args[2], static_cast<size_t>(t) * slice, slice, reduction);
  }
  return {std::move(out)};
}

// ---- scatter_elements ----

size_t scatter_elements_axis(std::span<const TensorType> args, const ScatterElementsAttrs& a) {
  const std::string op = "scatter_elements";
  const TensorType& data = args[0];
  const TensorType& indices = args[1];
  const TensorType& updates = args[2];
  expect_scatter_operands(op, args, a.reduction);
  const auto axis = static_cast<size_t>(ops::normalize_axis(a.axis, data.rank()));
  if (indices.rank() != data.rank())
    ops::type_error(op + ": indices " + indices.str() + " must have the rank of data " + data.str());
  if (updates.shape != indices.shape)
    ops::type_error(op + ": updates " + updates.str() + " must have the shape of indices " + indices.str());
  for (size_t d = 0; d < data.rank(); ++d)
    if (d != axis && indices.shape[d] > data.shape[d])
      ops::type_error(op + ": indices " + indices.str() + " reach past data " + data.str() + " along axis " +
                      std::to_string(d) + " (not the scatter axis " + std::to_string(axis) + ")");
  return axis;
}

std::vector<TensorType> scatter_elements_type(std::span<const TensorType> args, const Attrs& attrs) {
  scatter_elements_axis(args, attrs_as<ScatterElementsAttrs>(attrs));
  return {args[0]};
}

std::vector<Tensor> scatter_elements_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType>) {
  const auto& a = attrs_as<ScatterElementsAttrs>(attrs);
  const TensorType& data = args[0].type();
  const TensorType& indices = args[1].type();
  const std::vector<TensorType> types{data, indices, args[2].type()};
  const size_t axis = scatter_elements_axis(types, a);
  const ScatterReduction reduction = parse_scatter_reduction(a.reduction);
  const auto strides = contiguous_strides(data.shape);
  Tensor out = args[0];
  std::vector<int64_t> p(indices.rank(), 0);
  for (int64_t flat = 0; flat < indices.element_count(); ++flat, advance(p, indices.shape)) {
    int64_t to = 0;
    for (size_t d = 0; d < p.size(); ++d)
      to += (d == axis ? wrapped_index("scatter_elements", args[1], static_cast<size_t>(flat), data, axis) : p[d]) * strides[d];
    apply_updates(out, static_cast<size_t>(to), args[2], static_cast<size_t>(flat), 1, reduction);
  }
  return {std::move(out)};
}

}  // namespace

ScatterReduction parse_scatter_reduction(const std::string& reduction) {
  if (const auto r = find_reduction(reduction)) return *r;
  ops::type_error("reduction '" + reduction + "' is not none, add or mul");
}

void register_indexing_ops(OpRegistry& r) {
  r.add({"gather_nd", "slices of data at the index tuples of `indices` (ONNX GatherND)",
         2, 2, OpPattern::injective, [] { return std::make_unique<GatherNDAttrs>(); }, gather_nd_type, gather_nd_reference});
  // The scatters compute a copy of data and then apply their updates in order
  // (lower/ops/indexing.cpp): an anchor, whose elementwise consumers fuse in.
  r.add({"scatter_nd", "data with `updates` written at index tuples (ONNX ScatterND)",
         3, 3, OpPattern::out_elemwise_fusable, [] { return std::make_unique<ScatterNDAttrs>(); }, scatter_nd_type,
         scatter_nd_reference});
  r.add({"scatter_elements",
         "data with `updates` written at `indices` along `axis` (ONNX ScatterElements)",
         3, 3, OpPattern::out_elemwise_fusable, [] { return std::make_unique<ScatterElementsAttrs>(); },
         scatter_elements_type, scatter_elements_reference});
}

}  // namespace modelc::lang
