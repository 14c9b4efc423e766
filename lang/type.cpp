#include "lang/type.h"

#include <algorithm>
#include <array>

#include "support/checked_math.h"
#include "support/diagnostic.h"

namespace modelc::lang {
namespace {

struct DTypeInfo {
  DType dtype;
  std::string_view name;
  size_t bytes;
};

constexpr std::array<DTypeInfo, 13> kDTypes{{
    {DType::float32, "float32", 4},
    {DType::float16, "float16", 2},
    {DType::bfloat16, "bfloat16", 2},
    {DType::int8, "int8", 1},
    {DType::uint8, "uint8", 1},
    {DType::int32, "int32", 4},
    {DType::int64, "int64", 8},
    {DType::boolean, "bool", 1},
    {DType::string, "string", 0},  // no byte data: see Tensor::strings()
    {DType::int16, "int16", 2},
    {DType::uint16, "uint16", 2},
    {DType::uint32, "uint32", 4},
    {DType::uint64, "uint64", 8},
}};

}  // namespace

std::string_view dtype_name(DType dtype) { return kDTypes[static_cast<size_t>(dtype)].name; }

std::optional<DType> parse_dtype(std::string_view name) {
  for (const DTypeInfo& info : kDTypes)
    if (info.name == name) return info.dtype;
  return std::nullopt;
}

size_t dtype_bytes(DType dtype) { return kDTypes[static_cast<size_t>(dtype)].bytes; }

bool is_float(DType dtype) {
  return dtype == DType::float32 || dtype == DType::float16 || dtype == DType::bfloat16;
}

int64_t TensorType::element_count() const {
  const std::optional<int64_t> n = checked_element_count(shape);
  if (!n) throw Error(str() + (std::any_of(shape.begin(), shape.end(), [](int64_t d) { return d < 0; })
                                   ? " has a negative dimension"
                                   : " has more elements than fit in 64 bits"));
  return *n;
}

size_t TensorType::bytes() const {
  const std::optional<size_t> n = checked_byte_size(element_count(), dtype_bytes(dtype));
  if (!n) throw Error(str() + " has more bytes than fit in 64 bits");
  return *n;
}

std::string TensorType::str() const {
  std::string out = "Tensor[(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  out += "), ";
  out += dtype_name(dtype);
  out += "]";
  return out;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + (shape[i] < 0 ? "?" : std::to_string(shape[i]));
  return out + "]";
}

std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

}  // namespace modelc::lang
