#include "lang/frontends/graph_builder.h"

#include "support/diagnostic.h"

namespace modelc::lang::frontends {

ValueRef GraphBuilder::add_param(const std::string& name, TensorType type) {
  main_.params.push_back(Param{name, std::move(type)});
  return ValueRef::param(static_cast<uint32_t>(main_.params.size() - 1));
}

ValueRef GraphBuilder::add_constant(const std::string& hint, Tensor value) {
  return ValueRef::constant_named(module_.add_constant(hint, std::move(value)));
}

ValueRef GraphBuilder::call(std::string_view op, std::vector<ValueRef> args, AttrsPtr attrs, const std::string& origin,
                            const std::string& fold_hint) {
  Binding b = make_op_call(op, std::move(args), std::move(attrs), origin);
  const int n = static_cast<int>(b.args.size());
  if (n < b.op->min_args || (b.op->max_args >= 0 && n > b.op->max_args))
    throw Error(b.op->name + " takes " + std::to_string(b.op->min_args) + " to " + std::to_string(b.op->max_args) +
                " arguments, given " + std::to_string(n));
  std::vector<TensorType> arg_types;
  bool all_constant = true;
  for (const ValueRef& a : b.args) {
    arg_types.push_back(type_of(a));
    all_constant = all_constant && a.is_constant();
  }
  b.types = b.op->infer_type(arg_types, *b.attrs);
  if (fold_ && all_constant && !b.args.empty() && b.types.size() == 1 && b.op->reference) {
    std::vector<Tensor> operands;
    for (const ValueRef& a : b.args) operands.push_back(module_.constant(a.constant));
    return add_constant(fold_hint, std::move(b.op->reference(operands, *b.attrs, b.types).front()));
  }
  return ValueRef::binding(main_.add(std::move(b)));
}

TensorType GraphBuilder::type_of(const ValueRef& value) const { return module_.type_of(main_, value); }

std::optional<Tensor> GraphBuilder::constant_value(const ValueRef& value) const {
  if (!value.is_constant()) return std::nullopt;
  return module_.constant(value.constant);
}

Module GraphBuilder::finish(std::vector<ValueRef> results, std::vector<std::string> result_names) {
  main_.results = std::move(results);
  main_.result_names = std::move(result_names);
  Module out = std::move(module_);
  out.functions.push_back(std::move(main_));
  return out;
}

}  // namespace modelc::lang::frontends
