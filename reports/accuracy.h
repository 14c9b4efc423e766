// Numerical agreement of an output with a reference output (the fp32 reference
// kernels, PyTorch's recorded output, or a baseline's output).
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>

namespace modelc::reports {

// numpy.allclose defaults.
struct Tolerance {
  double rtol = 1e-5;
  double atol = 1e-8;
};

struct AccuracyStats {
  size_t count = 0;
  double max_abs_error = 0;  // max |actual - expected|; infinity when a NaN or an unmatched inf occurs
  // max |actual - expected| / |expected| over elements with expected != 0:
  // exact zeros (ReLU outputs) would make any rounding an infinite error.
  double max_rel_error = 0;
  size_t worst_index = 0;    // index of max_abs_error
  size_t mismatches = 0;     // elements where !(|a - b| <= atol + rtol * |b|)
  bool allclose = true;      // mismatches == 0
};

// `expected` plays numpy's `b`: the tolerance scales with |expected|. NaN is
// never close (numpy's equal_nan=False); equal infinities are close. Throws
// modelc::Error when the sizes differ.
AccuracyStats compare_outputs(std::span<const float> actual, std::span<const float> expected,
                              Tolerance tolerance = {});

// numpy.allclose(actual, expected, rtol, atol) for same-sized buffers.
bool allclose(std::span<const float> actual, std::span<const float> expected, Tolerance tolerance = {});

// Compares two float32 .npy files (an output written by a run or a baseline
// with a recorded reference). Different shapes or another dtype are a
// modelc::Error naming the file.
AccuracyStats compare_npy_files(const std::filesystem::path& actual, const std::filesystem::path& expected,
                                Tolerance tolerance = {});

}  // namespace modelc::reports
