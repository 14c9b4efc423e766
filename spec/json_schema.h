// A JSON Schema draft-07 validator whose errors are written for people.
//
// Every draft-07 keyword is implemented, including $ref with relative and
// absolute URIs, $id scopes (base URI changes and location-independent "#name"
// identifiers) and remote documents fetched through a resolver hook. It passes
// the whole required part of the official JSON-Schema-Test-Suite (tests/spec/).
//
// What sets it apart from a plain yes/no validator is the error list: each
// error says where in the instance (a JSON pointer), which schema keyword
// failed, what was expected and what was found, and, where one helps, a hint:
// "did you mean 'quantization'?" for an unknown property or an enum value near
// a valid one. For anyOf/oneOf it reports the errors of the branch the instance
// most likely meant (the one whose type and const/enum discriminators match)
// instead of every branch's complaints.
//
// modelc's schemas may carry one extension keyword, "x-hint": a sentence added
// as the hint of errors raised directly by that schema (e.g. what a semantic
// version looks like, next to its `pattern`). Validators ignore unknown
// keywords, so the schemas stay standard draft-07 for editors.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace modelc::spec {

struct SchemaError {
  std::string instance_pointer;  // where in the instance, e.g. /quantization/mode
  std::string schema_path;       // keyword path in the schema, e.g. /properties/quantization/properties/mode/enum
  std::string keyword;           // the failing keyword, e.g. enum
  std::string message;           // what was expected and what was found
  std::string hint;              // optional: did you mean, or how to fix
  bool about_key = false;        // the error is about the property name at instance_pointer, not its value
};

// Returns the schema document at an absolute URI (without fragment), or nullopt
// when it is unknown. Called while schemas are registered, never while
// validating, so validation never does I/O.
using SchemaResolver = std::function<std::optional<nlohmann::json>(const std::string& uri)>;

class SchemaValidator {
 public:
  // `root` is the schema instances are validated against. Its base URI is its
  // own $id, else `base_uri`, else a generated one. Remote $refs are fetched
  // through `resolver` now; an unresolvable $ref is reported when reached.
  explicit SchemaValidator(nlohmann::json root, std::string base_uri = {}, SchemaResolver resolver = {});
  ~SchemaValidator();
  SchemaValidator(SchemaValidator&&) noexcept;
  SchemaValidator& operator=(SchemaValidator&&) noexcept;

  // Registers another document that $refs may name (e.g. a sibling schema file).
  void add_schema(nlohmann::json schema, std::string uri);

  bool is_valid(const nlohmann::json& instance) const;
  // Every error found, in document order of the instance.
  std::vector<SchemaError> validate(const nlohmann::json& instance) const;

  // Inserts the `default` of each property the instance lacks, following
  // properties, additionalProperties, patternProperties, items, $ref, allOf,
  // if/then/else and the one matching branch of oneOf/anyOf. Skips values of
  // the wrong type (validation reports those).
  void apply_defaults(nlohmann::json& instance) const;

 private:
  struct Registry;
  std::unique_ptr<Registry> registry_;
};

// "Did you mean" support: the candidate closest to `word` by edit distance
// (case-insensitive, transpositions count once), if it is close enough to be a
// likely typo.
std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates);

// Checks a string against a draft-07 `format`. Unknown formats are valid.
bool matches_format(std::string_view format, const std::string& value);

// Resolves a URI reference against a base URI (RFC 3986 section 5.2).
std::string resolve_uri(std::string_view base, std::string_view reference);

}  // namespace modelc::spec
