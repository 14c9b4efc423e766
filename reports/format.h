// How figures read in every report (Markdown, HTML, `modelc bench`): the
// same number is written the same way everywhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "reports/results.h"

namespace modelc::reports {

inline constexpr const char* kNoValue = "–";

// Three significant digits without exponents: 34.8, 4.90, 0.0480; 123 from 100 up.
std::string format_ms(double ms);
// "0.0300 [0.0295, 0.0306]" when there is an interval.
std::string format_ms_with_interval(double ms, const std::optional<Interval>& interval);
// `decimals` digits after the point, for aligned columns: 12.500.
std::string format_fixed(double value, int decimals);
// A layer's top-1 agreement: "97/100 (97.0 %)"; kNoValue for an output that is no classifier's.
std::string format_top1(const LayerAgreement& agreement);
// Binary units: 117.2 KiB.
std::string format_bytes(uint64_t bytes);
// 1.25 s, 37 s.
std::string format_seconds(double seconds);
// An error: 2.5e-06, 0, NaN, inf.
std::string format_error(double error);
// 1.60×, 0.955×: two decimals, three significant digits below 1.
std::string format_ratio(double ratio);
// The same number without the sign: 1.60, 0.955.
std::string ratio_number(double ratio);
// "1.60× [1.55, 1.66]", "+ within noise" when the interval holds 1, or
// "(no interval)" with a single round.
std::string format_speedup(const Speedup& speedup);

// How a row's status reads: "compile only" (compiled), "emulated — correctness
// only", else the status name.
std::string status_text(RunStatus status);

}  // namespace modelc::reports
