#include "spec/schema_messages.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

#include "spec/json_schema.h"

namespace modelc::spec {
namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Optimal string alignment distance: Levenshtein plus adjacent transpositions,
// so "mdoe" is one edit from "mode".
size_t edit_distance(const std::string& a, const std::string& b) {
  const size_t n = a.size();
  const size_t m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

}  // namespace

std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string needle = lowercase(word);
  std::optional<std::string> best;
  size_t best_distance = std::string::npos;
  for (const std::string& candidate : candidates) {
    const std::string option = lowercase(candidate);
    size_t distance = edit_distance(needle, option);
    // A prefix of a longer name ("conv" for "conv2d") is a likely shorthand.
    const bool prefix = needle.size() >= 3 && (option.rfind(needle, 0) == 0 || needle.rfind(option, 0) == 0);
    const size_t allowed = std::max<size_t>(1, (std::max(needle.size(), option.size()) + 1) / 3);
    if (distance > allowed && !prefix) continue;
    if (prefix) distance = std::min(distance, allowed);
    const auto length_gap = [&](const std::string& c) {
      return c.size() > needle.size() ? c.size() - needle.size() : needle.size() - c.size();
    };
    // On a tie, prefer the candidate whose length is closer to the word's.
    if (distance < best_distance || (distance == best_distance && length_gap(option) < length_gap(lowercase(*best)))) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

namespace detail {

std::string show_number(long double value) {
  if (std::isinf(value)) return value > 0 ? ".inf" : "-.inf";
  if (std::isnan(value)) return ".nan";
  if (value == std::floor(value) && std::fabs(value) < 1e18L) {
    return std::to_string(static_cast<long long>(value));
  }
  std::ostringstream out;
  out.precision(15);
  out << static_cast<double>(value);
  return out.str();
}

std::string show_value(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::string: {
      std::string s = value.get<std::string>();
      if (s.size() > 60) s = s.substr(0, 57) + "...";
      return "\"" + s + "\"";
    }
    case nlohmann::json::value_t::number_integer: return std::to_string(value.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: return std::to_string(value.get<uint64_t>());
    case nlohmann::json::value_t::number_float: {
      // 1.0 in YAML is a float: show it as written, not as the integer 1.
      const double d = value.get<double>();
      std::string text = show_number(d);
      if (std::isfinite(d) && d == std::floor(d) && text.find_first_of(".e") == std::string::npos) text += ".0";
      return text;
    }
    case nlohmann::json::value_t::boolean: return value.get<bool>() ? "true" : "false";
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return value.empty() ? "an empty mapping" : "a mapping";
    case nlohmann::json::value_t::array: return value.empty() ? "an empty list" : "a list";
    default: return value.dump();
  }
}

std::string describe_found(const nlohmann::json& value) {
  if (value.is_string()) return "the string " + show_value(value);
  if (value.is_number_integer()) return "the integer " + show_value(value);
  if (value.is_number()) return "the number " + show_value(value);
  return show_value(value);
}

std::string type_phrase(const std::string& type_name) {
  if (type_name == "integer") return "an integer";
  if (type_name == "number") return "a number";
  if (type_name == "string") return "a string";
  if (type_name == "boolean") return "true or false";
  if (type_name == "null") return "null";
  if (type_name == "object") return "a mapping";
  if (type_name == "array") return "a list";
  return type_name;
}

std::string join_alternatives(const std::vector<std::string>& items, const std::string& last_separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? last_separator : ", ";
    out += items[i];
  }
  return out;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  const std::optional<std::string> match = closest_match(word, candidates);
  if (!match || *match == word) return {};
  return "did you mean '" + *match + "'?";
}

// "kernel" is required but the object has "kernal", which additionalProperties
// will reject with "did you mean 'kernel'?": one mistake, reported once.
bool is_misspelled_here(const nlohmann::json& schema, const nlohmann::json& object, const std::string& missing) {
  const auto additional = schema.find("additionalProperties");
  const auto properties = schema.find("properties");
  if (additional == schema.end() || *additional != false || properties == schema.end() || !properties->is_object())
    return false;
  std::vector<std::string> allowed;
  for (const auto& [name, p] : properties->items()) allowed.push_back(name);
  for (const auto& [key, value] : object.items()) {
    if (properties->contains(key) || schema.contains("patternProperties")) continue;
    if (closest_match(key, allowed) == missing) return true;
  }
  return false;
}

// "model: The model to compile..." from the property's description, as the
// hint of a missing-property error.
std::string property_summary(const nlohmann::json& schema, const nlohmann::json& name) {
  const auto properties = schema.find("properties");
  if (properties == schema.end() || !properties->is_object() || !properties->contains(name.get<std::string>())) return {};
  const nlohmann::json& p = (*properties)[name.get<std::string>()];
  if (!p.is_object() || !p.contains("description") || !p["description"].is_string()) return {};
  return name.get<std::string>() + ": " + p["description"].get<std::string>();
}

}  // namespace detail
}  // namespace modelc::spec
