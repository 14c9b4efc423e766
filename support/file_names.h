// File and folder names made from names in models and recipes.
//
// An ONNX output may be called "../../x", "/etc/passwd", "a\nb" or ten
// thousand characters long; a recipe's target and variant names have no length
// limit. Every name that becomes part of a path goes through safe_file_name,
// so that it is one path component inside the folder it is meant for.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace modelc {

// Well under the 255 bytes file systems allow, with room for suffixes.
inline constexpr size_t kMaxFileNameBytes = 96;

// One path component standing for `name`: ASCII letters, digits, '-', '_',
// '+' and '.' stay; every run of other bytes (separators, spaces, control
// characters, NUL, non-ASCII) becomes one '_'; a leading '.' becomes '_' (no
// hidden files, never "." or ".."); "" becomes "_". A result longer than
// `max_bytes` keeps its start and ends in a hash of the whole name, so two
// long names that differ anywhere get different file names.
std::string safe_file_name(std::string_view name, size_t max_bytes = kMaxFileNameBytes);

// Gives names distinct file names in one folder: safe_file_name(name) +
// suffix, deterministic in the order of add(). When a name's file name is
// taken (compared case-insensitively, as macOS and Windows file systems do) or
// reserved, it gets "-2", "-3", ... before the suffix.
class FileNamer {
 public:
  explicit FileNamer(std::string suffix = "", const std::vector<std::string>& reserved = {});
  std::string add(std::string_view name);

 private:
  std::string suffix_;
  std::set<std::string> taken_;  // lower-cased
};

}  // namespace modelc
