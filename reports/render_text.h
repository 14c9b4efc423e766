// What `modelc bench` prints: a row per variant x target x implementation
// with its median (and interval), p90 and the speed-up against the
// reference row, aligned for a terminal; then failures and notes, and where
// a row ran on several threads, the run's core-to-core figures.
#pragma once

#include <string>

#include "reports/results.h"

namespace modelc::reports {

std::string render_text(const Results& results);

}  // namespace modelc::reports
