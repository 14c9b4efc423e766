// Element types and tensor types of the IR.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace modelc::lang {

// `string` tensors exist only at import time, as constants (an ONNX
// StringNormalizer or Cast on known strings folds to its result); compiled
// models never take, compute or return them.
enum class DType : uint8_t { float32, float16, bfloat16, int8, uint8, int32, int64, boolean, string, int16, uint16, uint32, uint64 };

std::string_view dtype_name(DType dtype);            // "float32", ..., "bool"
std::optional<DType> parse_dtype(std::string_view);  // inverse of dtype_name
size_t dtype_bytes(DType dtype);
bool is_float(DType dtype);

// A tensor type with a static shape: the only kind of type modelc compiles.
struct TensorType {
  std::vector<int64_t> shape;
  DType dtype = DType::float32;

  size_t rank() const { return shape.size(); }
  // Both throw modelc::Error for a negative dimension or a count that does not
  // fit in 64 bits: shapes come from model files (lang/size_limits.h checks
  // them against the model's limits; these only refuse to wrap).
  int64_t element_count() const;
  size_t bytes() const;
  // "Tensor[(1, 3, 224, 224), float32]"
  std::string str() const;

  bool operator==(const TensorType&) const = default;
};

// "[1, 3, 224, 224]", for messages ("?" for a dynamic (negative) dimension of a model file).
std::string shape_str(const std::vector<int64_t>& shape);

// Row-major strides in elements.
std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& shape);

}  // namespace modelc::lang
