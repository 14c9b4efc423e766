// Tensors stored one per file as a serialized ONNX TensorProto: the inputs and
// expected outputs of the ONNX backend test data (input_0.pb, output_0.pb).
#pragma once

#include <filesystem>
#include <string>

#include "lang/tensor.h"
#include "spec/model_limits.h"

namespace modelc::lang {

struct NamedTensor {
  std::string name;  // the TensorProto's name; may be empty
  Tensor value;
};

// Throws modelc::Error naming the file when it does not parse, holds a type
// the IR cannot represent (float64 data is converted to float32, as for
// initializers) or a tensor over `limits`.
NamedTensor read_onnx_tensor(const std::filesystem::path& file, const spec::ModelLimits& limits = {});

}  // namespace modelc::lang
