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

// The concrete target shape of a reshape (resolves -1); throws on mismatch.
std::vector<int64_t> resolve_reshape(const std::vector<int64_t>& in, const std::vector<int64_t>& newshape);

}  // namespace modelc::lang
