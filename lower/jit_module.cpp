#include "lower/jit_module.h"

#include "lang/interpreter.h"
#include "support/diagnostic.h"

namespace modelc::lower {

const JitKernel& JitModuleRunner::kernel(const lang::Module& module, const lang::Function& primitive) {
  const std::string key = kernel_hash(module, primitive, KernelTarget{});
  auto it = kernels_.find(key);
  if (it == kernels_.end()) it = kernels_.emplace(key, compile_kernel_jit(module, primitive)).first;
  return it->second;
}

std::vector<lang::Tensor> JitModuleRunner::run_main(const lang::Module& module, std::span<const lang::Tensor> inputs) {
  const lang::Function& main = module.main();
  if (inputs.size() != main.params.size())
    throw Error("@main takes " + std::to_string(main.params.size()) + " arguments, given " + std::to_string(inputs.size()));
  std::vector<std::vector<lang::Tensor>> values(main.body.size());
  auto lookup = [&](const lang::ValueRef& ref) -> const lang::Tensor& {
    switch (ref.kind) {
      case lang::ValueRef::Kind::param: return inputs[ref.index];
      case lang::ValueRef::Kind::constant: return module.constant(ref.constant);
      case lang::ValueRef::Kind::binding: return values[ref.index].at(ref.output);
    }
    throw std::logic_error("bad ValueRef");
  };
  for (size_t i = 0; i < main.body.size(); ++i) {
    const lang::Binding& b = main.body[i];
    std::vector<lang::Tensor> args;
    for (const lang::ValueRef& a : b.args) args.push_back(lookup(a));
    if (b.op) {
      values[i] = b.op->reference(args, *b.attrs, b.types);
      continue;
    }
    const lang::Function* callee = module.find_function(b.function);
    if (!callee) throw Error("@main calls unknown function @" + b.function);
    values[i] = callee->primitive ? kernel(module, *callee).run(args) : lang::evaluate(module, *callee, args);
  }
  std::vector<lang::Tensor> results;
  for (const lang::ValueRef& r : main.results) results.push_back(lookup(r));
  return results;
}

}  // namespace modelc::lower
