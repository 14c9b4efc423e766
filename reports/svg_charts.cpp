#include "reports/svg_charts.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <sstream>

#include "reports/format.h"

namespace modelc::reports {
namespace {

constexpr double kWidth = 1000;
constexpr double kLabelWidth = 280;
constexpr double kPlotWidth = 480;
constexpr double kRowHeight = 22;
constexpr double kGroupHeight = 24;
constexpr double kTop = 34;     // title
constexpr double kAxisHeight = 42;  // tick labels, then the axis title

std::string num(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.1f", x);
  return buffer;
}

// Maps a value to an x position inside the plot area.
struct Axis {
  double low = 0, high = 1;
  bool log = false;
  std::vector<double> ticks;
  std::function<std::string(double)> tick_text;

  double x(double value) const {
    const double v = std::clamp(value, low, high);
    const double t = log ? (std::log(v) - std::log(low)) / (std::log(high) - std::log(low)) : (v - low) / (high - low);
    return kLabelWidth + t * kPlotWidth;
  }
};

double nice_step(double range) {
  const double raw = range / 5;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (raw <= m * magnitude) return m * magnitude;
  return 10 * magnitude;
}

Axis latency_axis(const std::vector<ChartBar>& bars) {
  double smallest = std::numeric_limits<double>::infinity(), largest = 0;
  for (const ChartBar& b : bars) {
    smallest = std::min(smallest, b.interval ? std::min(b.value, b.interval->low) : b.value);
    largest = std::max(largest, b.interval ? std::max(b.value, b.interval->high) : b.value);
  }
  Axis axis;
  axis.tick_text = [](double v) { return format_ms(v); };
  if (largest / smallest > 10) {
    axis.log = true;
    axis.low = std::pow(10, std::floor(std::log10(smallest * 0.9)));
    axis.high = std::pow(10, std::ceil(std::log10(largest * 1.1)));
    const bool few_decades = std::log10(axis.high / axis.low) <= 2;
    for (double decade = axis.low; decade <= axis.high * 1.001; decade *= 10) {
      axis.ticks.push_back(decade);
      if (few_decades && decade * 10 <= axis.high * 1.001) {
        axis.ticks.push_back(decade * 2);
        axis.ticks.push_back(decade * 5);
      }
    }
    return axis;
  }
  axis.low = 0;
  const double step = nice_step(largest * 1.1);
  axis.high = std::ceil(largest * 1.1 / step) * step;
  for (double t = 0; t <= axis.high * 1.0001; t += step) axis.ticks.push_back(t);
  return axis;
}

// A log2 axis from the smallest to the largest value (intervals included),
// always holding 1x with room on both sides of it.
Axis speedup_axis(const std::vector<ChartBar>& bars) {
  double smallest = 1 / 1.5, largest = 1.5;
  for (const ChartBar& b : bars) {
    for (const double v : {b.value, b.interval ? b.interval->low : b.value, b.interval ? b.interval->high : b.value}) {
      if (v <= 0) continue;
      smallest = std::min(smallest, v / 1.1);
      largest = std::max(largest, v * 1.1);
    }
  }
  Axis axis;
  axis.log = true;
  const double low_power = std::floor(std::log2(smallest)), high_power = std::ceil(std::log2(largest));
  axis.low = std::pow(2, low_power);
  axis.high = std::pow(2, high_power);
  const double step = std::max(1.0, std::ceil((high_power - low_power) / 8));
  for (double p = 0; p >= low_power; p -= step) axis.ticks.push_back(std::pow(2, p));
  for (double p = step; p <= high_power; p += step) axis.ticks.push_back(std::pow(2, p));
  // Powers of two: 4×, 2×, 1×, 1/2×, 1/4×: shorter than 0.0625×.
  axis.tick_text = [](double v) {
    char text[32];
    if (v >= 1) std::snprintf(text, sizeof(text), "%g×", v);
    else std::snprintf(text, sizeof(text), "1/%g×", std::round(1 / v));
    return std::string(text);
  };
  return axis;
}

// Rows with group headings: the y of each bar, and the chart's height.
struct Layout {
  std::vector<double> bar_y;
  std::vector<std::pair<double, std::string>> headings;
  double height = 0;
};

Layout lay_out(const std::vector<ChartBar>& bars) {
  Layout layout;
  double y = kTop;
  std::string group;
  for (size_t i = 0; i < bars.size(); ++i) {
    if (!bars[i].group.empty() && (i == 0 || bars[i].group != group)) {
      layout.headings.emplace_back(y + 16, bars[i].group);
      y += kGroupHeight;
      group = bars[i].group;
    }
    layout.bar_y.push_back(y);
    y += kRowHeight;
  }
  layout.height = y + kAxisHeight;
  return layout;
}

void draw_axis(std::ostringstream& svg, const Axis& axis, double top, double bottom, double reference_line) {
  for (const double t : axis.ticks) {
    const double x = axis.x(t);
    svg << "<line class=\"grid\" x1=\"" << num(x) << "\" y1=\"" << num(top) << "\" x2=\"" << num(x) << "\" y2=\""
        << num(bottom) << "\"/>";
    svg << "<text class=\"tick\" x=\"" << num(x) << "\" y=\"" << num(bottom + 14) << "\" text-anchor=\"middle\">"
        << html_escape(axis.tick_text(t)) << "</text>";
  }
  if (reference_line > 0) {
    const double x = axis.x(reference_line);
    svg << "<line class=\"one\" x1=\"" << num(x) << "\" y1=\"" << num(top) << "\" x2=\"" << num(x) << "\" y2=\""
        << num(bottom) << "\"/>";
  }
}

void draw_whisker(std::ostringstream& svg, const Axis& axis, const Interval& interval, double middle) {
  const double x1 = axis.x(interval.low), x2 = axis.x(interval.high);
  svg << "<path class=\"whisker\" d=\"M" << num(x1) << " " << num(middle) << "H" << num(x2) << "M" << num(x1) << " "
      << num(middle - 5) << "V" << num(middle + 5) << "M" << num(x2) << " " << num(middle - 5) << "V" << num(middle + 5)
      << "\"/>";
}

std::string chart(const std::vector<ChartBar>& bars, std::string_view title, const Axis& axis, double origin,
                  std::string_view axis_title) {
  const Layout layout = lay_out(bars);
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 " << num(kWidth) << " "
      << num(layout.height) << "\" width=\"" << num(kWidth) << "\" height=\"" << num(layout.height)
      << "\" role=\"img\" aria-label=\"" << html_escape(title) << "\">";
  svg << "<text class=\"title\" x=\"0\" y=\"18\">" << html_escape(title) << "</text>";
  const double bottom = layout.height - kAxisHeight + 4;
  svg << "<text class=\"tick\" x=\"" << num(kLabelWidth + kPlotWidth / 2) << "\" y=\"" << num(bottom + 30)
      << "\" text-anchor=\"middle\">" << html_escape(axis_title) << "</text>";
  draw_axis(svg, axis, kTop, bottom, origin);
  for (const auto& [y, text] : layout.headings)
    svg << "<text class=\"group\" x=\"0\" y=\"" << num(y) << "\">" << html_escape(text) << "</text>";
  for (size_t i = 0; i < bars.size(); ++i) {
    const ChartBar& b = bars[i];
    const double top = layout.bar_y[i] + 4, height = kRowHeight - 8, middle = top + height / 2;
    const double from = axis.x(origin > 0 ? origin : axis.low), to = axis.x(b.value);
    svg << "<text class=\"label\" x=\"" << num(kLabelWidth - 8) << "\" y=\"" << num(middle + 4)
        << "\" text-anchor=\"end\">" << html_escape(b.label) << "</text>";
    svg << "<rect class=\"bar " << html_escape(b.css_class) << "\" x=\"" << num(std::min(from, to)) << "\" y=\""
        << num(top) << "\" width=\"" << num(std::max(1.0, std::abs(to - from))) << "\" height=\"" << num(height)
        << "\"><title>" << html_escape(b.label + ": " + b.value_text) << "</title></rect>";
    if (b.interval) draw_whisker(svg, axis, *b.interval, middle);
    svg << "<text class=\"value\" x=\"" << num(kLabelWidth + kPlotWidth + 8) << "\" y=\"" << num(middle + 4) << "\">"
        << html_escape(b.value_text) << "</text>";
  }
  svg << "</svg>";
  return svg.str();
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string latency_chart_svg(const std::vector<ChartBar>& bars, std::string_view title) {
  if (bars.empty()) return {};
  const Axis axis = latency_axis(bars);
  return chart(bars, title, axis, 0, axis.log ? "ms, log scale" : "ms");
}

std::string speedup_chart_svg(const std::vector<ChartBar>& bars, std::string_view title) {
  if (bars.empty()) return {};
  return chart(bars, title, speedup_axis(bars), 1.0, "speed-up, log scale (right of 1×: faster)");
}

}  // namespace modelc::reports
