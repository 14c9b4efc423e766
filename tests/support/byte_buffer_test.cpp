// ByteBuffer: zero-filled at every size (the small ones from malloc, the
// large ones mapped in huge pages), copies and moves that keep the bytes, and
// the streamed SHA-256 of several parts that Tensor::digest relies on.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "support/byte_buffer.h"
#include "support/sha256.h"

using namespace modelc;

namespace {

bool all_zero(std::span<const std::byte> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; });
}

// A pattern that differs at every offset modulo 251, so a shifted or partial copy shows.
void fill_pattern(std::span<std::byte> bytes) {
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::byte>(i % 251);
}

}  // namespace

TEST_CASE("ByteBuffer: zero-filled and writable from end to end, small and mapped") {
  // 0, malloc sizes, the threshold, and mapped sizes that are and are not whole huge pages.
  for (const size_t size : {size_t{0}, size_t{1}, size_t{4095}, size_t{1} << 20, (size_t{3} << 20) + 7, size_t{4} << 20}) {
    CAPTURE(size);
    ByteBuffer b(size);
    REQUIRE(b.size() == size);
    CHECK(all_zero(b.span()));
    fill_pattern(b.span());
    const ByteBuffer copy(b);
    CHECK(std::ranges::equal(copy.span(), b.span()));
    const std::byte* data = b.data();
    const ByteBuffer moved(std::move(b));
    CHECK(moved.data() == data);  // a move takes the memory, it does not copy it
    CHECK(moved.size() == size);
    CHECK(b.size() == 0);
    CHECK(std::ranges::equal(moved.span(), copy.span()));
  }
}

TEST_CASE("ByteBuffer: adopts a vector's bytes without copying them") {
  std::vector<std::byte> v(100);
  fill_pattern(v);
  const std::byte* data = v.data();
  const ByteBuffer b(std::move(v));
  CHECK(b.data() == data);
  CHECK(b.size() == 100);
  CHECK(b.data()[99] == static_cast<std::byte>(99));
}

TEST_CASE("ByteBuffer: memory freed by one large buffer comes back zeroed to the next, whole or split") {
  // Dirty a large buffer (a 4 MiB mapping), free it, and take buffers that
  // split it, take its rest and need a fresh mapping: every byte of each must
  // be zero. (Small: this binary's peak memory is what a child started by
  // run_process reports too; tests/support/test_process.cpp.)
  {
    ByteBuffer dirty((size_t{3} << 20) + 1);
    std::memset(dirty.data(), 0xa5, dirty.size());
  }
  std::vector<ByteBuffer> live;
  for (size_t size : {(size_t{2} << 20) - 1, (size_t{1} << 20) + 7, size_t{3} << 20}) {
    ByteBuffer b(size);
    CHECK(std::ranges::all_of(b.span(), [](std::byte x) { return x == std::byte{0}; }));
    std::memset(b.data(), static_cast<int>(0x10 + live.size()), b.size());  // each its own value: no two share memory
    live.push_back(std::move(b));
  }
  for (size_t i = 0; i < live.size(); ++i) {
    const auto mine = static_cast<std::byte>(0x10 + i);
    CHECK(std::ranges::all_of(live[i].span(), [&](std::byte x) { return x == mine; }));
  }
}

TEST_CASE("sha256_hex of parts is the digest of their concatenation") {
  const std::string a = "type f32[2]", c = "1:x";
  std::vector<std::byte> b(3 << 20);
  fill_pattern(b);
  std::string joined = a;
  joined.append(reinterpret_cast<const char*>(b.data()), b.size());
  joined += c;
  const auto bytes_of = [](const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); };
  const std::span<const std::byte> parts[] = {bytes_of(a), b, bytes_of(c)};
  CHECK(sha256_hex(parts) == sha256_hex(joined));
  CHECK(sha256_hex(std::span<const std::span<const std::byte>>{}) == sha256_hex(std::string_view{}));
}
