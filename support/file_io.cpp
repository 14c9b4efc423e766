#include "support/file_io.h"

#include <unistd.h>

#include <fstream>
#include <random>
#include <system_error>
#include <type_traits>

#include "support/diagnostic.h"

namespace fs = std::filesystem;

namespace modelc {
namespace {

[[noreturn]] void file_error(const fs::path& path, const std::string& what) {
  throw Error(Diagnostic{Severity::error, {path.string()}, {}, what, {}});
}

template <typename Container>
Container read_file_as(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) file_error(path, "expected a file, found a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) file_error(path, fs::exists(path, ec) ? "cannot read file" : "file does not exist");
  in.seekg(0, std::ios::end);
  const std::streamoff end = in.tellg();
  // A pipe or device has no size: tellg() fails with -1, which as a size_t would ask for 2^64 bytes.
  if (!in || end < 0) file_error(path, "cannot read file: it has no size (not a regular file?)");
  const auto size = static_cast<size_t>(end);
  in.seekg(0);
  Container out = [size] {
    if constexpr (std::is_same_v<Container, ByteBuffer>) return ByteBuffer(size);
    else return Container(size, typename Container::value_type{});
  }();
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(size));
  if (!in) file_error(path, "cannot read file");
  return out;
}

void write_bytes_atomic(const fs::path& path, const void* data, size_t size) {
  const fs::path tmp = path.string() + ".tmp-" + unique_suffix();
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) file_error(path, "cannot write file");
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      file_error(path, "cannot write file (disk full?)");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    file_error(path, "cannot move file into place: " + ec.message());
  }
}

}  // namespace

std::string unique_suffix() {
  std::random_device rd;
  return std::to_string(::getpid()) + "-" + std::to_string(rd());
}

std::string read_text_file(const fs::path& path) { return read_file_as<std::string>(path); }

std::vector<std::byte> read_binary_file(const fs::path& path) {
  return read_file_as<std::vector<std::byte>>(path);
}

ByteBuffer read_binary_buffer(const fs::path& path) { return read_file_as<ByteBuffer>(path); }

void write_file_atomic(const fs::path& path, std::string_view text) {
  write_bytes_atomic(path, text.data(), text.size());
}

void write_file_atomic(const fs::path& path, std::span<const std::byte> bytes) {
  write_bytes_atomic(path, bytes.data(), bytes.size());
}

std::string output_folder_kind(const fs::path& folder) {
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(folder, ec))) return "";
  const fs::path marker = folder / kOutputFolderMarker;
  if (!fs::is_regular_file(fs::symlink_status(marker, ec))) return "";
  std::ifstream in(marker);
  std::string kind;
  std::getline(in, kind);
  return kind.empty() ? "unknown" : kind;
}

void write_output_folder_marker(const fs::path& folder, const std::string& kind) {
  write_file_atomic(folder / kOutputFolderMarker,
                    kind + "\nmodelc made this folder and replaces it whole on the next build.\n");
}

void check_replaceable_output(const fs::path& path, bool force) {
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(path, ec);
  if (force || !fs::exists(status) || !output_folder_kind(path).empty()) return;
  const std::string what = fs::is_directory(status) ? "folder" : fs::is_symlink(status) ? "symbolic link" : "file";
  throw Error(Diagnostic{Severity::error, {path.string()}, {},
                         "the output " + what + " exists and modelc did not make it (it has no " + kOutputFolderMarker +
                             " marker); a build would replace it, so modelc refuses",
                         "move it away, choose another output folder with -o, or pass --force to replace it"});
}

StagingDirectory::StagingDirectory(fs::path final_path, const std::string& kind, bool force)
    : final_(std::move(final_path)), force_(force) {
  check_replaceable_output(final_, force_);
  const fs::path parent = final_.has_parent_path() ? final_.parent_path() : fs::path(".");
  std::error_code ec;
  // The outermost folder this creates, removed again (when still empty) if
  // the build fails: a failed build leaves no output folder behind.
  for (fs::path p = parent; !p.empty() && !fs::exists(fs::symlink_status(p, ec)); p = p.parent_path()) {
    created_ = p;
    if (p == p.parent_path()) break;
  }
  fs::create_directories(parent, ec);
  if (ec) file_error(parent, "cannot create directory: " + ec.message());
  staging_ = parent / ("." + final_.filename().string() + ".staging-" + unique_suffix());
  fs::create_directories(staging_, ec);
  if (ec) file_error(staging_, "cannot create directory: " + ec.message());
  write_output_folder_marker(staging_, kind);
}

StagingDirectory::~StagingDirectory() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(staging_, ec);
  if (created_.empty()) return;
  // fs::remove takes only empty folders: stops at one another build filled.
  for (fs::path p = staging_.parent_path(); fs::remove(p, ec) && p != created_; p = p.parent_path()) {
  }
}

void StagingDirectory::commit() {
  check_replaceable_output(final_, force_);
  std::error_code ec;
  const fs::path old = final_.string() + ".old-" + unique_suffix();
  const bool had_old = fs::exists(fs::symlink_status(final_, ec));
  if (had_old) {
    fs::rename(final_, old, ec);
    if (ec) file_error(final_, "cannot replace output folder: " + ec.message());
  }
  fs::rename(staging_, final_, ec);
  if (ec) {
    if (had_old) fs::rename(old, final_, ec);
    file_error(final_, "cannot move output folder into place");
  }
  if (had_old) fs::remove_all(old, ec);
  committed_ = true;
}

ScratchDirectory::ScratchDirectory(const std::string& prefix) {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() / (prefix + "-" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

ScratchDirectory::~ScratchDirectory() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace modelc
