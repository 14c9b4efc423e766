// What one call of a function costs, counted from its IR: the multiply-adds
// of its convolutions and matrix products (each op's multiply_adds hook) and
// the bytes it must at least move (its parameters read once, its results
// written once). A kernel's GFLOP/s (2 FLOPs per multiply-add) and its
// streaming bound come from these; neither depends on the schedule.
#pragma once

#include <cstdint>

#include "lang/module.h"

namespace modelc::lang {

struct FunctionCost {
  int64_t multiply_adds = 0;          // float (any width)
  int64_t bytes = 0;                  // parameters + results
  int64_t integer_multiply_adds = 0;  // integer operands (qnn.*), which run on other units at other rates
};

// Saturates at INT64_MAX instead of wrapping (sizes come from model files).
FunctionCost function_cost(const Module& m, const Function& fn);

}  // namespace modelc::lang
