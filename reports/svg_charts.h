// The two charts of report.html, as inline SVG text (no scripts, no fonts
// from the network, so the file reads the same offline and on paper):
//  - latency: a horizontal bar per row at its median, with a whisker over its
//    95 % interval, rows grouped by variant and target; a log axis when the
//    rows span more than a decade (the reference interpreter next to modelc);
//  - speed-up: a bar per row from 1x to its speed-up on a log2 axis centred on
//    1x, whiskers over the interval, coloured faster / slower / within noise.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reports/statistics.h"

namespace modelc::reports {

struct ChartBar {
  std::string group;       // a heading above consecutive bars of the same group ("" for none)
  std::string label;       // left of the bar
  double value = 0;        // > 0
  std::optional<Interval> interval;
  std::string css_class;   // colours the bar: modelc, reference, onnxruntime, faster, slower, noise
  std::string value_text;  // right of the bar
};

std::string latency_chart_svg(const std::vector<ChartBar>& bars, std::string_view title);
std::string speedup_chart_svg(const std::vector<ChartBar>& bars, std::string_view title);

// Text safe inside HTML elements and attribute values.
std::string html_escape(std::string_view text);

}  // namespace modelc::reports
