// Data-movement operators: reshape, transpose, concatenate, slices, gathers,
// broadcasts, padding, triangles and resizing.
#include "lang/ops/transform.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>

#include "lang/ops/op_helpers.h"

namespace modelc::lang {
namespace {

// out[i_0, ..., i_n] = in[offset + sum(i_d * steps[d])] in elements: the
// reference of every op that reads its input through an affine view
// (transpose, strided slice).
Tensor copy_strided_view(const Tensor& in, const TensorType& out_type, int64_t offset, const std::vector<int64_t>& steps) {
  const size_t elem = dtype_bytes(in.type().dtype);
  Tensor out(out_type);
  std::byte* o = out.mutable_bytes().data();
  const std::byte* x = in.bytes().data();
  const auto& os = out_type.shape;
  std::vector<int64_t> idx(os.size(), 0);
  for (int64_t flat = 0; flat < out_type.element_count(); ++flat) {
    int64_t src = offset;
    for (size_t d = 0; d < os.size(); ++d) src += idx[d] * steps[d];
    std::memcpy(o + static_cast<size_t>(flat) * elem, x + static_cast<size_t>(src) * elem, elem);
    for (size_t d = os.size(); d-- > 0;) {
      if (++idx[d] < os[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

void expect_float_or_error(const TensorType& t) {
  if (!is_float(t.dtype)) ops::type_error("expects a float input, found " + t.str());
}

}  // namespace

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
      known = ops::checked_dim(checked_mul(known, out[i]), "reshape: the new shape");
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

double resize_source_coordinate(const ResizeAttrs& a, double scale, int64_t out, int64_t in_size) {
  const double x = static_cast<double>(out);
  const std::string& mode = a.coordinate_transformation_mode;
  const double out_length = scale * static_cast<double>(in_size);
  if (mode == "align_corners") return out_length == 1 ? 0.0 : x * static_cast<double>(in_size - 1) / (out_length - 1);
  if (mode == "asymmetric") return x / scale;
  if (mode == "tf_half_pixel_for_nn") return (x + 0.5) / scale;
  if (mode == "pytorch_half_pixel") return out_length == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
  return (x + 0.5) / scale - 0.5;  // half_pixel
}

std::vector<double> resize_coefficients(const ResizeAttrs& a, double ratio) {
  if (a.mode == "linear") return {1 - ratio, ratio};
  if (a.mode == "cubic") {
    const double A = a.cubic_coeff_a, r = ratio, s = 1 - ratio;
    return {((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A, ((A + 2) * r - (A + 3)) * r * r + 1,
            ((A + 2) * s - (A + 3)) * s * s + 1, ((A * (s + 1) - 5 * A) * (s + 1) + 8 * A) * (s + 1) - 4 * A};
  }
  // nearest: one of the two neighbours.
  if (ratio == 1) return {0, 1};
  bool ceil = false;
  if (a.nearest_mode == "round_prefer_ceil") ceil = ratio >= 0.5;
  else if (a.nearest_mode == "floor") ceil = false;
  else if (a.nearest_mode == "ceil") ceil = true;
  else ceil = ratio > 0.5;  // round_prefer_floor
  return {ceil ? 0.0 : 1.0, ceil ? 1.0 : 0.0};
}

}  // namespace

ResizeTaps resize_taps(const ResizeAttrs& a, size_t axis, int64_t in_size) {
  const int64_t out_size = a.size.at(axis);
  const double scale = a.scales.at(axis) > 0 ? a.scales[axis] : static_cast<double>(out_size) / static_cast<double>(in_size);
  ResizeTaps t;
  if (out_size == in_size && scale == 1.0 && a.coordinate_transformation_mode != "tf_half_pixel_for_nn") {
    t.identity = true;
    return t;
  }
  t.taps = a.mode == "cubic" ? 4 : 2;
  for (int64_t o = 0; o < out_size; ++o) {
    const double x = resize_source_coordinate(a, scale, o, in_size);
    // ONNX's reference picks the taps nearest x; for an integral x the
    // ratio is 1 and the taps start one lower, so x itself gets the weight.
    const double fl = std::floor(x);
    const bool integral = fl == x;
    const double ratio = integral ? 1.0 : x - fl;
    const auto base = static_cast<int64_t>(integral ? fl - 1 : fl) - (t.taps == 4 ? 1 : 0);
    std::vector<double> c = resize_coefficients(a, ratio);
    double total = 0;
    for (int64_t k = 0; k < t.taps; ++k) {
      const int64_t i = base + k;
      if (a.exclude_outside && (i < 0 || i >= in_size)) c[static_cast<size_t>(k)] = 0;
      total += c[static_cast<size_t>(k)];
    }
    for (int64_t k = 0; k < t.taps; ++k) {
      t.index.push_back(std::clamp<int64_t>(base + k, 0, in_size - 1));
      t.weight.push_back(a.exclude_outside && total != 0 ? c[static_cast<size_t>(k)] / total : c[static_cast<size_t>(k)]);
    }
  }
  return t;
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
  int64_t offset = 0;
  std::vector<int64_t> steps;
  for (size_t d = 0; d < in.rank(); ++d) {
    offset += ranges[d].start * in_strides[d];
    steps.push_back(ranges[d].step * in_strides[d]);
  }
  return {copy_strided_view(args[0], types[0], offset, steps)};
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
  std::vector<int64_t> steps;
  for (int64_t axis : axes) steps.push_back(in_strides[static_cast<size_t>(axis)]);
  return {copy_strided_view(args[0], types[0], 0, steps)};
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
    out.shape[axis] = ops::checked_dim(checked_add(out.shape[axis], t.shape[axis]), "concatenate: the result");
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
      if (chunk == 0) continue;  // an empty operand's data() may be null, which memcpy must not see
      std::memcpy(o + offset, t.bytes().data() + static_cast<size_t>(a) * chunk, chunk);
      offset += chunk;
    }
  return {std::move(out)};
}

// Visits every index of `shape` in row-major order with its flat position.
void for_each_index(const std::vector<int64_t>& shape, const std::function<void(const std::vector<int64_t>&, size_t)>& f) {
  int64_t total = 1;
  for (int64_t d : shape) total *= d;
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t flat = 0; flat < total; ++flat) {
    f(idx, static_cast<size_t>(flat));
    for (size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

size_t flat_index(const std::vector<int64_t>& idx, const std::vector<int64_t>& strides) {
  int64_t flat = 0;
  for (size_t d = 0; d < idx.size(); ++d) flat += idx[d] * strides[d];
  return static_cast<size_t>(flat);
}

void copy_element(Tensor& out, size_t to, const Tensor& in, size_t from) {
  const size_t elem = dtype_bytes(in.type().dtype);
  std::memcpy(out.mutable_bytes().data() + to * elem, in.bytes().data() + from * elem, elem);
}

void expect_integer(const TensorType& t, const char* what) {
  if (is_float(t.dtype) || t.dtype == DType::boolean)
    ops::type_error(std::string("expects ") + what + " of an integer type, found " + t.str());
}

// ---- take ----

std::vector<TensorType> take_type(std::span<const TensorType> args, const Attrs& attrs) {
  const auto axis = static_cast<size_t>(ops::normalize_axis(attrs_as<TakeAttrs>(attrs).axis, args[0].rank()));
  expect_integer(args[1], "indices");
  if (args[0].shape[axis] == 0 && args[1].element_count() > 0)
    ops::type_error("take: indices " + args[1].str() + " index the empty axis " + std::to_string(axis) + " of " + args[0].str());
  TensorType out{{}, args[0].dtype};
  out.shape.assign(args[0].shape.begin(), args[0].shape.begin() + static_cast<std::ptrdiff_t>(axis));
  out.shape.insert(out.shape.end(), args[1].shape.begin(), args[1].shape.end());
  out.shape.insert(out.shape.end(), args[0].shape.begin() + static_cast<std::ptrdiff_t>(axis) + 1, args[0].shape.end());
  return {out};
}

std::vector<Tensor> take_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& ds = args[0].type().shape;
  const auto axis = static_cast<size_t>(ops::normalize_axis(attrs_as<TakeAttrs>(attrs).axis, ds.size()));
  const size_t index_rank = args[1].type().rank();
  const auto strides = contiguous_strides(ds);
  const auto index_strides = contiguous_strides(args[1].type().shape);
  Tensor out(types[0]);
  for_each_index(types[0].shape, [&](const std::vector<int64_t>& o, size_t flat) {
    const std::vector<int64_t> at(o.begin() + static_cast<std::ptrdiff_t>(axis), o.begin() + static_cast<std::ptrdiff_t>(axis + index_rank));
    int64_t i = args[1].element_as_int(flat_index(at, index_strides));
    if (i < 0) i += ds[axis];
    i = std::clamp<int64_t>(i, 0, ds[axis] - 1);
    std::vector<int64_t> src(o.begin(), o.begin() + static_cast<std::ptrdiff_t>(axis));
    src.push_back(i);
    src.insert(src.end(), o.begin() + static_cast<std::ptrdiff_t>(axis + index_rank), o.end());
    copy_element(out, flat, args[0], flat_index(src, strides));
  });
  return {std::move(out)};
}

// ---- gather_elements: out[i] = data[i with axis replaced by indices[i]] ----

std::vector<TensorType> gather_elements_type(std::span<const TensorType> args, const Attrs& attrs) {
  expect_integer(args[1], "indices");
  if (args[1].rank() != args[0].rank())
    ops::type_error("indices " + args[1].str() + " must have the rank of the data " + args[0].str());
  // Every output index is also a data index except along the axis, so the
  // indices must not be larger than the data anywhere else (ONNX's rule).
  const auto axis = static_cast<size_t>(ops::normalize_axis(attrs_as<TakeAttrs>(attrs).axis, args[0].rank()));
  for (size_t d = 0; d < args[0].rank(); ++d)
    if (d != axis && args[1].shape[d] > args[0].shape[d])
      ops::type_error("indices " + args[1].str() + " are larger than the data " + args[0].str() + " along axis " +
                      std::to_string(d));
  if (args[0].shape[axis] == 0 && args[1].element_count() > 0)
    ops::type_error("indices " + args[1].str() + " index the empty axis " + std::to_string(axis) + " of " + args[0].str());
  return {TensorType{args[1].shape, args[0].dtype}};
}

std::vector<Tensor> gather_elements_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& ds = args[0].type().shape;
  const auto axis = static_cast<size_t>(ops::normalize_axis(attrs_as<TakeAttrs>(attrs).axis, ds.size()));
  const auto strides = contiguous_strides(ds);
  Tensor out(types[0]);
  for_each_index(types[0].shape, [&](const std::vector<int64_t>& o, size_t flat) {
    std::vector<int64_t> src = o;
    int64_t i = args[1].element_as_int(flat);
    if (i < 0) i += ds[axis];
    src[axis] = std::clamp<int64_t>(i, 0, ds[axis] - 1);
    copy_element(out, flat, args[0], flat_index(src, strides));
  });
  return {std::move(out)};
}

// ---- broadcast_to and tile ----

std::vector<TensorType> broadcast_to_type(std::span<const TensorType> args, const Attrs& attrs) {
  return {TensorType{ops::broadcast_shapes(args[0].shape, attrs_as<BroadcastToAttrs>(attrs).shape), args[0].dtype}};
}

// Reads each output element from the input index that `source` gives.
std::vector<Tensor> gather_by_index(const Tensor& in, const TensorType& out_type,
                                    const std::function<std::vector<int64_t>(const std::vector<int64_t>&)>& source) {
  const auto strides = contiguous_strides(in.type().shape);
  Tensor out(out_type);
  for_each_index(out_type.shape, [&](const std::vector<int64_t>& o, size_t flat) {
    copy_element(out, flat, in, flat_index(source(o), strides));
  });
  return {std::move(out)};
}

std::vector<Tensor> broadcast_to_reference(std::span<const Tensor> args, const Attrs&, std::span<const TensorType> types) {
  const auto& in = args[0].type().shape;
  const size_t offset = types[0].rank() - in.size();
  return gather_by_index(args[0], types[0], [&](const std::vector<int64_t>& o) {
    std::vector<int64_t> src;
    for (size_t d = 0; d < in.size(); ++d) src.push_back(in[d] == 1 ? 0 : o[offset + d]);
    return src;
  });
}

std::vector<TensorType> tile_type(std::span<const TensorType> args, const Attrs& attrs) {
  const auto& reps = attrs_as<TileAttrs>(attrs).reps;
  if (reps.size() != args[0].rank())
    ops::type_error("tile: reps has " + std::to_string(reps.size()) + " entries for " + args[0].str());
  TensorType out = args[0];
  for (size_t d = 0; d < reps.size(); ++d) {
    if (reps[d] < 0) ops::type_error("tile: reps must be >= 0");
    out.shape[d] = ops::checked_dim(checked_mul(out.shape[d], reps[d]), "tile: axis " + std::to_string(d) + " repeated");
  }
  return {out};
}

std::vector<Tensor> tile_reference(std::span<const Tensor> args, const Attrs&, std::span<const TensorType> types) {
  const auto& in = args[0].type().shape;
  return gather_by_index(args[0], types[0], [&](const std::vector<int64_t>& o) {
    std::vector<int64_t> src(o.size());
    for (size_t d = 0; d < o.size(); ++d) src[d] = o[d] % in[d];
    return src;
  });
}

// ---- pad ----

constexpr int64_t kMaxPadding = int64_t{1} << 62;


std::vector<TensorType> pad_type(std::span<const TensorType> args, const Attrs& attrs) {
  const auto& a = attrs_as<PadAttrs>(attrs);
  const size_t rank = args[0].rank();
  if (a.pad_width.size() != 2 * rank)
    ops::type_error("nn.pad: pad_width has " + std::to_string(a.pad_width.size()) + " values, " + args[0].str() +
                    " needs " + std::to_string(2 * rank));
  if (a.mode != "constant" && a.mode != "reflect" && a.mode != "edge")
    ops::type_error("nn.pad: mode '" + a.mode + "' is not constant, reflect or edge");
  // The kernel subtracts a padding from an index: bounded, neither can overflow.
  for (const int64_t p : a.pad_width)
    if (p > kMaxPadding || p < -kMaxPadding) ops::type_error("nn.pad: padding " + std::to_string(p) + " is out of range");
  TensorType out = args[0];
  for (size_t d = 0; d < rank; ++d) {
    const std::optional<int64_t> padding = checked_add(a.pad_width[d], a.pad_width[d + rank]);
    out.shape[d] = ops::checked_dim(padding ? checked_add(out.shape[d], *padding) : std::nullopt, "nn.pad: the result");
    if (out.shape[d] < 0) ops::type_error("nn.pad: negative padding removes more than axis " + std::to_string(d) + " has");
    if (a.mode == "reflect" && (a.pad_width[d] >= args[0].shape[d] || a.pad_width[d + rank] >= args[0].shape[d]))
      ops::type_error("nn.pad: reflect padding must be smaller than the axis it pads");
    if (a.mode == "edge" && args[0].shape[d] == 0 && out.shape[d] > 0)
      ops::type_error("nn.pad: edge padding of the empty axis " + std::to_string(d) + " has no edge to repeat");
  }
  return {out};
}

std::vector<Tensor> pad_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& a = attrs_as<PadAttrs>(attrs);
  const auto& in = args[0].type().shape;
  const size_t rank = in.size();
  const auto strides = contiguous_strides(in);
  Tensor out(types[0]);
  for_each_index(types[0].shape, [&](const std::vector<int64_t>& o, size_t flat) {
    std::vector<int64_t> src(rank);
    bool inside = true;
    for (size_t d = 0; d < rank; ++d) {
      int64_t i = o[d] - a.pad_width[d];
      const int64_t n = in[d];
      if (a.mode == "reflect") i = i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
      else if (a.mode == "edge") i = std::clamp<int64_t>(i, 0, n - 1);
      else inside = inside && i >= 0 && i < n;
      src[d] = i;
    }
    if (inside) copy_element(out, flat, args[0], flat_index(src, strides));
    else out.set_element(flat, a.pad_value);
  });
  return {std::move(out)};
}

// ---- trilu ----

std::vector<TensorType> trilu_type(std::span<const TensorType> args, const Attrs&) {
  if (args[0].rank() < 2) ops::type_error("trilu expects a tensor of rank >= 2, found " + args[0].str());
  return {args[0]};
}

std::vector<Tensor> trilu_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& a = attrs_as<TriluAttrs>(attrs);
  const size_t rank = types[0].rank();
  Tensor out(types[0]);
  for_each_index(types[0].shape, [&](const std::vector<int64_t>& o, size_t flat) {
    const int64_t diagonal = o[rank - 1] - o[rank - 2];
    if (a.upper ? diagonal >= a.k : diagonal <= a.k) copy_element(out, flat, args[0], flat);
  });
  return {std::move(out)};
}

// ---- resize ----

std::vector<TensorType> resize_type(std::span<const TensorType> args, const Attrs& attrs) {
  const auto& a = attrs_as<ResizeAttrs>(attrs);
  expect_float_or_error(args[0]);
  if (a.size.size() != args[0].rank() || a.scales.size() != args[0].rank())
    ops::type_error("resize: size and scales need one value per axis of " + args[0].str());
  if (a.mode != "nearest" && a.mode != "linear" && a.mode != "cubic")
    ops::type_error("resize: mode '" + a.mode + "' is not nearest, linear or cubic");
  for (size_t d = 0; d < a.size.size(); ++d)
    if (args[0].shape[d] == 0 && a.size[d] != 0)
      ops::type_error("resize: axis " + std::to_string(d) + " of " + args[0].str() + " is empty, there is nothing to resize");
  for (const char* m : {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"})
    if (a.coordinate_transformation_mode == m) return {TensorType{a.size, args[0].dtype}};
  ops::type_error("resize: coordinate_transformation_mode '" + a.coordinate_transformation_mode + "' is not supported");
}

// Resizes one axis at a time (the interpolation is separable).
std::vector<Tensor> resize_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& a = attrs_as<ResizeAttrs>(attrs);
  Tensor current = args[0];
  for (size_t axis = 0; axis < types[0].rank(); ++axis) {
    const ResizeTaps taps = resize_taps(a, axis, current.type().shape[axis]);
    if (taps.identity) continue;
    TensorType next_type = current.type();
    next_type.shape[axis] = a.size[axis];
    const auto strides = contiguous_strides(current.type().shape);
    Tensor next(next_type);
    for_each_index(next_type.shape, [&](const std::vector<int64_t>& o, size_t flat) {
      std::vector<int64_t> src = o;
      double acc = 0;
      for (int64_t t = 0; t < taps.taps; ++t) {
        const auto k = static_cast<size_t>(o[axis] * taps.taps + t);
        src[axis] = taps.index[k];
        acc += taps.weight[k] * current.element_as_double(flat_index(src, strides));
      }
      next.set_element(flat, acc);
    });
    current = std::move(next);
  }
  return {current};
}

}  // namespace

void register_transform_ops(OpRegistry& r) {
  r.add({"take", "elements at integer `indices` along `axis` (ONNX Gather)", 2, 2, OpPattern::injective,
         [] { return std::make_unique<TakeAttrs>(); }, take_type, take_reference});
  r.add({"gather_elements", "data at indices along `axis`, elementwise (ONNX GatherElements)", 2, 2, OpPattern::injective,
         [] { return std::make_unique<TakeAttrs>(); }, gather_elements_type, gather_elements_reference});
  r.add({"broadcast_to", "repeats size-1 axes to numpy-broadcast with `shape`", 1, 1, OpPattern::broadcast,
         [] { return std::make_unique<BroadcastToAttrs>(); }, broadcast_to_type, broadcast_to_reference});
  r.add({"tile", "repeats the input `reps` times along each axis", 1, 1, OpPattern::injective,
         [] { return std::make_unique<TileAttrs>(); }, tile_type, tile_reference});
  r.add({"nn.pad", "pads (or crops) each axis: constant, reflect or edge", 1, 1, OpPattern::injective,
         [] { return std::make_unique<PadAttrs>(); }, pad_type, pad_reference});
  r.add({"trilu", "the upper or lower triangle of the last two axes, zeros elsewhere", 1, 1, OpPattern::injective,
         [] { return std::make_unique<TriluAttrs>(); }, trilu_type, trilu_reference});
  r.add({"image.resize", "nearest, linear or cubic resize of every axis to `size`", 1, 1, OpPattern::injective,
         [] { return std::make_unique<ResizeAttrs>(); }, resize_type, resize_reference});
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
