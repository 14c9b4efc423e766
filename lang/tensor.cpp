#include "lang/tensor.h"

#include <cstring>
#include <stdexcept>

#include "support/sha256.h"

namespace modelc::lang {

Tensor::Tensor(TensorType type)
    : type_(std::move(type)), data_(std::make_shared<std::vector<std::byte>>(type_.bytes())) {}

Tensor::Tensor(TensorType type, std::vector<std::byte> bytes) : type_(std::move(type)) {
  if (bytes.size() != type_.bytes())
    throw std::logic_error("Tensor: " + std::to_string(bytes.size()) + " bytes for " + type_.str());
  data_ = std::make_shared<std::vector<std::byte>>(std::move(bytes));
}

Tensor Tensor::opaque(TensorType type, std::string digest) {
  Tensor t;
  t.type_ = std::move(type);
  t.digest_ = std::move(digest);
  return t;
}

std::span<const std::byte> Tensor::bytes() const {
  if (!data_) throw std::logic_error("Tensor: data of " + type_.str() + " is not available (elided in text)");
  return *data_;
}

std::span<std::byte> Tensor::mutable_bytes() {
  if (!data_) throw std::logic_error("Tensor: data of " + type_.str() + " is not available (elided in text)");
  if (data_.use_count() > 1) data_ = std::make_shared<std::vector<std::byte>>(*data_);
  digest_.clear();
  return *data_;
}

double Tensor::element_as_double(size_t i) const {
  const std::byte* p = bytes().data();
  switch (type_.dtype) {
    case DType::float32: { float v; std::memcpy(&v, p + 4 * i, 4); return v; }
    case DType::int8: return static_cast<double>(reinterpret_cast<const int8_t*>(p)[i]);
    case DType::uint8: return static_cast<double>(reinterpret_cast<const uint8_t*>(p)[i]);
    case DType::boolean: return p[i] != std::byte{0} ? 1.0 : 0.0;
    case DType::int32: { int32_t v; std::memcpy(&v, p + 4 * i, 4); return v; }
    case DType::int64: { int64_t v; std::memcpy(&v, p + 8 * i, 8); return static_cast<double>(v); }
    case DType::float16:
    case DType::bfloat16: break;
  }
  throw std::logic_error("Tensor: element_as_double of " + std::string(dtype_name(type_.dtype)));
}

void Tensor::set_element(size_t i, double v) {
  std::byte* p = mutable_bytes().data();
  switch (type_.dtype) {
    case DType::float32: { const float f = static_cast<float>(v); std::memcpy(p + 4 * i, &f, 4); return; }
    case DType::int64: { const int64_t x = static_cast<int64_t>(v); std::memcpy(p + 8 * i, &x, 8); return; }
    case DType::int32: { const int32_t x = static_cast<int32_t>(v); std::memcpy(p + 4 * i, &x, 4); return; }
    case DType::int8: p[i] = static_cast<std::byte>(static_cast<int8_t>(v)); return;
    case DType::uint8: p[i] = static_cast<std::byte>(static_cast<uint8_t>(v)); return;
    case DType::boolean: p[i] = static_cast<std::byte>(v != 0); return;
    case DType::float16:
    case DType::bfloat16: break;
  }
  throw std::logic_error("Tensor: set_element of " + std::string(dtype_name(type_.dtype)));
}

int64_t Tensor::element_as_int(size_t i) const {
  if (type_.dtype == DType::int64) {
    int64_t v;
    std::memcpy(&v, bytes().data() + 8 * i, 8);
    return v;
  }
  return static_cast<int64_t>(element_as_double(i));
}

const std::string& Tensor::digest() const {
  if (digest_.empty()) {
    std::string header = type_.str();
    std::vector<std::byte> all(header.size());
    std::memcpy(all.data(), header.data(), header.size());
    auto b = bytes();
    all.insert(all.end(), b.begin(), b.end());
    digest_ = sha256_hex(all);
  }
  return digest_;
}

Tensor Tensor::from_floats(std::vector<int64_t> shape, std::span<const float> values) {
  Tensor t(TensorType{std::move(shape), DType::float32});
  if (values.size() != static_cast<size_t>(t.type().element_count()))
    throw std::logic_error("Tensor::from_floats: wrong number of values");
  std::memcpy(t.mutable_bytes().data(), values.data(), values.size_bytes());
  return t;
}

Tensor Tensor::from_ints(std::vector<int64_t> shape, std::span<const int64_t> values) {
  Tensor t(TensorType{std::move(shape), DType::int64});
  if (values.size() != static_cast<size_t>(t.type().element_count()))
    throw std::logic_error("Tensor::from_ints: wrong number of values");
  std::memcpy(t.mutable_bytes().data(), values.data(), values.size_bytes());
  return t;
}

}  // namespace modelc::lang
