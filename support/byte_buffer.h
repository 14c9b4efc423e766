// Zero-filled byte buffers for large data (weights, model files). A buffer of
// a megabyte or more is mapped from the kernel in transparent huge pages and
// faulted in by one call: touched page by page, a 4 KiB fault each, fresh
// memory cost about 1.3 ms per MB on the virtual machines modelc runs on (a
// warm compile of ResNet-18 faulted in some 300 MB: a third of its time),
// against a tenth of that in huge pages faulted in at once. Where the kernel
// has neither (no THP, MADV_POPULATE_WRITE before Linux 5.14), the mapping
// behaves as plain zeroed memory. Freed mappings are kept for the next large
// buffers (up to 256 MiB) and cleared with memset when reused: a page this
// process already faulted in costs a fiftieth of a fresh one.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace modelc {

class ByteBuffer {
 public:
  explicit ByteBuffer(size_t size = 0);
  explicit ByteBuffer(std::vector<std::byte>&& bytes);  // adopts the vector's memory
  explicit ByteBuffer(std::span<const std::byte> bytes);
  ByteBuffer(const ByteBuffer& other) : ByteBuffer(other.span()) {}
  ByteBuffer(ByteBuffer&& other) noexcept;
  ByteBuffer& operator=(const ByteBuffer&) = delete;
  ByteBuffer& operator=(ByteBuffer&&) = delete;
  ~ByteBuffer();

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::byte* data() { return data_; }
  const std::byte* data() const { return data_; }
  std::span<std::byte> span() { return {data_, size_}; }
  std::span<const std::byte> span() const { return {data_, size_}; }
  operator std::span<const std::byte>() const { return span(); }
  operator std::span<std::byte>() { return span(); }

 private:
  std::vector<std::byte> small_;  // below the mapping threshold, or adopted
  std::byte* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;  // bytes mapped (a multiple of the huge page), 0 when small_ holds the data
};

}  // namespace modelc
