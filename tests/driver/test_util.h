// Helpers shared by the driver tests: temporary folders, recipes written on
// the fly, the shared models folder, the modelc binary, quick measurements.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "driver/measure.h"

namespace modelc::test {

// A fresh folder under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, const std::string& text) const;

 private:
  std::filesystem::path path_;
};

std::filesystem::path source_root();
// $MODELC_SHARED_MODELS when it exists.
std::optional<std::filesystem::path> shared_models();
// The modelc executable under test ($MODELC_BINARY).
std::filesystem::path modelc_binary();

// Measurement settings for tests: one thread, no peak, `repeats` runs over `rounds` rounds.
driver::MeasureOptions quick_measure(int repeats, int rounds);

}  // namespace modelc::test
