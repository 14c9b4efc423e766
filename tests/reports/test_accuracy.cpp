#include <doctest/doctest.h>

#include <algorithm>
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

namespace {

OutputValues floats(std::string name, std::vector<double> v, std::string dtype = "float32") {
  OutputValues o{std::move(name), std::move(dtype), {static_cast<int64_t>(v.size())}, true, std::move(v), {}};
  return o;
}

OutputValues integers(std::string name, std::vector<int64_t> v, std::string dtype = "int64") {
  OutputValues o{std::move(name), std::move(dtype), {static_cast<int64_t>(v.size())}, false, {}, std::move(v)};
  return o;
}

constexpr Tolerance kTolerance{1e-3, 1e-4};

}  // namespace

TEST_CASE("compare_model_outputs: every output of every dtype agrees") {
  const std::vector<OutputValues> a{floats("y", {1.0, 2.0}), integers("idx", {3, 4}), integers("mask", {1, 0}, "bool")};
  const ModelComparison c = compare_model_outputs(a, a, kTolerance);
  CHECK(c.agree);
  CHECK(c.disagreement.empty());
  CHECK(c.max_abs_error == 0);
}

TEST_CASE("compare_model_outputs: integer and bool outputs are compared exactly, also past 2^53") {
  // Float32 comparisons used to be the only ones: an int64 output could be anything.
  const std::vector<OutputValues> want{floats("y", {1.0}), integers("idx", {3, int64_t{1} << 60})};
  const std::vector<OutputValues> got{floats("y", {1.0}), integers("idx", {3, (int64_t{1} << 60) + 1})};
  const ModelComparison c = compare_model_outputs(got, want, kTolerance);
  CHECK_FALSE(c.agree);
  CHECK(c.disagreement == "output 'idx' (int64): 1 of 2 elements differ (compared exactly)");
  const ModelComparison b = compare_model_outputs({integers("m", {1, 1}, "bool")}, {integers("m", {1, 0}, "bool")}, kTolerance);
  CHECK_FALSE(b.agree);
  CHECK(b.max_abs_error == 1);
}

TEST_CASE("compare_model_outputs: a second float output is compared too, with the stated tolerance") {
  const std::vector<OutputValues> want{floats("a", {1.0}), floats("b", {10.0, 20.0})};
  const std::vector<OutputValues> close{floats("a", {1.0}), floats("b", {10.0 + 5e-3, 20.0})};  // 5e-3 <= 1e-4 + 1e-3 * 10
  CHECK(compare_model_outputs(close, want, kTolerance).agree);
  const std::vector<OutputValues> far{floats("a", {1.0}), floats("b", {10.0, 20.5})};
  const ModelComparison c = compare_model_outputs(far, want, kTolerance);
  CHECK_FALSE(c.agree);
  CHECK(c.disagreement ==
        "output 'b' (float32): 1 of 2 elements outside rtol 0.001, atol 0.00158114 (0.0001 x 15.8114, the reference "
        "output's root mean square)");
  CHECK(c.max_abs_error == doctest::Approx(0.5));
}

TEST_CASE("compare_model_outputs: the absolute tolerance scales with an output's root mean square above 1") {
  // Values in the tens: a sum reordered is off by a few 1e-4 where it cancels near zero.
  std::vector<double> big(100, 30.0);
  big[0] = 0.01;
  std::vector<double> reordered = big;
  reordered[0] = 0.01 + 3e-4;  // 1e-5 of the RMS (30)
  CHECK(compare_model_outputs({floats("y", reordered)}, {floats("y", big)}, kTolerance).agree);
  // Not at values of order 1: the same error there is still an error.
  std::vector<double> small(100, 0.5);
  small[0] = 0.01;
  std::vector<double> off = small;
  off[0] = 0.01 + 3e-4;
  const ModelComparison c = compare_model_outputs({floats("y", off)}, {floats("y", small)}, kTolerance);
  CHECK_FALSE(c.agree);
  CHECK(c.disagreement == "output 'y' (float32): 1 of 100 elements outside rtol 0.001, atol 0.0001");
  // Nor an error of a hundredth of the scale.
  reordered[0] = 0.01 + 0.3;
  const ModelComparison far = compare_model_outputs({floats("y", reordered)}, {floats("y", big)}, kTolerance);
  CHECK_FALSE(far.agree);
  CHECK(far.disagreement.find("the reference output's root mean square") != std::string::npos);
}

TEST_CASE("compare_model_outputs: counts, names, dtypes and shapes must match") {
  const std::vector<OutputValues> want{floats("a", {1.0}), floats("b", {2.0})};
  // The shorter list used to be compared and called close.
  ModelComparison c = compare_model_outputs({floats("a", {1.0})}, want, kTolerance);
  CHECK_FALSE(c.agree);
  CHECK(c.disagreement == "1 output, the reference has 2");
  CHECK(std::isinf(c.max_abs_error));
  c = compare_model_outputs({floats("a", {1.0}), floats("c", {2.0})}, want, kTolerance);
  CHECK(c.disagreement == "output 1 is 'c', the reference's is 'b'");
  c = compare_model_outputs({floats("a", {1.0}), floats("b", {2.0}, "float16")}, want, kTolerance);
  CHECK(c.disagreement == "output 'b' is float16, the reference's is float32");
  OutputValues reshaped = floats("b", {2.0});
  reshaped.shape = {1, 1};
  c = compare_model_outputs({floats("a", {1.0}), reshaped}, want, kTolerance);
  CHECK(c.disagreement == "output 'b' has shape (1, 1), the reference's has (1)");
  // A side that knows no names is compared by position.
  CHECK(compare_model_outputs({floats("", {1.0}), floats("", {2.0})}, want, kTolerance).agree);
}

TEST_CASE("compare_model_outputs: 16-bit floats are held to their own precision") {
  const Tolerance half = tolerance_for("float16", kTolerance);
  CHECK(half.rtol == std::max(kTolerance.rtol, 1.0 / 1024));  // the larger of the two
  CHECK(tolerance_for("bfloat16", kTolerance).rtol == 1.0 / 128);
  CHECK(tolerance_for("float32", kTolerance).rtol == kTolerance.rtol);
  // 1 + 2^-10 is the float16 next to 1: one step of rounding is not a failure.
  CHECK(compare_model_outputs({floats("h", {1.0 + 1.0 / 1024}, "float16")}, {floats("h", {1.0}, "float16")}, kTolerance).agree);
  CHECK_FALSE(compare_model_outputs({floats("h", {1.01}, "float16")}, {floats("h", {1.0}, "float16")}, kTolerance).agree);
}
