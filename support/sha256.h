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
// Throws modelc::Error naming the file when it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace modelc
