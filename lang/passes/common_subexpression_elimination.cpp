// CommonSubexpressionElimination: when two bindings call the same callee with
// the same arguments and equal attributes, the later one reuses the earlier
// one's value. Every op and function is pure, so equal calls give equal values.
//
// Why: ONNX exporters and the other passes duplicate work (the same reshape of
// one tensor for several consumers, the same layout_transform of an input that
// feeds two convolutions); each duplicate would become a kernel launch.
//
// Assumes nothing about types (it runs before or after InferType). Bindings
// are compared after their arguments were rewritten, so chains of duplicates
// collapse in one walk.
#include <map>

#include "lang/pass.h"
#include "lang/passes/function_builder.h"

namespace modelc::lang {
namespace {

// A key that is equal exactly for calls that compute the same value.
std::string call_key(const Binding& b, const std::vector<ValueRef>& args) {
  std::string key = b.callee_name() + "(";
  for (const ValueRef& a : args) {
    switch (a.kind) {
      case ValueRef::Kind::param: key += "%p" + std::to_string(a.index); break;
      case ValueRef::Kind::constant: key += "@" + a.constant; break;
      case ValueRef::Kind::binding: key += "%" + std::to_string(a.index) + "." + std::to_string(a.output); break;
    }
    key += ",";
  }
  return key + ")" + (b.attrs ? print_attrs(*b.attrs) : std::string());
}

Function eliminate_common_subexpressions(const Function& fn) {
  FunctionBuilder builder(fn);
  std::map<std::string, ValueRef> seen;  // key -> first output of the earlier binding
  for (uint32_t i = 0; i < fn.body.size(); ++i) {
    const Binding& b = fn.body[i];
    const std::string key = call_key(b, builder.map_all(b.args));
    if (auto found = seen.find(key); found != seen.end()) {
      const size_t outputs = std::max<size_t>(1, b.types.size());
      for (uint32_t o = 0; o < outputs; ++o)
        builder.replace(i, o, ValueRef::binding(found->second.index, o));
      continue;
    }
    builder.keep(i);
    seen.emplace(key, builder.map(ValueRef::binding(i)));
  }
  return builder.finish();
}

}  // namespace

Module common_subexpression_elimination(const Module& module, const PassContext&) {
  Module out = module;
  for (Function& fn : out.functions) fn = eliminate_common_subexpressions(fn);
  return out;
}

}  // namespace modelc::lang
