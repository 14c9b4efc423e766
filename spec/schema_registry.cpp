#include "spec/schema_registry.h"

#include <cctype>
#include <vector>

#include "spec/document.h"

namespace modelc::spec::detail {
namespace {

using nlohmann::json;

std::pair<std::string, std::optional<std::string>> split_fragment(const std::string& uri) {
  const size_t hash = uri.find('#');
  if (hash == std::string::npos) return {uri, std::nullopt};
  return {uri.substr(0, hash), uri.substr(hash + 1)};
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const std::string hex(s.substr(i + 1, 2));
      if (hex.size() == 2 && std::isxdigit(static_cast<unsigned char>(hex[0])) &&
          std::isxdigit(static_cast<unsigned char>(hex[1]))) {
        out += static_cast<char>(std::stoi(hex, nullptr, 16));
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// Keywords whose value is a schema, an array of schemas, or a map of schemas.
constexpr const char* kSchemaKeywords[] = {"additionalItems", "additionalProperties", "contains", "propertyNames",
                                           "if", "then", "else", "not", "items"};
constexpr const char* kSchemaArrayKeywords[] = {"allOf", "anyOf", "oneOf", "items"};
constexpr const char* kSchemaMapKeywords[] = {"properties", "patternProperties", "definitions", "dependencies"};

}  // namespace

const json& SchemaRegistry::add(json document, std::string uri) {
  documents_.push_back(std::move(document));
  const json& root = documents_.back();
  std::string base = split_fragment(uri).first;
  if (base.empty()) base = "modelc-schema:/generated/" + std::to_string(++generated_uris_) + ".json";
  resources_.emplace(base, &root);
  // The new document may be what an earlier, unresolved $ref was waiting for.
  std::erase_if(refs_, [](const auto& entry) { return entry.second.node == nullptr; });
  index(root, base);
  link_refs();
  return root;
}

void SchemaRegistry::index(const json& node, std::string base) {
  if (node.is_object()) {
    // In draft-07 a $ref makes every sibling keyword, $id included, ignored.
    const auto id = node.find("$id");
    if (id != node.end() && id->is_string() && !node.contains("$ref")) {
      const std::string absolute = resolve_uri(base, id->get<std::string>());
      auto [document, fragment] = split_fragment(absolute);
      if (!fragment || fragment->empty()) {
        base = document;
        resources_[document] = &node;
      } else if ((*fragment)[0] != '/') {
        resources_[absolute] = &node;  // a location-independent identifier "#name"
      }
    }
    for (const char* key : {"pattern"}) {
      if (const auto p = node.find(key); p != node.end() && p->is_string()) compile_pattern(p->get<std::string>());
    }
    if (const auto pp = node.find("patternProperties"); pp != node.end() && pp->is_object()) {
      for (const auto& [pattern, sub] : pp->items()) compile_pattern(pattern);
    }
  }
  if (!node.is_object() && !node.is_boolean()) return;
  base_of_[&node] = base;
  if (node.is_object()) index_children(node, base);
}

void SchemaRegistry::index_children(const json& node, const std::string& base) {
  for (const char* key : kSchemaKeywords) {
    if (const auto it = node.find(key); it != node.end() && (it->is_object() || it->is_boolean())) index(*it, base);
  }
  for (const char* key : kSchemaArrayKeywords) {
    if (const auto it = node.find(key); it != node.end() && it->is_array())
      for (const json& sub : *it) index(sub, base);
  }
  for (const char* key : kSchemaMapKeywords) {
    if (const auto it = node.find(key); it != node.end() && it->is_object())
      for (const auto& [name, sub] : it->items()) index(sub, base);
  }
}

void SchemaRegistry::compile_pattern(const std::string& pattern) {
  if (regexes_.count(pattern)) return;
  try {
    regexes_.emplace(pattern, std::regex(pattern, std::regex::ECMAScript));
  } catch (const std::regex_error&) {
    regexes_.emplace(pattern, std::nullopt);
  }
}

const std::regex* SchemaRegistry::regex(const std::string& pattern) const {
  const auto it = regexes_.find(pattern);
  if (it == regexes_.end() || !it->second) return nullptr;
  return &*it->second;
}

// Resolves every $ref not yet resolved; fetching a remote document indexes
// new nodes, so repeat until nothing is left.
void SchemaRegistry::link_refs() {
  while (true) {
    std::vector<const json*> pending;
    for (const auto& [node, base] : base_of_) {
      if (node->is_object() && node->contains("$ref") && (*node)["$ref"].is_string() && !refs_.count(node))
        pending.push_back(node);
    }
    if (pending.empty()) return;
    for (const json* node : pending) {
      const std::string absolute = resolve_uri(base_of_.at(node), (*node)["$ref"].get<std::string>());
      refs_[node] = resolve(absolute);
    }
  }
}

const json* SchemaRegistry::find_resource(const std::string& uri) const {
  const auto it = resources_.find(uri);
  return it == resources_.end() ? nullptr : it->second;
}

RefTarget SchemaRegistry::resolve(const std::string& absolute_uri) {
  auto [document_uri, fragment] = split_fragment(absolute_uri);
  if (fragment && !fragment->empty() && (*fragment)[0] != '/') {
    return {find_resource(absolute_uri), absolute_uri};
  }
  const json* node = find_resource(document_uri);
  if (node == nullptr && resolver_) {
    if (std::optional<json> fetched = resolver_(document_uri)) {
      node = &add(std::move(*fetched), document_uri);
    }
  }
  if (node == nullptr || !fragment || fragment->empty()) return {node, absolute_uri};
  for (const std::string& token : pointer_tokens(percent_decode(*fragment))) {
    if (node->is_object()) {
      const auto it = node->find(token);
      node = it == node->end() ? nullptr : &*it;
    } else if (node->is_array() && !token.empty() && token.find_first_not_of("0123456789") == std::string::npos &&
               std::stoul(token) < node->size()) {
      node = &(*node)[std::stoul(token)];
    } else {
      node = nullptr;
    }
    if (node == nullptr) break;
  }
  // A target outside any indexed position (e.g. under an unknown keyword) gets
  // the base of its document so its own $refs still resolve.
  if (node != nullptr && !base_of_.count(node)) {
    index(*node, document_uri);
    link_refs();
  }
  return {node, absolute_uri};
}

const RefTarget& SchemaRegistry::ref_target(const json& schema_with_ref) const {
  static const RefTarget unresolved;
  const auto it = refs_.find(&schema_with_ref);
  return it == refs_.end() ? unresolved : it->second;
}

}  // namespace modelc::spec::detail
