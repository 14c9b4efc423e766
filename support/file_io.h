// Whole-file reads and atomic writes. Artifacts are written to a temporary name
// and renamed into place, so a failure never leaves a half-written file.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace modelc {

// Throw modelc::Error naming the file when it cannot be read.
std::string read_text_file(const std::filesystem::path& path);
std::vector<std::byte> read_binary_file(const std::filesystem::path& path);

void write_file_atomic(const std::filesystem::path& path, std::string_view text);
void write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> bytes);

// A directory that is built under a temporary name next to `final_path` and
// moved into place by commit(); if never committed it is removed, so an error
// halfway through a build leaves no partial output folder behind.
class StagingDirectory {
 public:
  explicit StagingDirectory(std::filesystem::path final_path);
  ~StagingDirectory();
  StagingDirectory(const StagingDirectory&) = delete;
  StagingDirectory& operator=(const StagingDirectory&) = delete;

  const std::filesystem::path& path() const { return staging_; }
  const std::filesystem::path& final_path() const { return final_; }
  // Replaces final_path (if it exists) with the staged contents.
  void commit();

 private:
  std::filesystem::path final_;
  std::filesystem::path staging_;
  bool committed_ = false;
};

}  // namespace modelc
