// Tensor sizes checked against the model's limits (spec::ModelLimits, the
// recipe's model.limits) before anything of that size is allocated. The
// importer checks every type an ONNX file or a folded op asks for, and every
// constant it adds; InferType checks every binding's type; FoldConstant checks
// the constants it adds. The errors say what was too big and which limit it
// broke; the caller adds where (the ONNX node, the binding).
#pragma once

#include <cstdint>
#include <string_view>

#include "lang/type.h"
#include "spec/model_limits.h"

namespace modelc::lang {

// Throws modelc::Error when `type` has a negative dimension, more elements
// than limits.max_tensor_elements or more bytes than limits.max_model_bytes.
// `what` names the tensor in the message ("the output", "initializer 'w'").
void check_tensor_size(const TensorType& type, const spec::ModelLimits& limits, std::string_view what);

// The bytes of a module's constants, counted as constants are added.
class ConstantBytes {
 public:
  explicit ConstantBytes(const spec::ModelLimits& limits, int64_t used = 0) : limits_(limits), used_(used) {}
  // Checks `type` (check_tensor_size) and that the constants stay within
  // limits.max_model_bytes with it; counts it.
  void add(const TensorType& type, std::string_view what);
  int64_t used() const { return used_; }

 private:
  spec::ModelLimits limits_;
  int64_t used_;
};

}  // namespace modelc::lang
