// Attribute structs of the data-movement operators (lang/ops/transform.cpp).
#pragma once

#include <cstdint>
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
