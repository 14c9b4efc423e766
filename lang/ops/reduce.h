// Attribute structs of reductions (lang/ops/reduce.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lang/attrs.h"

namespace modelc::lang {

struct ReduceAttrs : AttrsOf<ReduceAttrs> {
  std::vector<int64_t> axes;  // empty: all axes
  bool keepdims = true;
  template <typename V> void fields(V& v) {
    v("axes", axes);
    v("keepdims", keepdims);
  }
};

// argmax / argmin: the int64 index of the first (or, with select_last_index,
// the last) extreme element along `axis`.
struct ArgReduceAttrs : AttrsOf<ArgReduceAttrs> {
  int64_t axis = 0;
  bool keepdims = true;
  bool select_last_index = false;
  template <typename V> void fields(V& v) {
    v("axis", axis);
    v("keepdims", keepdims);
    v("select_last_index", select_last_index);
  }
};

// Running sums along `axis`; exclusive leaves out the element itself,
// reverse sums from the end.
struct CumsumAttrs : AttrsOf<CumsumAttrs> {
  int64_t axis = 0;
  bool exclusive = false;
  bool reverse = false;
  template <typename V> void fields(V& v) {
    v("axis", axis);
    v("exclusive", exclusive);
    v("reverse", reverse);
  }
};

// The k largest (or smallest) elements along `axis`, sorted, ties broken by
// the lower index; ret_type "values" gives them, "indices" their int64
// positions (the IR's ops have one result, so ONNX TopK becomes two calls).
struct TopKAttrs : AttrsOf<TopKAttrs> {
  int64_t k = 1;
  int64_t axis = -1;
  bool largest = true;
  std::string ret_type = "values";
  template <typename V> void fields(V& v) {
    v("k", k);
    v("axis", axis);
    v("largest", largest);
    v("ret_type", ret_type);
  }
};

// Normalised, sorted, unique axes of a reduction over a tensor of `rank`.
std::vector<int64_t> reduction_axes(const ReduceAttrs& attrs, size_t rank);

}  // namespace modelc::lang
