#include "lang/tensor.h"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "support/checked_math.h"
#include "support/sha256.h"

namespace modelc::lang {

Tensor::Tensor(TensorType type)
    : type_(std::move(type)), data_(std::make_shared<ByteBuffer>(type_.bytes())) {
  if (type_.dtype == DType::string)
    strings_ = std::make_shared<std::vector<std::string>>(static_cast<size_t>(type_.element_count()));
}

std::span<const std::string> Tensor::strings() const {
  if (!strings_) throw std::logic_error("Tensor: strings() of " + type_.str());
  return *strings_;
}

void Tensor::set_string(size_t i, std::string value) {
  if (!strings_) throw std::logic_error("Tensor: set_string on " + type_.str());
  if (strings_.use_count() > 1) strings_ = std::make_shared<std::vector<std::string>>(*strings_);
  digest_.clear();
  strings_->at(i) = std::move(value);
}

Tensor::Tensor(TensorType type, std::vector<std::byte> bytes) : type_(std::move(type)) {
  if (bytes.size() != type_.bytes())
    throw std::logic_error("Tensor: " + std::to_string(bytes.size()) + " bytes for " + type_.str());
  data_ = std::make_shared<ByteBuffer>(std::move(bytes));
}

Tensor Tensor::opaque(TensorType type, std::string digest) {
  Tensor t;
  t.type_ = std::move(type);
  t.digest_ = std::move(digest);
  return t;
}

std::span<const std::byte> Tensor::bytes() const {
  if (!data_) throw std::logic_error("Tensor: data of " + type_.str() + " is not available (elided in text)");
  return std::as_const(*data_).span();
}

std::span<std::byte> Tensor::mutable_bytes() {
  if (!data_) throw std::logic_error("Tensor: data of " + type_.str() + " is not available (elided in text)");
  if (data_.use_count() > 1) data_ = std::make_shared<ByteBuffer>(*data_);
  digest_.clear();
  return data_->span();
}

namespace {

// IEEE binary16 by bit manipulation (round to nearest even), not through the
// compiler's _Float16: clang 14, which builds the fuzzers, has no _Float16 on x86.
double half_to_double(uint16_t bits) {
  const uint32_t sign = (bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24
    const double v = std::ldexp(static_cast<double>(mantissa), -24);
    return sign ? -v : v;
  }
  const uint32_t wide = exponent == 31 ? sign | 0x7f800000u | (mantissa << 13)  // inf or NaN
                                       : sign | ((exponent + 112) << 23) | (mantissa << 13);
  float f;
  std::memcpy(&f, &wide, 4);
  return f;
}

// Rounds a float to the nearest binary16, ties to even (F. Giesen's float_to_half_fast3_rtne).
uint16_t half_from_double(double v) {
  const auto f = static_cast<float>(v);
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint32_t sign = u & 0x80000000u;
  u ^= sign;
  uint32_t out;
  if (u >= (127u + 16u) << 23) {  // 65536 and above, inf or NaN
    out = u > 0x7f800000u ? 0x7e00u : 0x7c00u;
  } else if (u < 113u << 23) {  // below the smallest normal half: a subnormal or zero, rounded by float addition
    constexpr uint32_t kMagic = ((127u - 15u) + (23u - 10u) + 1u) << 23;
    float magic, x;
    std::memcpy(&magic, &kMagic, 4);
    std::memcpy(&x, &u, 4);
    x += magic;
    std::memcpy(&out, &x, 4);
    out -= kMagic;
  } else {
    const uint32_t odd = (u >> 13) & 1u;
    u += (static_cast<uint32_t>(15 - 127) << 23) + 0xfffu + odd;
    out = u >> 13;
  }
  return static_cast<uint16_t>(out | (sign >> 16));
}

// bfloat16: the top half of a float32; rounds to nearest even, keeps NaN a NaN.
double bfloat16_to_double(uint16_t bits) {
  const uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &wide, 4);
  return f;
}

uint16_t bfloat16_from_double(double v) {
  const auto f = static_cast<float>(v);
  uint32_t wide;
  std::memcpy(&wide, &f, 4);
  if ((wide & 0x7f800000u) == 0x7f800000u && (wide & 0x007fffffu) != 0) return static_cast<uint16_t>((wide >> 16) | 0x40u);
  wide += 0x7fffu + ((wide >> 16) & 1u);
  return static_cast<uint16_t>(wide >> 16);
}

uint16_t load16(const std::byte* p, size_t i) {
  uint16_t v;
  std::memcpy(&v, p + 2 * i, 2);
  return v;
}

}  // namespace

double Tensor::element_as_double(size_t i) const {
  const std::byte* p = bytes().data();
  switch (type_.dtype) {
    case DType::float32: { float v; std::memcpy(&v, p + 4 * i, 4); return v; }
    case DType::int8: return static_cast<double>(reinterpret_cast<const int8_t*>(p)[i]);
    case DType::uint8: return static_cast<double>(reinterpret_cast<const uint8_t*>(p)[i]);
    case DType::boolean: return p[i] != std::byte{0} ? 1.0 : 0.0;
    case DType::int32: { int32_t v; std::memcpy(&v, p + 4 * i, 4); return v; }
    case DType::int64: { int64_t v; std::memcpy(&v, p + 8 * i, 8); return static_cast<double>(v); }
    case DType::float16: return half_to_double(load16(p, i));
    case DType::bfloat16: return bfloat16_to_double(load16(p, i));
    case DType::int16: { int16_t v; std::memcpy(&v, p + 2 * i, 2); return v; }
    case DType::uint16: return load16(p, i);
    case DType::uint32: { uint32_t v; std::memcpy(&v, p + 4 * i, 4); return v; }
    case DType::uint64: { uint64_t v; std::memcpy(&v, p + 8 * i, 8); return static_cast<double>(v); }
    case DType::string: break;
  }
  throw std::logic_error("Tensor: element_as_double of " + std::string(dtype_name(type_.dtype)));
}

namespace {

// Integer arithmetic on narrow types wraps (a uint8 left_shift keeps the low
// bits, as the kernels do); the value is first brought into int64 without
// undefined behaviour (saturating, NaN to 0), then truncated.
template <typename I>
I wrapping_cast(double v) {
  return static_cast<I>(saturating_cast<int64_t>(v));
}

}  // namespace

void Tensor::set_element(size_t i, double v) {
  std::byte* p = mutable_bytes().data();
  switch (type_.dtype) {
    case DType::float32: { const float f = static_cast<float>(v); std::memcpy(p + 4 * i, &f, 4); return; }
    case DType::int64: { const auto x = saturating_cast<int64_t>(v); std::memcpy(p + 8 * i, &x, 8); return; }
    case DType::int32: { const auto x = wrapping_cast<int32_t>(v); std::memcpy(p + 4 * i, &x, 4); return; }
    case DType::int8: p[i] = static_cast<std::byte>(wrapping_cast<int8_t>(v)); return;
    case DType::uint8: p[i] = static_cast<std::byte>(wrapping_cast<uint8_t>(v)); return;
    case DType::boolean: p[i] = static_cast<std::byte>(v != 0); return;
    case DType::float16: { const uint16_t h = half_from_double(v); std::memcpy(p + 2 * i, &h, 2); return; }
    case DType::bfloat16: { const uint16_t b = bfloat16_from_double(v); std::memcpy(p + 2 * i, &b, 2); return; }
    case DType::int16: { const auto x = wrapping_cast<int16_t>(v); std::memcpy(p + 2 * i, &x, 2); return; }
    case DType::uint16: { const auto x = wrapping_cast<uint16_t>(v); std::memcpy(p + 2 * i, &x, 2); return; }
    case DType::uint32: { const auto x = wrapping_cast<uint32_t>(v); std::memcpy(p + 4 * i, &x, 4); return; }
    case DType::uint64: { const auto x = saturating_cast<uint64_t>(v); std::memcpy(p + 8 * i, &x, 8); return; }
    case DType::string: break;
  }
  throw std::logic_error("Tensor: set_element of " + std::string(dtype_name(type_.dtype)));
}

int64_t Tensor::element_as_int(size_t i) const {
  if (type_.dtype == DType::int64) {
    int64_t v;
    std::memcpy(&v, bytes().data() + 8 * i, 8);
    return v;
  }
  return saturating_cast<int64_t>(element_as_double(i));
}

const std::string& Tensor::digest() const {
  if (digest_.empty()) {
    const std::string header = type_.str();
    std::string items;
    if (strings_)
      for (const std::string& s : *strings_)  // length-prefixed, so ["ab", "c"] and ["a", "bc"] differ
        items += std::to_string(s.size()) + ":" + s;
    const auto as_bytes = [](const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); };
    const std::span<const std::byte> parts[] = {as_bytes(header), bytes(), as_bytes(items)};
    digest_ = sha256_hex(parts);
  }
  return digest_;
}

Tensor Tensor::from_floats(std::vector<int64_t> shape, std::span<const float> values) {
  Tensor t(TensorType{std::move(shape), DType::float32});
  if (values.size() != static_cast<size_t>(t.type().element_count()))
    throw std::logic_error("Tensor::from_floats: wrong number of values");
  if (!values.empty()) std::memcpy(t.mutable_bytes().data(), values.data(), values.size_bytes());
  return t;
}

Tensor Tensor::from_ints(std::vector<int64_t> shape, std::span<const int64_t> values) {
  Tensor t(TensorType{std::move(shape), DType::int64});
  if (values.size() != static_cast<size_t>(t.type().element_count()))
    throw std::logic_error("Tensor::from_ints: wrong number of values");
  if (!values.empty()) std::memcpy(t.mutable_bytes().data(), values.data(), values.size_bytes());
  return t;
}

}  // namespace modelc::lang
