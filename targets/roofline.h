// Roofline estimates: how fast a model could run on a device, from the
// device profile's peak compute and memory bandwidth and the model's work.
//
// Each kernel call is bound either by its multiply-adds (2 FLOPs each, at
// the device's peak FLOP/s) or by the bytes it moves (its arguments read and
// its results written once from memory, at the peak bandwidth), whichever
// takes longer; a model's estimate is the sum over its calls. The figure is a
// lower bound for an ideal schedule, not a prediction: caches that keep a
// tensor between kernels make it pessimistic on bytes, and elementwise
// arithmetic is not counted as compute. Profiles give one peak, the float32
// one: integer multiply-adds (qnn.*) are counted at that rate too.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "lang/cost.h"
#include "lang/module.h"
#include "targets/device_profile.h"

namespace modelc::targets {

// Multiply-adds and bytes of one call of a primitive function (lang/cost.h).
using KernelCost = lang::FunctionCost;

struct RooflineEstimate {
  double milliseconds = 0;  // sum over calls of max(compute, memory)
  double compute_ms = 0;    // all multiply-adds at peak FLOP/s
  double memory_ms = 0;     // all bytes at peak bandwidth
  int64_t multiply_adds = 0;
  int64_t bytes = 0;
};

// `calls`: each distinct kernel's cost and how many times the model calls it.
KernelCost total_cost(const std::vector<std::pair<KernelCost, int>>& calls);
RooflineEstimate estimate_roofline(const std::vector<std::pair<KernelCost, int>>& calls, const PeakFigures& peak);

}  // namespace modelc::targets
