#include "driver/foreign_run.h"

#include <random>

#include "driver/evaluate.h"
#include "support/diagnostic.h"

namespace fs = std::filesystem;

namespace modelc::driver {
namespace {

// A folder under $TMPDIR for one run's .npy files, removed when done.
class RunFolder {
 public:
  RunFolder() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("modelc-run-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~RunFolder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

ForeignRun run_foreign(const targets::DeviceProfile& profile, const fs::path& artifact_dir,
                       const std::vector<lang::Tensor>& inputs, const targets::RunnerOptions& options) {
  const RunFolder folder;
  std::vector<fs::path> files;
  for (size_t i = 0; i < inputs.size(); ++i) {
    files.push_back(folder.path() / ("input_" + std::to_string(i) + ".npy"));
    write_npy_tensor(files.back(), inputs[i]);
  }
  const targets::RunnerResult r = targets::run_with_runner(profile, artifact_dir, files, folder.path() / "outputs", options);
  ForeignRun run;
  for (const fs::path& out : r.outputs) run.outputs.push_back(read_npy_tensor(out));
  run.samples_ms = r.samples_ms;
  run.how = targets::runs_here(profile).detail;
  return run;
}

std::optional<reports::RooflineResult> roofline_result(const targets::DeviceProfile& profile,
                                                       const std::optional<targets::RooflineEstimate>& estimate) {
  if (!estimate || !profile.peak) return std::nullopt;
  return reports::RooflineResult{estimate->milliseconds, estimate->compute_ms,  estimate->memory_ms,
                                 estimate->multiply_adds, estimate->bytes,      profile.peak->gflops,
                                 profile.peak->bandwidth_gbs, profile.peak->source};
}

}  // namespace modelc::driver
