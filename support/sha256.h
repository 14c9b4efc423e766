// SHA-256 digests (OpenSSL libcrypto) for content-addressed caches, lockfiles
// and manifests.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace modelc {

std::string sha256_hex(std::span<const std::byte> bytes);
std::string sha256_hex(std::string_view text);
// The digest of the parts' concatenation, without copying them together.
std::string sha256_hex(std::span<const std::span<const std::byte>> parts);
// Throws modelc::Error naming the file when it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace modelc
