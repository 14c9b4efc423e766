// UTF-8 checks for text that came from files: JSON (manifests, results,
// --format json errors) must be valid UTF-8, and names in ONNX files need not
// be.
#pragma once

#include <string>
#include <string_view>

namespace modelc {

// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool is_valid_utf8(std::string_view text);
// The offset of the first byte that does not begin a well-formed sequence
// (std::string_view::npos when `text` is valid).
size_t first_invalid_utf8(std::string_view text);
// `text` with each ill-formed sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view text);
// "a/b" -> "612f62": two lower-case hex digits per byte.
std::string hex_bytes(std::string_view bytes);
// The inverse of hex_bytes: false (and `bytes` unchanged) when `hex` is not pairs of hex digits.
bool parse_hex_bytes(std::string_view hex, std::string& bytes);

}  // namespace modelc
