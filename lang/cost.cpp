#include "lang/cost.h"

#include <vector>

#include "support/checked_math.h"

namespace modelc::lang {

FunctionCost function_cost(const Module& m, const Function& fn) {
  FunctionCost cost;
  for (const Param& p : fn.params) cost.bytes = saturating_add(cost.bytes, static_cast<int64_t>(p.type.bytes()));
  for (const TensorType& t : m.result_types(fn)) cost.bytes = saturating_add(cost.bytes, static_cast<int64_t>(t.bytes()));
  for (const Binding& b : fn.body) {
    if (!b.is_op_call() || !b.op->multiply_adds) continue;
    std::vector<TensorType> args;
    args.reserve(b.args.size());
    for (const ValueRef& a : b.args) args.push_back(m.type_of(fn, a));
    const int64_t count = b.op->multiply_adds(args, *b.attrs, b.types);
    int64_t& total = !args.empty() && !is_float(args[0].dtype) ? cost.integer_multiply_adds : cost.multiply_adds;
    total = saturating_add(total, count);
  }
  return cost;
}

}  // namespace modelc::lang
