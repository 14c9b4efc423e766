// Numerical agreement of an output with a reference output (the fp32 reference
// kernels, PyTorch's recorded output, or a baseline's output).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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

// One output of a model, as compare_model_outputs sees it: floating dtypes
// (float32, float16, bfloat16) as doubles, integer dtypes and bool as 64-bit
// integers (uint64 bit-cast), so integers compare exactly at any magnitude.
struct OutputValues {
  std::string name;  // empty when unknown (a baseline that reports no names)
  std::string dtype;  // "float32", "int64", "bool", ...
  std::vector<int64_t> shape;
  bool floating = true;
  std::vector<double> floats;     // when floating
  std::vector<int64_t> integers;  // otherwise
};

// The tolerance a floating output is held to: `float32` for float32 outputs;
// 16-bit floats keep about three (float16) or two (bfloat16) decimal digits,
// so their relative tolerance is that of their precision when it is larger.
Tolerance tolerance_for(std::string_view dtype, Tolerance float32);

struct ModelComparison {
  double max_abs_error = 0;  // over every element of every output; infinity after a NaN or a mismatch of counts
  double max_rel_error = 0;
  bool agree = true;         // same outputs (count, names, dtypes, shapes), floats close, integers and bools equal
  std::string disagreement;  // why not, for people: the first output that differs and how
};

// Compares every output of a model with the reference's: the counts, and per
// output the name (when both know it), dtype and shape must be the same;
// floating outputs must be allclose under tolerance_for(dtype, float32),
// integer and bool outputs equal element for element. Never throws for a
// difference: a difference is the answer.
// The absolute tolerance of an output is scaled by its magnitude, the root
// mean square of the reference's values when that exceeds 1: a compiled model
// sums in another order (blocked reductions, Winograd's transforms), and the
// rounding error of a sum goes with the size of its terms, not of its
// result. An output whose values are in the tens (eight stacked 3x3
// convolutions without normalization: RMS 13) otherwise failed where the sum
// of terms of that size cancels near zero (6 of 25 088 elements, 2.8e-4 off;
// 2e-5 of the RMS).

ModelComparison compare_model_outputs(const std::vector<OutputValues>& actual, const std::vector<OutputValues>& expected,
                                      Tolerance float32);

}  // namespace modelc::reports
