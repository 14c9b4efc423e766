// The library cache hands back the files it was given, checked against their
// recorded digests; a changed entry is reported, dropped and linked again;
// a slot keeps one entry.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "support/file_io.h"
#include "support/sha256.h"
#include "targets/library_cache.h"

namespace fs = std::filesystem;
using namespace modelc;
using namespace modelc::targets;

namespace {

// A scratch folder (support/file_io.h) with the build's and the output's folders in it.
struct Workspace {
  Workspace() {
    fs::create_directories(path / "build");
    fs::create_directories(path / "out");
  }
  ScratchDirectory scratch{"modelc-library-cache-test"};
  const fs::path& path = scratch.path();
};

// Writes the files of a build into `folder`: their digests by path.
std::map<fs::path, std::string> made(const fs::path& folder, const std::string& version) {
  std::map<fs::path, std::string> files;
  for (const std::string name : {"libm.a", "libm.so", "runner"}) {
    const fs::path p = folder / name;
    write_file_atomic(p, name + " of " + version + std::string(3000, 'w'));
    files[p] = sha256_file(p);
  }
  fs::permissions(folder / "runner", fs::perms::owner_exec, fs::perm_options::add);
  return files;
}

const std::string kKeyA(64, 'a');
const std::string kKeyB(64, 'b');

}  // namespace

TEST_CASE("stored libraries come back byte for byte, with their digests and modes") {
  Workspace tmp;
  std::vector<std::string> warnings;
  const LibraryCache cache(tmp.path / "cache", [&](const std::string& w) { warnings.push_back(w); });
  CHECK_FALSE(cache.restore(kKeyA, tmp.path / "out"));
  const std::map<fs::path, std::string> files = made(tmp.path / "build", "v1");
  cache.store("slot", kKeyA, files);
  const auto restored = cache.restore(kKeyA, tmp.path / "out");
  REQUIRE(restored);
  CHECK(restored->size() == 3);
  for (const auto& [path, digest] : files) {
    const fs::path copy = tmp.path / "out" / path.filename();
    CHECK(read_text_file(copy) == read_text_file(path));
    CHECK(restored->at(copy) == digest);
  }
  CHECK((fs::status(tmp.path / "out" / "runner").permissions() & fs::perms::owner_exec) != fs::perms::none);
  CHECK(warnings.empty());
}

TEST_CASE("restored files are links to the entry on one file system, and restoring over them keeps the entry") {
  Workspace tmp;
  std::vector<std::string> warnings;
  const LibraryCache cache(tmp.path / "cache", [&](const std::string& w) { warnings.push_back(w); });
  const std::map<fs::path, std::string> files = made(tmp.path / "build", "v1");
  cache.store("slot", kKeyA, files);
  REQUIRE(cache.restore(kKeyA, tmp.path / "out"));
  CHECK(fs::equivalent(tmp.path / "out" / "libm.so", cache.entry_path(kKeyA) / "libm.so"));
  // Again into the same folder: a copy over the existing name would write
  // through the link and truncate the entry it copies from.
  const auto again = cache.restore(kKeyA, tmp.path / "out");
  REQUIRE(again);
  for (const auto& [path, digest] : files) {
    CHECK(again->at(tmp.path / "out" / path.filename()) == digest);
    CHECK(sha256_file(cache.entry_path(kKeyA) / path.filename()) == digest);
  }
  CHECK(warnings.empty());
}

TEST_CASE("an output edited in place changes its linked entry, which the next restore reports and drops") {
  Workspace tmp;
  std::vector<std::string> warnings;
  const LibraryCache cache(tmp.path / "cache", [&](const std::string& w) { warnings.push_back(w); });
  cache.store("slot", kKeyA, made(tmp.path / "build", "v1"));
  REQUIRE(cache.restore(kKeyA, tmp.path / "out"));
  {
    std::ofstream edit(tmp.path / "out" / "libm.a", std::ios::binary | std::ios::in | std::ios::out);
    edit.seekp(10);
    edit << "patched";
  }
  fs::create_directories(tmp.path / "out2");
  CHECK_FALSE(cache.restore(kKeyA, tmp.path / "out2"));
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("libm.a") != std::string::npos);
  CHECK(fs::is_empty(tmp.path / "out2"));
}

TEST_CASE("an entry whose file changed on disk is reported, removed and not used") {
  Workspace tmp;
  std::vector<std::string> warnings;
  const LibraryCache cache(tmp.path / "cache", [&](const std::string& w) { warnings.push_back(w); });
  cache.store("slot", kKeyA, made(tmp.path / "build", "v1"));
  write_file_atomic(cache.entry_path(kKeyA) / "libm.so", std::string("changed"));
  CHECK_FALSE(cache.restore(kKeyA, tmp.path / "out"));
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("libm.so") != std::string::npos);
  CHECK_FALSE(fs::exists(cache.entry_path(kKeyA)));
  CHECK(fs::is_empty(tmp.path / "out"));  // nothing half-restored is left behind
}

TEST_CASE("an entry file that is a symbolic link is damage, never shipped") {
  Workspace tmp;
  std::vector<std::string> warnings;
  const LibraryCache cache(tmp.path / "cache", [&](const std::string& w) { warnings.push_back(w); });
  cache.store("slot", kKeyA, made(tmp.path / "build", "v1"));
  // The same bytes elsewhere, the entry's file replaced by a link to them:
  // the digest would match, but the output would get a symbolic link.
  const fs::path entry_file = cache.entry_path(kKeyA) / "libm.so";
  fs::copy_file(entry_file, tmp.path / "elsewhere.so");
  fs::remove(entry_file);
  fs::create_symlink(tmp.path / "elsewhere.so", entry_file);
  fs::create_directories(tmp.path / "out2");
  CHECK_FALSE(cache.restore(kKeyA, tmp.path / "out2"));
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("libm.so") != std::string::npos);
  CHECK(fs::is_empty(tmp.path / "out2"));
  CHECK(fs::exists(tmp.path / "elsewhere.so"));
}

TEST_CASE("a file list that names a path outside the entry, or none, is damage") {
  Workspace tmp;
  std::vector<std::string> warnings;
  const LibraryCache cache(tmp.path / "cache", [&](const std::string& w) { warnings.push_back(w); });
  for (const std::string list : {std::string("modelc-library-cache-entry 1\n../evil 1 ") + std::string(64, '0') + "\n",
                                 std::string("modelc-library-cache-entry 1\n"), std::string("garbage")}) {
    cache.store("slot", kKeyA, made(tmp.path / "build", "v1"));
    write_file_atomic(cache.entry_path(kKeyA) / "files", list);
    CHECK_FALSE(cache.restore(kKeyA, tmp.path / "out"));
    CHECK_FALSE(fs::exists(cache.entry_path(kKeyA)));
  }
  CHECK(warnings.size() == 3);
  CHECK_FALSE(fs::exists(tmp.path / "evil"));
}

TEST_CASE("a slot keeps only its latest entry; other slots keep theirs") {
  Workspace tmp;
  const LibraryCache cache(tmp.path / "cache", {});
  cache.store("model-1", kKeyA, made(tmp.path / "build", "v1"));
  const std::string other(64, 'c');
  cache.store("model-2", other, made(tmp.path / "build", "other"));
  cache.store("model-1", kKeyB, made(tmp.path / "build", "v2"));
  CHECK_FALSE(fs::exists(cache.entry_path(kKeyA)));
  CHECK(fs::exists(cache.entry_path(kKeyB)));
  CHECK(fs::exists(cache.entry_path(other)));
  const auto restored = cache.restore(kKeyB, tmp.path / "out");
  REQUIRE(restored);
  CHECK(read_text_file(tmp.path / "out" / "libm.a").rfind("libm.a of v2", 0) == 0);
}

TEST_CASE("without a cache folder nothing is stored or found") {
  Workspace tmp;
  const LibraryCache cache({}, {});
  cache.store("slot", kKeyA, made(tmp.path / "build", "v1"));
  CHECK_FALSE(cache.restore(kKeyA, tmp.path / "out"));
  CHECK(fs::is_empty(tmp.path / "out"));
}
