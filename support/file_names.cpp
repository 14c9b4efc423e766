#include "support/file_names.h"

#include "support/sha256.h"

namespace modelc {
namespace {

bool keeps(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '+' || c == '.';
}

std::string lower_ascii(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

}  // namespace

std::string safe_file_name(std::string_view name, size_t max_bytes) {
  std::string out;
  for (char ch : name) {
    if (keeps(static_cast<unsigned char>(ch))) out += ch;
    else if (out.empty() || out.back() != '_') out += '_';
  }
  if (out.empty()) out = "_";
  if (out[0] == '.') out[0] = '_';
  const std::string hash = "-" + sha256_hex(name).substr(0, 16);
  if (out.size() > max_bytes) out = out.substr(0, max_bytes > hash.size() ? max_bytes - hash.size() : 0) + hash;
  return out;
}

FileNamer::FileNamer(std::string suffix, const std::vector<std::string>& reserved) : suffix_(std::move(suffix)) {
  for (const std::string& r : reserved) taken_.insert(lower_ascii(r));
}

std::string FileNamer::add(std::string_view name) {
  const std::string stem = safe_file_name(name);
  for (int n = 1;; ++n) {
    const std::string candidate = (n == 1 ? stem : stem + "-" + std::to_string(n)) + suffix_;
    if (taken_.insert(lower_ascii(candidate)).second) return candidate;
  }
}

}  // namespace modelc
