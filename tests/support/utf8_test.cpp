#include <doctest/doctest.h>

#include "support/utf8.h"

using namespace modelc;

TEST_CASE("is_valid_utf8 follows the standard's table of well-formed sequences") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("ascii"));
  CHECK(is_valid_utf8("\xe5\x90\x8d"));          // 名
  CHECK(is_valid_utf8("\xf0\x9f\x98\x80"));      // U+1F600
  CHECK(is_valid_utf8(std::string("a\0b", 3)));  // NUL is a character
  CHECK_FALSE(is_valid_utf8("\xff"));
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));      // a surrogate
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xe5\x90"));          // cut short
  CHECK(valid_utf8("a\xff" "b\xe5\x90") == "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd");
  CHECK(valid_utf8("\xe5\x90\x8d") == "\xe5\x90\x8d");
}

TEST_CASE("hex_bytes and parse_hex_bytes are inverses") {
  const std::string bytes("\x00\xff/a", 4);
  CHECK(hex_bytes(bytes) == "00ff2f61");
  std::string back = "unchanged";
  CHECK(parse_hex_bytes("00ff2f61", back));
  CHECK(back == bytes);
  CHECK_FALSE(parse_hex_bytes("0", back));
  CHECK_FALSE(parse_hex_bytes("zz", back));
  CHECK(back == bytes);
}
