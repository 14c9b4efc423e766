#include "targets/library_cache.h"

#include <future>
#include <sstream>

#include "support/diagnostic.h"
#include "support/file_io.h"
#include "support/sha256.h"

namespace fs = std::filesystem;

namespace modelc::targets {
namespace {

constexpr const char* kListName = "files";  // "<name> <size> <sha256>" per file
constexpr std::string_view kListMagic = "modelc-library-cache-entry 1\n";

struct Listed {
  std::string name;
  uintmax_t size = 0;
  std::string sha256;
};

// The entry's file list, or nullopt when it is not one (a name must be a
// plain file name: an entry never writes outside the output folder).
std::optional<std::vector<Listed>> parse_list(const std::string& text) {
  if (text.rfind(kListMagic, 0) != 0) return std::nullopt;
  std::istringstream lines(text.substr(kListMagic.size()));
  std::vector<Listed> files;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    Listed f;
    if (!(fields >> f.name >> f.size >> f.sha256) || f.sha256.size() != 64) return std::nullopt;
    if (fs::path(f.name).filename() != f.name || f.name == "." || f.name == ".." || f.name == kListName) return std::nullopt;
    files.push_back(std::move(f));
  }
  if (files.empty()) return std::nullopt;
  return files;
}

// Puts `from` at `to` as a hard link where both lie on one file system, else
// as a copy. ResNet-18's 190 MB of libraries took 0.17 s to copy (a third of
// a warm compile, page faults and the kernel's memcpy); a link is a few
// microseconds. An existing `to` is removed first, never written through: it
// could itself be a link to an entry. Only a regular file is taken: a link
// to a symbolic link would ship the symbolic link (a copy followed it).
void link_or_copy(const fs::path& from, const fs::path& to, std::error_code& ec) {
  if (fs::symlink_status(from, ec).type() != fs::file_type::regular) {
    if (!ec) ec = std::make_error_code(std::errc::not_supported);
    return;
  }
  fs::remove(to, ec);
  fs::create_hard_link(from, to, ec);
  if (!ec) return;
  ec.clear();
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
}

}  // namespace

LibraryCache::LibraryCache(const fs::path& cache_dir, WarnFn warn)
    : folder_(cache_dir.empty() ? fs::path() : cache_dir / "libraries"), warn_(std::move(warn)) {}

fs::path LibraryCache::entry_path(const std::string& key) const { return folder_ / key; }

std::optional<std::map<fs::path, std::string>> LibraryCache::restore(const std::string& key, const fs::path& out) const {
  if (folder_.empty()) return std::nullopt;
  const fs::path entry = entry_path(key);
  std::error_code ec;
  if (!fs::is_directory(entry, ec)) return std::nullopt;
  std::vector<fs::path> copied;
  auto drop = [&](const std::string& why) -> std::optional<std::map<fs::path, std::string>> {
    for (const fs::path& p : copied) fs::remove(p, ec);
    if (warn_) warn_("the cached libraries " + entry.string() + " are damaged (" + why + "); linking again");
    fs::remove_all(entry, ec);
    return std::nullopt;
  };
  std::optional<std::vector<Listed>> files;
  try {
    files = parse_list(read_text_file(entry / kListName));
  } catch (const Error&) {
    // Removed (replaced in its slot) since it was found: a miss, not damage.
    if (!fs::exists(entry, ec)) return std::nullopt;
  }
  if (!files) return drop("its file list is missing or malformed");
  // Each file linked (or copied) into `out` and hashed there on a thread of
  // its own: what is checked is what ships. A link shares the entry's
  // contents with the output, so an output edited in place changes the
  // entry too; its digest then differs and the entry is dropped here.
  struct Copied {
    std::string error, digest;
  };
  std::vector<std::future<Copied>> work;
  for (const Listed& f : *files)
    work.push_back(std::async(std::launch::async, [&entry, &out, name = f.name] {
      std::error_code copy_ec;
      link_or_copy(entry / name, out / name, copy_ec);
      if (copy_ec) return Copied{copy_ec.message(), {}};
      try {
        return Copied{{}, sha256_file(out / name)};
      } catch (const Error& e) {
        return Copied{e.what(), {}};
      }
    }));
  std::vector<Copied> results;
  for (std::future<Copied>& w : work) results.push_back(w.get());
  for (const Listed& f : *files) copied.push_back(out / f.name);
  std::map<fs::path, std::string> restored;
  std::string differs;
  for (size_t i = 0; i < files->size(); ++i) {
    const Listed& f = (*files)[i];
    if (!results[i].error.empty()) {
      if (!fs::exists(entry, ec)) {  // removed meanwhile: a miss
        for (const fs::path& p : copied) fs::remove(p, ec);
        return std::nullopt;
      }
      return drop("cannot copy " + f.name + ": " + results[i].error);
    }
    if (results[i].digest != f.sha256 || fs::file_size(copied[i], ec) != f.size) differs = f.name;
    restored[copied[i]] = results[i].digest;
  }
  if (!differs.empty()) return drop("the sha256 of " + differs + " differs from the one recorded");
  return restored;
}

void LibraryCache::store(const std::string& slot, const std::string& key, const std::map<fs::path, std::string>& files) const {
  if (folder_.empty()) return;
  std::error_code ec;
  const fs::path entry = entry_path(key);
  const fs::path slot_file = folder_ / (slot + ".slot");
  try {
    if (!fs::is_directory(entry, ec)) {
      fs::create_directories(folder_, ec);
      if (ec) throw Error("cannot create " + folder_.string() + ": " + ec.message());
      const fs::path tmp = folder_ / (".tmp-" + key + "-" + unique_suffix());
      fs::create_directory(tmp, ec);
      if (ec) throw Error("cannot create " + tmp.string() + ": " + ec.message());
      std::string list(kListMagic);
      try {
        for (const auto& [path, digest] : files) {
          link_or_copy(path, tmp / path.filename(), ec);
          if (ec) throw Error("cannot copy " + path.string() + " into the cache: " + ec.message());
          list += path.filename().string() + " " + std::to_string(fs::file_size(path)) + " " + digest + "\n";
        }
        write_file_atomic(tmp / kListName, list);
      } catch (...) {
        fs::remove_all(tmp, ec);
        throw;
      }
      // Another builder may have stored the same entry meanwhile: theirs stays.
      fs::rename(tmp, entry, ec);
      if (ec) fs::remove_all(tmp, ec);
    }
    std::string previous;
    if (fs::exists(slot_file, ec)) previous = read_text_file(slot_file);
    write_file_atomic(slot_file, key);
    if (!previous.empty() && previous != key && previous.find('/') == std::string::npos &&
        previous.find("..") == std::string::npos)
      fs::remove_all(entry_path(previous), ec);
  } catch (const Error& e) {
    if (warn_) warn_(std::string("cannot store the libraries in the cache: ") + e.what());
  }
}

}  // namespace modelc::targets
