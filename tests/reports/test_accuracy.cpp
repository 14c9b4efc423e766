#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "reports/accuracy.h"
#include "support/diagnostic.h"

using namespace modelc::reports;

TEST_CASE("compare_outputs: identical buffers") {
  const std::vector<float> a{1, -2, 3.5f, 0};
  const AccuracyStats stats = compare_outputs(a, a);
  CHECK(stats.count == 4);
  CHECK(stats.max_abs_error == 0);
  CHECK(stats.max_rel_error == 0);
  CHECK(stats.mismatches == 0);
  CHECK(stats.allclose);
}

TEST_CASE("compare_outputs: errors, worst element and relative error") {
  // Values exactly representable in float, so the expected errors are exact.
  const std::vector<float> actual{1.5f, 2.0f, -4.25f, 0.0f};
  const std::vector<float> expected{1.0f, 2.0f, -4.0f, 0.0f};
  const AccuracyStats stats = compare_outputs(actual, expected, {.rtol = 0.1, .atol = 0.0});
  CHECK(stats.max_abs_error == 0.5);
  CHECK(stats.worst_index == 0);
  CHECK(stats.max_rel_error == 0.5);  // 0.5 / 1.0; 0.25 / 4.0 is smaller
  // |1.5-1| = 0.5 > 0.1 * 1; |-4.25+4| = 0.25 <= 0.1 * 4: one mismatch.
  CHECK(stats.mismatches == 1);
  CHECK_FALSE(stats.allclose);
}

TEST_CASE("compare_outputs: relative error skips exact zeros of the reference") {
  const std::vector<float> actual{1e-7f, 2.0f};
  const std::vector<float> expected{0.0f, 2.0f};
  const AccuracyStats stats = compare_outputs(actual, expected);
  CHECK(stats.max_rel_error == 0);
  CHECK(stats.max_abs_error == doctest::Approx(1e-7).epsilon(1e-6));
  // numpy: |1e-7 - 0| <= 1e-8 + 1e-5 * 0 is false.
  CHECK(stats.mismatches == 1);
}

TEST_CASE("allclose follows numpy: |a - b| <= atol + rtol * |b|, asymmetric in b") {
  // |a - b| = 9: within rtol * |b| when b = 109, outside it when b = 100.
  const std::vector<float> a{100.0f};
  const std::vector<float> b{109.0f};
  CHECK(allclose(a, b, {.rtol = 0.0826, .atol = 0}));        // 9 <= 0.0826 * 109 = 9.0034
  CHECK_FALSE(allclose(b, a, {.rtol = 0.0826, .atol = 0}));  // 9 >  0.0826 * 100 = 8.26
  CHECK(allclose(a, b, {.rtol = 0, .atol = 9.0}));
  CHECK_FALSE(allclose(a, b, {.rtol = 0, .atol = 8.99}));
}

TEST_CASE("allclose: NaN is never close, equal infinities are") {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(allclose(std::vector<float>{inf, -inf}, std::vector<float>{inf, -inf}));
  CHECK_FALSE(allclose(std::vector<float>{inf}, std::vector<float>{-inf}));
  CHECK_FALSE(allclose(std::vector<float>{nan}, std::vector<float>{nan}));
  const AccuracyStats stats = compare_outputs(std::vector<float>{nan, 1}, std::vector<float>{1, 1});
  CHECK(std::isinf(stats.max_abs_error));
  CHECK(stats.worst_index == 0);
  CHECK(stats.mismatches == 1);
}

TEST_CASE("compare_outputs refuses buffers of different sizes") {
  CHECK_THROWS_AS(compare_outputs(std::vector<float>{1, 2}, std::vector<float>{1}), modelc::Error);
}
