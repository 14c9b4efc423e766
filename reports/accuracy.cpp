#include "reports/accuracy.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "support/diagnostic.h"
#include "support/npy.h"

namespace modelc::reports {
namespace {

struct ElementError {
  double absolute = 0;
  bool close = true;
};

ElementError element_error(double a, double b, const Tolerance& tolerance) {
  if (std::isnan(a) || std::isnan(b)) return {std::numeric_limits<double>::infinity(), false};
  if (std::isinf(a) || std::isinf(b)) {
    if (a == b) return {0, true};
    return {std::numeric_limits<double>::infinity(), false};
  }
  const double absolute = std::abs(a - b);
  return {absolute, absolute <= tolerance.atol + tolerance.rtol * std::abs(b)};
}

std::vector<float> read_float32_npy(const std::filesystem::path& path, std::vector<int64_t>& shape) {
  const NpyArray array = read_npy(path);
  if (array.descr != "<f4") {
    Diagnostic diagnostic;
    diagnostic.location.file = path.string();
    diagnostic.message = "expected float32 ('<f4') data, found '" + array.descr + "'";
    throw Error(std::move(diagnostic));
  }
  shape = array.shape;
  std::vector<float> values(array.element_count());
  std::memcpy(values.data(), array.data.data(), values.size() * sizeof(float));
  return values;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + ")";
}

}  // namespace

AccuracyStats compare_npy_files(const std::filesystem::path& actual, const std::filesystem::path& expected,
                                Tolerance tolerance) {
  std::vector<int64_t> actual_shape;
  std::vector<int64_t> expected_shape;
  const std::vector<float> a = read_float32_npy(actual, actual_shape);
  const std::vector<float> b = read_float32_npy(expected, expected_shape);
  if (actual_shape != expected_shape) {
    Diagnostic diagnostic;
    diagnostic.location.file = actual.string();
    diagnostic.message = "shape " + shape_text(actual_shape) + " differs from the reference " + expected.string() +
                         " " + shape_text(expected_shape);
    throw Error(std::move(diagnostic));
  }
  return compare_outputs(a, b, tolerance);
}

AccuracyStats compare_outputs(std::span<const float> actual, std::span<const float> expected,
                              Tolerance tolerance) {
  if (actual.size() != expected.size()) {
    throw Error("cannot compare outputs of different sizes: " + std::to_string(actual.size()) + " elements vs " +
                std::to_string(expected.size()) + " in the reference");
  }
  AccuracyStats stats;
  stats.count = actual.size();
  for (size_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i];
    const double b = expected[i];
    const ElementError error = element_error(a, b, tolerance);
    if (!error.close) ++stats.mismatches;
    if (error.absolute > stats.max_abs_error) {
      stats.max_abs_error = error.absolute;
      stats.worst_index = i;
    }
    if (b != 0 && !std::isinf(b)) {
      const double relative = error.absolute / std::abs(b);
      if (relative > stats.max_rel_error) stats.max_rel_error = relative;
    }
  }
  stats.allclose = stats.mismatches == 0;
  return stats;
}

bool allclose(std::span<const float> actual, std::span<const float> expected, Tolerance tolerance) {
  return compare_outputs(actual, expected, tolerance).allclose;
}

}  // namespace modelc::reports
