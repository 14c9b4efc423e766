// Calibration of the Quantize pass (lang/passes/quantize.h): the ranges each
// method gives, and the entropy method's threshold on known histograms.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "lang/passes/quantize.h"
#include "lang/pass.h"
#include "test_util.h"

using namespace modelc;
using namespace modelc::lang;

TEST_CASE("entropy threshold: a uniform histogram is not clipped, a long thin tail is") {
  std::vector<double> uniform(2048, 10.0);
  CHECK(entropy_threshold(uniform, 4.0, 128) == doctest::Approx(4.0));

  // Half-normal mass over the first ~300 bins (sigma 64 bins), one count at the far end.
  std::vector<double> tailed(2048, 0.0);
  for (int b = 0; b < 2048; ++b) tailed[static_cast<size_t>(b)] = std::floor(1e5 * std::exp(-0.5 * (b / 64.0) * (b / 64.0)));
  tailed[2047] = 1;
  const double t = entropy_threshold(tailed, 2048.0, 128);  // one unit per bin
  CHECK(t < 500);   // the outlier is clipped
  CHECK(t > 150);   // more than two sigma is kept
  // More steps resolve more of the tail: the threshold does not shrink.
  CHECK(entropy_threshold(tailed, 2048.0, 256) >= t);
  // Nothing to clip: an empty histogram or one no wider than the steps.
  CHECK(entropy_threshold(std::vector<double>(2048, 0.0), 3.0, 128) == 3.0);
  CHECK(entropy_threshold(std::vector<double>(100, 1.0), 3.0, 128) == 3.0);
}

TEST_CASE("calibrate: minmax, percentile and entropy ranges over the samples") {
  const Module m = testing::parse(R"(def @main(%x: Tensor[(1, 4096), float32]) {
  %0 = nn.relu(%x);
  %0
}
)");
  QuantizeOptions o;
  o.mode = "int8";
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  for (int s = 0; s < 4; ++s) {
    Tensor t(TensorType{{1, 4096}, DType::float32});
    for (float& v : t.mutable_values<float>()) v = normal(rng);
    if (s == 2) t.mutable_values<float>()[5] = 40.f;  // one outlier in all the samples
    o.calibration.push_back({t});
  }
  const std::vector<ValueRef> values = {ValueRef::param(0), ValueRef::binding(0)};

  o.method = "minmax";
  const std::vector<ValueRange> minmax = calibrate(m, values, o);
  CHECK(minmax[0].hi == 40.0);
  CHECK(minmax[0].lo < -3.0);
  CHECK(minmax[1].lo == 0.0);
  CHECK(minmax[1].hi == 40.0);

  o.method = "entropy";
  const std::vector<ValueRange> entropy = calibrate(m, values, o);
  for (size_t v = 0; v < values.size(); ++v) {
    CAPTURE(v);
    CHECK(entropy[v].hi < 15.0);  // the outlier does not set the scale
    CHECK(entropy[v].hi > 2.0);   // the bulk of N(0, 1) stays inside
  }
  CHECK(entropy[0].lo < -2.0);
  CHECK(entropy[0].lo >= minmax[0].lo);
  CHECK(entropy[1].lo == 0.0);  // never negative: the range starts at 0

  // Without the outlier, a ReLU's half of exact zeros does not pull its
  // range in: it keeps most of the N(0, 1) tail.
  o.calibration[2][0].mutable_values<float>()[5] = 0.f;
  const std::vector<ValueRange> no_outlier = calibrate(m, values, o);
  CHECK(no_outlier[1].hi > 3.0);

  o.method = "percentile";
  o.percentile = 99.0;
  const std::vector<ValueRange> pct = calibrate(m, values, o);
  CHECK(pct[0].hi < 3.0);
  CHECK(pct[0].hi > 2.0);
}
