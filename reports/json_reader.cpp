#include "reports/json_reader.h"

#include "support/diagnostic.h"

using nlohmann::json;

namespace modelc::reports {
namespace {

std::string child(const std::string& pointer, std::string_view key) {
  std::string escaped;
  for (const char c : key) {
    if (c == '~') escaped += "~0";
    else if (c == '/') escaped += "~1";
    else escaped += c;
  }
  return pointer + "/" + escaped;
}

std::string found(const json& value) { return std::string(value.type_name()); }

}  // namespace

void JsonFieldReader::fail(const std::string& pointer, std::string message, std::string hint) const {
  Diagnostic diagnostic;
  diagnostic.location.file = file_;
  diagnostic.pointer = pointer;
  diagnostic.message = std::move(message);
  diagnostic.hint = std::move(hint);
  throw Error(std::move(diagnostic));
}

bool JsonFieldReader::has(const json& object, std::string_view key) const {
  if (!object.is_object()) return false;
  const auto it = object.find(key);
  return it != object.end() && !it->is_null();
}

const json& JsonFieldReader::member(const json& object, const std::string& pointer, std::string_view key) const {
  if (!object.is_object()) fail(pointer, "expected an object, found " + found(object));
  const auto it = object.find(key);
  if (it == object.end()) fail(pointer, "missing field '" + std::string(key) + "'");
  return *it;
}

const json& JsonFieldReader::object(const json& object, const std::string& pointer, std::string_view key) const {
  const json& value = member(object, pointer, key);
  if (!value.is_object()) fail(child(pointer, key), "expected an object, found " + found(value));
  return value;
}

const json& JsonFieldReader::array(const json& object, const std::string& pointer, std::string_view key) const {
  const json& value = member(object, pointer, key);
  if (!value.is_array()) fail(child(pointer, key), "expected an array, found " + found(value));
  return value;
}

std::string JsonFieldReader::string(const json& object, const std::string& pointer, std::string_view key) const {
  const json& value = member(object, pointer, key);
  if (!value.is_string()) fail(child(pointer, key), "expected a string, found " + found(value));
  return value.get<std::string>();
}

std::string JsonFieldReader::optional_string(const json& object, const std::string& pointer,
                                             std::string_view key) const {
  return has(object, key) ? string(object, pointer, key) : std::string();
}

uint64_t JsonFieldReader::count(const json& object, const std::string& pointer, std::string_view key) const {
  const json& value = member(object, pointer, key);
  const bool non_negative = value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0);
  if (!non_negative) {
    fail(child(pointer, key), "expected a non-negative integer, found " +
                                  (value.is_number() ? value.dump() : found(value)));
  }
  return value.get<uint64_t>();
}

int64_t JsonFieldReader::integer(const json& object, const std::string& pointer, std::string_view key) const {
  const json& value = member(object, pointer, key);
  if (!value.is_number_integer()) fail(child(pointer, key), "expected an integer, found " + found(value));
  return value.get<int64_t>();
}

double JsonFieldReader::number(const json& object, const std::string& pointer, std::string_view key) const {
  const json& value = member(object, pointer, key);
  if (!value.is_number()) fail(child(pointer, key), "expected a number, found " + found(value));
  return value.get<double>();
}

bool JsonFieldReader::boolean(const json& object, const std::string& pointer, std::string_view key) const {
  const json& value = member(object, pointer, key);
  if (!value.is_boolean()) fail(child(pointer, key), "expected true or false, found " + found(value));
  return value.get<bool>();
}

json parse_json_text(const std::string& text, const std::string& file) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    Diagnostic diagnostic;
    diagnostic.location.file = file;
    diagnostic.message = std::string("not valid JSON: ") + e.what();
    throw Error(std::move(diagnostic));
  }
}

}  // namespace modelc::reports
