#include "lang/passes/function_builder.h"

#include <stdexcept>

namespace modelc::lang {

FunctionBuilder::FunctionBuilder(const Function& old) : old_(old), mapping_(old.body.size()) {
  fresh_.name = old.name;
  fresh_.params = old.params;
  fresh_.primitive = old.primitive;
  fresh_.result_names = old.result_names;
}

ValueRef FunctionBuilder::map(const ValueRef& old) const {
  if (!old.is_binding()) return old;
  const auto& outputs = mapping_.at(old.index);
  if (old.output >= outputs.size())
    throw std::logic_error("FunctionBuilder: %" + std::to_string(old.index) + " was not emitted yet");
  return outputs[old.output];
}

std::vector<ValueRef> FunctionBuilder::map_all(const std::vector<ValueRef>& old) const {
  std::vector<ValueRef> out;
  out.reserve(old.size());
  for (const ValueRef& r : old) out.push_back(map(r));
  return out;
}

void FunctionBuilder::replace(uint32_t old_index, uint32_t output, ValueRef value) {
  auto& outputs = mapping_.at(old_index);
  if (outputs.size() <= output) outputs.resize(output + 1);
  outputs[output] = std::move(value);
}

ValueRef FunctionBuilder::emit(Binding binding) {
  return ValueRef::binding(fresh_.add(std::move(binding)));
}

void FunctionBuilder::keep(uint32_t old_index) { keep(old_index, map_all(old_.body.at(old_index).args)); }

void FunctionBuilder::keep(uint32_t old_index, std::vector<ValueRef> args) {
  Binding copy = old_.body.at(old_index);
  copy.args = std::move(args);
  const size_t outputs = std::max<size_t>(1, copy.types.size());
  const uint32_t fresh = fresh_.add(std::move(copy));
  for (uint32_t o = 0; o < outputs; ++o) replace(old_index, o, ValueRef::binding(fresh, o));
}

Function FunctionBuilder::finish() {
  fresh_.results = map_all(old_.results);
  return std::move(fresh_);
}

}  // namespace modelc::lang
