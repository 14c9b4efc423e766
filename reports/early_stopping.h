// MLPerf LoadGen's early stopping for a SingleStream latency percentile
// (mlcommons/inference, loadgen/early_stopping.cc and PerformanceSummary::
// EarlyStopping): how many runs are enough to claim a percentile, and the
// latency one may claim for it from the runs taken.
//
// Call a run "over" when it is slower than the claimed latency. Seeing t runs
// over among n, the claim "the p-th percentile is at most that latency" holds
// with confidence c when P(Binomial(n, 1 - p) <= t) < 1 - c: so few overs
// would be unlikely were the true percentile any higher. min_passing_runs(t)
// is the smallest number h of runs under that makes h + t runs enough. The
// bound for n sorted runs takes the largest t with min_passing_runs(t) + t <= n
// and claims the t-th slowest run: a slightly higher percentile than the
// empirical one, by as much as the sample size makes necessary. LoadGen uses
// c = 0.99 and no tolerance; so does modelc.
#pragma once

#include <cstdint>
#include <span>

#include "reports/statistics.h"

namespace modelc::reports {

inline constexpr double kEarlyStoppingConfidence = 0.99;

// Smallest h such that P(at most t of h + t runs are over) < 1 - confidence,
// a run being over with probability 1 - percentile.
int64_t min_passing_runs(int64_t t, double percentile, double confidence = kEarlyStoppingConfidence);

// The early-stopping bound of `percentile` (0.90, 0.99) for ascending
// samples; bound_ms is empty below samples_needed = min_passing_runs(1) + 1
// runs (64 for p90, 662 for p99).
EarlyStoppingBound early_stopping_bound(std::span<const double> sorted_ms, double percentile,
                                        double confidence = kEarlyStoppingConfidence);

}  // namespace modelc::reports
