// CommonSubexpressionElimination: when two bindings call the same callee with
// the same arguments and equal attributes, the later one reuses the earlier
// one's value. Every op and function is pure, so equal calls give equal values.
//
// Why: ONNX exporters and the other passes duplicate work (the same reshape of
// one tensor for several consumers, the same layout_transform of an input that
// feeds two convolutions); each duplicate would become a kernel launch.
//
// Constants with the same type and bytes are one constant first: an
// importer or FoldConstant can turn one weight into copies (a slice of an RNN
// weight folded once per unrolled step), and each copy is memory a kernel
// streams and an artifact stores.
//
// Assumes nothing about types (it runs before or after InferType). Bindings
// are compared after their arguments were rewritten, so chains of duplicates
// collapse in one walk.
#include <algorithm>
#include <cstring>
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

// 64-bit FNV-1a over 8-byte words (and the tail's bytes).
uint64_t hash_bytes(std::span<const std::byte> b) {
  uint64_t h = 1469598103934665603ull;
  size_t i = 0;
  for (; i + 8 <= b.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, b.data() + i, 8);
    h = (h ^ w) * 1099511628211ull;
  }
  for (; i < b.size(); ++i) h = (h ^ static_cast<uint64_t>(b[i])) * 1099511628211ull;
  return h;
}

// Each constant equal to an earlier one (by name order) -> that one's name.
// Constants whose text elided the data have no bytes to compare: kept apart.
std::map<std::string, std::string> duplicate_constants(const Module& module) {
  std::map<std::string, std::vector<const std::string*>> by_type;
  for (const auto& [name, value] : module.constants)
    if (value.has_data()) by_type[value.type().str()].push_back(&name);
  std::map<std::string, std::string> alias;
  for (const auto& [type, names] : by_type) {
    if (names.size() < 2) continue;
    std::map<uint64_t, std::vector<const std::string*>> by_hash;
    for (const std::string* name : names) {
      const std::span<const std::byte> bytes = module.constant(*name).bytes();
      std::vector<const std::string*>& same = by_hash[hash_bytes(bytes)];
      const auto equal = std::find_if(same.begin(), same.end(), [&](const std::string* other) {
        const std::span<const std::byte> o = module.constant(*other).bytes();
        return o.size() == bytes.size() && std::memcmp(o.data(), bytes.data(), bytes.size()) == 0;
      });
      if (equal != same.end()) alias.emplace(*name, **equal);
      else same.push_back(name);
    }
  }
  return alias;
}

void merge_duplicate_constants(Module& module) {
  const std::map<std::string, std::string> alias = duplicate_constants(module);
  if (alias.empty()) return;
  auto rename = [&](ValueRef& v) {
    if (!v.is_constant()) return;
    if (auto found = alias.find(v.constant); found != alias.end()) v.constant = found->second;
  };
  for (Function& fn : module.functions) {
    for (Binding& b : fn.body)
      for (ValueRef& a : b.args) rename(a);
    for (ValueRef& r : fn.results) rename(r);
  }
  for (const auto& [name, kept] : alias) module.constants.erase(name);
}

}  // namespace

Module common_subexpression_elimination(const Module& module, const PassContext&) {
  Module out = module;
  merge_duplicate_constants(out);
  for (Function& fn : out.functions) fn = eliminate_common_subexpressions(fn);
  return out;
}

}  // namespace modelc::lang
