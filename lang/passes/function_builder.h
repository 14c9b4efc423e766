// Rebuilds a function binding by binding while a pass rewrites it: keeps the
// map from the old function's values to the new one's, so a pass only says
// what to emit for each old binding.
#pragma once

#include <vector>

#include "lang/module.h"

namespace modelc::lang {

class FunctionBuilder {
 public:
  explicit FunctionBuilder(const Function& old);

  // The new value standing for an old one (params and constants map to themselves).
  ValueRef map(const ValueRef& old) const;
  std::vector<ValueRef> map_all(const std::vector<ValueRef>& old) const;
  // Says that output `output` of old binding `old_index` is now `value`.
  void replace(uint32_t old_index, uint32_t output, ValueRef value);
  // Appends a binding (its args already in new values) and returns its first output.
  ValueRef emit(Binding binding);
  // Copies an old binding unchanged (args remapped) and maps its outputs.
  void keep(uint32_t old_index);
  // Copies an old binding with `args` (new values) instead, and maps its outputs.
  void keep(uint32_t old_index, std::vector<ValueRef> args);

  // The binding a new value refers to (for passes that look at what they emitted).
  const Binding& emitted(const ValueRef& fresh_value) const { return fresh_.body.at(fresh_value.index); }

  Function finish();

 private:
  const Function& old_;
  Function fresh_;
  std::vector<std::vector<ValueRef>> mapping_;
};

}  // namespace modelc::lang
