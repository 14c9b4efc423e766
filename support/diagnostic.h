// Diagnostics: the one error type of modelc.
//
// Every stage reports user mistakes (a broken recipe, a malformed model, an
// unsupported op, a shape that does not fit) by throwing modelc::Error, which
// carries one or more Diagnostics. Each says where (file:line:column and, for
// recipe data, the JSON pointer), what was expected and what was found, and
// optionally a hint. The CLI turns an Error into exit code 2; anything else that
// escapes is an internal error (exit 1).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace modelc {

struct SourceLocation {
  std::string file;  // empty when unknown
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based; 0 when unknown

  bool known() const { return !file.empty(); }
  // "file:line:column", "file:line", "file" or "" depending on what is known.
  std::string str() const;
};

enum class Severity { error, warning, note };

struct Diagnostic {
  Severity severity = Severity::error;
  SourceLocation location;
  std::string pointer;  // JSON pointer into the recipe/graph document, if any
  std::string message;
  std::string hint;     // optional "did you mean ..." or how to fix

  // One or two lines for people: "file:line:col: error: message (at /pointer)\n  hint: ...".
  std::string format() const;
};

class Error : public std::runtime_error {
 public:
  explicit Error(std::string message);
  explicit Error(Diagnostic diagnostic);
  explicit Error(std::vector<Diagnostic> diagnostics);

  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

// Shorthand for the common case of one diagnostic with a location.
[[noreturn]] void fail(const SourceLocation& where, std::string message, std::string hint = {});

}  // namespace modelc
