#include "support/diagnostic.h"

namespace modelc {
namespace {

std::string join_messages(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const Diagnostic& d : diagnostics) {
    if (!out.empty()) out += '\n';
    out += d.format();
  }
  return out;
}

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::error: return "error";
    case Severity::warning: return "warning";
    case Severity::note: return "note";
  }
  return "error";
}

}  // namespace

std::string SourceLocation::str() const {
  if (file.empty()) return {};
  std::string out = file;
  if (line > 0) {
    out += ':' + std::to_string(line);
    if (column > 0) out += ':' + std::to_string(column);
  }
  return out;
}

std::string Diagnostic::format() const {
  std::string out;
  if (location.known()) out += location.str() + ": ";
  out += severity_name(severity);
  out += ": ";
  out += message;
  if (!pointer.empty()) out += " (at " + pointer + ")";
  if (!hint.empty()) out += "\n  hint: " + hint;
  return out;
}

Error::Error(std::string message) : Error(Diagnostic{Severity::error, {}, {}, std::move(message), {}}) {}

Error::Error(Diagnostic diagnostic) : Error(std::vector<Diagnostic>{std::move(diagnostic)}) {}

Error::Error(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join_messages(diagnostics)), diagnostics_(std::move(diagnostics)) {}

void fail(const SourceLocation& where, std::string message, std::string hint) {
  throw Error(Diagnostic{Severity::error, where, {}, std::move(message), std::move(hint)});
}

}  // namespace modelc
