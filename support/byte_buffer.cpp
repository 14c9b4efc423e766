#include "support/byte_buffer.h"

#include <sys/mman.h>

#include <cstring>
#include <map>
#include <mutex>
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

// Freed mappings, kept (up to kPoolBytes) for the next large buffers: memory
// this process has faulted in is cleared at memset speed (96 MB: 2-3 ms),
// where fresh memory cost 5-130 ms on these virtual machines (the first
// touch of a page is the hypervisor's work). A compile frees the model
// file's buffer before the weights are made, and each pass's inputs before
// the next pass's outputs. A mapping larger than asked for is split: the
// rest stays in the pool.
class MappingPool {
 public:
  static constexpr size_t kPoolBytes = size_t{256} << 20;

  // A mapping of `bytes` (a multiple of kHugePage) and whether it may hold
  // old data, or nullptr.
  std::pair<std::byte*, bool> take(size_t bytes) {
    {
      const std::lock_guard<std::mutex> guard(lock_);
      const auto it = free_.lower_bound(bytes);
      if (it != free_.end()) {
        const auto [size, p] = *it;
        free_.erase(it);
        held_ -= size;
        if (size > bytes) {
          free_.emplace(size - bytes, p + bytes);
          held_ += size - bytes;
        }
        return {p, true};
      }
    }
    return {map_zeroed(bytes), false};
  }

  void give(std::byte* p, size_t bytes) {
    {
      const std::lock_guard<std::mutex> guard(lock_);
      if (held_ + bytes <= kPoolBytes) {
        free_.emplace(bytes, p);
        held_ += bytes;
        return;
      }
    }
    ::munmap(p, bytes);
  }

 private:
  std::mutex lock_;
  std::multimap<size_t, std::byte*> free_;  // by size
  size_t held_ = 0;
};

MappingPool& pool() {
  static MappingPool* p = new MappingPool;  // never destroyed: buffers may outlive static destruction
  return *p;
}

}  // namespace

ByteBuffer::ByteBuffer(size_t size) : size_(size) {
  if (size >= kMapFrom) {
    const size_t bytes = (size + kHugePage - 1) / kHugePage * kHugePage;
    if (bytes < size) throw std::bad_alloc();
    const auto [p, dirty] = pool().take(bytes);
    if (!p) throw std::bad_alloc();
    if (dirty) std::memset(p, 0, size);
    data_ = p;
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
  if (mapped_) pool().give(data_, mapped_);
}

}  // namespace modelc
