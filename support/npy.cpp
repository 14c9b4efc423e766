#include "support/npy.h"

#include <cstring>

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

size_t itemsize(const std::string& descr) {
  if (descr.size() < 3) return 0;
  return static_cast<size_t>(std::stoul(descr.substr(2)));
}

}  // namespace

size_t NpyArray::element_count() const {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  return n;
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
  if (offset + header_len > bytes.size()) npy_error(path, "truncated header");
  const std::string header(reinterpret_cast<const char*>(raw + offset), header_len);

  NpyArray out;
  std::string descr = dict_value(header, "descr");
  if (descr.size() < 2) npy_error(path, "header has no 'descr'");
  out.descr = descr.substr(1, descr.size() - 2);
  if (out.descr.size() < 3 || (out.descr[0] != '<' && out.descr[0] != '|'))
    npy_error(path, "dtype '" + out.descr + "' is not little-endian");
  if (dict_value(header, "fortran_order").rfind("True", 0) == 0) npy_error(path, "Fortran order is not supported");
  const std::string shape = dict_value(header, "shape");
  if (shape.empty()) npy_error(path, "header has no 'shape'");
  for (size_t i = 1; i < shape.size();) {
    while (i < shape.size() && (shape[i] == ' ' || shape[i] == ',')) ++i;
    if (i >= shape.size() || shape[i] == ')') break;
    size_t used = 0;
    out.shape.push_back(std::stoll(shape.substr(i), &used));
    i += used;
  }
  const size_t expected = out.element_count() * itemsize(out.descr);
  const size_t data_offset = offset + header_len;
  if (bytes.size() - data_offset != expected)
    npy_error(path, "expected " + std::to_string(expected) + " data bytes, found " +
                        std::to_string(bytes.size() - data_offset));
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
