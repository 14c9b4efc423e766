// Data-movement operators: reshape, transpose, concatenate.
#include "lang/ops/transform.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "lang/ops/op_helpers.h"

namespace modelc::lang {

std::vector<int64_t> resolve_reshape(const std::vector<int64_t>& in, const std::vector<int64_t>& newshape) {
  const int64_t total = std::accumulate(in.begin(), in.end(), int64_t{1}, std::multiplies<>());
  std::vector<int64_t> out = newshape;
  int64_t known = 1;
  int inferred = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (inferred >= 0) ops::type_error("reshape: more than one dimension is -1");
      inferred = static_cast<int>(i);
    } else if (out[i] < 0) {
      ops::type_error("reshape: dimension " + std::to_string(out[i]) + " is negative");
    } else {
      known *= out[i];
    }
  }
  if (inferred >= 0) {
    if (known == 0 || total % known != 0)
      ops::type_error("reshape: cannot infer -1 for " + std::to_string(total) + " elements");
    out[static_cast<size_t>(inferred)] = total / known;
    known *= out[static_cast<size_t>(inferred)];
  }
  if (known != total)
    ops::type_error("reshape: " + TensorType{in, DType::float32}.str() + " has " + std::to_string(total) +
                    " elements, the new shape has " + std::to_string(known));
  return out;
}

std::vector<SliceRange> resolve_strided_slice(const std::vector<int64_t>& shape, const StridedSliceAttrs& a) {
  std::vector<SliceRange> ranges;
  for (int64_t d : shape) ranges.push_back(SliceRange{0, 1, d});
  if (a.begin.size() != a.end.size())
    ops::type_error("strided_slice: begin has " + std::to_string(a.begin.size()) + " values, end " + std::to_string(a.end.size()));
  if (!a.axes.empty() && a.axes.size() != a.begin.size())
    ops::type_error("strided_slice: axes has " + std::to_string(a.axes.size()) + " values, begin " + std::to_string(a.begin.size()));
  if (!a.strides.empty() && a.strides.size() != a.begin.size())
    ops::type_error("strided_slice: strides has " + std::to_string(a.strides.size()) + " values, begin " + std::to_string(a.begin.size()));
  std::vector<bool> seen(shape.size(), false);
  for (size_t i = 0; i < a.begin.size(); ++i) {
    const auto axis = static_cast<size_t>(ops::normalize_axis(a.axes.empty() ? static_cast<int64_t>(i) : a.axes[i], shape.size()));
    if (seen[axis]) ops::type_error("strided_slice: axis " + std::to_string(axis) + " is listed twice");
    seen[axis] = true;
    const int64_t dim = shape[axis];
    const int64_t step = a.strides.empty() ? 1 : a.strides[i];
    if (step == 0) ops::type_error("strided_slice: a stride is 0");
    auto clamp = [&](int64_t v, int64_t lo, int64_t hi) { return std::clamp(v < 0 ? v + dim : v, lo, hi); };
    // Forward: indices in [0, dim]; backward: in [-1, dim - 1].
    const int64_t start = step > 0 ? clamp(a.begin[i], 0, dim) : clamp(a.begin[i], -1, dim - 1);
    const int64_t stop = step > 0 ? clamp(a.end[i], 0, dim) : clamp(a.end[i], -1, dim - 1);
    const int64_t span = step > 0 ? stop - start : start - stop;
    const int64_t magnitude = step > 0 ? step : -step;
    ranges[axis] = SliceRange{start, step, span <= 0 ? 0 : (span + magnitude - 1) / magnitude};
  }
  return ranges;
}

namespace {

std::vector<TensorType> strided_slice_type(std::span<const TensorType> args, const Attrs& attrs) {
  TensorType out = args[0];
  const auto ranges = resolve_strided_slice(args[0].shape, attrs_as<StridedSliceAttrs>(attrs));
  for (size_t d = 0; d < ranges.size(); ++d) out.shape[d] = ranges[d].count;
  return {out};
}

std::vector<Tensor> strided_slice_reference(std::span<const Tensor> args, const Attrs& attrs,
                                            std::span<const TensorType> types) {
  const auto& in = args[0].type();
  const auto ranges = resolve_strided_slice(in.shape, attrs_as<StridedSliceAttrs>(attrs));
  const auto in_strides = contiguous_strides(in.shape);
  const size_t elem = dtype_bytes(in.dtype);
  Tensor out(types[0]);
  std::byte* o = out.mutable_bytes().data();
  const std::byte* x = args[0].bytes().data();
  const auto& os = types[0].shape;
  std::vector<int64_t> idx(os.size(), 0);
  for (int64_t flat = 0; flat < types[0].element_count(); ++flat) {
    int64_t src = 0;
    for (size_t d = 0; d < os.size(); ++d) src += (ranges[d].start + idx[d] * ranges[d].step) * in_strides[d];
    std::memcpy(o + static_cast<size_t>(flat) * elem, x + static_cast<size_t>(src) * elem, elem);
    for (size_t d = os.size(); d-- > 0;) {
      if (++idx[d] < os[d]) break;
      idx[d] = 0;
    }
  }
  return {std::move(out)};
}

std::vector<int64_t> transpose_axes(const TransposeAttrs& a, size_t rank) {
  if (a.axes.empty()) {
    std::vector<int64_t> axes(rank);
    for (size_t i = 0; i < rank; ++i) axes[i] = static_cast<int64_t>(rank - 1 - i);
    return axes;
  }
  if (a.axes.size() != rank)
    ops::type_error("transpose: axes has " + std::to_string(a.axes.size()) + " entries for rank " + std::to_string(rank));
  std::vector<int64_t> axes;
  std::vector<bool> seen(rank, false);
  for (int64_t axis : a.axes) {
    const auto n = static_cast<size_t>(ops::normalize_axis(axis, rank));
    if (seen[n]) ops::type_error("transpose: axes is not a permutation");
    seen[n] = true;
    axes.push_back(static_cast<int64_t>(n));
  }
  return axes;
}

std::vector<TensorType> transpose_type(std::span<const TensorType> args, const Attrs& attrs) {
  const auto axes = transpose_axes(attrs_as<TransposeAttrs>(attrs), args[0].rank());
  TensorType out = args[0];
  for (size_t i = 0; i < axes.size(); ++i) out.shape[i] = args[0].shape[static_cast<size_t>(axes[i])];
  return {out};
}

std::vector<Tensor> transpose_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& in = args[0].type();
  const auto axes = transpose_axes(attrs_as<TransposeAttrs>(attrs), in.rank());
  const auto in_strides = contiguous_strides(in.shape);
  const size_t elem = dtype_bytes(in.dtype);
  Tensor out(types[0]);
  std::byte* o = out.mutable_bytes().data();
  const std::byte* x = args[0].bytes().data();
  const auto& os = types[0].shape;
  std::vector<int64_t> idx(os.size(), 0);
  for (int64_t flat = 0; flat < types[0].element_count(); ++flat) {
    int64_t src = 0;
    for (size_t d = 0; d < os.size(); ++d) src += idx[d] * in_strides[static_cast<size_t>(axes[d])];
    std::memcpy(o + static_cast<size_t>(flat) * elem, x + static_cast<size_t>(src) * elem, elem);
    for (size_t d = os.size(); d-- > 0;) {
      if (++idx[d] < os[d]) break;
      idx[d] = 0;
    }
  }
  return {std::move(out)};
}

std::vector<TensorType> concatenate_type(std::span<const TensorType> args, const Attrs& attrs) {
  const auto axis = static_cast<size_t>(ops::normalize_axis(attrs_as<ConcatenateAttrs>(attrs).axis, args[0].rank()));
  TensorType out = args[0];
  out.shape[axis] = 0;
  for (const TensorType& t : args) {
    if (t.rank() != out.rank() || t.dtype != out.dtype)
      ops::type_error("concatenate: " + t.str() + " does not match " + args[0].str());
    for (size_t d = 0; d < t.rank(); ++d)
      if (d != axis && t.shape[d] != args[0].shape[d])
        ops::type_error("concatenate: " + t.str() + " differs from " + args[0].str() + " outside axis " + std::to_string(axis));
    out.shape[axis] += t.shape[axis];
  }
  return {out};
}

std::vector<Tensor> concatenate_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& os = types[0].shape;
  const auto axis = static_cast<size_t>(ops::normalize_axis(attrs_as<ConcatenateAttrs>(attrs).axis, os.size()));
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < axis; ++d) outer *= os[d];
  for (size_t d = axis + 1; d < os.size(); ++d) inner *= os[d];
  const size_t elem = dtype_bytes(types[0].dtype);
  Tensor out(types[0]);
  std::byte* o = out.mutable_bytes().data();
  size_t offset = 0;
  for (int64_t a = 0; a < outer; ++a)
    for (const Tensor& t : args) {
      const size_t chunk = static_cast<size_t>(t.type().shape[axis] * inner) * elem;
      std::memcpy(o + offset, t.bytes().data() + static_cast<size_t>(a) * chunk, chunk);
      offset += chunk;
    }
  return {std::move(out)};
}

}  // namespace

void register_transform_ops(OpRegistry& r) {
  r.add({"reshape", "same data, new shape (one dimension may be -1)", 1, 1, OpPattern::injective,
         [] { return std::make_unique<ReshapeAttrs>(); },
         [](std::span<const TensorType> args, const Attrs& attrs) {
           return std::vector<TensorType>{
               TensorType{resolve_reshape(args[0].shape, attrs_as<ReshapeAttrs>(attrs).newshape), args[0].dtype}};
         },
         [](std::span<const Tensor> args, const Attrs&, std::span<const TensorType> types) {
           const auto b = args[0].bytes();
           return std::vector<Tensor>{Tensor(types[0], std::vector<std::byte>(b.begin(), b.end()))};
         }});
  r.add({"transpose", "permutes axes", 1, 1, OpPattern::injective, [] { return std::make_unique<TransposeAttrs>(); },
         transpose_type, transpose_reference});
  r.add({"strided_slice", "elements begin:end:stride along some axes", 1, 1, OpPattern::injective,
         [] { return std::make_unique<StridedSliceAttrs>(); }, strided_slice_type, strided_slice_reference});
  r.add({"concatenate", "joins tensors along `axis`", 1, -1, OpPattern::injective,
         [] { return std::make_unique<ConcatenateAttrs>(); }, concatenate_type, concatenate_reference});
}

}  // namespace modelc::lang
