// Attribute structs of the data-movement operators (lang/ops/transform.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lang/attrs.h"

namespace modelc::lang {

struct ReshapeAttrs : AttrsOf<ReshapeAttrs> {
  std::vector<int64_t> newshape;  // one entry may be -1 (inferred)
  template <typename V> void fields(V& v) { v("newshape", newshape); }
};

struct TransposeAttrs : AttrsOf<TransposeAttrs> {
  std::vector<int64_t> axes;  // empty: reverse
  template <typename V> void fields(V& v) { v("axes", axes); }
};

struct ConcatenateAttrs : AttrsOf<ConcatenateAttrs> {
  int64_t axis = 0;
  template <typename V> void fields(V& v) { v("axis", axis); }
};

// Elements begin, begin + step, ... (before end) along each listed axis, with
// ONNX/numpy clamping: negative begin/end count from the end, out-of-range
// values are clamped, a negative step walks backwards.
struct StridedSliceAttrs : AttrsOf<StridedSliceAttrs> {
  std::vector<int64_t> begin;
  std::vector<int64_t> end;
  std::vector<int64_t> axes;     // empty: 0, 1, ..., begin.size() - 1
  std::vector<int64_t> strides;  // empty: all 1
  template <typename V> void fields(V& v) {
    v("begin", begin);
    v("end", end);
    v("axes", axes);
    v("strides", strides);
  }
};

// Elements of `data` at `indices` (any integer tensor, negative counting from
// the end) along `axis`: data.shape[:axis] + indices.shape + data.shape[axis+1:].
struct TakeAttrs : AttrsOf<TakeAttrs> {
  int64_t axis = 0;
  template <typename V> void fields(V& v) { v("axis", axis); }
};

// The input repeated along each axis by numpy broadcasting to `shape`
// (bidirectional, as ONNX Expand: the result is the broadcast of both).
struct BroadcastToAttrs : AttrsOf<BroadcastToAttrs> {
  std::vector<int64_t> shape;
  template <typename V> void fields(V& v) { v("shape", shape); }
};

struct TileAttrs : AttrsOf<TileAttrs> {
  std::vector<int64_t> reps;  // one per axis
  template <typename V> void fields(V& v) { v("reps", reps); }
};

// pad_width: before and after per axis ([b0, b1, ..., a0, a1, ...], ONNX's
// order); negative widths crop. mode: "constant" (pad_value), "reflect"
// (mirror without the edge) or "edge" (repeat the edge).
struct PadAttrs : AttrsOf<PadAttrs> {
  std::vector<int64_t> pad_width;
  std::string mode = "constant";
  double pad_value = 0;
  template <typename V> void fields(V& v) {
    v("pad_width", pad_width);
    v("mode", mode);
    v("pad_value", pad_value);
  }
};

// Keeps the upper (or lower) triangle of the last two axes from diagonal k on.
struct TriluAttrs : AttrsOf<TriluAttrs> {
  bool upper = true;
  int64_t k = 0;
  template <typename V> void fields(V& v) {
    v("upper", upper);
    v("k", k);
  }
};

// Resizes the spatial axes (all but the first two) of an N, C, ... tensor to
// `size`, mapping output coordinates to input ones by coordinate_transformation_mode
// (ONNX's names: half_pixel, pytorch_half_pixel, align_corners, asymmetric,
// tf_half_pixel_for_nn) with the given scales (0: size / input size); mode is
// "nearest" (rounded by nearest_mode: round_prefer_floor, round_prefer_ceil,
// floor, ceil), "linear" or "cubic" (cubic_coeff_a, exclude_outside).
struct ResizeAttrs : AttrsOf<ResizeAttrs> {
  std::vector<int64_t> size;    // of every axis
  std::vector<double> scales;   // of every axis
  std::string mode = "nearest";
  std::string coordinate_transformation_mode = "half_pixel";
  std::string nearest_mode = "round_prefer_floor";
  double cubic_coeff_a = -0.75;
  bool exclude_outside = false;
  template <typename V> void fields(V& v) {
    v("size", size);
    v("scales", scales);
    v("mode", mode);
    v("coordinate_transformation_mode", coordinate_transformation_mode);
    v("nearest_mode", nearest_mode);
    v("cubic_coeff_a", cubic_coeff_a);
    v("exclude_outside", exclude_outside);
  }
};

// How one axis of a resize reads its input: output index o is the sum over
// t < taps of weight[o * taps + t] * input[index[o * taps + t]] (indices
// clamped to the input, as ONNX's edge padding). Shared by the reference
// kernel and the lowering, so both interpolate identically.
struct ResizeTaps {
  int64_t taps = 1;
  std::vector<int64_t> index;
  std::vector<double> weight;
  bool identity = false;  // the axis is copied unchanged
};
ResizeTaps resize_taps(const ResizeAttrs& attrs, size_t axis, int64_t in_size);

// Per axis of the input: the first index taken, the step and the count.
struct SliceRange {
  int64_t start = 0;
  int64_t step = 1;
  int64_t count = 0;
};
std::vector<SliceRange> resolve_strided_slice(const std::vector<int64_t>& shape, const StridedSliceAttrs& attrs);

// The concrete target shape of a reshape (resolves -1); throws on mismatch.
std::vector<int64_t> resolve_reshape(const std::vector<int64_t>& in, const std::vector<int64_t>& newshape);

}  // namespace modelc::lang
