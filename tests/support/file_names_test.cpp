// Names from models and recipes as file names: one component, inside the
// folder meant for it, bounded, and distinct where the names are.
#include <doctest/doctest.h>

#include <set>

#include "support/file_names.h"
#include "tests/targets/hostile_names.h"

using namespace modelc;

TEST_CASE("safe_file_name: one harmless path component") {
  CHECK(safe_file_name("output") == "output");
  CHECK(safe_file_name("input.1") == "input.1");
  CHECK(safe_file_name("../../x") == "_._.._x");
  CHECK(safe_file_name("/etc/passwd") == "_etc_passwd");
  CHECK(safe_file_name("a\\b") == "a_b");
  CHECK(safe_file_name("..") == "_.");
  CHECK(safe_file_name(".") == "_");
  CHECK(safe_file_name(".hidden") == "_hidden");
  CHECK(safe_file_name("") == "_");
  CHECK(safe_file_name(std::string("a\0b", 3)) == "a_b");
  CHECK(safe_file_name("line\nbreak") == "line_break");
  CHECK(safe_file_name("\xe5\x90\x8d\xe5\x89\x8d") == "_");
  for (const std::string& name : test::hostile_names()) {
    const std::string f = safe_file_name(name);
    INFO(f);
    CHECK(!f.empty());
    CHECK(f.size() <= kMaxFileNameBytes);
    CHECK(f != ".");
    CHECK(f != "..");
    CHECK(f[0] != '.');
    for (char c : f)
      CHECK(((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
             c == '+' || c == '.'));
  }
}

TEST_CASE("safe_file_name: long names keep their start and differ where the names do") {
  const std::string a(10000, 'n'), b = std::string(9999, 'n') + "m";
  CHECK(safe_file_name(a).size() == kMaxFileNameBytes);
  CHECK(safe_file_name(a).rfind(std::string(40, 'n'), 0) == 0);
  CHECK(safe_file_name(a) != safe_file_name(b));
  CHECK(safe_file_name(std::string(kMaxFileNameBytes, 'x')) == std::string(kMaxFileNameBytes, 'x'));
}

TEST_CASE("FileNamer: distinct names in the order given, reserved names never given") {
  FileNamer namer(".npy", {"ir"});
  CHECK(namer.add("a/b") == "a_b.npy");
  CHECK(namer.add("a_b") == "a_b-2.npy");
  CHECK(namer.add("a:b") == "a_b-3.npy");
  CHECK(namer.add("A_B") == "A_B-4.npy");  // case-insensitive file systems
  CHECK(namer.add("x") == "x.npy");
  FileNamer folders("", {"ir"});
  CHECK(folders.add("ir") == "ir-2");
  // The same names in the same order give the same files.
  FileNamer again(".npy", {"ir"});
  CHECK(again.add("a/b") == "a_b.npy");
  CHECK(again.add("a_b") == "a_b-2.npy");
  std::set<std::string> files;
  FileNamer all(".npy");
  for (const std::string& name : test::hostile_names()) CHECK(files.insert(all.add(name)).second);
}
