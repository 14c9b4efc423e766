#include "lang/module.h"

#include <stdexcept>

#include "support/diagnostic.h"

namespace modelc::lang {

Function& Module::main() {
  if (Function* f = find_function("main")) return *f;
  throw std::logic_error("module has no @main");
}

const Function& Module::main() const { return const_cast<Module*>(this)->main(); }

Function* Module::find_function(std::string_view name) {
  for (Function& f : functions)
    if (f.name == name) return &f;
  return nullptr;
}

const Function* Module::find_function(std::string_view name) const {
  return const_cast<Module*>(this)->find_function(name);
}

const Tensor& Module::constant(const std::string& name) const {
  auto it = constants.find(name);
  if (it == constants.end()) throw std::logic_error("module has no constant @" + name);
  return it->second;
}

std::string Module::add_constant(const std::string& hint, Tensor value) {
  std::string name = hint.empty() ? "const" : hint;
  for (int i = 1; constants.count(name); ++i) name = hint + "_" + std::to_string(i);
  constants.emplace(name, std::move(value));
  return name;
}

TensorType Module::type_of(const Function& fn, const ValueRef& ref) const {
  switch (ref.kind) {
    case ValueRef::Kind::param: return fn.params.at(ref.index).type;
    case ValueRef::Kind::constant: return constant(ref.constant).type();
    case ValueRef::Kind::binding: {
      const Binding& b = fn.body.at(ref.index);
      if (ref.output >= b.types.size())
        throw std::logic_error("type of %" + std::to_string(ref.index) + " is not inferred");
      return b.types[ref.output];
    }
  }
  throw std::logic_error("bad ValueRef");
}

std::vector<TensorType> Module::result_types(const Function& fn) const {
  std::vector<TensorType> out;
  for (const ValueRef& r : fn.results) out.push_back(type_of(fn, r));
  return out;
}

std::string result_name(const Function& fn, size_t index) {
  if (index < fn.result_names.size() && !fn.result_names[index].empty()) return fn.result_names[index];
  return index == 0 ? "output" : "output_" + std::to_string(index);
}

std::string origin_name(const std::string& origin) {
  const size_t open = origin.find('\'');
  const size_t close = origin.rfind("' (");
  if (open == std::string::npos || close == std::string::npos || close <= open) return origin;
  return origin.substr(open + 1, close - open - 1);
}

Binding make_op_call(std::string_view op, std::vector<ValueRef> args, AttrsPtr attrs, std::string origin) {
  Binding b;
  b.op = &OpRegistry::global().get(op);
  b.args = std::move(args);
  b.attrs = attrs ? std::move(attrs) : AttrsPtr(b.op->make_attrs());
  b.origin = std::move(origin);
  return b;
}

std::vector<int> count_uses(const Function& fn) {
  std::vector<int> uses(fn.body.size(), 0);
  for (const Binding& b : fn.body)
    for (const ValueRef& a : b.args)
      if (a.is_binding()) ++uses[a.index];
  for (const ValueRef& r : fn.results)
    if (r.is_binding()) ++uses[r.index];
  return uses;
}

}  // namespace modelc::lang
