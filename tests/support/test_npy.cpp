// .npy files are user input (`modelc run --input`, YAML-graph weights): a
// header whose shape wraps, is negative or is not a number must be an error
// naming the file, never a wrapped size that matches the data or an exception
// the CLI would call an internal error.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/diagnostic.h"
#include "support/npy.h"

using namespace modelc;
namespace fs = std::filesystem;

namespace {

// A version 1.0 .npy file with `header` as its dict and `data_bytes` zero bytes of data.
fs::path npy_file(const std::string& name, const std::string& header, size_t data_bytes) {
  const fs::path path = fs::temp_directory_path() / ("modelc-npy-test-" + std::to_string(::getpid()) + "-" + name + ".npy");
  std::string h = header;
  while ((10 + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  std::string file = std::string("\x93NUMPY\x01\x00", 8);
  file += static_cast<char>(h.size() & 0xff);
  file += static_cast<char>(h.size() >> 8);
  file += h;
  file.append(data_bytes, '\0');
  std::ofstream(path, std::ios::binary) << file;
  return path;
}

std::string read_error(const fs::path& path) {
  try {
    (void)read_npy(path);
  } catch (const Error& e) {
    CHECK(e.diagnostics().at(0).location.file == path.string());
    fs::remove(path);
    return e.diagnostics().at(0).message;
  }
  fs::remove(path);
  FAIL("read_npy accepted " << path.string());
  return {};
}

}  // namespace

TEST_CASE("read_npy reads what write_npy wrote") {
  const fs::path path = fs::temp_directory_path() / ("modelc-npy-test-" + std::to_string(::getpid()) + ".npy");
  NpyArray a{"<f4", {2, 3}, std::vector<std::byte>(24, std::byte{7})};
  write_npy(path, a);
  const NpyArray b = read_npy(path);
  fs::remove(path);
  CHECK(b.descr == "<f4");
  CHECK(b.shape == std::vector<int64_t>{2, 3});
  CHECK(b.data == a.data);
  CHECK(b.element_count() == 6);
}

TEST_CASE("a .npy shape whose byte size wraps to 0 does not match empty data") {
  const std::string message =
      read_error(npy_file("wraps", "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", 0));
  CHECK(message == "not a valid .npy file: shape (4294967296, 4294967296) of '<f4' needs more than 2^64 data bytes, found 0");
  // 2^62 elements of 4 bytes: the element count fits, the byte size wraps to 0.
  CHECK(read_error(npy_file("bytes", "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }", 0))
            .find("needs more than 2^64 data bytes") != std::string::npos);
}

TEST_CASE("a .npy shape with a negative or unreadable dimension is an error") {
  CHECK(read_error(npy_file("negative", "{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 4), }", 16)) ==
        "not a valid .npy file: shape (-1, 4) is not a tuple of non-negative integers");
  CHECK(read_error(npy_file("huge", "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 0)) ==
        "not a valid .npy file: shape (99999999999999999999,) is not a tuple of non-negative integers");
  CHECK(read_error(npy_file("word", "{'descr': '<f4', 'fortran_order': False, 'shape': (two,), }", 0)) ==
        "not a valid .npy file: shape (two,) is not a tuple of non-negative integers");
}

TEST_CASE("a .npy dtype without an item size is an error") {
  CHECK(read_error(npy_file("fx", "{'descr': '<fx', 'fortran_order': False, 'shape': (2,), }", 8)) ==
        "not a valid .npy file: dtype '<fx' has no item size");
  CHECK(read_error(npy_file("f0", "{'descr': '<f0', 'fortran_order': False, 'shape': (2,), }", 8)) ==
        "not a valid .npy file: dtype '<f0' has no item size");
}

TEST_CASE("a truncated .npy header is an error") {
  const fs::path path = npy_file("short", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 0);
  fs::resize_file(path, 20);
  CHECK(read_error(path) == "not a valid .npy file: truncated header");
}
