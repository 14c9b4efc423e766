// Names a hostile (or merely unusual) model may give its tensors, for the tests
// of every place a name reaches C source or a file name.
#pragma once

#include <string>
#include <vector>

namespace modelc::test {

inline std::vector<std::string> hostile_names() {
  using namespace std::string_literals;
  return {
      "plain",
      "*/ typedef char comment_closed[-1]; /*",  // closes a comment
      "/* nested",
      "x*/y/*z",
      "quote\"d",
      "back\\slash",
      "ends with backslash\\",
      "line\nbreak",
      "\\\nspliced",
      "tab\there",
      "cr\rreturn",
      "?\?/",                                 // the trigraph ??/ (a backslash)
      "?\?=?\?(?\?)?\?'?\?<?\?!?\?>?\?-",  // every other trigraph
      "trailing?\?",
      "\x01" "7 octal run",                   // a control byte followed by a digit
      "hex\x1f" "ff",
      "nul\0inside"s,                         // protobuf strings may hold NUL
      "utf8 \xe5\x90\x8d\xe5\x89\x8d",        // valid UTF-8
      "bad utf8 \xff\xfe\xc0\xaf",            // invalid UTF-8
      "\x7f" "del",
      "../../escape",
      "/absolute/path",
      "a/b\\c",
      ".",
      "..",
      ".hidden",
      "%s%n",
      "",
      std::string(10000, 'n'),
      std::string(300, 'n') + "/" + std::string(300, 'm'),
  };
}

}  // namespace modelc::test
