// Draft-07 evaluation: one function per group of keywords (any type, numbers,
// strings, arrays, objects, combinators), each appending SchemaErrors.
#include "spec/json_schema.h"

#include <cmath>
#include <set>

#include "spec/document.h"
#include "spec/schema_messages.h"
#include "spec/schema_registry.h"

namespace modelc::spec {

using nlohmann::json;
using detail::decode_base64;
using detail::describe_found;
using detail::is_misspelled_here;
using detail::property_summary;
using detail::join_alternatives;
using detail::show_number;
using detail::show_value;
using detail::type_phrase;

struct SchemaValidator::Registry {
  explicit Registry(SchemaResolver resolver) : schemas(std::move(resolver)) {}
  detail::SchemaRegistry schemas;
  const json* root = nullptr;
};

namespace {

using Errors = std::vector<SchemaError>;

constexpr int kMaxDepth = 256;

bool is_integer(const json& v) {
  if (v.is_number_integer()) return true;
  if (!v.is_number_float()) return false;
  const double d = v.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

bool has_type(const json& v, const std::string& type) {
  if (type == "integer") return is_integer(v);
  if (type == "number") return v.is_number();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  return false;
}

long double as_number(const json& v) {
  if (v.is_number_integer() && !v.is_number_unsigned()) return static_cast<long double>(v.get<int64_t>());
  if (v.is_number_unsigned()) return static_cast<long double>(v.get<uint64_t>());
  return static_cast<long double>(v.get<double>());
}

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string parent_pointer(const std::string& pointer) {
  const size_t slash = pointer.rfind('/');
  return slash == std::string::npos ? std::string() : pointer.substr(0, slash);
}

std::vector<std::string> string_values(const json& array) {
  std::vector<std::string> out;
  if (!array.is_array()) return out;
  for (const json& v : array)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

std::vector<std::string> shown_values(const json& array) {
  std::vector<std::string> out;
  for (const json& v : array) out.push_back(v.is_string() ? v.get<std::string>() : show_value(v));
  return out;
}

// One evaluation of an instance against a schema. `out` is nullptr when only
// the yes/no answer is needed (inside not, if, contains), which allows stopping
// at the first failure.
class Evaluation {
 public:
  explicit Evaluation(const detail::SchemaRegistry& schemas) : schemas_(schemas) {}

  bool check(const json& schema, const json& instance, const std::string& ipath, const std::string& spath,
             Errors* out, int depth = 0) const;

  // The schema a node stands for after following $ref chains.
  const json* follow_refs(const json* schema) const {
    for (int i = 0; i < kMaxDepth && schema && schema->is_object() && schema->contains("$ref"); ++i)
      schema = schemas_.ref_target(*schema).node;
    return schema;
  }

 private:
  struct Scope {
    const json& schema;
    const json& instance;
    const std::string& ipath;
    const std::string& spath;
    Errors* out;
    int depth;
    bool valid = true;

    // Records a failure raised directly by this schema's `keyword`.
    void fail(const std::string& keyword, std::string message, std::string hint = {},
              const std::string* at = nullptr, bool about_key = false) {
      valid = false;
      if (!out) return;
      // The schema author's own hint says more than a generated one.
      if (const auto h = schema.find("x-hint"); h != schema.end() && h->is_string()) hint = h->get<std::string>();
      out->push_back(SchemaError{at ? *at : ipath, spath + "/" + keyword, keyword, std::move(message),
                                 std::move(hint), about_key});
    }
    bool done() const { return !valid && !out; }
  };

  bool sub(Scope& s, const json& schema, const json& instance, const std::string& ipath,
           const std::string& keyword_path) const {
    const bool ok = check(schema, instance, ipath, s.spath + keyword_path, s.out, s.depth + 1);
    if (!ok) s.valid = false;
    return ok;
  }

  void check_ref(Scope& s) const;
  void check_generic(Scope& s) const;
  void check_number(Scope& s) const;
  void check_string(Scope& s) const;
  void check_content(Scope& s, const std::string& text) const;
  void check_array(Scope& s) const;
  void check_object(Scope& s) const;
  void check_properties(Scope& s) const;
  void check_combinators(Scope& s) const;
  void check_alternatives(Scope& s, const std::string& keyword) const;
  std::string alternative_summary(const json& branch) const;

  const detail::SchemaRegistry& schemas_;
};

bool Evaluation::check(const json& schema, const json& instance, const std::string& ipath, const std::string& spath,
                       Errors* out, int depth) const {
  if (schema.is_boolean()) {
    if (schema.get<bool>()) return true;
    if (out) out->push_back({ipath, spath, "false", "no value is allowed here, found " + describe_found(instance), {}, false});
    return false;
  }
  if (!schema.is_object()) return true;
  Scope s{schema, instance, ipath, spath, out, depth};
  if (depth > kMaxDepth) {
    s.fail("$ref", "schema nests too deeply (a $ref cycle that consumes no input?)");
    return false;
  }
  if (schema.contains("$ref")) {
    check_ref(s);
    return s.valid;
  }
  check_generic(s);
  if (s.done()) return false;
  if (instance.is_number()) check_number(s);
  if (instance.is_string()) check_string(s);
  if (instance.is_array()) check_array(s);
  if (instance.is_object()) check_object(s);
  if (s.done()) return false;
  check_combinators(s);
  return s.valid;
}

void Evaluation::check_ref(Scope& s) const {
  const detail::RefTarget& target = schemas_.ref_target(s.schema);
  if (target.node == nullptr) {
    s.fail("$ref", "the schema's $ref '" + s.schema["$ref"].dump() + "' cannot be resolved (" + target.uri + ")");
    return;
  }
  sub(s, *target.node, s.instance, s.ipath, "/$ref");
}

void Evaluation::check_generic(Scope& s) const {
  const json& schema = s.schema;
  if (const auto type = schema.find("type"); type != schema.end()) {
    std::vector<std::string> names;
    if (type->is_string()) names.push_back(type->get<std::string>());
    if (type->is_array())
      for (const json& t : *type)
        if (t.is_string()) names.push_back(t.get<std::string>());
    bool matched = false;
    for (const std::string& n : names) matched = matched || has_type(s.instance, n);
    if (!matched) {
      std::vector<std::string> phrases;
      for (const std::string& n : names) phrases.push_back(type_phrase(n));
      s.fail("type", "expected " + join_alternatives(phrases) + ", found " + describe_found(s.instance));
      return;  // the other keywords would only repeat that the type is wrong
    }
  }
  if (const auto e = schema.find("enum"); e != schema.end() && e->is_array()) {
    bool found = false;
    for (const json& option : *e) found = found || option == s.instance;
    if (!found) {
      // The schema author's own hint, if any, says more than a spelling guess.
      std::string hint;
      if (!schema.contains("x-hint") && s.instance.is_string())
        hint = detail::did_you_mean(s.instance.get<std::string>(), string_values(*e));
      const std::string expected = e->size() == 1 ? show_value((*e)[0]) : "one of " + join_alternatives(shown_values(*e));
      s.fail("enum", "expected " + expected + ", found " + describe_found(s.instance), hint);
    }
  }
  if (const auto c = schema.find("const"); c != schema.end() && *c != s.instance) {
    s.fail("const", "expected " + show_value(*c) + ", found " + describe_found(s.instance));
  }
}

void Evaluation::check_number(Scope& s) const {
  const json& schema = s.schema;
  const long double value = as_number(s.instance);
  const auto bound = [&](const char* keyword, auto violates, const char* relation) {
    const auto it = schema.find(keyword);
    if (it == schema.end() || !it->is_number()) return;
    const long double limit = as_number(*it);
    if (violates(value, limit))
      s.fail(keyword, std::string("expected a value ") + relation + " " + show_number(limit) + ", found " + show_number(value));
  };
  // YAML's .nan compares false with everything, so it would pass every bound.
  if (std::isnan(value)) {
    for (const char* keyword : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}) {
      if (!schema.contains(keyword)) continue;
      s.fail(keyword, "expected a number, found .nan (not a number)");
      return;
    }
  }
  bound("minimum", [](long double v, long double l) { return v < l; }, ">=");
  bound("maximum", [](long double v, long double l) { return v > l; }, "<=");
  bound("exclusiveMinimum", [](long double v, long double l) { return v <= l; }, ">");
  bound("exclusiveMaximum", [](long double v, long double l) { return v >= l; }, "<");
  if (const auto m = schema.find("multipleOf"); m != schema.end() && m->is_number() && as_number(*m) > 0) {
    bool ok = false;
    if (s.instance.is_number_integer() && m->is_number_integer()) {
      ok = s.instance.get<int64_t>() % m->get<int64_t>() == 0;
    } else {
      const long double quotient = value / as_number(*m);
      ok = std::isfinite(quotient) && std::fabs(quotient - std::round(quotient)) < 1e-9L;
    }
    if (!ok) s.fail("multipleOf", "expected a multiple of " + show_number(as_number(*m)) + ", found " + show_number(value));
  }
}

void Evaluation::check_string(Scope& s) const {
  const json& schema = s.schema;
  const std::string& text = s.instance.get_ref<const std::string&>();
  const size_t length = code_points(text);
  if (const auto m = schema.find("minLength"); m != schema.end() && m->is_number() && length < as_number(*m))
    s.fail("minLength", "expected at least " + show_number(as_number(*m)) + " characters, found " + std::to_string(length));
  if (const auto m = schema.find("maxLength"); m != schema.end() && m->is_number() && length > as_number(*m))
    s.fail("maxLength", "expected at most " + show_number(as_number(*m)) + " characters, found " + std::to_string(length));
  if (const auto p = schema.find("pattern"); p != schema.end() && p->is_string()) {
    const std::regex* re = schemas_.regex(p->get<std::string>());
    if (re == nullptr) {
      s.fail("pattern", "the schema's pattern " + p->dump() + " is not a valid regular expression");
    } else if (!std::regex_search(text, *re)) {
      s.fail("pattern", "expected a string matching " + p->get<std::string>() + ", found " + show_value(s.instance));
    }
  }
  check_content(s, text);
  if (const auto f = schema.find("format"); f != schema.end() && f->is_string()) {
    if (!matches_format(f->get<std::string>(), text))
      s.fail("format", "expected a valid " + f->get<std::string>() + ", found " + show_value(s.instance));
  }
}

// contentEncoding/contentMediaType: only base64 and application/json are
// understood; other values are annotations.
void Evaluation::check_content(Scope& s, const std::string& text) const {
  const auto encoding = s.schema.find("contentEncoding");
  const auto media_type = s.schema.find("contentMediaType");
  std::optional<std::string> content = text;
  if (encoding != s.schema.end() && *encoding == "base64") {
    content = decode_base64(text);
    if (!content) {
      s.fail("contentEncoding", "expected base64-encoded content, found " + show_value(s.instance));
      return;
    }
  }
  if (media_type != s.schema.end() && *media_type == "application/json" && !json::accept(*content))
    s.fail("contentMediaType", "expected a JSON document, found " + show_value(s.instance));
}

void Evaluation::check_array(Scope& s) const {
  const json& schema = s.schema;
  const json& items = s.instance;
  const size_t n = items.size();
  if (const auto m = schema.find("minItems"); m != schema.end() && m->is_number() && n < as_number(*m))
    s.fail("minItems", "expected at least " + show_number(as_number(*m)) + " items, found " + std::to_string(n));
  if (const auto m = schema.find("maxItems"); m != schema.end() && m->is_number() && n > as_number(*m))
    s.fail("maxItems", "expected at most " + show_number(as_number(*m)) + " items, found " + std::to_string(n));
  if (const auto u = schema.find("uniqueItems"); u != schema.end() && u->is_boolean() && u->get<bool>()) {
    for (size_t i = 0; i < n && !s.done(); ++i)
      for (size_t j = i + 1; j < n; ++j)
        if (items[i] == items[j]) {
          const std::string at = pointer_append(s.ipath, j);
          s.fail("uniqueItems", "expected unique items, found " + show_value(items[j]) + " again (also item " +
                                    std::to_string(i) + ")", "remove the repeated item", &at);
          break;
        }
  }
  if (const auto it = schema.find("items"); it != schema.end()) {
    if (it->is_array()) {
      for (size_t i = 0; i < std::min(n, it->size()) && !s.done(); ++i)
        sub(s, (*it)[i], items[i], pointer_append(s.ipath, i), "/items/" + std::to_string(i));
      if (const auto extra = schema.find("additionalItems"); extra != schema.end()) {
        for (size_t i = it->size(); i < n && !s.done(); ++i)
          sub(s, *extra, items[i], pointer_append(s.ipath, i), "/additionalItems");
      }
    } else {
      for (size_t i = 0; i < n && !s.done(); ++i) sub(s, *it, items[i], pointer_append(s.ipath, i), "/items");
    }
  }
  if (const auto c = schema.find("contains"); c != schema.end() && !s.done()) {
    bool any = false;
    for (size_t i = 0; i < n && !any; ++i) any = check(*c, items[i], pointer_append(s.ipath, i), s.spath, nullptr, s.depth + 1);
    if (!any) s.fail("contains", n == 0 ? "expected at least one item, found an empty list"
                                        : "expected at least one item matching the schema at " + s.spath + "/contains, found none");
  }
}

void Evaluation::check_object(Scope& s) const {
  const json& schema = s.schema;
  const json& object = s.instance;
  const size_t n = object.size();
  if (const auto m = schema.find("minProperties"); m != schema.end() && m->is_number() && n < as_number(*m))
    s.fail("minProperties", "expected at least " + show_number(as_number(*m)) + " entries, found " + std::to_string(n));
  if (const auto m = schema.find("maxProperties"); m != schema.end() && m->is_number() && n > as_number(*m))
    s.fail("maxProperties", "expected at most " + show_number(as_number(*m)) + " entries, found " + std::to_string(n));
  if (const auto r = schema.find("required"); r != schema.end() && r->is_array()) {
    for (const json& name : *r) {
      if (!name.is_string() || object.contains(name.get<std::string>())) continue;
      if (is_misspelled_here(schema, object, name.get<std::string>())) {
        s.valid = false;  // additionalProperties reports the misspelling, with this name as its suggestion
        continue;
      }
      s.fail("required", "missing required property '" + name.get<std::string>() + "'", property_summary(schema, name));
      if (s.done()) return;
    }
  }
  if (const auto d = schema.find("dependencies"); d != schema.end() && d->is_object()) {
    for (const auto& [property, dependency] : d->items()) {
      if (!object.contains(property) || s.done()) continue;
      if (dependency.is_array()) {
        for (const json& needed : dependency)
          if (needed.is_string() && !object.contains(needed.get<std::string>()))
            s.fail("dependencies", "property '" + property + "' requires property '" + needed.get<std::string>() + "'");
      } else {
        sub(s, dependency, object, s.ipath, "/dependencies/" + property);
      }
    }
  }
  if (const auto names = schema.find("propertyNames"); names != schema.end()) {
    for (const auto& [key, value] : object.items()) {
      if (s.done()) return;
      Errors name_errors;
      if (check(*names, json(key), s.ipath, s.spath + "/propertyNames", s.out ? &name_errors : nullptr, s.depth + 1))
        continue;
      s.valid = false;
      for (SchemaError& e : name_errors) {
        e.instance_pointer = pointer_append(s.ipath, key);
        e.message = "invalid key '" + key + "': " + e.message;
        e.about_key = true;
        s.out->push_back(std::move(e));
      }
    }
  }
  check_properties(s);
}

void Evaluation::check_properties(Scope& s) const {
  const json& schema = s.schema;
  const auto properties = schema.find("properties");
  const auto patterns = schema.find("patternProperties");
  const auto additional = schema.find("additionalProperties");
  for (const auto& [key, value] : s.instance.items()) {
    if (s.done()) return;
    const std::string ipath = pointer_append(s.ipath, key);
    bool described = false;
    if (properties != schema.end() && properties->is_object()) {
      if (const auto p = properties->find(key); p != properties->end()) {
        described = true;
        sub(s, *p, value, ipath, "/properties/" + pointer_append("", key).substr(1));
      }
    }
    if (patterns != schema.end() && patterns->is_object()) {
      for (const auto& [pattern, pattern_schema] : patterns->items()) {
        const std::regex* re = schemas_.regex(pattern);
        if (re == nullptr || !std::regex_search(key, *re)) continue;
        described = true;
        sub(s, pattern_schema, value, ipath, "/patternProperties/" + pointer_append("", pattern).substr(1));
      }
    }
    if (described || additional == schema.end()) continue;
    if (additional->is_boolean() && !additional->get<bool>()) {
      std::vector<std::string> allowed;
      if (properties != schema.end() && properties->is_object())
        for (const auto& [name, p] : properties->items()) allowed.push_back(name);
      std::string hint = detail::did_you_mean(key, allowed);
      if (hint.empty() && !allowed.empty() && allowed.size() <= 16)
        hint = "allowed here: " + join_alternatives(allowed, ", ");
      if (patterns != schema.end() && patterns->is_object() && !patterns->empty()) {
        std::vector<std::string> pattern_names;
        for (const auto& [pattern, p] : patterns->items()) pattern_names.push_back(pattern);
        hint += std::string(hint.empty() ? "" : "; ") + "or a key matching " + join_alternatives(pattern_names);
      }
      s.fail("additionalProperties", "unknown property '" + key + "'", hint, &ipath, /*about_key=*/true);
    } else {
      sub(s, *additional, value, ipath, "/additionalProperties");
    }
  }
}

void Evaluation::check_combinators(Scope& s) const {
  const json& schema = s.schema;
  if (const auto all = schema.find("allOf"); all != schema.end() && all->is_array()) {
    for (size_t i = 0; i < all->size() && !s.done(); ++i)
      sub(s, (*all)[i], s.instance, s.ipath, "/allOf/" + std::to_string(i));
  }
  if (schema.contains("anyOf") && !s.done()) check_alternatives(s, "anyOf");
  if (schema.contains("oneOf") && !s.done()) check_alternatives(s, "oneOf");
  if (const auto n = schema.find("not"); n != schema.end() && !s.done()) {
    if (check(*n, s.instance, s.ipath, s.spath + "/not", nullptr, s.depth + 1))
      s.fail("not", "expected a value that does not match the schema at " + s.spath + "/not, found " + describe_found(s.instance));
  }
  if (const auto condition = schema.find("if"); condition != schema.end() && !s.done()) {
    const bool holds = check(*condition, s.instance, s.ipath, s.spath + "/if", nullptr, s.depth + 1);
    const char* branch = holds ? "then" : "else";
    if (const auto b = schema.find(branch); b != schema.end()) sub(s, *b, s.instance, s.ipath, std::string("/") + branch);
  }
}

// What one alternative of anyOf/oneOf accepts, in a few words.
std::string Evaluation::alternative_summary(const json& branch_schema) const {
  const json* branch = follow_refs(&branch_schema);
  if (branch == nullptr || !branch->is_object()) return {};
  if (const auto c = branch->find("const"); c != branch->end()) return show_value(*c);
  if (const auto t = branch->find("type"); t != branch->end()) {
    if (t->is_string()) return type_phrase(t->get<std::string>());
    std::vector<std::string> phrases;
    for (const json& name : *t) phrases.push_back(type_phrase(name.get<std::string>()));
    return join_alternatives(phrases);
  }
  if (const auto e = branch->find("enum"); e != branch->end() && e->is_array())
    return join_alternatives(shown_values(*e));
  return {};
}

// anyOf/oneOf. When every branch fails, report the branch the author most
// likely meant: one whose type matches and whose const/enum discriminators
// (e.g. `op: conv2d`) match; failing that, one line listing what each branch
// would accept.
void Evaluation::check_alternatives(Scope& s, const std::string& keyword) const {
  const json& branches = s.schema[keyword];
  if (!branches.is_array()) return;
  struct Attempt {
    Errors errors;
    int rank = 2;  // 0: wrong type, 1: a discriminator mismatched, 2: close
  };
  std::vector<Attempt> attempts(branches.size());
  std::vector<size_t> passed;
  for (size_t i = 0; i < branches.size(); ++i) {
    Attempt& a = attempts[i];
    if (check(branches[i], s.instance, s.ipath, s.spath + "/" + keyword + "/" + std::to_string(i), &a.errors, s.depth + 1)) {
      passed.push_back(i);
      if (keyword == "anyOf") return;
      continue;
    }
    for (const SchemaError& e : a.errors) {
      const bool here = e.instance_pointer == s.ipath;
      if (here && (e.keyword == "type" || e.keyword == "const" || e.keyword == "enum" || e.keyword == "false")) a.rank = 0;
      else if (a.rank > 1 && parent_pointer(e.instance_pointer) == s.ipath && (e.keyword == "const" || e.keyword == "enum"))
        a.rank = 1;
    }
  }
  std::vector<std::string> required_only;  // branches like {required: [onnx]}
  for (const json& b : branches) {
    const json* r = follow_refs(&b);
    if (r && r->is_object() && r->size() == 1 && r->contains("required") && (*r)["required"].size() == 1)
      required_only.push_back((*r)["required"][0].get<std::string>());
  }
  const bool choose_property = required_only.size() == branches.size();
  if (passed.size() == 1 || (keyword == "anyOf" && !passed.empty())) return;
  if (passed.size() > 1) {
    if (choose_property) {
      std::vector<std::string> given;
      for (size_t i : passed) given.push_back("'" + required_only[i] + "'");
      s.fail(keyword, "expected only one of the properties " + join_alternatives(required_only) + ", found " +
                          join_alternatives(given, " and "));
    } else {
      s.fail(keyword, "expected a value matching exactly one alternative, found one matching alternatives " +
                          std::to_string(passed[0]) + " and " + std::to_string(passed[1]));
    }
    return;
  }
  if (choose_property) {
    s.fail(keyword, "missing a property: expected one of " + join_alternatives(required_only));
    return;
  }
  size_t best = 0;
  for (size_t i = 1; i < attempts.size(); ++i) {
    const Attempt& a = attempts[i];
    const Attempt& b = attempts[best];
    if (a.rank > b.rank || (a.rank == b.rank && a.rank == 2 && a.errors.size() < b.errors.size())) best = i;
  }
  if (attempts.empty() || attempts[best].rank < 2) {
    std::vector<std::string> accepted;
    for (const json& b : branches) {
      std::string summary = alternative_summary(b);
      if (!summary.empty() && std::find(accepted.begin(), accepted.end(), summary) == accepted.end())
        accepted.push_back(std::move(summary));
    }
    if (!accepted.empty() && accepted.size() == branches.size()) {
      s.fail(keyword, "expected " + join_alternatives(accepted) + ", found " + describe_found(s.instance));
      return;
    }
  }
  s.valid = false;
  if (!s.out || attempts.empty()) return;
  for (SchemaError& e : attempts[best].errors) {
    if (e.hint.empty()) {
      if (const auto h = s.schema.find("x-hint"); h != s.schema.end() && h->is_string()) e.hint = h->get<std::string>();
    }
    s.out->push_back(std::move(e));
  }
}

// Defaults: a walk parallel to check() that only descends where the instance
// has the right shape.
class DefaultFiller {
 public:
  explicit DefaultFiller(const Evaluation& eval) : eval_(eval) {}

  void fill(const json& schema_node, json& instance, int depth = 0) const {
    const json* schema = eval_.follow_refs(&schema_node);
    if (schema == nullptr || !schema->is_object() || depth > kMaxDepth) return;
    if (instance.is_object()) fill_object(*schema, instance, depth);
    if (instance.is_array()) fill_array(*schema, instance, depth);
    if (const auto all = schema->find("allOf"); all != schema->end() && all->is_array())
      for (const json& b : *all) fill(b, instance, depth + 1);
    for (const char* keyword : {"anyOf", "oneOf"}) {
      const auto alternatives = schema->find(keyword);
      if (alternatives == schema->end() || !alternatives->is_array()) continue;
      std::vector<const json*> matching;
      for (const json& b : *alternatives)
        if (eval_.check(b, instance, "", "", nullptr)) matching.push_back(&b);
      if (matching.size() == 1 || (!matching.empty() && std::string(keyword) == "anyOf")) fill(*matching[0], instance, depth + 1);
    }
    if (const auto condition = schema->find("if"); condition != schema->end()) {
      const char* branch = eval_.check(*condition, instance, "", "", nullptr) ? "then" : "else";
      if (const auto b = schema->find(branch); b != schema->end()) fill(*b, instance, depth + 1);
    }
  }

 private:
  void fill_object(const json& schema, json& object, int depth) const {
    const auto properties = schema.find("properties");
    if (properties != schema.end() && properties->is_object()) {
      for (const auto& [key, property_schema] : properties->items()) {
        if (object.contains(key)) continue;
        const json* target = eval_.follow_refs(&property_schema);
        if (target && target->is_object() && target->contains("default")) object[key] = (*target)["default"];
        else if (property_schema.is_object() && property_schema.contains("default")) object[key] = property_schema["default"];
      }
    }
    for (auto& [key, value] : object.items()) {
      bool described = false;
      if (properties != schema.end() && properties->is_object() && properties->contains(key)) {
        described = true;
        fill((*properties)[key], value, depth + 1);
      }
      if (const auto patterns = schema.find("patternProperties"); patterns != schema.end() && patterns->is_object()) {
        for (const auto& [pattern, sub] : patterns->items()) {
          std::regex re;
          try {
            re = std::regex(pattern);
          } catch (const std::regex_error&) {
            continue;
          }
          if (!std::regex_search(key, re)) continue;
          described = true;
          fill(sub, value, depth + 1);
        }
      }
      if (const auto extra = schema.find("additionalProperties"); !described && extra != schema.end())
        fill(*extra, value, depth + 1);
    }
  }

  void fill_array(const json& schema, json& array, int depth) const {
    const auto items = schema.find("items");
    if (items == schema.end()) return;
    for (size_t i = 0; i < array.size(); ++i) {
      if (items->is_array()) {
        if (i < items->size()) fill((*items)[i], array[i], depth + 1);
      } else {
        fill(*items, array[i], depth + 1);
      }
    }
  }

  const Evaluation& eval_;
};

}  // namespace

SchemaValidator::SchemaValidator(json root, std::string base_uri, SchemaResolver resolver)
    : registry_(std::make_unique<Registry>(std::move(resolver))) {
  if (root.is_object() && root.contains("$id") && root["$id"].is_string())
    base_uri = resolve_uri(base_uri, root["$id"].get<std::string>());
  registry_->root = &registry_->schemas.add(std::move(root), std::move(base_uri));
}

SchemaValidator::~SchemaValidator() = default;
SchemaValidator::SchemaValidator(SchemaValidator&&) noexcept = default;
SchemaValidator& SchemaValidator::operator=(SchemaValidator&&) noexcept = default;

void SchemaValidator::add_schema(json schema, std::string uri) { registry_->schemas.add(std::move(schema), std::move(uri)); }

bool SchemaValidator::is_valid(const json& instance) const {
  return Evaluation(registry_->schemas).check(*registry_->root, instance, "", "", nullptr);
}

std::vector<SchemaError> SchemaValidator::validate(const json& instance) const {
  Errors errors;
  Evaluation(registry_->schemas).check(*registry_->root, instance, "", "", &errors);
  return errors;
}

void SchemaValidator::apply_defaults(json& instance) const {
  const Evaluation eval(registry_->schemas);
  DefaultFiller(eval).fill(*registry_->root, instance);
}

}  // namespace modelc::spec
