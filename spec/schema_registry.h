// The schema documents a validator knows, indexed for $ref (internal to spec/).
//
// Every node in a schema position is indexed with its base URI (after the
// $id scopes above it), every $id names a resource, and every $ref is resolved
// once, when documents are added, fetching remote documents through the
// resolver. Validation then only looks things up: no I/O, no URI parsing.
#pragma once

#include <deque>
#include <optional>
#include <regex>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "spec/json_schema.h"

namespace modelc::spec::detail {

struct RefTarget {
  const nlohmann::json* node = nullptr;  // nullptr: unresolvable
  std::string uri;                       // the absolute URI the $ref named
};

class SchemaRegistry {
 public:
  explicit SchemaRegistry(SchemaResolver resolver) : resolver_(std::move(resolver)) {}

  // Stores the document and returns its root node (address stable for the
  // registry's lifetime).
  const nlohmann::json& add(nlohmann::json document, std::string uri);

  const RefTarget& ref_target(const nlohmann::json& schema_with_ref) const;
  // nullptr when the pattern is not a valid ECMAScript regex.
  const std::regex* regex(const std::string& pattern) const;

 private:
  void index(const nlohmann::json& node, std::string base);
  void index_children(const nlohmann::json& node, const std::string& base);
  void link_refs();
  RefTarget resolve(const std::string& absolute_uri);
  const nlohmann::json* find_resource(const std::string& uri) const;
  void compile_pattern(const std::string& pattern);

  SchemaResolver resolver_;
  std::deque<nlohmann::json> documents_;
  std::unordered_map<std::string, const nlohmann::json*> resources_;  // absolute URI (no fragment, or #name) -> node
  std::unordered_map<const nlohmann::json*, std::string> base_of_;
  std::unordered_map<const nlohmann::json*, RefTarget> refs_;
  std::unordered_map<std::string, std::optional<std::regex>> regexes_;
  int generated_uris_ = 0;
};

}  // namespace modelc::spec::detail
