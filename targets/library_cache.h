// The cache of a model's linked files ($MODELC_CACHE/libraries): the static
// and shared libraries and the runner of the last build of each model and
// target, so that a compile whose inputs to the link are unchanged (every
// kernel cached, the same weights) links them (hard links; copies across
// file systems) instead of linking again.
// ResNet-18's libraries hold 95 MB of weights each: linking and archiving
// them was half of a warm compile.
//
// An entry is a folder named by its key (the hash of everything the link
// reads: tools, flags, objects, weights), holding the files and a list of
// their sizes and sha256. It is made under a temporary name and renamed into
// place whole, and never changed after by modelc (its files are hard links
// to the output folder's where they can be: an output edited in place
// changes them, which the digests catch). A slot (one per model prefix and
// target) names its current entry; storing another entry in a slot removes
// the one it named, so the cache keeps one set of libraries per model and
// target, not one per version of its weights.
//
// Restoring links (or copies) the files out and hashes them there: the
// digests are the manifest's, and a file that differs from the recorded digest (an entry
// changed on disk) is reported through `warn`, removed, and the entry
// dropped: the caller links as if it had not been there.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace modelc::targets {

class LibraryCache {
 public:
  using WarnFn = std::function<void(const std::string&)>;
  // An empty `cache_dir` disables the cache.
  LibraryCache(const std::filesystem::path& cache_dir, WarnFn warn);

  // Links (or copies) the files of entry `key` into `out` (same names) and returns each
  // file's sha256 by path in `out`; nullopt when the entry is missing,
  // damaged or cannot be copied (then nothing it copied is left in `out`).
  std::optional<std::map<std::filesystem::path, std::string>> restore(const std::string& key,
                                                                      const std::filesystem::path& out) const;
  // Stores `files` (their sha256 as given) as entry `key`, the current entry
  // of `slot`. Failures are warnings: a cache that cannot be written is not an error.
  void store(const std::string& slot, const std::string& key,
             const std::map<std::filesystem::path, std::string>& files) const;

  std::filesystem::path entry_path(const std::string& key) const;

 private:
  std::filesystem::path folder_;
  WarnFn warn_;
};

}  // namespace modelc::targets
