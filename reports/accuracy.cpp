#include "reports/accuracy.h"

#include <cmath>
#include <limits>
#include <string>

#include "support/diagnostic.h"

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

}  // namespace

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
