#include "lang/attrs.h"

#include <charconv>
#include <cmath>

#include "support/diagnostic.h"

namespace modelc::lang {
namespace {

std::string format_double(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return "nan";
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
  std::string out(buffer, end);
  // Keep reals distinguishable from integers in the text form.
  if (out.find_first_of(".eEn") == std::string::npos) out += ".0";
  return out;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

class AttrPrinter final : public AttrFieldVisitor {
 public:
  std::string out;
  void operator()(std::string_view n, int64_t& v) override { emit(n, std::to_string(v)); }
  void operator()(std::string_view n, double& v) override { emit(n, format_double(v)); }
  void operator()(std::string_view n, bool& v) override { emit(n, v ? "true" : "false"); }
  void operator()(std::string_view n, std::string& v) override { emit(n, quote(v)); }
  void operator()(std::string_view n, std::vector<int64_t>& v) override {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    emit(n, s + "]");
  }
  void operator()(std::string_view n, std::vector<double>& v) override {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + format_double(v[i]);
    emit(n, s + "]");
  }
  void operator()(std::string_view n, DType& v) override { emit(n, std::string(dtype_name(v))); }

 private:
  void emit(std::string_view name, const std::string& value) {
    if (!out.empty()) out += ", ";
    out += name;
    out += '=';
    out += value;
  }
};

class AttrNames final : public AttrFieldVisitor {
 public:
  std::vector<std::string> names;
  void operator()(std::string_view n, int64_t&) override { names.emplace_back(n); }
  void operator()(std::string_view n, double&) override { names.emplace_back(n); }
  void operator()(std::string_view n, bool&) override { names.emplace_back(n); }
  void operator()(std::string_view n, std::string&) override { names.emplace_back(n); }
  void operator()(std::string_view n, std::vector<int64_t>&) override { names.emplace_back(n); }
  void operator()(std::string_view n, std::vector<double>&) override { names.emplace_back(n); }
  void operator()(std::string_view n, DType&) override { names.emplace_back(n); }
};

class AttrSetter final : public AttrFieldVisitor {
 public:
  AttrSetter(std::string_view name, const AttrValue& value) : name_(name), value_(value) {}
  bool found = false;

  void operator()(std::string_view n, int64_t& v) override {
    if (!match(n)) return;
    if (value_.kind == AttrValue::Kind::integer) v = value_.i;
    else if (value_.kind == AttrValue::Kind::boolean) v = value_.b;
    else mismatch("an integer");
  }
  void operator()(std::string_view n, double& v) override {
    if (!match(n)) return;
    if (value_.kind == AttrValue::Kind::real) v = value_.r;
    else if (value_.kind == AttrValue::Kind::integer) v = static_cast<double>(value_.i);
    else mismatch("a number");
  }
  void operator()(std::string_view n, bool& v) override {
    if (!match(n)) return;
    if (value_.kind == AttrValue::Kind::boolean) v = value_.b;
    else if (value_.kind == AttrValue::Kind::integer && (value_.i == 0 || value_.i == 1)) v = value_.i == 1;
    else mismatch("true or false");
  }
  void operator()(std::string_view n, std::string& v) override {
    if (!match(n)) return;
    if (value_.kind == AttrValue::Kind::string) v = value_.s;
    else mismatch("a string");
  }
  void operator()(std::string_view n, std::vector<int64_t>& v) override {
    if (!match(n)) return;
    if (value_.kind == AttrValue::Kind::int_list) v = value_.ints;
    else if (value_.kind == AttrValue::Kind::real_list && value_.reals.empty()) v.clear();
    else mismatch("a list of integers");
  }
  void operator()(std::string_view n, std::vector<double>& v) override {
    if (!match(n)) return;
    if (value_.kind == AttrValue::Kind::real_list) v = value_.reals;
    else if (value_.kind == AttrValue::Kind::int_list) v.assign(value_.ints.begin(), value_.ints.end());
    else mismatch("a list of numbers");
  }
  void operator()(std::string_view n, DType& v) override {
    if (!match(n)) return;
    auto parsed = value_.kind == AttrValue::Kind::string ? parse_dtype(value_.s) : std::nullopt;
    if (!parsed) mismatch("a dtype name such as float32");
    v = *parsed;
  }

 private:
  bool match(std::string_view n) {
    if (n != name_) return false;
    found = true;
    return true;
  }
  [[noreturn]] void mismatch(const char* expected) {
    throw Error("attribute '" + std::string(name_) + "' expects " + expected);
  }
  std::string_view name_;
  const AttrValue& value_;
};

}  // namespace

void for_each_field(const Attrs& attrs, AttrFieldVisitor& visitor) {
  // Visitors passed here only read; the fields are taken from a private copy so
  // the shared, immutable attrs are never touched.
  std::unique_ptr<Attrs> copy = attrs.clone();
  copy->visit_fields(visitor);
}

std::string print_attrs(const Attrs& attrs) {
  AttrPrinter printer;
  for_each_field(attrs, printer);
  return printer.out;
}

bool attrs_equal(const Attrs& a, const Attrs& b) {
  return typeid(a) == typeid(b) && print_attrs(a) == print_attrs(b);
}

void set_attr(Attrs& attrs, std::string_view name, const AttrValue& value) {
  AttrSetter setter(name, value);
  attrs.visit_fields(setter);
  if (setter.found) return;
  std::string known;
  for (const std::string& n : attr_field_names(attrs)) known += (known.empty() ? "" : ", ") + n;
  throw Error("unknown attribute '" + std::string(name) + "'" +
              (known.empty() ? std::string(" (this op takes none)") : " (known: " + known + ")"));
}

std::vector<std::string> attr_field_names(const Attrs& attrs) {
  AttrNames names;
  for_each_field(attrs, names);
  return names.names;
}

}  // namespace modelc::lang
