// The C contexts a name can reach: identifiers, string literals, comments and
// the assembler string of .incbin. The tests compile what the functions make
// with the strictest flags a user might choose (trigraphs on under -std=c99)
// and compare the bytes the program sees with the original.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "support/file_io.h"
#include "support/process.h"
#include "support/utf8.h"
#include "targets/c_names.h"
#include "tests/targets/hostile_names.h"

namespace fs = std::filesystem;
using namespace modelc;
using namespace modelc::targets;

namespace {

struct TempFolder {
  TempFolder() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("modelc-c-names-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

// Compiles `source` with gcc as strict C99 and runs it; its stdout.
std::string compile_and_run(const fs::path& folder, const std::string& source, bool pedantic = false) {
  const auto cc = find_executable("gcc");
  REQUIRE(cc);
  const fs::path c = folder / "program.c", exe = folder / "program";
  write_file_atomic(c, source);
  std::vector<std::string> argv{cc->string(), "-std=c99", "-Wall", "-Wextra", "-Werror", "-Wtrigraphs", "-Wcomment"};
  if (pedantic) argv.push_back("-pedantic");
  for (const std::string a : {c.string(), std::string("-o"), exe.string()}) argv.push_back(a);
  const ProcessResult build = run_process(argv);
  INFO(build.stderr_text);
  REQUIRE(build.exit_code == 0);
  const ProcessResult run = run_process({exe.string()});
  REQUIRE(run.exit_code == 0);
  return run.stdout_text;
}

// A C program that prints each array's bytes (sizeof - 1: the literal's own NUL) in hex, one line each.
std::string hex_printer(const std::string& declarations, size_t count) {
  std::string s = "#include <stdio.h>\n" + declarations + "\nint main(void) {\n  size_t i;\n";
  for (size_t k = 0; k < count; ++k)
    s += "  for (i = 0; i + 1 < sizeof s" + std::to_string(k) + "; ++i) printf(\"%02x\", (unsigned char)s" +
         std::to_string(k) + "[i]);\n  printf(\"\\n\");\n";
  return s + "  return 0;\n}\n";
}

std::string expected_lines(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += hex_bytes(n) + "\n";
  return out;
}

}  // namespace

TEST_CASE("c_string_literal: the compiled literal holds exactly the name's bytes") {
  TempFolder tmp;
  const std::vector<std::string> names = test::hostile_names();
  std::string decls;
  for (size_t k = 0; k < names.size(); ++k)
    decls += "static const char s" + std::to_string(k) + "[] = " + c_string_literal(names[k]) + ";\n";
  CHECK(compile_and_run(tmp.path, hex_printer(decls, names.size())) == expected_lines(names));
}

TEST_CASE("c_string_literal: only printable ASCII, no trigraph, no escape that runs on") {
  CHECK(c_string_literal("a?b") == "\"a\\?b\"");
  CHECK(c_string_literal("??/") == "\"\\?\\?/\"");
  CHECK(c_string_literal(std::string("\x01" "7")) == "\"\\0017\"");  // three octal digits: the 7 stays a character
  CHECK(c_string_literal(std::string("a\0b", 3)) == "\"a\\000b\"");
  CHECK(c_string_literal("\xe5") == "\"\\345\"");
  CHECK(c_string_literal("q\"\\") == "\"q\\\"\\\\\"");
  for (const std::string& name : test::hostile_names())
    for (char c : c_string_literal(name)) CHECK((c >= 0x20 && c < 0x7f));
}

TEST_CASE("c_comment_text: a comment that shows a name cannot close, nest or splice") {
  TempFolder tmp;
  const std::vector<std::string> names = test::hostile_names();
  std::string decls;
  for (size_t k = 0; k < names.size(); ++k)
    decls += "/* name " + std::to_string(k) + ": " + c_comment_text(names[k]) + " */\nstatic const char s" +
             std::to_string(k) + "[] = \"ok\";\n";
  // Were a comment closed early, `typedef char comment_closed[-1]` would not compile; were it
  // spliced or nested, -Wcomment/-Wtrigraphs (errors here) would say so.
  std::string want;
  for (size_t k = 0; k < names.size(); ++k) want += "6f6b\n";
  CHECK(compile_and_run(tmp.path, hex_printer(decls, names.size())) == want);
  CHECK(c_comment_text("*/") == "\"*\\057\"");
  CHECK(c_comment_text("/*") == "\"\\057*\"");
  CHECK(c_comment_text(std::string(10000, 'n')).size() < 200);
  CHECK(c_comment_text(std::string(10000, 'n')).find("10000 bytes") != std::string::npos);
}

TEST_CASE("c_identifier: a C identifier, distinct for distinct long names, bounded") {
  CHECK(c_identifier("resnet18-edge") == "resnet18_edge");
  CHECK(c_identifier("18layers") == "m_18layers");
  CHECK(c_identifier("") == "m_");
  CHECK(c_identifier("_x") == "m__x");
  CHECK(c_identifier("*/ bad \"name\n") == "m____bad__name_");
  const std::string a(100, 'a'), b = std::string(99, 'a') + "b";
  CHECK(c_identifier(a).size() == kMaxCIdentifier);
  CHECK(c_identifier(a) != c_identifier(b));
  CHECK(c_identifier(std::string(64, 'a')) == std::string(64, 'a'));  // the longest recipe name stays whole
  for (const std::string& name : test::hostile_names()) {
    const std::string id = c_identifier(name);
    CHECK(id.size() <= kMaxCIdentifier);
    CHECK((id[0] >= 'a' && id[0] <= 'z'));
    for (char c : id) CHECK(((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'));
  }
}

TEST_CASE("gas_string_literal: .incbin reads a file whose path holds quotes, backslashes and newlines") {
  TempFolder tmp;
  const fs::path folder = tmp.path / "we\"ird\\ dir\nname ??/ \xe5";
  fs::create_directories(folder);
  const fs::path data = folder / "weights \"1\".bin";
  write_file_atomic(data, std::string("\x01\x02xyz", 5));
  const std::string assembly = ".section .rodata\n.balign 64\nincluded_data:\n.incbin " + gas_string_literal(data.string()) +
                               "\n.byte 0\n.previous";
  const std::string source = "__asm__(" + c_string_literal(assembly) +
                             ");\nextern const unsigned char included_data[];\nstatic const char s0[6] = {0};\n";
  std::string program = hex_printer(source, 1);
  // Print the included bytes instead of s0's.
  const size_t at = program.find("(unsigned char)s0[i]");
  program.replace(at, std::string("(unsigned char)s0[i]").size(), "included_data[i]");
  CHECK(compile_and_run(tmp.path, program) == "010278797a\n");
}
