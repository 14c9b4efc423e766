// Whole-file reads and atomic writes. Artifacts are written to a temporary name
// and renamed into place, so a failure never leaves a half-written file.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "support/byte_buffer.h"

namespace modelc {

// Throw modelc::Error naming the file when it cannot be read.
std::string read_text_file(const std::filesystem::path& path);
std::vector<std::byte> read_binary_file(const std::filesystem::path& path);
// For large files (models): in huge pages when a megabyte or more (byte_buffer.h).
ByteBuffer read_binary_buffer(const std::filesystem::path& path);

// "<pid>-<random>": for temporary names next to a file or folder being made.
std::string unique_suffix();

void write_file_atomic(const std::filesystem::path& path, std::string_view text);
void write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> bytes);

// The file modelc writes into every output folder it makes (artifacts, IR
// dumps, the folders of variants). A build replaces an existing folder only
// when it holds this marker: `-o ~ --emit ir` must not delete a ~/ir of the
// user's.
inline constexpr const char* kOutputFolderMarker = ".modelc-output";

// The kind written in `folder`'s marker ("artifact", "ir", "variant"), or ""
// when `folder` is not a folder holding a marker (symbolic links count as not).
std::string output_folder_kind(const std::filesystem::path& folder);
void write_output_folder_marker(const std::filesystem::path& folder, const std::string& kind);

// Throws modelc::Error naming `path` unless a build may replace it: it does not
// exist, it is a folder modelc made (it holds the marker), or `force`.
void check_replaceable_output(const std::filesystem::path& path, bool force);

// A directory that is built under a temporary name next to `final_path` and
// moved into place by commit(); if never committed it is removed, so an error
// halfway through a build leaves no partial output folder behind. It holds the
// output folder marker of `kind`, and replaces only what
// check_replaceable_output allows (checked when made and again on commit).
class StagingDirectory {
 public:
  StagingDirectory(std::filesystem::path final_path, const std::string& kind, bool force = false);
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
  bool force_ = false;
  bool committed_ = false;
  std::filesystem::path created_;  // the outermost folder the constructor created, if any
};

// A fresh folder under the system's temporary directory, named
// <prefix>-<random>, removed with everything in it when destroyed.
class ScratchDirectory {
 public:
  explicit ScratchDirectory(const std::string& prefix);
  ~ScratchDirectory();
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace modelc
