#include "reports/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace modelc::reports {
namespace {

std::string printf_string(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

}  // namespace

std::string format_fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
  return buffer;
}

std::string format_top1(const LayerAgreement& a) {
  if (a.rows <= 0) return kNoValue;
  return std::to_string(a.top1) + "/" + std::to_string(a.rows) + " (" +
         format_fixed(100.0 * static_cast<double>(a.top1) / static_cast<double>(a.rows), 1) + " %)";
}

std::string ratio_number(double ratio) {
  if (!std::isfinite(ratio)) return kNoValue;
  if (ratio >= 1 || ratio <= 0) return printf_string(ratio >= 100 ? "%.0f" : "%.2f", ratio);
  return format_fixed(ratio, std::max(2, 2 - static_cast<int>(std::floor(std::log10(ratio)))));
}

std::string format_ms(double ms) {
  if (!std::isfinite(ms)) return kNoValue;
  if (ms >= 100) return printf_string("%.0f", ms);
  if (ms <= 0) return "0";
  return format_fixed(ms, std::max(0, 2 - static_cast<int>(std::floor(std::log10(ms)))));
}

std::string format_ms_with_interval(double ms, const std::optional<Interval>& interval) {
  std::string text = format_ms(ms);
  if (interval) text += " [" + format_ms(interval->low) + ", " + format_ms(interval->high) + "]";
  return text;
}

std::string format_bytes(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  return printf_string("%.1f", value) + " " + units[unit];
}

std::string format_seconds(double seconds) { return printf_string(seconds < 10 ? "%.2f s" : "%.0f s", seconds); }

std::string format_error(double error) {
  if (std::isnan(error)) return "NaN";
  if (std::isinf(error)) return "inf";
  if (error == 0) return "0";
  return printf_string("%.2g", error);
}

std::string format_ratio(double ratio) {
  const std::string number = ratio_number(ratio);
  return number == kNoValue ? number : number + "×";
}

std::string format_speedup(const Speedup& speedup) {
  std::string text = format_ratio(speedup.value);
  if (!speedup.interval) return text + " (no interval)";
  text += " [" + ratio_number(speedup.interval->low) + ", " + ratio_number(speedup.interval->high) + "]";
  if (speedup.within_noise()) text += " within noise";
  return text;
}

std::string status_text(RunStatus status) {
  switch (status) {
    case RunStatus::compiled: return "compile only";
    case RunStatus::emulated: return "emulated — correctness only";
    default: return to_string(status);
  }
}

}  // namespace modelc::reports
