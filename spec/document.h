// YAML documents with source positions.
//
// A recipe (or a graph written in YAML) is loaded into a JSON value, the form
// the schema validator and the typed Recipe read, plus a SourceMap that gives
// the file:line:column where every node was written. Errors found later, by the
// validator or by a frontend reading the graph, point back at the YAML text
// through the node's JSON pointer.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/diagnostic.h"

namespace modelc::spec {

class SourceMap {
 public:
  void add(const std::string& pointer, SourceLocation location);
  // Where the key of the mapping member at `pointer` was written (for errors
  // about the key itself, such as an unknown property).
  void add_key(const std::string& pointer, SourceLocation location);
  // Location of the node at `pointer`, or of its nearest ancestor that has one.
  // For a block mapping or sequence under a key this is the key's line.
  SourceLocation locate(std::string_view pointer) const;
  // Location of the key at `pointer` if one was recorded, else locate(pointer).
  SourceLocation locate_key(std::string_view pointer) const;
  // Exact entries only (no ancestor fallback); nullptr when absent.
  const SourceLocation* find(std::string_view pointer) const;
  const SourceLocation* find_key(std::string_view pointer) const;
  // Copies every entry of `other`, replacing entries at the same pointers.
  void merge(const SourceMap& other);

  // The files marks point into, in the order they were first seen (with
  // `extends`: base files before the files extending them), so "the order a
  // person wrote things" is defined across files.
  void note_files_of(const SourceMap& other);
  size_t file_rank(const std::string& file) const;

 private:
  void note_file(const std::string& file);

  std::vector<std::string> files_;
  std::unordered_map<std::string, SourceLocation> locations_;
  std::unordered_map<std::string, SourceLocation> key_locations_;
};

struct Document {
  nlohmann::json value;
  SourceMap marks;
};

// YAML 1.2 core schema scalars (null/bool/int/float/string; quoted scalars stay
// strings). Duplicate keys, tabs, syntax errors and non-string keys are
// modelc::Error with the file:line:column.
Document parse_yaml(std::string_view text, const std::string& file_name);
Document load_yaml_file(const std::filesystem::path& path);

// Appends a reference token to a JSON pointer, escaping '~' and '/'.
std::string pointer_append(std::string_view pointer, std::string_view token);
std::string pointer_append(std::string_view pointer, size_t index);
// The reference tokens of a JSON pointer, unescaped ("" -> none).
std::vector<std::string> pointer_tokens(std::string_view pointer);

}  // namespace modelc::spec
