// Typed reads of JSON documents that modelc wrote earlier (manifest.json,
// results.json): a missing or mistyped field is a modelc::Error naming the file
// and the field's JSON pointer, never a bare nlohmann exception.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace modelc::reports {

class JsonFieldReader {
 public:
  explicit JsonFieldReader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }

  // `pointer` is the JSON pointer of `object`; errors name pointer + "/" + key.
  bool has(const nlohmann::json& object, std::string_view key) const;
  const nlohmann::json& member(const nlohmann::json& object, const std::string& pointer, std::string_view key) const;
  const nlohmann::json& object(const nlohmann::json& object, const std::string& pointer, std::string_view key) const;
  const nlohmann::json& array(const nlohmann::json& object, const std::string& pointer, std::string_view key) const;
  std::string string(const nlohmann::json& object, const std::string& pointer, std::string_view key) const;
  // "" when the key is absent (or null).
  std::string optional_string(const nlohmann::json& object, const std::string& pointer, std::string_view key) const;
  uint64_t count(const nlohmann::json& object, const std::string& pointer, std::string_view key) const;
  int64_t integer(const nlohmann::json& object, const std::string& pointer, std::string_view key) const;
  double number(const nlohmann::json& object, const std::string& pointer, std::string_view key) const;
  bool boolean(const nlohmann::json& object, const std::string& pointer, std::string_view key) const;

  [[noreturn]] void fail(const std::string& pointer, std::string message, std::string hint = {}) const;

 private:
  std::string file_;
};

// Parses `text`; a syntax error is a modelc::Error naming `file`.
nlohmann::json parse_json_text(const std::string& text, const std::string& file);

}  // namespace modelc::reports
