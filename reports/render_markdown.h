// report.md: results.json for people reading a pull request. Pure: returns the
// text, writes nothing.
//
// One comparison table, a row per variant x target x implementation (modelc
// first, then each baseline): median with its 95 % interval, p90, the
// speed-up against the reference row and, on baseline rows, modelc's speed-up
// over that baseline, each with its interval; accuracy, compile time and
// sizes. Then tail latencies with their early-stopping bounds, the per-layer
// sensitivity of int8 variants that have one, the machine(s) and how
// everything was measured.
#pragma once

#include <string>

#include "reports/results.h"

namespace modelc::reports {

std::string render_markdown(const Results& results);

// A "## Layer sensitivity" section: one row per layer, most sensitive first,
// the whole quantized model last (also what `modelc sensitivity` prints).
std::string render_sensitivity_markdown(const SensitivityResult& sensitivity, const std::string& variant);

}  // namespace modelc::reports
