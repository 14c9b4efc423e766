// Attribute structs of normalising operators (registered in
// lang/ops/normalization.cpp: nn.log_softmax, nn.layer_norm).
#pragma once

#include <cstdint>

#include "lang/attrs.h"

namespace modelc::lang {

// Normalises over the axes from `axis` to the last (ONNX
// LayerNormalization), then scales and shifts by gamma and beta, which
// broadcast (numpy) against the input.
struct LayerNormAttrs : AttrsOf<LayerNormAttrs> {
  int64_t axis = -1;
  double epsilon = 1e-5;
  template <typename V> void fields(V& v) {
    v("axis", axis);
    v("epsilon", epsilon);
  }
};

}  // namespace modelc::lang
