// Output folders: a build replaces only what modelc made.
#include <doctest/doctest.h>

#include <functional>
#include <random>

#include "support/diagnostic.h"
#include "support/file_io.h"

namespace fs = std::filesystem;
using namespace modelc;

namespace {

struct TempFolder {
  TempFolder() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("modelc-output-test-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

std::string error_text(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.diagnostics().front().format();
  }
  return "";
}

}  // namespace

TEST_CASE("a staged folder holds the marker and replaces an earlier one of modelc's") {
  TempFolder tmp;
  const fs::path out = tmp.path / "host";
  {
    StagingDirectory first(out, "artifact");
    write_file_atomic(first.path() / "a.txt", "first");
    first.commit();
  }
  CHECK(output_folder_kind(out) == "artifact");
  {
    StagingDirectory second(out, "artifact");
    write_file_atomic(second.path() / "b.txt", "second");
    second.commit();
  }
  CHECK_FALSE(fs::exists(out / "a.txt"));
  CHECK(read_text_file(out / "b.txt") == "second");
  CHECK(output_folder_kind(out) == "artifact");
}

TEST_CASE("a folder modelc did not make is kept, and the build refused with its name") {
  TempFolder tmp;
  const fs::path out = tmp.path / "ir";
  fs::create_directories(out);
  write_file_atomic(out / "notes.txt", "the user's");
  const std::string message = error_text([&] { StagingDirectory staging(out, "ir"); });
  CHECK(message.find(out.string()) == 0);
  CHECK(message.find("modelc did not make it") != std::string::npos);
  CHECK(message.find("--force") != std::string::npos);
  CHECK(read_text_file(out / "notes.txt") == "the user's");
  // No staging folder is left behind either.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(tmp.path)) ++entries;
  CHECK(entries == 1);
}

TEST_CASE("a file or a symbolic link where the folder goes is refused too") {
  TempFolder tmp;
  write_file_atomic(tmp.path / "file", "data");
  CHECK(error_text([&] { check_replaceable_output(tmp.path / "file", false); }).find("output file exists") !=
        std::string::npos);
  fs::create_directories(tmp.path / "target");
  write_output_folder_marker(tmp.path / "target", "artifact");
  fs::create_directory_symlink(tmp.path / "target", tmp.path / "link");
  CHECK(error_text([&] { check_replaceable_output(tmp.path / "link", false); }).find("symbolic link") !=
        std::string::npos);
  CHECK(error_text([&] { check_replaceable_output(tmp.path / "missing", false); }).empty());
}

TEST_CASE("--force replaces a foreign folder") {
  TempFolder tmp;
  const fs::path out = tmp.path / "host";
  fs::create_directories(out);
  write_file_atomic(out / "notes.txt", "the user's");
  StagingDirectory staging(out, "artifact", true);
  write_file_atomic(staging.path() / "lib.a", "built");
  staging.commit();
  CHECK_FALSE(fs::exists(out / "notes.txt"));
  CHECK(output_folder_kind(out) == "artifact");
}

TEST_CASE("a foreign folder that appears while building is not replaced on commit") {
  TempFolder tmp;
  const fs::path out = tmp.path / "host";
  StagingDirectory staging(out, "artifact");
  fs::create_directories(out);
  write_file_atomic(out / "notes.txt", "the user's");
  CHECK_THROWS_AS(staging.commit(), Error);
  CHECK(read_text_file(out / "notes.txt") == "the user's");
}
