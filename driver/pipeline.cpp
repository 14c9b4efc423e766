#include "driver/pipeline.h"

#include "driver/calibration.h"
#include "driver/evaluate.h"
#include "driver/semantic_checks.h"
#include "driver/tuning_log.h"

#include <chrono>
#include <cstdlib>
#include <future>
#include <map>

#include "lang/frontends/onnx.h"
#include "lang/frontends/yaml_graph.h"
#include "lang/text.h"
#include "lower/lowering.h"
#include "lower/memory_plan.h"
#include "modelc_config.h"
#include "spec/lockfile.h"
#include "support/diagnostic.h"
#include "support/file_io.h"
#include "support/file_names.h"
#include "support/sha256.h"
#include "support/spelling.h"
#include "targets/c_names.h"
#include "targets/recipe_device.h"

namespace fs = std::filesystem;

namespace modelc::driver {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

bool wants(const CompileOptions& o, const std::string& what) {
  return std::find(o.emit.begin(), o.emit.end(), what) != o.emit.end();
}

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

spec::Lock lock_inputs(const spec::Recipe& recipe, const std::vector<spec::Variant>& variants,
                       const std::vector<spec::TargetSpec>& targets) {
  spec::Lock lock;
  lock.recipe_name = recipe.name;
  lock.recipe_version = recipe.version;
  lock.toolchain = {{"modelc", MODELC_VERSION}, {"halide", lower::halide_version()}, {"llvm", lower::llvm_version()},
                    {"onnx", lang::onnx_library_version()},
                    // A modelc built from other lower/ sources may make other kernels.
                    {"kernel_sources", std::string(lower::kernel_source_digest())}};
  for (const spec::Variant& v : variants) {
    spec::LockedVariant& lv = lock.variants[v.name];
    lv.resolved_sha256 = spec::resolved_recipe_sha256(v.recipe);
    for (const spec::TargetSpec& t : variant_targets(v, targets)) {
      const targets::DeviceProfile& profile = targets::device_profile_of(v.recipe, t);
      lv.targets[t.name] = {profile.name, targets::resolved_halide_target(profile), {}};
    }
  }
  return lock;
}

// The SHA-256 of each variant's input files (the model, data, tuning logs).
void lock_input_digests(spec::Lock& lock, const std::vector<spec::Variant>& variants) {
  for (const spec::Variant& v : variants) lock.variants[v.name].inputs = spec::recipe_input_digests(v.recipe);
}

[[noreturn]] void lock_mismatch(const fs::path& lock_file, const std::string& what, const std::vector<std::string>& diffs) {
  std::vector<Diagnostic> problems;
  for (const std::string& d : diffs) problems.push_back({Severity::error, {lock_file.string()}, {}, what + ": " + d, {}});
  problems.back().hint = "run `modelc compile` without --locked to accept the change and rewrite the lock";
  throw Error(std::move(problems));
}

// Adds this build's entries to the existing lock (other variants and targets stay).
void update_lock(const fs::path& lock_file, const spec::Lock& built) {
  spec::Lock merged = built;
  if (fs::exists(lock_file)) {
    try {
      spec::Lock old = spec::read_lock(lock_file);
      if (old.recipe_name == built.recipe_name && old.toolchain == built.toolchain) {
        for (auto& [name, variant] : old.variants) {
          auto it = merged.variants.find(name);
          if (it == merged.variants.end()) {
            merged.variants.emplace(name, variant);
          } else if (it->second.resolved_sha256 == variant.resolved_sha256) {
            for (auto& [t, target] : variant.targets) it->second.targets.emplace(t, target);
          }
        }
      }
    } catch (const Error&) {
      // An unreadable lock is replaced.
    }
  }
  spec::write_lock(lock_file, merged);
}

}  // namespace

lang::Module import_model(const spec::Recipe& recipe) {
  lang::Module module;
  if (recipe.model.onnx) {
    try {
      module = lang::import_onnx(*recipe.model.onnx, recipe.model.inputs, recipe.model.limits);
    } catch (const Error& e) {
      // Problems with the recipe's input overrides carry a pointer into the recipe.
      std::vector<Diagnostic> located = e.diagnostics();
      for (Diagnostic& d : located)
        if (!d.location.known() && !d.pointer.empty()) d.location = recipe.locate(d.pointer);
      throw Error(std::move(located));
    }
  } else if (recipe.model.graph) {
    module = lang::import_yaml_graph(*recipe.model.graph, recipe.marks, recipe.model.graph_pointer,
                                     recipe.file.parent_path(), recipe.model.limits);
  } else {
    throw Error(Diagnostic{Severity::error, recipe.locate("/model"), "/model", "the model names neither onnx nor graph", {}});
  }
  lang::PassContext types;
  types.limits = recipe.model.limits;
  return keep_recipe_outputs(lang::infer_type(module, types), recipe);
}

lang::PassContext pass_context(const spec::Recipe& recipe) {
  lang::PassContext ctx;
  ctx.opt_level = recipe.optimize.level;
  const lang::PassRegistry& registry = lang::PassRegistry::global();
  std::vector<Diagnostic> problems;
  auto check = [&](const std::vector<std::string>& names, const char* field) {
    for (size_t i = 0; i < names.size(); ++i) {
      if (registry.find(names[i])) continue;
      std::vector<std::string> known;
      for (const lang::PassInfo& p : registry.all()) known.push_back(p.name);
      const std::string guess = closest_spelling(names[i], known);
      const std::string pointer = std::string("/optimize/") + field + "/" + std::to_string(i);
      problems.push_back({Severity::error, recipe.locate(pointer), pointer, "unknown pass '" + names[i] + "'",
                          guess.empty() ? "passes: " + join(known) : "did you mean '" + guess + "'?"});
    }
  };
  check(recipe.optimize.disable, "disable");
  check(recipe.optimize.enable, "enable");
  if (!problems.empty()) throw Error(std::move(problems));
  ctx.disabled.insert(recipe.optimize.disable.begin(), recipe.optimize.disable.end());
  ctx.enabled.insert(recipe.optimize.enable.begin(), recipe.optimize.enable.end());
  // ConvertLayout's target; `auto` depends on the device (see optimize).
  if (recipe.layout.activations != "auto") ctx.activation_layout = recipe.layout.activations;
  ctx.limits = recipe.model.limits;
  // Host targets on AMX read int8 convolution weights in the one quad layout
  // their tile kernel takes (targets::device_profile: AMX is the host's only).
  if (lower::amx_for_host()) ctx.quad_weight_block = 0;
  if (ctx.disabled.count("FuseOps"))
    throw Error(Diagnostic{Severity::error, recipe.locate("/optimize/disable"), "/optimize/disable",
                           "FuseOps cannot be disabled: kernels are built from the primitive functions it makes", {}});
  return ctx;
}

std::string activation_layout(const spec::Recipe& recipe, const targets::DeviceProfile& profile) {
  if (recipe.layout.activations != "auto") return recipe.layout.activations;
  // targets::float_lanes: 1 for GPUs (a thread per element) and scalar CPUs.
  const int lanes = targets::float_lanes(profile);
  return lanes > 1 ? "NCHW" + std::to_string(lanes) + "c" : "NCHW";
}

OptimizedModule optimize(const lang::Module& module, const spec::Recipe& recipe, const std::string& layout,
                         const std::function<void(const std::string&, const lang::Module&)>& after_pass,
                         const lang::QuantizeOptions* quantize) {
  lang::PassContext ctx = pass_context(recipe);
  ctx.activation_layout = layout;
  // Blocks of int8 quads hold a vector of sums: 16 output channels on
  // AVX-512, 8 with AVX2's 8 lanes (the layouts `auto` picks for them). In
  // blocks of 16 Halide could not prove a vector of 8 channels k % 16
  // consecutive, and AVX2's byte pairs gathered the weights a byte at a
  // time (int8 ResNet-18 3.3x slower). None for Arm's 4.
  if (layout.size() > 5 && layout.starts_with("NCHW") && layout.ends_with("c") && ctx.quad_weight_block != 0) {
    const int lanes = std::atoi(layout.substr(4, layout.size() - 5).c_str());
    ctx.quad_weight_block = lanes >= 16 ? 16 : lanes == 8 ? 8 : 0;
  }
  ctx.after_pass = after_pass;
  ctx.quantize = quantize ? *quantize : quantize_options(recipe, module);
  // FuseOps belongs to lowering, not to the optimisation level: run it at every level.
  ctx.enabled.insert("FuseOps");
  OptimizedModule out;
  try {
    out.module = lang::run_passes(module, lang::default_pipeline(), ctx, &out.timings);
  } catch (const Error& e) {
    // A pass names the binding and its ONNX node; the model file is the driver's to add.
    if (!recipe.model.onnx) throw;
    std::vector<Diagnostic> located = e.diagnostics();
    for (Diagnostic& d : located)
      if (!d.location.known()) d.location = {recipe.model.onnx->string()};
    throw Error(std::move(located));
  }
  return out;
}

fs::path default_output_dir(const spec::Recipe& recipe) {
  return recipe.file.parent_path() / "out" / safe_file_name(recipe.name);
}

fs::path cache_dir() {
  if (const char* env = std::getenv("MODELC_CACHE"); env && *env) return env;
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "modelc";
  return fs::temp_directory_path() / "modelc-cache";
}

std::vector<spec::Variant> selected_variants(const spec::Recipe& recipe, const std::optional<std::string>& only) {
  std::vector<spec::Variant> all = spec::expand_variants(recipe);
  if (!only) return all;
  std::vector<std::string> names;
  for (spec::Variant& v : all) {
    if (v.name == *only) return {std::move(v)};
    names.push_back(v.name);
  }
  const std::string guess = closest_spelling(*only, names);
  throw Error(Diagnostic{Severity::error, {recipe.file.string()}, {}, "the recipe has no variant '" + *only + "'",
                         guess.empty() ? "variants: " + join(names) : "did you mean '" + guess + "'?"});
}

std::vector<spec::TargetSpec> selected_targets(const spec::Recipe& recipe, const std::optional<std::string>& only) {
  if (!only) return recipe.targets;
  std::vector<std::string> names;
  for (const spec::TargetSpec& t : recipe.targets) {
    if (t.name == *only) return {t};
    names.push_back(t.name);
  }
  const std::string guess = closest_spelling(*only, names);
  throw Error(Diagnostic{Severity::error, {recipe.file.string()}, {}, "the recipe has no target '" + *only + "'",
                         guess.empty() ? "targets: " + join(names) : "did you mean '" + guess + "'?"});
}

std::vector<spec::TargetSpec> variant_targets(const spec::Variant& variant, const std::vector<spec::TargetSpec>& selected) {
  std::vector<spec::TargetSpec> out;
  for (const spec::TargetSpec& t : selected)
    for (const spec::TargetSpec& v : variant.recipe.targets)
      if (v.name == t.name) out.push_back(v);
  return out;
}

fs::path artifact_dir(const fs::path& out_dir, const spec::Variant& variant, size_t variant_count, const std::string& target) {
  const fs::path base = variant_count > 1 ? out_dir / safe_file_name(variant.name) : out_dir;
  return base / safe_file_name(target);
}

void check_output_names(const spec::Recipe& recipe) {
  std::vector<Diagnostic> problems;
  std::map<std::string, std::string> target_of_folder;
  for (const spec::TargetSpec& t : recipe.targets) {
    const std::string folder = safe_file_name(t.name);
    if (folder == kReservedIrFolder) {
      problems.push_back({Severity::error, recipe.marks.locate_key(t.pointer), t.pointer,
                          "the target name 'ir' is reserved: `--emit ir` writes the folder <out>/ir",
                          "rename the target, e.g. to 'ir-target'"});
    } else if (const auto [it, added] = target_of_folder.emplace(folder, t.name); !added) {
      problems.push_back({Severity::error, recipe.marks.locate_key(t.pointer), t.pointer,
                          "targets '" + it->second + "' and '" + t.name + "' would both build into the folder " + folder,
                          "rename one of them"});
    }
  }
  const std::vector<spec::Variant> variants = spec::expand_variants(recipe);
  std::map<std::string, std::string> variant_of_folder;
  for (const spec::Variant& v : variants) {
    if (variants.size() < 2) break;
    const std::string folder = safe_file_name(v.name);
    if (const auto [it, added] = variant_of_folder.emplace(folder, v.name); !added)
      problems.push_back({Severity::error, recipe.locate("/variants"), "/variants",
                          "variants '" + it->second + "' and '" + v.name + "' would both build into the folder " + folder,
                          "change the values of the variants matrix so that they differ in letters or digits"});
  }
  if (!problems.empty()) throw Error(std::move(problems));
}

namespace {

// Resolves every target's device profile, so that a bad target fails before any work.
void check_devices(const spec::Recipe& recipe, const std::vector<spec::TargetSpec>& targets) {
  std::vector<Diagnostic> problems;
  for (const spec::TargetSpec& t : targets) {
    try {
      targets::device_profile_of(recipe, t);
    } catch (const Error& e) {
      problems.insert(problems.end(), e.diagnostics().begin(), e.diagnostics().end());
    }
  }
  if (!problems.empty()) throw Error(std::move(problems));
}

// The C API passes tensor names as C strings: a name holding a NUL byte
// (protobuf strings may) would reach the artifact cut short, and two such
// names could not be told apart.
void check_api_names(const spec::Recipe& recipe, const lang::Module& module) {
  const SourceLocation where = recipe.model.onnx ? SourceLocation{recipe.model.onnx->string()} : recipe.locate("/model");
  std::vector<Diagnostic> problems;
  auto check = [&](const char* role, size_t index, const std::string& name) {
    if (name.find('\0') == std::string::npos) return;
    problems.push_back({Severity::error, where, {},
                        std::string(role) + " " + std::to_string(index) + " is named " + targets::c_string_literal(name) +
                            ", which holds a NUL byte: the C API of an artifact passes names as C strings",
                        "rename the tensor in the model"});
  };
  const lang::Function& main = module.main();
  for (size_t i = 0; i < main.params.size(); ++i) check("input", i, main.params[i].name);
  for (size_t i = 0; i < main.results.size(); ++i) check("output", i, lang::result_name(main, i));
  if (!problems.empty()) throw Error(std::move(problems));
}

// Refuses, before any work, to build over something modelc did not make.
void check_destinations(const fs::path& out_dir, const std::vector<spec::Variant>& variants, size_t variant_count,
                        const std::vector<spec::TargetSpec>& targets, const CompileOptions& options) {
  for (const spec::Variant& v : variants) {
    if (variant_count > 1) {
      const fs::path folder = out_dir / safe_file_name(v.name);
      std::error_code ec;
      if (fs::exists(folder, ec) && !fs::is_directory(folder, ec)) check_replaceable_output(folder, options.force);
    }
    if (wants(options, "ir")) check_replaceable_output(artifact_dir(out_dir, v, variant_count, kReservedIrFolder), options.force);
    for (const spec::TargetSpec& t : variant_targets(v, targets))
      check_replaceable_output(artifact_dir(out_dir, v, variant_count, t.name), options.force);
  }
}

// The folder of a variant's artifacts. Made with a marker, so that a later
// build without variants may replace it; modelc output of another kind that
// stands there (an artifact of an earlier build without variants) is replaced,
// a folder of the user's is built into and kept.
void prepare_variant_folder(const fs::path& folder, bool force) {
  std::error_code ec;
  const std::string kind = output_folder_kind(folder);
  if (kind == "variant") return;
  if (!kind.empty() || (force && fs::exists(fs::symlink_status(folder, ec)) && !fs::is_directory(folder, ec))) {
    fs::remove_all(folder, ec);
    if (ec) throw Error(Diagnostic{Severity::error, {folder.string()}, {}, "cannot remove an earlier output: " + ec.message(), {}});
  }
  if (fs::is_directory(folder, ec)) return;
  fs::create_directories(folder, ec);
  if (ec) throw Error(Diagnostic{Severity::error, {folder.string()}, {}, "cannot create directory: " + ec.message(), {}});
  write_output_folder_marker(folder, "variant");
}

// How many of an artifact's kernels the tuning log reached: a log measured
// for another target (or another version of the model) reaches none, which
// is worth saying rather than building template schedules in silence.
void report_tuned_kernels(const spec::Recipe& recipe, const CompiledArtifact& a, const CompileOptions& options) {
  size_t tuned = 0, total = 0;
  for (const auto& k : a.summary.manifest.at("kernels")) {
    ++total;
    if (k.contains("schedule")) ++tuned;
  }
  const std::string log = recipe.optimize.tuning_log->filename().string();
  const std::string line = a.target + ": " + std::to_string(tuned) + " of " + std::to_string(total) +
                           " kernels with tuned schedules from " + log;
  if (tuned > 0) {
    if (options.progress) options.progress(line);
    return;
  }
  const ProgressFn& warn = options.warning ? options.warning : options.progress;
  if (warn)
    warn(line + " (the log has no entry for this target's kernels at " + std::to_string(resolve_threads(a.threads)) +
         " thread(s): `modelc tune` measures them, and writes none where the template schedules were as fast)");
}

}  // namespace

void validate_recipe(const spec::Recipe& recipe) {
  check_devices(recipe, recipe.targets);
  check_output_names(recipe);
  std::vector<Diagnostic> problems;
  for (const spec::Variant& v : spec::expand_variants(recipe)) {
    try {
      const lang::Module module = import_model(v.recipe);
      check_recipe_against_model(v.recipe, module);
      check_api_names(v.recipe, module);
      recipe_tuning_log(v.recipe);  // the tuned strategy's log exists and reads
    } catch (const Error& e) {
      for (const Diagnostic& d : e.diagnostics())
        if (std::find_if(problems.begin(), problems.end(), [&](const Diagnostic& p) { return p.format() == d.format(); }) ==
            problems.end())
          problems.push_back(d);
    }
  }
  if (!problems.empty()) throw Error(std::move(problems));
}

std::vector<CompiledArtifact> compile(const spec::Recipe& recipe, const CompileOptions& options) {
  const fs::path out_dir = options.out_dir.empty() ? default_output_dir(recipe) : options.out_dir;
  const std::vector<spec::Variant> variants = selected_variants(recipe, options.only_variant);
  const size_t variant_count = spec::expand_variants(recipe).size();
  const std::vector<spec::TargetSpec> targets = selected_targets(recipe, options.only_target);
  check_devices(recipe, targets);
  check_output_names(recipe);
  check_destinations(out_dir, variants, variant_count, targets, options);

  const fs::path lock_file = spec::lock_path(recipe);
  spec::Lock lock = lock_inputs(recipe, variants, targets);
  // The input files are hashed while the first variant imports and optimizes
  // (ResNet-18's 45 MB model took 30 ms of a 0.5 s warm compile), and before
  // anything else with --locked, which compares them first.
  std::future<void> digesting = std::async(std::launch::async, [&] { lock_input_digests(lock, variants); });
  std::optional<spec::Lock> locked;
  if (options.locked && !options.schedule_knobs) {
    digesting.get();
    locked = spec::read_lock(lock_file);
    const auto diffs = spec::lock_differences(*locked, lock, false);
    if (!diffs.empty()) lock_mismatch(lock_file, "--locked: an input differs from the lock", diffs);
  }

  std::vector<CompiledArtifact> artifacts;
  for (const spec::Variant& variant : variants) {
    const spec::Recipe& r = variant.recipe;
    if (options.progress) options.progress("importing " + (r.model.onnx ? r.model.onnx->filename().string() : "the recipe's graph"));
    auto t = Clock::now();
    const lang::Module imported = import_model(r);
    check_recipe_against_model(r, imported);
    check_api_names(r, imported);
    const double import_seconds = seconds_since(t);
    const std::vector<TuningEntry> tuning = options.schedule_knobs ? std::vector<TuningEntry>{} : recipe_tuning_log(r);

    if (variant_count > 1) prepare_variant_folder(out_dir / safe_file_name(variant.name), options.force);
    // One optimized module per activation layout the variant's targets need.
    const std::vector<spec::TargetSpec> variant_target_list = variant_targets(variant, targets);
    std::vector<std::string> layouts;
    for (const spec::TargetSpec& target : variant_target_list) {
      const std::string layout = activation_layout(r, targets::device_profile_of(r, target));
      if (std::find(layouts.begin(), layouts.end(), layout) == layouts.end()) layouts.push_back(layout);
    }
    std::map<std::string, OptimizedModule> optimized_by_layout;
    std::map<std::string, double> optimize_seconds;
    for (const std::string& layout : layouts) {
      // With several layouts, each one's IR goes to a folder of its own under ir/.
      const fs::path ir_root = artifact_dir(out_dir, variant, variant_count, kReservedIrFolder);
      const fs::path ir_dir = layouts.size() == 1 ? ir_root : ir_root / layout;
      int pass_index = 0;
      std::vector<std::pair<std::string, std::string>> ir_texts;
      if (wants(options, "ir")) ir_texts.emplace_back("00_imported.ir", lang::print_module(imported));
      t = Clock::now();
      OptimizedModule optimized = optimize(imported, r, layout, [&](const std::string& pass, const lang::Module& m) {
        ++pass_index;
        if (wants(options, "ir"))
          ir_texts.emplace_back((pass_index < 10 ? "0" : "") + std::to_string(pass_index) + "_" + pass + ".ir",
                                lang::print_module(m));
      });
      optimize_seconds[layout] = seconds_since(t);
      if (!ir_texts.empty()) {
        StagingDirectory staging(ir_dir, "ir", options.force);
        for (const auto& [name, text] : ir_texts) write_file_atomic(staging.path() / name, text);
        if (wants(options, "memory"))  // as CPU targets plan it (GPU targets copy concatenations)
          write_file_atomic(staging.path() / "memory_plan.txt",
                            lower::print_memory_plan(optimized.module, lower::plan_memory(optimized.module, 64, true)));
        staging.commit();
      }
      optimized_by_layout.emplace(layout, std::move(optimized));
    }

    if (digesting.valid()) digesting.get();
    for (const spec::TargetSpec& target : variant_target_list) {
      const targets::DeviceProfile& profile = targets::device_profile_of(r, target);
      const std::string layout = activation_layout(r, profile);
      const OptimizedModule& optimized = optimized_by_layout.at(layout);
      targets::ArtifactOptions ao;
      ao.model_name = r.name;
      ao.cache_dir = options.use_cache ? cache_dir() : fs::path();
      ao.emit_kernel_stmt = wants(options, "stmt");
      ao.emit_kernel_asm = wants(options, "asm");
      ao.force = options.force;
      ao.progress = options.progress;
      ao.warning = options.warning;
      ao.schedule_knobs = options.schedule_knobs ? *options.schedule_knobs
                                                 : knobs_for_target(tuning, targets::resolved_halide_target(profile),
                                                                    resolve_threads(target.threads));
      CompiledArtifact a;
      a.variant = variant.name;
      a.target = target.name;
      a.device = profile.name;
      a.profile = &profile;
      a.threads = target.threads;
      a.directory = artifact_dir(out_dir, variant, variant_count, target.name);
      if (options.progress) options.progress("building " + target.name + " (" + profile.name + ") in " + a.directory.string());
      const auto build_start = Clock::now();
      a.summary = targets::build_artifact(optimized.module, profile, ao, a.directory);
      if (r.optimize.schedule == "tuned" && !options.schedule_knobs) report_tuned_kernels(r, a, options);
      a.passes = optimized.timings;
      a.stage_seconds = {{"import", import_seconds}, {"optimize", optimize_seconds.at(layout)}};
      for (const auto& [stage, s] : a.summary.stage_seconds) a.stage_seconds.emplace_back(stage, s);
      // This target's own time: the import and the optimization of its layout, which targets share, and its build.
      a.seconds = import_seconds + optimize_seconds.at(layout) + seconds_since(build_start);
      auto& digests = lock.variants[variant.name].targets[target.name].artifacts;
      digests = a.summary.manifest.at("sha256").get<std::map<std::string, std::string>>();
      digests["manifest.json"] = sha256_file(a.directory / "manifest.json");
      artifacts.push_back(std::move(a));
    }
  }
  if (locked) {
    const auto diffs = spec::lock_differences(*locked, lock, true);
    if (!diffs.empty()) lock_mismatch(lock_file, "--locked: the build is not reproducible", diffs);
  } else if (!options.schedule_knobs) {
    update_lock(lock_file, lock);
  }
  return artifacts;
}

}  // namespace modelc::driver
