// The check every lowering test makes: each primitive function of a fused
// module, compiled with Halide's JIT, against the reference interpreter on the
// same random arguments.
#pragma once

#include <random>

#include "lang/module.h"

namespace modelc::test {

// Uniform in [-1, 1) for floats; small integers, bytes and booleans otherwise.
lang::Tensor random_tensor(const lang::TensorType& type, std::mt19937& rng);

// Checks every result of every primitive function element by element: |got - want| <= atol +
// rtol * |want|, NaN exactly where the reference has NaN, equal infinities.
// Returns how many functions were checked.
// With bf16_dot, kernels compiled as for KernelTarget::bf16_dot.
int check_primitives_against_reference(const lang::Module& module, double rtol, double atol, unsigned seed,
                                       bool bf16_dot = false);

}  // namespace modelc::test
