// report.html: the report for people deciding something, in one
// self-contained file (inline CSS and SVG; no script, font or image from
// anywhere else), readable in a browser and on paper. Pure: returns the text.
//
// Latency bars with interval whiskers per variant and target, a speed-up
// chart against the reference row, the comparison table (as report.md), the
// accuracy table, tail latencies, the machine and version fingerprint(s) and
// how everything was measured.
#pragma once

#include <string>

#include "reports/results.h"

namespace modelc::reports {

std::string render_html(const Results& results);

}  // namespace modelc::reports
