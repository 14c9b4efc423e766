#include "targets/roofline.h"

#include <algorithm>

#include "lang/op.h"

namespace modelc::targets {

KernelCost total_cost(const std::vector<std::pair<KernelCost, int>>& calls) {
  KernelCost total;
  for (const auto& [cost, count] : calls) {
    total.multiply_adds += count * cost.multiply_adds;
    total.integer_multiply_adds += count * cost.integer_multiply_adds;
    total.bytes += count * cost.bytes;
  }
  return total;
}

RooflineEstimate estimate_roofline(const std::vector<std::pair<KernelCost, int>>& calls, const PeakFigures& peak) {
  RooflineEstimate e;
  const double flops_per_ms = peak.gflops * 1e6, bytes_per_ms = peak.bandwidth_gbs * 1e6;
  for (const auto& [cost, count] : calls) {
    const int64_t multiply_adds = cost.multiply_adds + cost.integer_multiply_adds;
    const double compute = 2.0 * static_cast<double>(multiply_adds) / flops_per_ms;
    const double memory = static_cast<double>(cost.bytes) / bytes_per_ms;
    e.milliseconds += count * std::max(compute, memory);
    e.compute_ms += count * compute;
    e.memory_ms += count * memory;
    e.multiply_adds += count * multiply_adds;
    e.bytes += count * cost.bytes;
  }
  return e;
}

}  // namespace modelc::targets
