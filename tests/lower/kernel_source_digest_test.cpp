// The kernel cache key follows the sources: the digest compiled into modelc
// is the digest of the files that shape kernels as they are now, every source
// file under lower/ and lang/ops/ is among them, and the build script gives a
// new digest for any edit and refuses a file it was not told about.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <set>

#include "lower/lowering.h"
#include "support/file_io.h"
#include "support/process.h"
#include "support/sha256.h"

namespace fs = std::filesystem;
using namespace modelc;

namespace {

fs::path source_root() {
  const char* root = std::getenv("MODELC_SOURCE_ROOT");
  REQUIRE(root);
  return root;
}

// The script's scheme: sha256 over "<path>\0<size>\0<bytes>" of each file, in sorted order.
std::string digest_of(const fs::path& root, std::vector<std::string> files) {
  std::sort(files.begin(), files.end());
  std::string all;
  for (const std::string& f : files) {
    const std::string data = read_text_file(root / f);
    all += f + '\0' + std::to_string(data.size()) + '\0' + data;
  }
  return sha256_hex(all);
}

struct TempFolder {
  TempFolder() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("modelc-digest-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

ProcessResult run_script(const fs::path& root, const std::vector<std::string>& files, const fs::path& output) {
  const auto python = find_executable("python3");
  REQUIRE(python);
  std::vector<std::string> argv{python->string(), (source_root() / "lower/kernel_source_digest.py").string(), "--root",
                                root.string(), "--output", output.string(), "--cover", "lower"};
  for (const std::string& f : files) argv.push_back((root / f).string());
  return run_process(argv);
}

}  // namespace

TEST_CASE("the compiled-in digest is the digest of today's sources") {
  const std::vector<std::string> files = lower::kernel_source_files();
  CHECK(lower::kernel_source_digest().size() == 64);
  CHECK(std::string(lower::kernel_source_digest()) == digest_of(source_root(), files));
}

TEST_CASE("every source file under lower/ and lang/ops/ is in the digest, and so is the printer") {
  const std::vector<std::string> listed = lower::kernel_source_files();
  const std::set<std::string> set(listed.begin(), listed.end());
  for (const char* folder : {"lower", "lang/ops"}) {
    for (const auto& e : fs::recursive_directory_iterator(source_root() / folder)) {
      const std::string ext = e.path().extension().string();
      if (ext != ".h" && ext != ".cpp" && ext != ".c") continue;
      const std::string rel = fs::relative(e.path(), source_root()).generic_string();
      INFO(rel);
      CHECK(set.count(rel));
    }
  }
  CHECK(set.count("lang/printer.cpp"));
  CHECK(set.count("lang/attrs.cpp"));
}

TEST_CASE("kernel_code_identity holds the source digest and what makes the code") {
  const std::string identity = lower::kernel_code_identity();
  CHECK(identity.find("sources=" + std::string(lower::kernel_source_digest())) != std::string::npos);
  CHECK(identity.find("halide=" + lower::halide_version()) != std::string::npos);
  CHECK(identity.find("llvm=" + lower::llvm_version()) != std::string::npos);
  CHECK(identity.find("libHalide") != std::string::npos);  // the build id of the Halide library loaded
}

TEST_CASE("the cache key of a kernel is its hash and the code identity; its hash is not") {
  const std::string hash(64, 'a');
  CHECK(lower::kernel_cache_key(hash) == sha256_hex(hash + "\n" + lower::kernel_code_identity()));
  CHECK(lower::kernel_cache_key(hash) != lower::kernel_cache_key(std::string(64, 'b')));
}

TEST_CASE("the digest script: an edit changes the digest, an unlisted file fails the build") {
  TempFolder tmp;
  fs::create_directories(tmp.path / "lower" / "ops");
  write_file_atomic(tmp.path / "lower/a.cpp", "int a = 1;\n");
  write_file_atomic(tmp.path / "lower/ops/b.h", "#pragma once\n");
  write_file_atomic(tmp.path / "lower/notes.md", "not a source file\n");
  const std::vector<std::string> files{"lower/a.cpp", "lower/ops/b.h"};
  const fs::path out = tmp.path / "digest.cpp";

  const ProcessResult first = run_script(tmp.path, files, out);
  INFO(first.stderr_text);
  REQUIRE(first.exit_code == 0);
  const std::string text = read_text_file(out);
  CHECK(text.find(digest_of(tmp.path, files)) != std::string::npos);
  CHECK(text.find("\"lower/ops/b.h\"") != std::string::npos);

  write_file_atomic(tmp.path / "lower/a.cpp", "int a = 2;\n");
  REQUIRE(run_script(tmp.path, files, out).exit_code == 0);
  CHECK(read_text_file(out) != text);
  CHECK(read_text_file(out).find(digest_of(tmp.path, files)) != std::string::npos);

  write_file_atomic(tmp.path / "lower/ops/new_schedule.cpp", "int s;\n");
  const ProcessResult refused = run_script(tmp.path, files, out);
  CHECK(refused.exit_code != 0);
  CHECK(refused.stderr_text.find("lower/ops/new_schedule.cpp") != std::string::npos);
  CHECK(refused.stderr_text.find("kernel_shaping_sources") != std::string::npos);
}
