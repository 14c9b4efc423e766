// The reference interpreter: runs a function of a module binding by binding
// through the ops' plain C++ reference kernels. It is the numerical oracle of
// the tests and the `reference` baseline of reports.
#pragma once

#include <span>
#include <vector>

#include "lang/module.h"

namespace modelc::lang {

// Requires InferType. Throws modelc::Error when an argument's type differs from
// the parameter's.
std::vector<Tensor> evaluate(const Module& module, const Function& fn, std::span<const Tensor> args);
inline std::vector<Tensor> evaluate_main(const Module& module, std::span<const Tensor> args) {
  return evaluate(module, module.main(), args);
}

}  // namespace modelc::lang
