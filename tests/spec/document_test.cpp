// YAML loading: the core schema's scalar rules, marks, and the mistakes the
// loader itself must catch.
#include <doctest/doctest.h>

#include <cmath>

#include "spec/document.h"
#include "support/diagnostic.h"

using modelc::spec::parse_yaml;
using nlohmann::json;

namespace {

std::string first_error(const std::string& yaml) {
  try {
    parse_yaml(yaml, "t.yaml");
  } catch (const modelc::Error& e) {
    return e.diagnostics().at(0).format();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("plain scalars resolve with the YAML 1.2 core schema") {
  const json v = parse_yaml(
                     "a: ~\nb: null\nc:\nd: true\ne: False\nf: 42\ng: -7\nh: 0x1F\ni: 0o17\nj: 1.5\nk: .inf\nl: -.Inf\n"
                     "m: .nan\nn: 1e3\no: no\np: yes\nq: 1.2.0\nr: 0777\n",
                     "t.yaml")
                     .value;
  CHECK(v["a"].is_null());
  CHECK(v["b"].is_null());
  CHECK(v["c"].is_null());
  CHECK(v["d"] == true);
  CHECK(v["e"] == false);
  CHECK(v["f"] == 42);
  CHECK(v["f"].is_number_integer());
  CHECK(v["g"] == -7);
  CHECK(v["h"] == 31);
  CHECK(v["i"] == 15);
  CHECK(v["j"] == 1.5);
  CHECK(std::isinf(v["k"].get<double>()));
  CHECK(v["l"].get<double>() < 0);
  CHECK(std::isnan(v["m"].get<double>()));
  CHECK(v["n"] == 1000.0);
  // YAML 1.1 booleans are strings in 1.2; a version is not a number.
  CHECK(v["o"] == "no");
  CHECK(v["p"] == "yes");
  CHECK(v["q"] == "1.2.0");
  CHECK(v["r"] == 777);  // leading zeros are decimal in the core schema
}

TEST_CASE("quoted and explicitly tagged scalars stay strings") {
  const json v = parse_yaml("a: \"42\"\nb: 'true'\nc: !!str 3.5\nd: \"\"\ne: 'null'\n", "t.yaml").value;
  CHECK(v["a"] == "42");
  CHECK(v["b"] == "true");
  CHECK(v["c"] == "3.5");
  CHECK(v["d"] == "");
  CHECK(v["e"] == "null");
}

TEST_CASE("marks point at values, and block collections at their key") {
  const auto doc = parse_yaml("top:\n  inner:\n    - 1\n    - {x: 2}\nflow: [a, b]\n", "r.yaml");
  CHECK(doc.marks.locate("").str() == "r.yaml:1:1");
  CHECK(doc.marks.locate("/top").str() == "r.yaml:1:1");
  CHECK(doc.marks.locate("/top/inner").str() == "r.yaml:2:3");
  CHECK(doc.marks.locate("/top/inner/0").str() == "r.yaml:3:7");
  CHECK(doc.marks.locate("/top/inner/1/x").str() == "r.yaml:4:11");
  CHECK(doc.marks.locate_key("/top/inner/1/x").str() == "r.yaml:4:8");
  CHECK(doc.marks.locate("/flow").str() == "r.yaml:5:7");
  CHECK(doc.marks.locate("/flow/1").str() == "r.yaml:5:11");
  // A pointer that is not in the document falls back to its nearest ancestor.
  CHECK(doc.marks.locate("/top/inner/7/deep").str() == "r.yaml:2:3");
}

TEST_CASE("anchors and aliases copy values") {
  const json v = parse_yaml("base: &b {x: 1, y: [2]}\ncopy: *b\n", "t.yaml").value;
  CHECK(v["copy"] == v["base"]);
}

// Found with the fuzzer's dictionary (tests/fuzz): 700 bytes of nested aliases
// expanded to 10^7 values and ran for minutes; now an error at the alias that
// crosses the limit.
TEST_CASE("aliases of aliases cannot blow a document up") {
  std::string yaml = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char level = 'b'; level <= 'g'; ++level) {
    const char below = static_cast<char>(level - 1);
    yaml += std::string(1, level) + ": &" + level + " [";
    for (int i = 0; i < 10; ++i) yaml += std::string(i ? ", " : "") + "*" + below;
    yaml += "]\n";
  }
  CHECK(first_error(yaml).rfind("t.yaml:5:36: error: aliases copy more than 100000 values in this document", 0) == 0);
  CHECK(parse_yaml("a: &a [1, 2]\nb: [*a, *a, *a]\n", "t.yaml").value["b"].size() == 3);
}

TEST_CASE("mistakes the loader catches, each with a location") {
  CHECK(first_error("a: 1\nb: 2\na: 3\n") ==
        "t.yaml:3:1: error: duplicate key 'a' (first written at line 1)\n"
        "  hint: a mapping may hold each key once; remove or rename one of them");
  CHECK(first_error("a:\n\tb: 1\n").rfind("t.yaml:2:1: error: tab character in indentation", 0) == 0);
  CHECK(first_error("? {a: 1}\n: 2\n").find("mapping keys must be plain strings, found a mapping") != std::string::npos);
  CHECK(first_error("a: [1, 2\n").find("unclosed '['") != std::string::npos);
  CHECK(first_error("a: 1\n---\nb: 2\n").rfind("t.yaml:2:1: error: expected one YAML document", 0) == 0);
  CHECK(first_error("a: 99999999999999999999999\n") == "(no error)");  // too large for int64: kept as a float
}

// Found by the fuzzer (tests/fuzz): a variant key holding bytes 0x99 0x85
// passed the loader, and nlohmann::json threw from dump() (a crash in the
// fuzzer, an internal error in modelc) when the variant was described.
TEST_CASE("bytes that are not UTF-8 are located errors, which name the byte") {
  CHECK(first_error("a: 1\nopt\x99\x85m.level: 2\n") ==
        "t.yaml:2:1: error: this key is not valid UTF-8 (byte 0x99 after 3 bytes of it)\n"
        "  hint: YAML text is UTF-8: save the file as UTF-8, or write the character as an escape such as \\u00e9 "
        "in a double-quoted string");
  CHECK(first_error("a: [x, \"ok\", caf\xe9]\n").rfind("t.yaml:1:14: error: this value is not valid UTF-8 (byte 0xE9 after 3 bytes", 0) == 0);
  CHECK(first_error("a: !t\xff x\n").find("is not valid UTF-8 (byte 0xFF") != std::string::npos);  // after a tag
  // Well-formed text, raw or escaped, loads.
  CHECK(parse_yaml("caf\xc3\xa9: \"\\u00e9\"\n", "t.yaml").value["caf\xc3\xa9"] == "\xc3\xa9");
}

// Found by the fuzzer (tests/fuzz): these escaped as std::out_of_range, an
// internal error, instead of a located mistake.
TEST_CASE("numbers beyond the range of a double or of 64 bits are located errors") {
  CHECK(first_error("a: 1\nb: [1e309]\n") ==
        "t.yaml:2:5: error: number 1e309 is out of range of a 64-bit float\n"
        "  hint: numbers in a recipe are 0 or between about 2.2e-308 and 1.8e308 in magnitude; quote it to keep it a string");
  CHECK(first_error("a: -1e-400\n").rfind("t.yaml:1:4: error: number -1e-400 is out of range", 0) == 0);
  CHECK(first_error("a: " + std::string(400, '9') + "\n").rfind("t.yaml:1:4: error: number 999", 0) == 0);
  CHECK(first_error("a: 0x10000000000000000\n").rfind("t.yaml:1:4: error: integer 0x10000000000000000 does not fit in 64 bits", 0) == 0);
  CHECK(first_error("a: 0o7777777777777777777777777\n").find("does not fit in 64 bits") != std::string::npos);
  CHECK(parse_yaml("a: 0xffffffffffffffff\nb: +1.5e3\nc: '1e309'\n", "t.yaml").value ==
        json{{"a", 18446744073709551615ULL}, {"b", 1500.0}, {"c", "1e309"}});
}

TEST_CASE("an empty document is null") {
  CHECK(parse_yaml("", "t.yaml").value.is_null());
  CHECK(parse_yaml("# only a comment\n", "t.yaml").value.is_null());
}

TEST_CASE("JSON pointers escape and unescape '~' and '/'") {
  using modelc::spec::pointer_append;
  using modelc::spec::pointer_tokens;
  CHECK(pointer_append("/a", "b/c~d") == "/a/b~1c~0d");
  CHECK(pointer_append("", size_t{3}) == "/3");
  CHECK(pointer_tokens("/a/b~1c~0d") == std::vector<std::string>{"a", "b/c~d"});
  CHECK(pointer_tokens("").empty());
  CHECK(pointer_tokens("/") == std::vector<std::string>{""});
}
