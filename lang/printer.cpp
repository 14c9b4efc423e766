// Prints modules in the text form described in lang/text.h.
#include <charconv>
#include <cmath>

#include "lang/text.h"

namespace modelc::lang {
namespace {

bool is_identifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) return false;
  return true;
}

std::string print_name(std::string_view sigil, std::string_view name) {
  if (is_identifier(name)) return std::string(sigil) + std::string(name);
  std::string out = std::string(sigil) + "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string print_ref(const Function& fn, const ValueRef& ref) {
  switch (ref.kind) {
    case ValueRef::Kind::param: return print_name("%", fn.params.at(ref.index).name);
    case ValueRef::Kind::constant: return print_name("@", ref.constant);
    case ValueRef::Kind::binding: {
      std::string out = "%" + std::to_string(ref.index);
      if (ref.output > 0 || fn.body.at(ref.index).types.size() > 1) out += "." + std::to_string(ref.output);
      return out;
    }
  }
  return "?";
}

std::string print_types(const std::vector<TensorType>& types) {
  if (types.size() == 1) return types[0].str();
  std::string out = "(";
  for (size_t i = 0; i < types.size(); ++i) out += (i ? ", " : "") + types[i].str();
  return out + ")";
}

std::string print_element(const Tensor& t, size_t i) {
  if (!is_float(t.type().dtype)) return std::to_string(t.element_as_int(i));
  const float v = static_cast<float>(t.element_as_double(i));
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
  std::string s(buffer, end);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string print_constant_value(const Tensor& t) {
  if (!t.has_data() || t.type().element_count() > kInlineConstantLimit)
    return "elided(\"" + t.digest().substr(0, 16) + "\")";
  std::string out = "[";
  for (size_t i = 0; i < static_cast<size_t>(t.type().element_count()); ++i)
    out += (i ? ", " : "") + print_element(t, i);
  return out + "]";
}

}  // namespace

std::string print_function(const Module& module, const Function& fn) {
  std::string out = "def " + print_name("@", fn.name) + "(";
  for (size_t i = 0; i < fn.params.size(); ++i)
    out += (i ? ", " : "") + print_name("%", fn.params[i].name) + ": " + fn.params[i].type.str();
  out += ")";
  bool typed = true;
  for (const Binding& b : fn.body) typed = typed && !b.types.empty();
  if (typed) out += " -> " + print_types(module.result_types(fn));
  if (fn.primitive) out += " primitive";
  out += " {\n";
  for (size_t i = 0; i < fn.body.size(); ++i) {
    const Binding& b = fn.body[i];
    out += "  %" + std::to_string(i) + " = " + (b.op ? b.op->name : print_name("@", b.function)) + "(";
    std::string args;
    for (const ValueRef& a : b.args) args += (args.empty() ? "" : ", ") + print_ref(fn, a);
    const std::string attrs = b.attrs ? print_attrs(*b.attrs) : std::string();
    if (!attrs.empty()) args += (args.empty() ? "" : ", ") + attrs;
    out += args + ")";
    if (!b.types.empty()) out += " : " + print_types(b.types);
    out += ";\n";
  }
  out += "  ";
  if (fn.results.size() == 1) {
    out += print_ref(fn, fn.results[0]);
  } else {
    out += "(";
    for (size_t i = 0; i < fn.results.size(); ++i) out += (i ? ", " : "") + print_ref(fn, fn.results[i]);
    out += ")";
  }
  return out + "\n}\n";
}

std::string print_module(const Module& module) {
  std::string out;
  for (const auto& [name, tensor] : module.constants)
    out += "const " + print_name("@", name) + " : " + tensor.type().str() + " = " + print_constant_value(tensor) + "\n";
  for (const Function& fn : module.functions) {
    if (!out.empty()) out += "\n";
    out += print_function(module, fn);
  }
  return out;
}

}  // namespace modelc::lang
