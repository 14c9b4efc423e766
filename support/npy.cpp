#include "support/npy.h"

#include <charconv>
#include <cstring>
#include <optional>

#include "support/checked_math.h"
#include "support/diagnostic.h"
#include "support/file_io.h"

namespace modelc {
namespace {

[[noreturn]] void npy_error(const std::filesystem::path& path, const std::string& what) {
  throw Error(Diagnostic{Severity::error, {path.string()}, {}, "not a valid .npy file: " + what, {}});
}

// Finds `'key': value` in the header dict and returns the raw value text.
std::string dict_value(const std::string& header, const std::string& key) {
  const std::string needle = "'" + key + "'";
  size_t at = header.find(needle);
  if (at == std::string::npos) return {};
  at = header.find(':', at + needle.size());
  if (at == std::string::npos) return {};
  ++at;
  while (at < header.size() && header[at] == ' ') ++at;
  if (at >= header.size()) return {};
  const char open = header[at];
  const char close = open == '(' ? ')' : open == '\'' ? '\'' : ',';
  const size_t end = header.find(close, at + 1);
  if (end == std::string::npos) return {};
  return header.substr(at, end - at + (close == ',' ? 0 : 1));
}

// The item size of a dtype string such as "<f4"; 0 when it has none.
size_t itemsize(const std::string& descr) {
  size_t n = 0;
  const char* end = descr.data() + descr.size();
  if (descr.size() < 3) return 0;
  const auto [at, ec] = std::from_chars(descr.data() + 2, end, n);
  return ec == std::errc() && at == end ? n : 0;
}

// The dimensions of a shape tuple such as "(2, 3)" or "(5,)".
std::vector<int64_t> parse_shape(const std::filesystem::path& path, const std::string& tuple) {
  std::vector<int64_t> shape;
  const char* p = tuple.data() + 1;  // after '('
  const char* end = tuple.data() + tuple.size();
  while (p < end) {
    while (p < end && (*p == ' ' || *p == ',')) ++p;
    if (p >= end || *p == ')') break;
    int64_t d = 0;
    const auto [next, ec] = std::from_chars(p, end, d);
    if (ec != std::errc() || d < 0) npy_error(path, "shape " + tuple + " is not a tuple of non-negative integers");
    shape.push_back(d);
    p = next;
  }
  return shape;
}

}  // namespace

size_t NpyArray::element_count() const {
  const std::optional<int64_t> n = checked_element_count(shape);
  if (!n) throw Error("a .npy array of " + std::to_string(shape.size()) + " dimensions has more elements than fit in 64 bits");
  return static_cast<size_t>(*n);
}

NpyArray read_npy(const std::filesystem::path& path) {
  const std::vector<std::byte> bytes = read_binary_file(path);
  const auto* raw = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 10 || std::memcmp(raw, "\x93NUMPY", 6) != 0) npy_error(path, "missing \\x93NUMPY magic");
  const int major = raw[6];
  size_t header_len = 0;
  size_t offset = 0;
  if (major == 1) {
    header_len = raw[8] | (raw[9] << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) npy_error(path, "truncated header");
    header_len = raw[8] | (raw[9] << 8) | (raw[10] << 16) | (static_cast<size_t>(raw[11]) << 24);
    offset = 12;
  } else {
    npy_error(path, "unsupported format version " + std::to_string(major));
  }
  if (header_len > bytes.size() - offset) npy_error(path, "truncated header");
  const std::string header(reinterpret_cast<const char*>(raw + offset), header_len);

  NpyArray out;
  std::string descr = dict_value(header, "descr");
  if (descr.size() < 2) npy_error(path, "header has no 'descr'");
  out.descr = descr.substr(1, descr.size() - 2);
  if (out.descr.size() < 3 || (out.descr[0] != '<' && out.descr[0] != '|'))
    npy_error(path, "dtype '" + out.descr + "' is not little-endian");
  const size_t item = itemsize(out.descr);
  if (item == 0) npy_error(path, "dtype '" + out.descr + "' has no item size");
  if (dict_value(header, "fortran_order").rfind("True", 0) == 0) npy_error(path, "Fortran order is not supported");
  const std::string shape = dict_value(header, "shape");
  if (shape.empty()) npy_error(path, "header has no 'shape'");
  out.shape = parse_shape(path, shape);
  // Checked: a shape whose byte size wraps (to 0, say) must not match the data.
  const std::optional<int64_t> count = checked_element_count(out.shape);
  const std::optional<size_t> expected = count ? checked_byte_size(*count, item) : std::nullopt;
  const size_t data_offset = offset + header_len;
  const size_t found = bytes.size() - data_offset;
  if (!expected || *expected != found)
    npy_error(path, "shape " + shape + " of '" + out.descr + "' needs " +
                        (expected ? std::to_string(*expected) : std::string("more than 2^64")) + " data bytes, found " +
                        std::to_string(found));
  out.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(data_offset), bytes.end());
  return out;
}

void write_npy(const std::filesystem::path& path, const NpyArray& array) {
  std::string shape = "(";
  for (size_t i = 0; i < array.shape.size(); ++i) shape += std::to_string(array.shape[i]) + ", ";
  if (array.shape.size() > 1) shape.resize(shape.size() - 2);
  if (array.shape.size() == 1) shape.resize(shape.size() - 1);
  shape += ")";
  std::string header = "{'descr': '" + array.descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string file = std::string("\x93NUMPY\x01\x00", 8);
  file += static_cast<char>(header.size() & 0xff);
  file += static_cast<char>((header.size() >> 8) & 0xff);
  file += header;
  file.append(reinterpret_cast<const char*>(array.data.data()), array.data.size());
  write_file_atomic(path, file);
}

}  // namespace modelc
