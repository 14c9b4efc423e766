// exp_bounded (lower/tensor_func.h), the exp behind sigmoid, softmax and
// erf, against libm over its range, at its clamps and on NaN, run through
// Halide's JIT vectorized as the kernels use it.
#include <doctest/doctest.h>

#include <Halide.h>

#include <cmath>
#include <limits>
#include <vector>

#include "lower/tensor_func.h"

namespace {

std::vector<float> exp_bounded_of(const std::vector<float>& xs) {
  Halide::Buffer<float> in(static_cast<int>(xs.size()));
  for (size_t i = 0; i < xs.size(); ++i) in(static_cast<int>(i)) = xs[i];
  Halide::Var i("i");
  Halide::Func f("f");
  f(i) = modelc::lower::exp_bounded(in(i));
  f.vectorize(i, 8, Halide::TailStrategy::GuardWithIf);
  Halide::Buffer<float> out = f.realize({static_cast<int>(xs.size())});
  return std::vector<float>(out.data(), out.data() + xs.size());
}

}  // namespace

TEST_CASE("exp_bounded is within 2 ulp of libm's exp on [-87, 88], saturates beyond, keeps NaN") {
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
  const std::vector<float> edges = exp_bounded_of({200.f, inf, -200.f, -inf, nan});
  CHECK(edges[0] == doctest::Approx(std::exp(88.0)).epsilon(1e-6));
  CHECK(edges[1] == doctest::Approx(std::exp(88.0)).epsilon(1e-6));
  CHECK(std::isfinite(edges[1]));
  CHECK(edges[2] > 0.f);
  CHECK(edges[2] < 1e-37f);
  CHECK(edges[3] == edges[2]);
  CHECK(std::isnan(edges[4]));
}
