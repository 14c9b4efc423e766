#include "targets/c_names.h"

#include "support/sha256.h"

namespace modelc::targets {
namespace {

bool is_ascii_alnum(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_printable_ascii(unsigned char c) { return c >= 0x20 && c < 0x7f; }

std::string octal_escape(unsigned char c) {
  std::string out = "\\";
  out += static_cast<char>('0' + ((c >> 6) & 7));
  out += static_cast<char>('0' + ((c >> 3) & 7));
  out += static_cast<char>('0' + (c & 7));
  return out;
}

}  // namespace

std::string c_identifier(std::string_view name) {
  std::string out;
  for (char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    out += !is_ascii_alnum(c) ? '_' : (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c);
  }
  if (out.empty() || !(out[0] >= 'a' && out[0] <= 'z')) out = "m_" + out;
  if (out.size() > kMaxCIdentifier) {
    const std::string hash = "_" + sha256_hex(name).substr(0, 12);
    out = out.substr(0, kMaxCIdentifier - hash.size()) + hash;
  }
  return out;
}

std::string c_string_literal(std::string_view bytes) {
  std::string out = "\"";
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\' || c == '?') {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (is_printable_ascii(c)) {
      out += ch;
    } else {
      out += octal_escape(c);
    }
  }
  return out + "\"";
}

std::string c_comment_text(std::string_view bytes, size_t max_bytes) {
  const bool cut = bytes.size() > max_bytes;
  const std::string literal = c_string_literal(cut ? bytes.substr(0, max_bytes) : bytes);
  std::string out;
  for (size_t i = 0; i < literal.size(); ++i) {
    const bool next_to_star = (i > 0 && literal[i - 1] == '*') || (i + 1 < literal.size() && literal[i + 1] == '*');
    if (literal[i] == '/' && next_to_star) out += octal_escape('/');
    else out += literal[i];
  }
  if (cut) out += "... (" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

std::string gas_string_literal(std::string_view bytes) {
  std::string out = "\"";
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (is_printable_ascii(c)) {
      out += ch;
    } else {
      out += octal_escape(c);
    }
  }
  return out + "\"";
}

}  // namespace modelc::targets
