// YAML -> JSON with source marks.
//
// yaml-cpp's Node API forgets where things were written and silently keeps
// duplicate keys, so the document is built from the parser's event stream
// instead: every event carries a mark, and the builder sees each key as it is
// added. Plain scalars are resolved with the YAML 1.2 core schema (so `no` stays
// the string "no", unlike YAML 1.1); quoted scalars are always strings.
#include "spec/document.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <regex>
#include <sstream>

#include "support/file_io.h"
#include "support/utf8.h"

namespace modelc::spec {
namespace {

using nlohmann::json;

SourceLocation location_of(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return {file, 0, 0};
  return {file, mark.line + 1, mark.column + 1};
}

bool is_one_of(std::string_view s, std::initializer_list<std::string_view> options) {
  for (std::string_view o : options)
    if (s == o) return true;
  return false;
}

// A decimal number (already matched by the core schema's patterns) as a
// double. One beyond the double range is the recipe's mistake, reported where
// it was written, not an exception from the standard library.
double decimal_to_double(std::string_view text, const SourceLocation& where) {
  std::string_view digits = text;
  if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);  // from_chars takes '-' only
  double value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc::result_out_of_range) {
    fail(where, "number " + std::string(text) + " is out of range of a 64-bit float",
         "numbers in a recipe are 0 or between about 2.2e-308 and 1.8e308 in magnitude; quote it to keep it a string");
  }
  return value;
}

// Integers of the core schema: decimal, 0o octal, 0x hexadecimal.
std::optional<json> resolve_integer(const std::string& s, const SourceLocation& where) {
  static const std::regex decimal("[-+]?[0-9]+");
  static const std::regex octal("0o[0-7]+");
  static const std::regex hex("0x[0-9a-fA-F]+");
  int base = 10;
  std::string_view digits = s;
  if (std::regex_match(s, octal)) {
    base = 8;
    digits.remove_prefix(2);
  } else if (std::regex_match(s, hex)) {
    base = 16;
    digits.remove_prefix(2);
  } else if (!std::regex_match(s, decimal)) {
    return std::nullopt;
  }
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  uint64_t magnitude = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (ec == std::errc::result_out_of_range) {
    if (base != 10) fail(where, "integer " + s + " does not fit in 64 bits", "the largest is 0xffffffffffffffff (18446744073709551615)");
    return json(decimal_to_double(s, where));  // too large for an integer: keep it as a float
  }
  if (!negative) {
    if (magnitude <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return json(static_cast<int64_t>(magnitude));
    return json(magnitude);
  }
  if (magnitude <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return json(-static_cast<int64_t>(magnitude));
  if (magnitude == static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1)
    return json(std::numeric_limits<int64_t>::min());
  return json(-static_cast<double>(magnitude));
}

std::optional<json> resolve_float(const std::string& s, const SourceLocation& where) {
  static const std::regex number(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(s, number)) return json(decimal_to_double(s, where));
  std::string_view body = s;
  double sign = 1.0;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    sign = body[0] == '-' ? -1.0 : 1.0;
    body.remove_prefix(1);
  }
  if (is_one_of(body, {".inf", ".Inf", ".INF"})) return json(sign * std::numeric_limits<double>::infinity());
  if (is_one_of(s, {".nan", ".NaN", ".NAN"})) return json(std::numeric_limits<double>::quiet_NaN());
  return std::nullopt;
}

// The YAML 1.2 core schema's tag resolution for a plain (unquoted) scalar.
json resolve_plain_scalar(const std::string& s, const SourceLocation& where) {
  if (is_one_of(s, {"", "~", "null", "Null", "NULL"})) return nullptr;
  if (is_one_of(s, {"true", "True", "TRUE"})) return true;
  if (is_one_of(s, {"false", "False", "FALSE"})) return false;
  if (auto i = resolve_integer(s, where)) return *i;
  if (auto f = resolve_float(s, where)) return *f;
  return s;
}

json resolve_scalar(const std::string& tag, const std::string& value, const SourceLocation& where) {
  // "!" marks a quoted (non-plain) scalar; "!!str" arrives as the full tag URI.
  if (tag == "!" || tag == "tag:yaml.org,2002:str") return value;
  return resolve_plain_scalar(value, where);
}

// Nodes of a JSON value (the value itself, and everything inside it).
size_t value_count(const json& value) {
  size_t n = 1;
  if (value.is_structured())
    for (const json& child : value) n += value_count(child);
  return n;
}

const char* event_kind(bool is_map) { return is_map ? "a mapping" : "a sequence"; }

// Builds the JSON value and its marks from yaml-cpp parser events.
class DocumentBuilder : public YAML::EventHandler {
 public:
  explicit DocumentBuilder(std::string file) : file_(std::move(file)) {}

  Document take() { return std::move(document_); }
  const YAML::Mark& last_document_mark() const { return last_document_mark_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    last_document_mark_ = mark;
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    add_value(mark, nullptr, anchor, /*block_collection=*/false);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (is_expecting_key()) error(mark, "mapping keys must be plain strings, found an alias");
    const auto it = anchors_.find(anchor);
    if (it == anchors_.end()) error(mark, "unknown alias");
    // Each alias copies its anchor's value, so aliases of aliases grow
    // exponentially ("billion laughs"): a few hundred bytes would become
    // gigabytes. No real recipe copies more than a few thousand values.
    aliased_values_ += value_count(it->second);
    if (aliased_values_ > kMaxAliasedValues) {
      error(mark, "aliases copy more than " + std::to_string(kMaxAliasedValues) + " values in this document",
            "an alias copies everything its anchor holds, and aliases of aliases multiply; write the values out "
            "or use fewer levels of aliases");
    }
    add_value(mark, it->second, 0, false);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    // YAML text is Unicode, and JSON (the schema validator, lockfiles,
    // --format json) cannot hold other bytes: nlohmann::json threw from
    // dump() on a variant key with bytes 0x99 0x85 (found by the fuzzer).
    // The message names the byte, never quotes it.
    for (const std::string* text : {&value, &tag}) {
      const size_t at = first_invalid_utf8(*text);
      if (at == std::string::npos) continue;
      char byte[8];
      std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>((*text)[at])));
      error(mark,
            std::string(text == &tag ? "this tag" : is_expecting_key() ? "this key" : "this value") +
                " is not valid UTF-8 (byte " + byte + " after " + std::to_string(at) + " bytes of it)",
            "YAML text is UTF-8: save the file as UTF-8, or write the character as an escape such as \\u00e9 "
            "in a double-quoted string");
    }
    if (is_expecting_key()) {
      Frame& map = frames_.back();
      const auto [it, inserted] = map.key_lines.emplace(value, mark.line + 1);
      if (!inserted) {
        error(mark, "duplicate key '" + value + "' (first written at line " + std::to_string(it->second) + ")",
              "a mapping may hold each key once; remove or rename one of them");
      }
      map.key = value;
      map.key_mark = mark;
      map.has_key = true;
      return;
    }
    add_value(mark, resolve_scalar(tag, value, location_of(file_, mark)), anchor, false);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value style) override {
    open(mark, json::array(), anchor, style);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value style) override {
    open(mark, json::object(), anchor, style);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    json value;
    std::string pointer;
    YAML::anchor_t anchor = 0;
    // Mappings only: the key waiting for its value, and keys seen so far.
    bool has_key = false;
    std::string key;
    YAML::Mark key_mark;
    std::map<std::string, int> key_lines;
  };

  [[noreturn]] void error(const YAML::Mark& mark, std::string message, std::string hint = {}) {
    fail(location_of(file_, mark), std::move(message), std::move(hint));
  }

  bool is_expecting_key() const {
    return !frames_.empty() && frames_.back().value.is_object() && !frames_.back().has_key;
  }

  // The pointer the next value will have, recording the key's mark on the way.
  std::string next_pointer() {
    if (frames_.empty()) return "";
    Frame& parent = frames_.back();
    if (parent.value.is_object()) {
      std::string pointer = pointer_append(parent.pointer, parent.key);
      document_.marks.add_key(pointer, location_of(file_, parent.key_mark));
      return pointer;
    }
    return pointer_append(parent.pointer, parent.value.size());
  }

  void open(const YAML::Mark& mark, json empty, YAML::anchor_t anchor, YAML::EmitterStyle::value style) {
    if (is_expecting_key()) {
      error(mark, std::string("mapping keys must be plain strings, found ") + event_kind(empty.is_object()));
    }
    const bool block = style != YAML::EmitterStyle::Flow;
    std::string pointer = next_pointer();
    record_mark(pointer, mark, block);
    frames_.push_back(Frame{std::move(empty), std::move(pointer), anchor, false, {}, {}, {}});
  }

  void close() {
    Frame done = std::move(frames_.back());
    frames_.pop_back();
    if (done.anchor != 0) anchors_[done.anchor] = done.value;
    attach(std::move(done.value));
  }

  void add_value(const YAML::Mark& mark, json value, YAML::anchor_t anchor, bool block_collection) {
    record_mark(next_pointer(), mark, block_collection);
    if (anchor != 0) anchors_[anchor] = value;
    attach(std::move(value));
  }

  // A block collection under a key is located at its key: that is the line a
  // person reads as "the quantization block", not the line of its first child.
  void record_mark(const std::string& pointer, const YAML::Mark& mark, bool block_collection) {
    const SourceLocation* key = document_.marks.find_key(pointer);
    if (block_collection && key != nullptr && !pointer.empty()) {
      document_.marks.add(pointer, *key);
    } else {
      document_.marks.add(pointer, location_of(file_, mark));
    }
  }

  void attach(json value) {
    if (frames_.empty()) {
      document_.value = std::move(value);
      return;
    }
    Frame& parent = frames_.back();
    if (parent.value.is_object()) {
      parent.value[parent.key] = std::move(value);
      parent.has_key = false;
    } else {
      parent.value.push_back(std::move(value));
    }
  }

  std::string file_;
  Document document_;
  std::vector<Frame> frames_;
  std::map<YAML::anchor_t, json> anchors_;
  static constexpr size_t kMaxAliasedValues = 100'000;
  size_t aliased_values_ = 0;
  YAML::Mark last_document_mark_;
};

// yaml-cpp reports a tab in indentation as a generic scanner error far from the
// tab; find it first so the message says what is wrong and where.
void reject_indentation_tabs(std::string_view text, const std::string& file) {
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] != '\n') continue;
    const std::string_view content = text.substr(line_start, i - line_start);
    const size_t first = content.find_first_not_of(" \t-");
    const std::string_view indentation = content.substr(0, first == std::string_view::npos ? content.size() : first);
    const size_t tab = indentation.find('\t');
    const bool blank = first == std::string_view::npos || content[first] == '#' || content[first] == '\r';
    if (tab != std::string_view::npos && !blank) {
      fail({file, line, static_cast<int>(tab) + 1}, "tab character in indentation",
           "YAML indents with spaces only; replace the tab with spaces");
    }
    ++line;
    line_start = i + 1;
  }
}

std::string describe_parser_error(const std::string& message) {
  // yaml-cpp's messages are terse and lower-case; keep them but make the common
  // ones say what a person should look at.
  if (message.find("end of map not found") != std::string::npos)
    return "malformed mapping: a key is missing its ':' or is indented inconsistently";
  if (message.find("end of sequence not found") != std::string::npos)
    return "malformed sequence: check the '-' items and their indentation";
  if (message.find("illegal map value") != std::string::npos)
    return "unexpected ':' (a value cannot itself start a mapping on the same line; quote it or use a new line)";
  if (message.find("end of map flow not found") != std::string::npos) return "unclosed '{' in a flow mapping";
  if (message.find("end of sequence flow not found") != std::string::npos) return "unclosed '[' in a flow sequence";
  return "YAML syntax error: " + message;
}

}  // namespace

void SourceMap::add(const std::string& pointer, SourceLocation location) {
  note_file(location.file);
  locations_[pointer] = std::move(location);
}

void SourceMap::add_key(const std::string& pointer, SourceLocation location) {
  note_file(location.file);
  key_locations_[pointer] = std::move(location);
}

void SourceMap::note_file(const std::string& file) {
  if (!file.empty() && std::find(files_.begin(), files_.end(), file) == files_.end()) files_.push_back(file);
}

void SourceMap::note_files_of(const SourceMap& other) {
  for (const std::string& f : other.files_) note_file(f);
}

size_t SourceMap::file_rank(const std::string& file) const {
  const auto it = std::find(files_.begin(), files_.end(), file);
  return it == files_.end() ? files_.size() : static_cast<size_t>(it - files_.begin());
}

SourceLocation SourceMap::locate(std::string_view pointer) const {
  std::string p(pointer);
  while (true) {
    if (const auto it = locations_.find(p); it != locations_.end()) return it->second;
    if (p.empty()) return {};
    p.resize(p.rfind('/'));
  }
}

SourceLocation SourceMap::locate_key(std::string_view pointer) const {
  if (const SourceLocation* key = find_key(pointer)) return *key;
  return locate(pointer);
}

const SourceLocation* SourceMap::find(std::string_view pointer) const {
  const auto it = locations_.find(std::string(pointer));
  return it == locations_.end() ? nullptr : &it->second;
}

const SourceLocation* SourceMap::find_key(std::string_view pointer) const {
  const auto it = key_locations_.find(std::string(pointer));
  return it == key_locations_.end() ? nullptr : &it->second;
}

void SourceMap::merge(const SourceMap& other) {
  note_files_of(other);
  for (const auto& [pointer, location] : other.locations_) locations_[pointer] = location;
  for (const auto& [pointer, location] : other.key_locations_) key_locations_[pointer] = location;
}

Document parse_yaml(std::string_view text, const std::string& file_name) {
  reject_indentation_tabs(text, file_name);
  std::istringstream in{std::string(text)};
  DocumentBuilder builder(file_name);
  try {
    YAML::Parser parser(in);
    if (!parser.HandleNextDocument(builder)) return Document{nullptr, {}};
    DocumentBuilder rest(file_name);
    if (parser.HandleNextDocument(rest)) {
      fail(location_of(file_name, rest.last_document_mark()), "expected one YAML document, found a second one",
           "remove the '---' separator, or split the documents into separate files");
    }
  } catch (const YAML::Exception& e) {
    fail(location_of(file_name, e.mark), describe_parser_error(e.msg));
  }
  return builder.take();
}

Document load_yaml_file(const std::filesystem::path& path) {
  return parse_yaml(read_text_file(path), path.string());
}

std::string pointer_append(std::string_view pointer, std::string_view token) {
  std::string out(pointer);
  out += '/';
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string pointer_append(std::string_view pointer, size_t index) {
  return std::string(pointer) + '/' + std::to_string(index);
}

std::vector<std::string> pointer_tokens(std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  size_t start = 1;  // skip the leading '/'
  while (true) {
    const size_t end = pointer.find('/', start);
    const std::string_view raw = pointer.substr(start, end == std::string_view::npos ? end : end - start);
    std::string token;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~' && i + 1 < raw.size()) {
        token += raw[i + 1] == '1' ? '/' : '~';
        ++i;
      } else {
        token += raw[i];
      }
    }
    tokens.push_back(std::move(token));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return tokens;
}

}  // namespace modelc::spec
