// Checked arithmetic for sizes that come from files: ONNX dimensions and
// attributes, .npy shapes, recipe shapes. A product or sum that does not fit
// is nullopt, never a wrapped value that passes the next check (a shape whose
// product wraps to 0 would otherwise look like an empty tensor).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <type_traits>

namespace modelc {

template <typename T>
std::optional<T> checked_mul(T a, T b) {
  static_assert(std::is_integral_v<T>);
  T r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

template <typename T>
std::optional<T> checked_add(T a, T b) {
  static_assert(std::is_integral_v<T>);
  T r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

template <typename T>
std::optional<T> checked_sub(T a, T b) {
  static_assert(std::is_integral_v<T>);
  T r;
  if (__builtin_sub_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// Non-negative counts (work, bytes) summed or multiplied, stuck at INT64_MAX
// instead of wrapping: sizes come from model files.
inline int64_t saturating_add(int64_t a, int64_t b) {
  return checked_add(a, b).value_or(std::numeric_limits<int64_t>::max());
}
inline int64_t saturating_mul(int64_t a, int64_t b) {
  return checked_mul(a, b).value_or(std::numeric_limits<int64_t>::max());
}

// The product of the non-zero dimensions of a shape: how many elements the
// shape spans once its zero dimensions are ignored. nullopt when a dimension is
// negative or the product does not fit in int64. A shape such as
// [0, 2^62, 2^62] holds no elements, yet strides computed from it overflow; its
// extent is what a size limit must bound.
inline std::optional<int64_t> checked_extent(std::span<const int64_t> shape) {
  int64_t n = 1;
  for (const int64_t d : shape) {
    if (d < 0) return std::nullopt;
    if (d == 0) continue;
    const std::optional<int64_t> next = checked_mul(n, d);
    if (!next) return std::nullopt;
    n = *next;
  }
  return n;
}

// The number of elements of a shape: nullopt when a dimension is negative or
// the shape's extent (see above) does not fit in int64.
inline std::optional<int64_t> checked_element_count(std::span<const int64_t> shape) {
  const std::optional<int64_t> extent = checked_extent(shape);
  if (!extent) return std::nullopt;
  for (const int64_t d : shape)
    if (d == 0) return 0;
  return extent;
}

// count * element_size in bytes; nullopt when count is negative or the product
// does not fit in size_t.
inline std::optional<size_t> checked_byte_size(int64_t count, size_t element_size) {
  if (count < 0) return std::nullopt;
  return checked_mul(static_cast<size_t>(count), element_size);
}

// A double converted to an integer type, saturated at the type's bounds (NaN
// becomes 0). A plain cast of a double out of the type's range is undefined
// behaviour, and doubles here come from model data (a Range's bounds, a
// OneHot depth, a float tensor cast to int).
template <typename I>
I saturating_cast(double v) {
  static_assert(std::is_integral_v<I>);
  if (std::isnan(v)) return 0;
  // The bounds as doubles: max() rounds up to 2^63 or 2^64 (exclusive), min() is exact.
  constexpr double lo = static_cast<double>(std::numeric_limits<I>::min());
  constexpr double hi = static_cast<double>(std::numeric_limits<I>::max());
  if (v <= lo) return std::numeric_limits<I>::min();
  if (v >= hi) return std::numeric_limits<I>::max();
  return static_cast<I>(v);
}

}  // namespace modelc
