#include "lang/interpreter.h"

#include "support/diagnostic.h"

namespace modelc::lang {

std::vector<Tensor> evaluate(const Module& module, const Function& fn, std::span<const Tensor> args) {
  if (args.size() != fn.params.size())
    throw Error("@" + fn.name + " takes " + std::to_string(fn.params.size()) + " arguments, given " + std::to_string(args.size()));
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i].type() != fn.params[i].type)
      throw Error("argument %" + fn.params[i].name + " of @" + fn.name + " expects " + fn.params[i].type.str() +
                  ", given " + args[i].type().str());

  std::vector<std::vector<Tensor>> values(fn.body.size());
  // Frees each binding's value after its last use, so peak memory stays near
  // that of the compiled model.
  std::vector<int> remaining = count_uses(fn);
  auto lookup = [&](const ValueRef& ref) -> const Tensor& {
    switch (ref.kind) {
      case ValueRef::Kind::param: return args[ref.index];
      case ValueRef::Kind::constant: return module.constant(ref.constant);
      case ValueRef::Kind::binding: return values[ref.index].at(ref.output);
    }
    throw std::logic_error("bad ValueRef");
  };

  for (size_t i = 0; i < fn.body.size(); ++i) {
    const Binding& b = fn.body[i];
    std::vector<Tensor> operands;
    operands.reserve(b.args.size());
    for (const ValueRef& a : b.args) operands.push_back(lookup(a));
    if (b.op) {
      if (!b.op->reference) throw Error("operator " + b.op->name + " has no reference kernel");
      values[i] = b.op->reference(operands, *b.attrs, b.types);
    } else {
      const Function* callee = module.find_function(b.function);
      if (!callee) throw std::logic_error("call of unknown function @" + b.function);
      values[i] = evaluate(module, *callee, operands);
    }
    for (const ValueRef& a : b.args)
      if (a.is_binding() && --remaining[a.index] == 0) values[a.index].clear();
  }
  std::vector<Tensor> results;
  for (const ValueRef& r : fn.results) results.push_back(lookup(r));
  return results;
}

}  // namespace modelc::lang
