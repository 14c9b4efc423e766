// NumPy .npy files (format versions 1-3, little-endian, C order): reference
// inputs/outputs of the shared models, YAML-graph weights, and the data that
// `modelc run` reads and writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace modelc {

struct NpyArray {
  std::string descr;            // numpy dtype string, e.g. "<f4", "<i8", "|b1"
  std::vector<int64_t> shape;
  std::vector<std::byte> data;  // C order

  size_t element_count() const;
};

// Throws modelc::Error naming the file and what is wrong (bad magic, Fortran
// order, big-endian data, size mismatch...).
NpyArray read_npy(const std::filesystem::path& path);
void write_npy(const std::filesystem::path& path, const NpyArray& array);

}  // namespace modelc
