// DeadCodeElimination: drops bindings whose values nothing uses, then the
// constants and functions that no remaining binding refers to. Every op is
// free of side effects, so an unused binding is always removable.
#include <set>

#include "lang/pass.h"
#include "lang/passes/function_builder.h"

namespace modelc::lang {
namespace {

Function eliminate_dead_bindings(const Function& fn) {
  std::vector<bool> live(fn.body.size(), false);
  for (const ValueRef& r : fn.results)
    if (r.is_binding()) live[r.index] = true;
  for (size_t i = fn.body.size(); i-- > 0;) {
    if (!live[i]) continue;
    for (const ValueRef& a : fn.body[i].args)
      if (a.is_binding()) live[a.index] = true;
  }
  FunctionBuilder builder(fn);
  for (uint32_t i = 0; i < fn.body.size(); ++i)
    if (live[i]) builder.keep(i);
  return builder.finish();
}

}  // namespace

Module dead_code_elimination(const Module& module, const PassContext&) {
  Module out;
  for (const Function& fn : module.functions) out.functions.push_back(eliminate_dead_bindings(fn));

  // Functions reachable from @main (callees come first, so walk backwards).
  std::set<std::string> used_functions{"main"};
  std::set<std::string> used_constants;
  for (size_t f = out.functions.size(); f-- > 0;) {
    const Function& fn = out.functions[f];
    if (!used_functions.count(fn.name)) continue;
    for (const Binding& b : fn.body) {
      if (!b.op) used_functions.insert(b.function);
      for (const ValueRef& a : b.args)
        if (a.is_constant()) used_constants.insert(a.constant);
    }
    for (const ValueRef& r : fn.results)
      if (r.is_constant()) used_constants.insert(r.constant);
  }
  std::erase_if(out.functions, [&](const Function& fn) { return !used_functions.count(fn.name); });
  for (const auto& [name, value] : module.constants)
    if (used_constants.count(name)) out.constants.emplace(name, value);
  return out;
}

}  // namespace modelc::lang
