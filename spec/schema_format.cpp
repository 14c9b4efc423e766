// The draft-07 `format` checks. modelc's schemas use uri-reference, regex and
// date-time; the others are here so the validator is complete.
#include <cctype>
#include <regex>
#include <string>

#include "spec/json_schema.h"
#include "spec/schema_messages.h"

namespace modelc::spec {
namespace {

bool matches(const std::string& value, const char* pattern) {
  const std::regex re(pattern, std::regex::ECMAScript);
  return std::regex_match(value, re);
}

bool is_leap_year(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

bool valid_date(const std::string& s) {
  if (!matches(s, R"(\d{4}-\d{2}-\d{2})")) return false;
  const int year = std::stoi(s.substr(0, 4));
  const int month = std::stoi(s.substr(5, 2));
  const int day = std::stoi(s.substr(8, 2));
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= days[month - 1] + (month == 2 && is_leap_year(year) ? 1 : 0);
}

bool valid_time(const std::string& s) {
  std::smatch m;
  static const std::regex re(R"((\d{2}):(\d{2}):(\d{2})(\.\d+)?([zZ]|[+-](\d{2}):(\d{2})))");
  if (!std::regex_match(s, m, re)) return false;
  if (std::stoi(m[1]) > 23 || std::stoi(m[2]) > 59 || std::stoi(m[3]) > 60) return false;
  if (m[6].matched && (std::stoi(m[6]) > 23 || std::stoi(m[7]) > 59)) return false;
  return true;
}

bool valid_date_time(const std::string& s) {
  const size_t t = s.find_first_of("tT");
  return t == 10 && valid_date(s.substr(0, t)) && valid_time(s.substr(t + 1));
}

bool valid_ipv4(const std::string& s) {
  std::smatch m;
  static const std::regex re(R"((\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}))");
  if (!std::regex_match(s, m, re)) return false;
  for (int i = 1; i <= 4; ++i) {
    if (std::stoi(m[i]) > 255) return false;
    if (m[i].length() > 1 && m[i].str()[0] == '0') return false;
  }
  return true;
}

bool valid_ipv6(const std::string& s) {
  if (s.empty() || s.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos) return false;
  const size_t gap = s.find("::");
  if (gap != std::string::npos && s.find("::", gap + 1) != std::string::npos) return false;
  int groups = 0;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(':', start);
    if (end == std::string::npos) end = s.size();
    const std::string group = s.substr(start, end - start);
    if (group.find('.') != std::string::npos) {
      if (end != s.size() || !valid_ipv4(group)) return false;
      groups += 2;
    } else if (!group.empty()) {
      if (group.size() > 4) return false;
      ++groups;
    } else if (gap == std::string::npos || (start != gap && start != gap + 1 && !(start == 0 && gap == 0) &&
                                            !(end == s.size() && gap + 2 == s.size()))) {
      return false;
    }
    start = end + 1;
  }
  return gap == std::string::npos ? groups == 8 : groups < 8;
}

bool valid_hostname(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  static const std::regex label(R"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)");
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    if (!std::regex_match(s.substr(start, dot - start), label)) return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

bool valid_email(const std::string& s, bool allow_unicode) {
  const size_t at = s.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == s.size() || s.find(' ') != std::string::npos) return false;
  if (allow_unicode) return true;
  return matches(s.substr(0, at), R"([A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+)");
}

// Internationalized names: labels of at most 63 characters, none starting
// with a combining mark; U+302E/U+302F (Hangul tone marks) may not follow
// Hangul syllables, so they are refused outright.
bool valid_idn_hostname(const std::string& s) {
  if (s.empty() || s.find("\xe3\x80\xae") != std::string::npos || s.find("\xe3\x80\xaf") != std::string::npos)
    return false;
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    const std::string label = s.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    size_t characters = 0;
    for (unsigned char c : label) characters += (c & 0xC0) != 0x80;
    if (characters == 0 || characters > 63 || label.front() == '-' || label.back() == '-') return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

// Characters an IRI may hold beyond a URI's: any non-ASCII byte (UTF-8).
const char* const kUriChars = R"([A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%])";

bool valid_uri_reference(const std::string& s, bool allow_iri) {
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (!allow_iri) return false;
      continue;
    }
    static const std::regex allowed(kUriChars);
    if (!std::regex_match(std::string(1, static_cast<char>(c)), allowed)) return false;
    if (c == '%' && (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
                     !std::isxdigit(static_cast<unsigned char>(s[i + 2]))))
      return false;
  }
  return true;
}

bool valid_uri(const std::string& s, bool allow_iri) {
  if (!valid_uri_reference(s, allow_iri)) return false;
  std::smatch m;
  static const std::regex re(R"(([A-Za-z][A-Za-z0-9+.-]*):(//([^/?#]*))?([^?#]*)(\?[^#]*)?(#.*)?)");
  if (!std::regex_match(s, m, re)) return false;
  if (m[2].matched) {
    std::string host = m[3];
    if (const size_t at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
    if (!host.empty() && host[0] == '[') return host.find(']') != std::string::npos;
    if (const size_t colon = host.find(':'); colon != std::string::npos) {
      const std::string port = host.substr(colon + 1);
      if (port.find_first_not_of("0123456789") != std::string::npos) return false;
    }
  }
  return true;
}

bool valid_json_pointer(const std::string& s) { return matches(s, R"((/([^~]|~[01])*)*)"); }

bool valid_relative_json_pointer(const std::string& s) {
  std::smatch m;
  static const std::regex re(R"((0|[1-9][0-9]*)(#|(/([^~]|~[01])*)*))");
  return std::regex_match(s, m, re);
}

bool valid_uri_template(const std::string& s) {
  int depth = 0;
  for (char c : s) {
    if (c == '{' && ++depth > 1) return false;
    if (c == '}' && --depth < 0) return false;
  }
  return depth == 0;
}

bool valid_regex(const std::string& s) {
  try {
    std::regex re(s, std::regex::ECMAScript);
    // ECMAScript has no \Z; std::regex accepts unknown escapes as literals.
    return s.find("\\Z") == std::string::npos;
  } catch (const std::regex_error&) {
    return false;
  }
}

}  // namespace

bool matches_format(std::string_view format_name, const std::string& v) {
  const std::string f(format_name);
  if (f == "date-time") return valid_date_time(v);
  if (f == "date") return valid_date(v);
  if (f == "time") return valid_time(v);
  if (f == "email") return valid_email(v, false);
  if (f == "idn-email") return valid_email(v, true);
  if (f == "hostname") return valid_hostname(v);
  if (f == "idn-hostname") return valid_idn_hostname(v);
  if (f == "ipv4") return valid_ipv4(v);
  if (f == "ipv6") return valid_ipv6(v);
  if (f == "uri") return valid_uri(v, false);
  if (f == "iri") return valid_uri(v, true);
  if (f == "uri-reference") return valid_uri_reference(v, false);
  if (f == "iri-reference") return valid_uri_reference(v, true);
  if (f == "uri-template") return valid_uri_template(v);
  if (f == "json-pointer") return valid_json_pointer(v);
  if (f == "relative-json-pointer") return valid_relative_json_pointer(v);
  if (f == "regex") return valid_regex(v);
  return true;
}

namespace detail {

std::optional<std::string> decode_base64(const std::string& text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  size_t padding = 0;
  for (char c : text) {
    int value = -1;
    if (c >= 'A' && c <= 'Z') value = c - 'A';
    else if (c >= 'a' && c <= 'z') value = c - 'a' + 26;
    else if (c >= '0' && c <= '9') value = c - '0' + 52;
    else if (c == '+') value = 62;
    else if (c == '/') value = 63;
    else if (c == '=') { ++padding; continue; }
    else if (c == '\n' || c == '\r') continue;
    if (value < 0 || padding > 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  if (padding > 2) return std::nullopt;
  return out;
}

}  // namespace detail
}  // namespace modelc::spec
