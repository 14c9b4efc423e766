#include "tests/driver/test_util.h"

#include <cstdlib>
#include <random>
#include <stdexcept>

#include "support/file_io.h"

namespace fs = std::filesystem;

namespace modelc::test {

TempDir::TempDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / ("modelc-test-" + std::to_string(rd()) + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

fs::path TempDir::write(const std::string& name, const std::string& text) const {
  const fs::path p = path_ / name;
  fs::create_directories(p.parent_path());
  write_file_atomic(p, text);
  return p;
}

fs::path source_root() {
  const char* root = std::getenv("MODELC_SOURCE_ROOT");
  if (!root) throw std::runtime_error("MODELC_SOURCE_ROOT is not set (run the tests through meson test)");
  return root;
}

std::optional<fs::path> shared_models() {
  const char* dir = std::getenv("MODELC_SHARED_MODELS");
  if (!dir || !fs::exists(fs::path(dir) / "resnet18.onnx")) return std::nullopt;
  return fs::canonical(dir);
}

fs::path modelc_binary() {
  const char* bin = std::getenv("MODELC_BINARY");
  if (!bin) throw std::runtime_error("MODELC_BINARY is not set (run the tests through meson test)");
  return bin;
}

driver::MeasureOptions quick_measure(int repeats, int rounds) {
  driver::MeasureOptions quick;
  quick.benchmark = {.warmup = 0, .repeats = repeats, .min_seconds = 0.0, .rounds = rounds};
  quick.threads = 1;
  quick.measure_peak = false;
  return quick;
}

}  // namespace modelc::test
