// report.md: results.json for people reading a pull request. Pure: returns the
// text, writes nothing.
//
// Per target, one table row per variant and implementation (modelc first, then
// each baseline) with median/p90 latency, the speed-up of modelc over the
// baseline (baseline median / modelc median), accuracy against the reference
// and the artifact's sizes; then a machine section and how it was measured.
#pragma once

#include <optional>
#include <string>

#include "reports/results.h"

namespace modelc::reports {

std::string render_markdown(const Results& results);

// Speed-up of modelc over a baseline: baseline median / modelc median (> 1:
// modelc is faster). Empty when either was not measured.
std::optional<double> speedup_over(const BaselineResult& baseline, const VariantResult& modelc);

}  // namespace modelc::reports
