// Attribute structs of reductions (lang/ops/reduce.cpp).
#pragma once

#include <cstdint>
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

// Normalised, sorted, unique axes of a reduction over a tensor of `rank`.
std::vector<int64_t> reduction_axes(const ReduceAttrs& attrs, size_t rank);

}  // namespace modelc::lang
