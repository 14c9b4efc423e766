// Builds the deployable artifact of a fused, typed module for one device:
//
//   <out>/lib<prefix>.a    kernels + Halide runtime + executor + weights, one object
//   <out>/lib<prefix>.so   the same, as a shared library (when the device has shared libraries)
//   <out>/model.h          the C API of this model (includes modelc.h)
//   <out>/modelc.h         the ABI shared by all artifacts
//   <out>/runner[.wasm]    reads input .npy files, runs the model, writes output .npy files
//                          (runtime/modelc_runner.c; when the device's C library is here;
//                          a wasm runner comes with modelc_wasi_runner.mjs, its node host)
//   <out>/manifest.json    inputs, outputs, kernels and their cost, arena, sizes, the
//                          roofline estimate, sha256 of each file, versions
//
// Kernels are compiled once per distinct primitive function and cached by
// content hash (targets/code_cache.h), so recompiling an unchanged model
// does no Halide work.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "lang/module.h"
#include "lower/lowering.h"
#include "targets/device_profile.h"
#include "targets/roofline.h"

namespace modelc::targets {

struct ArtifactOptions {
  std::string model_name = "model";
  std::string prefix;                    // C symbol prefix; from model_name when empty
  std::filesystem::path cache_dir;       // kernel cache; empty: compile everything
  bool emit_kernel_stmt = false;         // also write kernels/<symbol>.stmt (Halide's lowered statement)
  bool emit_kernel_asm = false;          // also write kernels/<symbol>.s (the linked object, disassembled)
  bool force = false;                    // replace an out_dir that modelc did not make (see kOutputFolderMarker)
  int jobs = 0;                          // kernels compiled at once; 0: one per core
  // Schedule knobs by workload (lower::kernel_hash with empty knobs): a
  // tuning log's choices for this target, or a tuner's trial. Kernels not
  // named keep their template schedules.
  std::map<std::string, lower::ScheduleKnobs> schedule_knobs;
  std::function<void(const std::string&)> progress;  // one line per step, for the CLI
  std::function<void(const std::string&)> warning;   // e.g. a damaged cache entry; progress when unset
};

struct ArtifactSummary {
  std::filesystem::path directory;
  std::string prefix;
  size_t arena_bytes = 0;
  size_t weight_bytes = 0;
  size_t code_bytes = 0;     // the static library without the weights it embeds
  size_t library_bytes = 0;  // the static library
  int kernels = 0;
  int kernels_from_cache = 0;
  int steps = 0;
  std::map<std::string, double> stage_seconds;  // kernels, runtime, link
  KernelCost cost;                              // the whole model's: every call of every kernel
  std::optional<RooflineEstimate> roofline;     // when the profile has peak figures
  nlohmann::json manifest;
};

ArtifactSummary build_artifact(const lang::Module& fused, const DeviceProfile& profile, const ArtifactOptions& options,
                               const std::filesystem::path& out_dir);

}  // namespace modelc::targets
