// The code cache keeps what it was given and hands back nothing else: a
// damaged entry is reported and treated as missing.
#include <doctest/doctest.h>

#include <filesystem>
#include <random>

#include "support/file_io.h"
#include "targets/code_cache.h"

namespace fs = std::filesystem;
using namespace modelc;
using namespace modelc::targets;

namespace {

struct TempFolder {
  TempFolder() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("modelc-cache-test-" + std::to_string(rd()) + std::to_string(rd()));
  }
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> out;
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

const std::string kKey = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

}  // namespace

TEST_CASE("an entry comes back as it was stored, with or without its statement") {
  TempFolder tmp;
  std::vector<std::string> warnings;
  const CodeCache cache(tmp.path, "kernel", [&](const std::string& w) { warnings.push_back(w); });
  CHECK_FALSE(cache.load(kKey, false));
  const std::string object("\x7f" "ELF\0\n\nbinary\n\n", 15);
  cache.store(kKey, {bytes_of(object), std::nullopt});
  auto entry = cache.load(kKey, false);
  REQUIRE(entry);
  CHECK(entry->object == bytes_of(object));
  CHECK_FALSE(entry->stmt);
  CHECK_FALSE(cache.load(kKey, true));  // no statement: a miss, not damage
  cache.store(kKey, {bytes_of(object), std::string("stmt text\n")});
  entry = cache.load(kKey, true);
  REQUIRE(entry);
  CHECK(*entry->stmt == "stmt text\n");
  CHECK(warnings.empty());
  CHECK(fs::exists(tmp.path / "kernels" / (kKey + ".entry")));
}

TEST_CASE("a truncated, altered or foreign entry is reported and not used") {
  TempFolder tmp;
  std::vector<std::string> warnings;
  const CodeCache cache(tmp.path, "kernel", [&](const std::string& w) { warnings.push_back(w); });
  const std::string object(4096, 'o');
  cache.store(kKey, {bytes_of(object), std::string("statement")});
  const fs::path file = cache.entry_path(kKey);
  const std::string whole = read_text_file(file);

  auto damaged = [&](const std::string& text, const std::string& why) {
    write_file_atomic(file, text);
    warnings.clear();
    CHECK_FALSE(cache.load(kKey, false));
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find(file.string()) != std::string::npos);
    CHECK(warnings[0].find(why) != std::string::npos);
  };
  SUBCASE("truncated in the object") { damaged(whole.substr(0, whole.size() - 100), "object is cut short"); }
  SUBCASE("truncated in the header") { damaged(whole.substr(0, 40), "header is cut short"); }
  SUBCASE("empty") { damaged("", "does not start with the entry header"); }
  SUBCASE("one byte changed") {
    std::string changed = whole;
    changed[changed.size() - 2000] ^= 1;
    damaged(changed, "sha256 of object differs");
  }
  SUBCASE("bytes appended") { damaged(whole + "x", "1 bytes past its parts"); }
  SUBCASE("a plain object file of the old cache") { damaged("\x7f" "ELF...", "does not start with the entry header"); }
}

TEST_CASE("an empty folder disables the cache") {
  const CodeCache cache({}, "kernel", {});
  cache.store(kKey, {bytes_of("x"), std::nullopt});
  CHECK_FALSE(cache.load(kKey, false));
}

TEST_CASE("a cache that cannot be written is a warning, not an error") {
  TempFolder tmp;
  fs::create_directories(tmp.path.parent_path());
  write_file_atomic(tmp.path, "a file where the cache folder should be");
  std::vector<std::string> warnings;
  const CodeCache cache(tmp.path, "kernel", [&](const std::string& w) { warnings.push_back(w); });
  cache.store(kKey, {bytes_of("x"), std::nullopt});
  CHECK(warnings.size() == 1);
  CHECK_FALSE(cache.load(kKey, false));
  fs::remove(tmp.path);
}
