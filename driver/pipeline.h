// The modelc pipeline as library calls: recipe -> module -> optimized,
// fused module -> one artifact per variant x target. The CLI (driver/main.cpp)
// is a thin layer over these; tests call them directly.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lang/module.h"
#include "lang/pass.h"
#include "lang/passes/quantize.h"
#include "spec/recipe.h"
#include "spec/variants.h"
#include "targets/artifact.h"

namespace modelc::driver {

using ProgressFn = std::function<void(const std::string&)>;

// The model the recipe names, imported and type-checked (ONNX through libonnx,
// or the graph written in the recipe). Errors point into the recipe or model.
lang::Module import_model(const spec::Recipe& recipe);

// The pass context the recipe asks for (optimize.level, enable, disable).
lang::PassContext pass_context(const spec::Recipe& recipe);

struct OptimizedModule {
  lang::Module module;  // fused, typed; every @main binding calls a primitive function
  std::vector<lang::PassTiming> timings;
};

// The layout of the activations on a device: the recipe's, or for `auto`
// the blocked layout whose channel block fills one vector register of the
// device (NCHW16c with AVX-512, NCHW8c with AVX2, NCHW4c with NEON and wasm
// SIMD128), NCHW on GPUs and scalar CPUs (riscv64, Hexagon's float32).
std::string activation_layout(const spec::Recipe& recipe, const targets::DeviceProfile& profile);

// Runs the default pipeline with activations in `layout` (a concrete
// layout, see activation_layout); `after_pass` sees each intermediate module.
// `quantize`, when given, replaces the Quantize pass's options that the
// recipe's quantization block gives (calibration samples loaded once for
// several runs; a per-layer run, driver/sensitivity.h).
OptimizedModule optimize(const lang::Module& module, const spec::Recipe& recipe, const std::string& layout,
                         const std::function<void(const std::string&, const lang::Module&)>& after_pass = {},
                         const lang::QuantizeOptions* quantize = nullptr);

struct CompileOptions {
  std::filesystem::path out_dir;          // empty: default_output_dir(recipe)
  std::vector<std::string> emit;          // ir, stmt, memory
  std::optional<std::string> only_target;  // a key of `targets:`
  std::optional<std::string> only_variant;
  bool use_cache = true;
  // Refuse to build when an input differs from the recipe's lockfile, and fail
  // when an artifact differs from it; without it, the lockfile is (re)written.
  bool locked = false;
  // Replace output folders (and files) that modelc did not make; without it a
  // build refuses to touch them (see kOutputFolderMarker).
  bool force = false;
  // A tuner's trial (driver/tune.h): these schedule knobs by workload for
  // every target instead of the recipe's tuning log; the lockfile is then
  // neither checked nor written.
  std::optional<std::map<std::string, lower::ScheduleKnobs>> schedule_knobs;
  ProgressFn progress;
  ProgressFn warning;  // problems worked around (a damaged cache entry); progress when unset
};

struct CompiledArtifact {
  std::string variant;  // "default" when the recipe has no variants
  std::string target;   // key under targets:
  std::string device;
  const targets::DeviceProfile* profile = nullptr;  // the device's (built-in or the recipe's own; lives on)
  int threads = 0;
  std::filesystem::path directory;
  targets::ArtifactSummary summary;
  std::vector<std::pair<std::string, double>> stage_seconds;  // import, optimize, kernels, runtime, link
  double seconds = 0;
  std::vector<lang::PassTiming> passes;

  // The device profile it was built for (`profile`, else the built-in one named `device`).
  const targets::DeviceProfile& device_profile() const {
    return profile ? *profile : targets::find_device_profile(device);
  }
};

// Every check short of building: device profiles exist, and each variant's
// model imports and agrees with the recipe (inputs, outputs, layout). Throws
// modelc::Error with every problem found.
void validate_recipe(const spec::Recipe& recipe);

// <recipe folder>/out/<recipe name>
std::filesystem::path default_output_dir(const spec::Recipe& recipe);
// $MODELC_CACHE or ~/.cache/modelc (kernels are cached under it).
std::filesystem::path cache_dir();

// The variants selected by the options (all when none is named); errors list the names.
std::vector<spec::Variant> selected_variants(const spec::Recipe& recipe, const std::optional<std::string>& only_variant);
std::vector<spec::TargetSpec> selected_targets(const spec::Recipe& recipe, const std::optional<std::string>& only_target);
// The selected targets a variant builds for: a `target` axis gives each
// variant its own subset of the recipe's targets.
std::vector<spec::TargetSpec> variant_targets(const spec::Variant& variant, const std::vector<spec::TargetSpec>& selected);
// Where the artifact of a variant x target goes under out_dir:
// out_dir/<target>, or out_dir/<variant>/<target> when the recipe has
// variants, each name made a safe file name (support/file_names.h).
// `--emit ir` writes the folder of the target name kReservedIrFolder.
std::filesystem::path artifact_dir(const std::filesystem::path& out_dir, const spec::Variant& variant,
                                   size_t variant_count, const std::string& target);
inline constexpr const char* kReservedIrFolder = "ir";

// Refuses names whose folders would collide: a target called "ir", two targets
// or two variants whose names give the same folder. Errors point into the recipe.
void check_output_names(const spec::Recipe& recipe);

// Compiles every selected variant x target. Each artifact folder appears
// whole or not at all. Writes (or with `locked`, checks) the recipe's lockfile.
std::vector<CompiledArtifact> compile(const spec::Recipe& recipe, const CompileOptions& options);

}  // namespace modelc::driver
