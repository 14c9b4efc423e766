#include "spec/builtin_schemas.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <mutex>

#include "spec/recipe.h"
#include "support/diagnostic.h"
#include "support/embedded_file.h"

namespace modelc::spec {

// schemas/*.schema.json, compiled in by support/embed_files.py.
extern const EmbeddedFile embedded_schemas[];
extern const size_t embedded_schemas_count;

namespace {

const std::string kBaseUri = "modelc:/schemas/";

std::string uri_of(const std::string& name) { return kBaseUri + name + ".schema.json"; }

const std::map<std::string, nlohmann::json>& parsed_schemas() {
  static const std::map<std::string, nlohmann::json> schemas = [] {
    std::map<std::string, nlohmann::json> out;
    for (size_t i = 0; i < embedded_schemas_count; ++i) {
      std::string name = embedded_schemas[i].name;  // "recipe.schema.json" -> "recipe"
      name = name.substr(0, name.find('.'));
      out.emplace(name, nlohmann::json::parse(embedded_schemas[i].text));
    }
    return out;
  }();
  return schemas;
}

[[noreturn]] void unknown_schema(std::string_view name) {
  throw Error("unknown builtin schema '" + std::string(name) + "' (known: recipe, graph, target, results)");
}

}  // namespace

std::vector<std::string> builtin_schema_names() {
  std::vector<std::string> names;
  for (const auto& [name, schema] : parsed_schemas()) names.push_back(name);
  return names;
}

const nlohmann::json& builtin_schema(std::string_view name) {
  const auto& schemas = parsed_schemas();
  const auto it = schemas.find(std::string(name));
  if (it == schemas.end()) unknown_schema(name);
  return it->second;
}

const SchemaValidator& builtin_validator(std::string_view name) {
  static std::mutex mutex;
  static std::map<std::string, SchemaValidator, std::less<>> validators;
  const std::lock_guard lock(mutex);
  if (const auto it = validators.find(name); it != validators.end()) return it->second;
  const std::string key(name);
  const auto serve_builtin = [](const std::string& uri) -> std::optional<nlohmann::json> {
    for (const auto& [other, schema] : parsed_schemas())
      if (uri == uri_of(other)) return schema;
    return std::nullopt;
  };
  SchemaValidator validator(builtin_schema(key), uri_of(key), serve_builtin);
  return validators.emplace(key, std::move(validator)).first->second;
}

std::vector<Diagnostic> schema_diagnostics(const SchemaValidator& validator, const Document& document) {
  std::vector<Diagnostic> out;
  for (const SchemaError& e : validator.validate(document.value)) {
    const SourceLocation where =
        e.about_key ? document.marks.locate_key(e.instance_pointer) : document.marks.locate(e.instance_pointer);
    Diagnostic d{Severity::error, where, e.instance_pointer, e.message, e.hint};
    const bool repeated = std::any_of(out.begin(), out.end(), [&](const Diagnostic& o) {
      return o.pointer == d.pointer && o.message == d.message;
    });
    if (!repeated) out.push_back(std::move(d));
  }
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.location.file, a.location.line, a.location.column) <
           std::tie(b.location.file, b.location.line, b.location.column);
  });
  return out;
}

void validate_document(std::string_view builtin_name, Document& document) {
  const SchemaValidator& validator = builtin_validator(builtin_name);
  validator.apply_defaults(document.value);
  std::vector<Diagnostic> problems = schema_diagnostics(validator, document);
  if (!problems.empty()) throw Error(std::move(problems));
}

}  // namespace modelc::spec
