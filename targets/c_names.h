// Names from models and recipes written into generated C source.
//
// A tensor name is whatever bytes an ONNX file holds (quotes, backslashes,
// newlines, NUL, `*/`, `??/`, invalid UTF-8); a recipe name is checked by the
// schema but has no length limit. Each function here makes such bytes safe for
// one context of C source, so that no name can end a comment, a string or a
// line, form a trigraph, or become code in plan.c or in the user's program
// that includes model.h.
#pragma once

#include <string>
#include <string_view>

namespace modelc::targets {

// "resnet18-edge" -> "resnet18_edge": lower-case ASCII letters, digits and
// '_', starting with a letter ("m_" is put before anything else), at most
// kMaxCIdentifier characters (a longer name keeps its start and ends in a hash
// of the whole name, so distinct long names stay distinct).
inline constexpr size_t kMaxCIdentifier = 64;  // the schema's limit on metadata.name
std::string c_identifier(std::string_view name);

// A C string literal, quotes included, whose value is exactly `bytes`:
// printable ASCII stays as it is except `"`, `\` and `?` (escaped, so no
// trigraph can form); newline, tab and carriage return use their named
// escapes; every other byte (control characters, NUL, bytes >= 0x80) becomes a
// three-digit octal escape, which cannot run into a following digit as a hex
// escape would.
std::string c_string_literal(std::string_view bytes);

// Text for the inside of a /* */ comment that shows `bytes`: the C string
// literal of its first `max_bytes` bytes (then "... (N bytes)"), with every
// '/' next to a '*' written as \057 so the text can neither close the comment
// nor open a nested one (-Wcomment).
std::string c_comment_text(std::string_view bytes, size_t max_bytes = 120);

// A GNU assembler string literal (quotes included) whose value is `bytes`:
// printable ASCII but `"` and `\` as is, every other byte as an octal escape.
// For paths in .incbin directives.
std::string gas_string_literal(std::string_view bytes);

}  // namespace modelc::targets
