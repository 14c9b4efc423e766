#include "lang/op.h"

#include <algorithm>

#include "support/diagnostic.h"
#include "support/spelling.h"

namespace modelc::lang {

std::string_view pattern_name(OpPattern pattern) {
  switch (pattern) {
    case OpPattern::elemwise: return "elemwise";
    case OpPattern::broadcast: return "broadcast";
    case OpPattern::injective: return "injective";
    case OpPattern::reduction: return "reduction";
    case OpPattern::out_elemwise_fusable: return "out_elemwise_fusable";
    case OpPattern::opaque: return "opaque";
  }
  return "opaque";
}

const OpRegistry& OpRegistry::global() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    register_nn_ops(r);
    register_elementwise_ops(r);
    register_transform_ops(r);
    register_indexing_ops(r);
    register_reduce_ops(r);
    register_window_ops(r);
    register_normalization_ops(r);
    register_layout_ops(r);
    register_winograd_ops(r);
    register_qnn_ops(r);
    return r;
  }();
  return registry;
}

void OpRegistry::add(OpDef def) {
  std::string name = def.name;
  if (ops_.count(name)) throw std::logic_error("op registered twice: " + name);
  ops_.emplace(std::move(name), std::make_unique<OpDef>(std::move(def)));
}

const OpDef* OpRegistry::find(std::string_view name) const {
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : it->second.get();
}

const OpDef& OpRegistry::get(std::string_view name) const {
  if (const OpDef* def = find(name)) return *def;
  std::vector<std::string> names;
  for (const auto& [n, _] : ops_) names.push_back(n);
  const std::string suggestion = closest_spelling(name, names);
  throw Error(Diagnostic{Severity::error, {}, {}, "unknown operator '" + std::string(name) + "'",
                         suggestion.empty() ? std::string() : "did you mean '" + suggestion + "'?"});
}

std::vector<const OpDef*> OpRegistry::all() const {
  std::vector<const OpDef*> out;
  for (const auto& [_, def] : ops_) out.push_back(def.get());
  return out;
}

}  // namespace modelc::lang
