// The persistent cache of compiled code ($MODELC_CACHE): Halide kernels and
// Halide runtimes, one file per entry, named by its key.
//
// An entry holds a header with the size and sha256 of each part (the object
// file, and the kernel's Halide statement when one was asked for) and then the
// parts. Entries are written under a temporary name and renamed into place, so
// builders running at the same time never see half an entry; each entry is
// verified when it is read, and one that does not verify (truncated, changed
// on disk) is reported through `warn` and treated as missing: it is compiled
// again and replaced, never linked.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace modelc::targets {

struct CacheEntry {
  std::vector<std::byte> object;
  std::optional<std::string> stmt;  // Halide's lowered statement, for --emit stmt
};

class CodeCache {
 public:
  using WarnFn = std::function<void(const std::string&)>;
  // An empty `folder` disables the cache. `kind` names the subfolder and the
  // entries in warnings ("kernel", "runtime").
  CodeCache(std::filesystem::path folder, std::string kind, WarnFn warn);

  // The verified entry, or nullopt when there is none, when it lacks the
  // statement and `need_stmt`, or when it is damaged (with a warning).
  std::optional<CacheEntry> load(const std::string& key, bool need_stmt) const;
  // A cache that cannot be written is not an error: failures are warnings.
  void store(const std::string& key, const CacheEntry& entry) const;

  std::filesystem::path entry_path(const std::string& key) const;

 private:
  std::filesystem::path folder_;
  std::string kind_;
  WarnFn warn_;
};

}  // namespace modelc::targets
