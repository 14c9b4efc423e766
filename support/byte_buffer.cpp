#include "support/byte_buffer.h"

#include <sys/mman.h>

#include <cstring>
#include <new>
#include <utility>

namespace modelc {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;
// Smaller buffers come from malloc, whose reused memory is already faulted in.
constexpr size_t kMapFrom = size_t{1} << 20;

#ifndef MADV_POPULATE_WRITE
constexpr int MADV_POPULATE_WRITE = 23;  // Linux 5.14; older kernels refuse it, and pages fault in as touched
#endif

// Zeroed memory of `bytes` (a multiple of kHugePage), or nullptr.
std::byte* map_zeroed(size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  ::madvise(p, bytes, MADV_HUGEPAGE);
  ::madvise(p, bytes, MADV_POPULATE_WRITE);
  return static_cast<std::byte*>(p);
}

}  // namespace

ByteBuffer::ByteBuffer(size_t size) : size_(size) {
  if (size >= kMapFrom) {
    const size_t bytes = (size + kHugePage - 1) / kHugePage * kHugePage;
    if (bytes < size) throw std::bad_alloc();
    data_ = map_zeroed(bytes);
    if (!data_) throw std::bad_alloc();
    mapped_ = bytes;
    return;
  }
  small_.resize(size);
  data_ = small_.data();
}

ByteBuffer::ByteBuffer(std::vector<std::byte>&& bytes) : small_(std::move(bytes)), data_(small_.data()), size_(small_.size()) {}

ByteBuffer::ByteBuffer(std::span<const std::byte> bytes) : ByteBuffer(bytes.size()) {
  if (!bytes.empty()) std::memcpy(data_, bytes.data(), bytes.size());
}

// A moved vector keeps its buffer, so data_ stays valid for small ones.
ByteBuffer::ByteBuffer(ByteBuffer&& other) noexcept
    : small_(std::move(other.small_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      mapped_(std::exchange(other.mapped_, 0)) {}

ByteBuffer::~ByteBuffer() {
  if (mapped_) ::munmap(data_, mapped_);
}

}  // namespace modelc
