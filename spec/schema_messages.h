// Wording shared by the schema validator's error messages (internal to spec/).
// Messages use the words of the YAML a person wrote: a "mapping" and a "list",
// not an "object" and an "array".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace modelc::spec::detail {

// `"abc"`, `3.5`, `true`, `null`, `a mapping`, `a list`.
std::string show_value(const nlohmann::json& value);
// `the string "abc"`, `the number 3.5`, `the integer 4`, `true`, `null`, `a mapping`.
std::string describe_found(const nlohmann::json& value);
// "integer" -> "an integer", "object" -> "a mapping".
std::string type_phrase(const std::string& type_name);
// "a", "a or b", "a, b or c".
std::string join_alternatives(const std::vector<std::string>& items, const std::string& last_separator = " or ");
// "did you mean 'x'?" for the closest candidate, else empty.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);
// A number the way a person writes it: 3 not 3.0, 0.0001 not 1e-04.
std::string show_number(long double value);

// True when `missing` is required but the object holds a misspelling of it
// that additionalProperties: false will report (one mistake, one message).
bool is_misspelled_here(const nlohmann::json& schema, const nlohmann::json& object, const std::string& missing);
// "name: <description>" of a property, for missing-property hints; "" if undocumented.
std::string property_summary(const nlohmann::json& schema, const nlohmann::json& name);
// Standard base64 (padding optional, line breaks ignored); nullopt if malformed.
std::optional<std::string> decode_base64(const std::string& text);

}  // namespace modelc::spec::detail
