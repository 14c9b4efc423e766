// Tensor values: constants of a module, and the values the reference
// interpreter computes. Data is immutable once shared, so copies are cheap.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "lang/type.h"
#include "support/byte_buffer.h"

namespace modelc::lang {

class Tensor {
 public:
  Tensor() = default;
  // Zero-filled tensor of the given type.
  explicit Tensor(TensorType type);
  Tensor(TensorType type, std::vector<std::byte> bytes);
  // A tensor whose type is known but whose data is not (a constant parsed from
  // text where the printer elided the data). has_data() is false.
  static Tensor opaque(TensorType type, std::string digest);

  const TensorType& type() const { return type_; }
  bool has_data() const { return data_ != nullptr; }
  std::span<const std::byte> bytes() const;
  // Mutable access; copies the data first if it is shared (copy on write).
  std::span<std::byte> mutable_bytes();

  template <typename T>
  std::span<const T> values() const {
    auto b = bytes();
    return {reinterpret_cast<const T*>(b.data()), b.size() / sizeof(T)};
  }
  template <typename T>
  std::span<T> mutable_values() {
    auto b = mutable_bytes();
    return {reinterpret_cast<T*>(b.data()), b.size() / sizeof(T)};
  }

  // The elements of a string tensor (which has no byte data).
  std::span<const std::string> strings() const;
  void set_string(size_t i, std::string value);

  // Element i converted from/to double / int64, whatever the numeric dtype.
  // Conversions to integers saturate at the dtype's bounds (NaN becomes 0):
  // values come from model files, and an out-of-range cast is undefined.
  void set_element(size_t i, double value);
  double element_as_double(size_t i) const;
  int64_t element_as_int(size_t i) const;
  // sha256 of type and data (or the digest an opaque tensor was parsed with).
  const std::string& digest() const;

  static Tensor from_floats(std::vector<int64_t> shape, std::span<const float> values);
  static Tensor from_ints(std::vector<int64_t> shape, std::span<const int64_t> values);
  static Tensor scalar(float value) { return from_floats({}, std::span<const float>(&value, 1)); }

 private:
  TensorType type_;
  std::shared_ptr<ByteBuffer> data_;
  std::shared_ptr<std::vector<std::string>> strings_;  // string tensors only
  mutable std::string digest_;
};

}  // namespace modelc::lang
