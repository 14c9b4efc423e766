// Attribute structs of the tuple-indexed gathers and the scatters
// (lang/ops/indexing.cpp): ONNX GatherND, ScatterND and ScatterElements.
//
// Indices count from the end when negative, as ONNX's do. An index outside
// its axis is an error of the reference kernel (hence of constant folding);
// compiled kernels clamp it into the axis instead, so a bad index never reads
// or writes outside a buffer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lang/attrs.h"

namespace modelc::lang {

// gather_nd(data, indices): the last axis of `indices` (length k) is an index
// tuple into the k axes of `data` after its first `batch_dims` axes, which
// `indices` shares. Result: indices.shape[:-1] + data.shape[batch_dims + k:].
struct GatherNDAttrs : AttrsOf<GatherNDAttrs> {
  int64_t batch_dims = 0;
  template <typename V> void fields(V& v) { v("batch_dims", batch_dims); }
};

// How a scatter combines an update with the element it lands on: "none"
// (the update replaces it; of duplicate indices the last update wins), "add"
// or "mul" (every update is applied, in order).
enum class ScatterReduction { none, add, mul };
// Throws the type error naming the allowed values for anything else.
ScatterReduction parse_scatter_reduction(const std::string& reduction);

// scatter_nd(data, indices, updates): a copy of `data` where each index
// tuple of `indices` (its last axis, length k) receives the slice of
// `updates` at the tuple's position; updates.shape = indices.shape[:-1] +
// data.shape[k:]. Tuples apply in row-major order.
struct ScatterNDAttrs : AttrsOf<ScatterNDAttrs> {
  std::string reduction = "none";
  template <typename V> void fields(V& v) { v("reduction", reduction); }
};

// scatter_elements(data, indices, updates): a copy of `data` where, for each
// position p of `indices` (of data's rank, the shape of `updates`),
// updates[p] lands on p with its `axis` coordinate replaced by indices[p].
// Positions apply in row-major order.
struct ScatterElementsAttrs : AttrsOf<ScatterElementsAttrs> {
  int64_t axis = 0;
  std::string reduction = "none";
  template <typename V> void fields(V& v) {
    v("axis", axis);
    v("reduction", reduction);
  }
};

}  // namespace modelc::lang
