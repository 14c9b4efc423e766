#include "reports/early_stopping.h"

#include <algorithm>
#include <cmath>

namespace modelc::reports {
namespace {

// P(X <= t) for X ~ Binomial(h + t, 1 - p): LoadGen's odds(h, t, p, 0), the
// regularized incomplete beta I_p(h, t + 1). Summed from k = t down: where
// the answer is near 1 - confidence, t lies in the lower tail, the terms
// shrink going down, and a few hundred of them carry the whole sum even when
// t is in the thousands.
double odds(int64_t h, int64_t t, double p) {
  const double n = static_cast<double>(h + t);
  const double tt = static_cast<double>(t);
  double log_term = std::lgamma(n + 1) - std::lgamma(tt + 1) - std::lgamma(n - tt + 1) + tt * std::log1p(-p) +
                    (n - tt) * std::log(p);
  const double log_ratio = std::log(p) - std::log1p(-p);  // term(k-1) / term(k) = k / (n-k+1) * p / (1-p)
  double sum = 0;
  for (int64_t k = t; k >= 0; --k) {
    const double term = std::exp(log_term);
    sum += term;
    if (term < sum * 1e-17 && k < t) break;
    const double kk = static_cast<double>(k);
    log_term += std::log(kk) - std::log(n - kk + 1) + log_ratio;
  }
  return sum;
}

}  // namespace

int64_t min_passing_runs(int64_t t, double percentile, double confidence) {
  // odds() falls as h grows. With h = t p / (1 - p) runs under, t overs are
  // just what is expected: the odds are near 1/2, so the answer lies above;
  // double from there until it passes, then bisect.
  int64_t high = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(t) * percentile / (1 - percentile)));
  while (odds(high, t, percentile) >= 1 - confidence) high *= 2;
  int64_t low = high / 2;
  while (low < high) {
    const int64_t middle = low + (high - low) / 2;
    if (odds(middle, t, percentile) < 1 - confidence) high = middle;
    else low = middle + 1;
  }
  return low;
}

EarlyStoppingBound early_stopping_bound(std::span<const double> sorted_ms, double percentile, double confidence) {
  EarlyStoppingBound bound;
  bound.percentile = percentile;
  bound.samples_needed = min_passing_runs(1, percentile, confidence) + 1;
  const auto n = static_cast<int64_t>(sorted_ms.size());
  if (n < bound.samples_needed) return bound;
  // min_passing_runs(t) + t grows with t: the largest t it still fits in n.
  int64_t low = 1, high = n;
  while (low < high) {
    const int64_t middle = low + (high - low + 1) / 2;
    if (min_passing_runs(middle, percentile, confidence) + middle <= n) low = middle;
    else high = middle - 1;
  }
  bound.bound_ms = sorted_ms[static_cast<size_t>(n - low)];
  return bound;
}

}  // namespace modelc::reports
