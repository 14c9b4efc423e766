#include "reports/accuracy.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
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

std::string printf_number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", v);
  return buffer;
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

Tolerance tolerance_for(std::string_view dtype, Tolerance float32) {
  // Half a unit in the last place of a value near 1: 2^-11 for float16, 2^-8 for bfloat16, twice that for rounding on both sides.
  if (dtype == "float16") return {std::max(float32.rtol, 1.0 / 1024), std::max(float32.atol, 1e-3)};
  if (dtype == "bfloat16") return {std::max(float32.rtol, 1.0 / 128), std::max(float32.atol, 1e-2)};
  return float32;
}

namespace {

// max(1, root mean square of the finite values): what the absolute
// tolerance of an output is scaled by (compare_model_outputs).
double output_scale(const std::vector<double>& values) {
  double sum = 0;
  size_t n = 0;
  for (const double v : values)
    if (std::isfinite(v)) sum += v * v, ++n;
  return n ? std::max(1.0, std::sqrt(sum / static_cast<double>(n))) : 1.0;
}

std::string output_label(const OutputValues& v, size_t index) {
  return v.name.empty() ? "output " + std::to_string(index) : "output '" + v.name + "'";
}

// Appends why `actual` differs in kind from `expected`; false when it does not.
bool differs_in_kind(const OutputValues& actual, const OutputValues& expected, size_t index, std::string& why) {
  const std::string label = output_label(expected.name.empty() ? actual : expected, index);
  if (!actual.name.empty() && !expected.name.empty() && actual.name != expected.name) {
    why = "output " + std::to_string(index) + " is '" + actual.name + "', the reference's is '" + expected.name + "'";
  } else if (actual.dtype != expected.dtype) {
    why = label + " is " + actual.dtype + ", the reference's is " + expected.dtype;
  } else if (actual.shape != expected.shape) {
    why = label + " has shape " + shape_text(actual.shape) + ", the reference's has " + shape_text(expected.shape);
  } else if (actual.floating != expected.floating ||
             (actual.floating ? actual.floats.size() != expected.floats.size()
                              : actual.integers.size() != expected.integers.size())) {
    why = label + " holds a different number of elements than the reference's";
  } else {
    return false;
  }
  return true;
}

}  // namespace

ModelComparison compare_model_outputs(const std::vector<OutputValues>& actual, const std::vector<OutputValues>& expected,
                                      Tolerance float32) {
  ModelComparison out;
  const double inf = std::numeric_limits<double>::infinity();
  auto disagree = [&](std::string why) {
    if (out.agree) out.disagreement = std::move(why);
    out.agree = false;
  };
  if (actual.size() != expected.size()) {
    disagree(std::to_string(actual.size()) + " output" + (actual.size() == 1 ? "" : "s") + ", the reference has " +
             std::to_string(expected.size()));
    out.max_abs_error = inf;
    return out;
  }
  for (size_t i = 0; i < actual.size(); ++i) {
    const OutputValues& a = actual[i];
    const OutputValues& b = expected[i];
    std::string why;
    if (differs_in_kind(a, b, i, why)) {
      disagree(why);
      out.max_abs_error = inf;
      continue;
    }
    size_t mismatches = 0;
    size_t count = 0;
    if (a.floating) {
      Tolerance t = tolerance_for(a.dtype, float32);
      const double scale = output_scale(b.floats);
      t.atol *= scale;
      for (size_t k = 0; k < a.floats.size(); ++k) {
        const ElementError e = element_error(a.floats[k], b.floats[k], t);
        if (!e.close) ++mismatches;
        out.max_abs_error = std::max(out.max_abs_error, e.absolute);
        if (b.floats[k] != 0 && !std::isinf(b.floats[k]))
          out.max_rel_error = std::max(out.max_rel_error, e.absolute / std::abs(b.floats[k]));
      }
      count = a.floats.size();
      if (mismatches > 0)
        disagree(output_label(b, i) + " (" + a.dtype + "): " + std::to_string(mismatches) + " of " +
                 std::to_string(count) + " elements outside rtol " + printf_number(t.rtol) + ", atol " +
                 printf_number(t.atol) + (scale > 1 ? " (" + printf_number(t.atol / scale) + " x " + printf_number(scale) +
                 ", the reference output's root mean square)" : std::string()));
      continue;
    }
    for (size_t k = 0; k < a.integers.size(); ++k) {
      if (a.integers[k] == b.integers[k]) continue;
      ++mismatches;
      // As a magnitude for the report; exactness is decided on the integers.
      out.max_abs_error = std::max(out.max_abs_error, std::abs(static_cast<double>(a.integers[k]) - static_cast<double>(b.integers[k])));
    }
    count = a.integers.size();
    if (mismatches > 0)
      disagree(output_label(b, i) + " (" + a.dtype + "): " + std::to_string(mismatches) + " of " + std::to_string(count) +
               " elements differ (compared exactly)");
  }
  return out;
}

}  // namespace modelc::reports
