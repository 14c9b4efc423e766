// exp_bounded, sigmoid_bounded, erf_rational and tanh_rational (lower/tensor_func.h):
// the exps behind softmax and sigmoid, the erf behind GELU and the tanh of recurrent
// gates, against libm over their range,
// at their clamps and on NaN, run through Halide's JIT vectorized as the
// kernels use them.
#include <doctest/doctest.h>

#include <Halide.h>

#include <cmath>
#include <limits>
#include <vector>

#include "lower/tensor_func.h"

namespace {

std::vector<float> vectorized(Halide::Expr (*fn)(const Halide::Expr&), const std::vector<float>& xs) {
  Halide::Buffer<float> in(static_cast<int>(xs.size()));
  for (size_t i = 0; i < xs.size(); ++i) in(static_cast<int>(i)) = xs[i];
  Halide::Var i("i");
  Halide::Func f("f");
  f(i) = fn(in(i));
  f.vectorize(i, 8, Halide::TailStrategy::GuardWithIf);
  Halide::Buffer<float> out = f.realize({static_cast<int>(xs.size())});
  return std::vector<float>(out.data(), out.data() + xs.size());
}

std::vector<float> exp_bounded_of(const std::vector<float>& xs) { return vectorized(modelc::lower::exp_bounded, xs); }

// An odd fit that saturates at +-1 (erf, tanh) against libm over [-range,
// range] and at the points `xs`: the largest absolute error, the largest
// relative error where |x| < relative_below, then oddness, f(0) = 0, +-1 at
// +-inf and NaN kept.
void check_odd_saturating(Halide::Expr (*fit)(const Halide::Expr&), double (*libm)(double), double range, double step,
                          std::vector<float> xs, double abs_bound, double rel_bound, float relative_below, double one_epsilon) {
  for (double x = -range; x <= range; x += step) xs.push_back(static_cast<float>(x));
  const std::vector<float> got = vectorized(fit, xs);
  double worst = 0, worst_relative = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double want = libm(static_cast<double>(xs[i]));
    worst = std::max(worst, std::abs(got[i] - want));
    if (std::abs(xs[i]) < relative_below && want != 0) worst_relative = std::max(worst_relative, std::abs(got[i] - want) / std::abs(want));
  }
  CHECK(worst < abs_bound);
  CHECK(worst_relative < rel_bound);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> edges = vectorized(fit, {0.f, 0.7f, -0.7f, inf, -inf, nan});
  CHECK(edges[0] == 0.f);
  CHECK(edges[1] == -edges[2]);
  CHECK(edges[3] == doctest::Approx(1.0).epsilon(one_epsilon));
  CHECK(edges[4] == -edges[3]);
  CHECK(std::isnan(edges[5]));
}

}  // namespace

TEST_CASE("exp_bounded is within 2 ulp of libm's exp on [-87, 88], saturates above, 0 below, keeps NaN") {
  std::vector<float> xs;
  for (double x = -87.0; x <= 88.0; x += 0.0173) xs.push_back(static_cast<float>(x));
  for (float x : {0.f, -0.f, 1e-8f, -1e-8f, 0.34657359f, -0.34657359f, 1.f, -1.f}) xs.push_back(x);
  const std::vector<float> got = exp_bounded_of(xs);
  double worst = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double want = std::exp(static_cast<double>(xs[i]));
    worst = std::max(worst, std::abs(got[i] - want) / want);
  }
  CHECK(worst < 2.5e-7);  // 2 ulp of float32 (1.19e-7 each)

  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> edges = exp_bounded_of({200.f, inf, -200.f, -inf, nan, -87.29f, -87.31f, -95.f});
  CHECK(edges[0] == doctest::Approx(std::exp(88.0)).epsilon(1e-6));
  CHECK(edges[1] == doctest::Approx(std::exp(88.0)).epsilon(1e-6));
  CHECK(std::isfinite(edges[1]));
  // Below the normal range: 0, never a subnormal (slow to multiply on Intel cores).
  CHECK(edges[2] == 0.f);
  CHECK(edges[3] == 0.f);
  CHECK(std::isnan(edges[4]));
  CHECK(std::fpclassify(edges[5]) == FP_NORMAL);
  CHECK(edges[6] == 0.f);
  CHECK(edges[7] == 0.f);
}

TEST_CASE("erf_rational is within 4.5e-7 of libm's erf, odd, exact at 0 and +-1 beyond its clamp, keeps NaN") {
  // Near 0 erf is ~1.13 x: relative accuracy there, not just absolute.
  check_odd_saturating(modelc::lower::erf_rational, [](double x) { return std::erf(x); }, 6.0, 0.00037,
                       {0.f, -0.f, 1e-30f, -1e-30f, 1e-6f, 3.99f, 4.f, 4.01f, 30.f}, 4.5e-7, 4e-7, 0.5f, 5e-7);
}

TEST_CASE("tanh_rational is within 3.2e-7 of libm's tanh, relatively too, odd, +-1 beyond its clamp, keeps NaN") {
  check_odd_saturating(modelc::lower::tanh_rational, [](double x) { return std::tanh(x); }, 12.0, 0.00061,
                       {0.f, -0.f, 1e-30f, -1e-30f, 1e-6f, 8.99f, 9.f, 9.01f, 50.f}, 3.2e-7, 3.2e-7, 100.f, 1e-7);
}

TEST_CASE("silu_bounded is within 3 ulp of x * sigmoid(x), keeps NaN and infinities") {
  std::vector<float> xs;
  for (double x = -87.0; x <= 88.0; x += 0.0173) xs.push_back(static_cast<float>(x));
  for (float x : {0.f, -0.f, 1e-8f, -1e-8f, 1.f, -1.f, 16.6f, -16.6f, 1e30f}) xs.push_back(x);
  const std::vector<float> got = vectorized(modelc::lower::silu_bounded, xs);
  double worst = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double x = static_cast<double>(xs[i]);
    const double want = x / (1.0 + std::exp(-x));
    if (want != 0) worst = std::max(worst, std::abs(got[i] - want) / std::abs(want));
  }
  CHECK(worst < 3.6e-7);  // 3 ulp of float32
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> edges = vectorized(modelc::lower::silu_bounded, {0.f, inf, -inf, nan, -nan, -200.f});
  CHECK(edges[0] == 0.f);
  CHECK(edges[1] == inf);
  CHECK(edges[2] == -inf);  // as x * sigmoid_bounded(x) gave (the limit is 0)
  CHECK(std::isnan(edges[3]));
  CHECK(std::isnan(edges[4]));
  CHECK(edges[5] <= 0.f);
  CHECK(edges[5] > -1e-35f);
}

TEST_CASE("sigmoid_bounded is within 3 ulp of libm's sigmoid, 1 and 0 at the ends, keeps NaN") {
  std::vector<float> xs;
  for (double x = -87.0; x <= 88.0; x += 0.0173) xs.push_back(static_cast<float>(x));
  for (float x : {0.f, -0.f, 1e-8f, -1e-8f, 0.34657359f, -0.34657359f, 1.f, -1.f, 16.6f, -16.6f}) xs.push_back(x);
  const std::vector<float> got = vectorized(modelc::lower::sigmoid_bounded, xs);
  double worst = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double want = 1.0 / (1.0 + std::exp(-static_cast<double>(xs[i])));
    worst = std::max(worst, std::abs(got[i] - want) / want);
  }
  CHECK(worst < 3.6e-7);  // 3 ulp of float32

  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> edges = vectorized(modelc::lower::sigmoid_bounded, {0.f, 200.f, inf, -200.f, -inf, nan, -nan});
  CHECK(edges[0] == 0.5f);
  CHECK(edges[1] == 1.f);
  CHECK(edges[2] == 1.f);
  CHECK(edges[3] >= 0.f);  // e^88 saturates: 6e-39, not the 1e-87 of libm
  CHECK(edges[3] < 1e-38f);
  CHECK(edges[4] >= 0.f);
  CHECK(edges[4] < 1e-38f);
  CHECK(std::isnan(edges[5]));
  CHECK(std::isnan(edges[6]));
}

// GELU's own form (SimplifyExpr makes x * 0.5 * (1 + erf(x / sqrt 2)) one
// nn.gelu): against x * (1 + erf(x / sqrt 2)) / 2 in double, absolutely and
// relatively to max(|x|, 1), at the clamp, and on NaN and +inf.
TEST_CASE("gelu_rational is within 5e-7 max(|x|, 1) of GELU in double, saturates beyond its clamp, keeps NaN") {
  std::vector<float> xs;
  for (double x = -12.0; x <= 12.0; x += 0.00037) xs.push_back(static_cast<float>(x));
  for (float x : {0.f, -0.f, 1e-30f, -1e-30f, 1e-6f, 5.65f, 5.66f, -5.65f, -5.66f, 5.6568542f, -5.6568542f, 30.f, -30.f, 1e30f}) xs.push_back(x);
  const std::vector<float> got = vectorized(modelc::lower::gelu_rational, xs);
  double worst = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double x = xs[i], want = 0.5 * x * (1.0 + std::erf(x * std::sqrt(0.5)));
    worst = std::max(worst, std::abs(got[i] - want) / std::max(std::abs(x), 1.0));
  }
  MESSAGE("largest error over max(|x|, 1): " << worst);
  CHECK(worst < 5e-7);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> edges = vectorized(modelc::lower::gelu_rational, {0.f, 30.f, -30.f, inf, nan});
  CHECK(edges[0] == 0.f);
  CHECK(edges[1] == doctest::Approx(30.0).epsilon(2.5e-7));
  CHECK(edges[2] == 0.f);  // and -1e30 too: 0, not the fit's 1e-7 times x
  CHECK(vectorized(modelc::lower::gelu_rational, {-1e30f})[0] == 0.f);
  CHECK(edges[3] == inf);
  CHECK(std::isnan(edges[4]));
}
