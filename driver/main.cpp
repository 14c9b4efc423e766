// modelc: the command line. Each subcommand is a thin layer over driver/,
// spec/ and reports/; user mistakes arrive here as modelc::Error and leave as
// messages with file:line:column and exit code 2.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <unistd.h>

#include "driver/calibration.h"
#include "driver/evaluate.h"
#include "driver/foreign_run.h"
#include "driver/measure.h"
#include "driver/pipeline.h"
#include "driver/sensitivity.h"
#include "driver/tune.h"
#include "driver/progress.h"
#include "lang/frontends/onnx.h"
#include "lang/op.h"
#include "lang/pass.h"
#include "lower/lowering.h"
#include "modelc_config.h"
#include "reports/diff.h"
#include "reports/merge.h"
#include "reports/render_csv.h"
#include "reports/render_html.h"
#include "reports/render_markdown.h"
#include "reports/render_text.h"
#include "reports/results.h"
#include "spec/builtin_schemas.h"
#include "support/diagnostic.h"
#include "support/file_io.h"
#include "targets/c_names.h"
#include "targets/device_profile.h"
#include "targets/recipe_device.h"

namespace fs = std::filesystem;
using namespace modelc;

namespace {

constexpr int kExitUserError = 2;
constexpr int kExitInternalError = 1;
// bench/report measured everything, but an artifact failed (its outputs differ
// from the reference interpreter's): the build is wrong, not the recipe.
constexpr int kExitArtifactFailed = 3;

struct CommonOptions {
  std::string recipe;
  std::optional<std::string> target, variant;
  std::string out_dir;
  bool locked = false;
  bool force = false;
  std::string format = "text";  // how errors are printed: text for people, json for tools
};

void add_recipe_options(CLI::App* cmd, CommonOptions& o, bool with_selection = true) {
  cmd->add_option("recipe", o.recipe, "the recipe (YAML)")->required();
  cmd->add_option("--format", o.format, "text or json: errors (and validate's verdict) for people or for tools")
      ->check(CLI::IsMember({"text", "json"}));
  if (!with_selection) return;
  cmd->add_option("--target", o.target, "only this target (a key of targets:)");
  cmd->add_option("--variant", o.variant, "only this variant (see `modelc plan`)");
  cmd->add_option("-o,--out", o.out_dir, "output folder (default: <recipe folder>/out/<name>)");
  cmd->add_flag("--locked", o.locked, "refuse to build when an input differs from <recipe>.lock, fail when an artifact does");
  cmd->add_flag("--force", o.force, "replace output folders that modelc did not make (refused otherwise)");
}

// The status line of long work; live only on a terminal (see driver/progress.h).
driver::TerminalProgress* g_progress = nullptr;

driver::ProgressFn progress_logger() {
  return [](const std::string& line) {
    if (g_progress != nullptr) g_progress->show(line);
  };
}

void clear_progress() {
  if (g_progress != nullptr) g_progress->clear();
}

void print_errors(const Error& e, bool json) {
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const Diagnostic& d : e.diagnostics())
      out.push_back({{"file", d.location.file}, {"line", d.location.line}, {"column", d.location.column},
                     {"pointer", d.pointer}, {"message", d.message}, {"hint", d.hint}});
    // Messages quote names from model files, which need not be UTF-8.
    std::cout << nlohmann::json{{"valid", false}, {"errors", out}}.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
    return;
  }
  const bool color = ::isatty(2);
  for (const Diagnostic& d : e.diagnostics()) {
    std::string text = d.format();
    if (color) {
      const size_t at = text.find("error:");
      if (at != std::string::npos) text.replace(at, 6, "\033[1;31merror:\033[0m");
    }
    std::cerr << text << "\n";
  }
  if (e.diagnostics().size() > 1) std::cerr << e.diagnostics().size() << " errors\n";
}

driver::CompileOptions compile_options(const CommonOptions& o, const std::vector<std::string>& emit, bool no_cache) {
  driver::CompileOptions c;
  c.locked = o.locked;
  c.force = o.force;
  c.out_dir = o.out_dir;
  c.emit = emit;
  c.only_target = o.target;
  c.only_variant = o.variant;
  c.use_cache = !no_cache;
  c.progress = progress_logger();
  c.warning = [](const std::string& line) { spdlog::warn("{}", line); };
  return c;
}

int cmd_validate(const CommonOptions& o, const std::string& format) {
  const spec::Recipe recipe = spec::load_recipe(o.recipe);
  const auto variants = spec::expand_variants(recipe);
  driver::validate_recipe(recipe);
  if (format == "json") {
    std::cout << nlohmann::json{{"valid", true}, {"variants", variants.size()}, {"targets", recipe.targets.size()}}.dump(2) << "\n";
  } else {
    std::cout << o.recipe << ": valid (" << variants.size() << " variant" << (variants.size() == 1 ? "" : "s") << ", "
              << recipe.targets.size() << " target" << (recipe.targets.size() == 1 ? "" : "s") << ")\n";
  }
  return 0;
}

int cmd_plan(const CommonOptions& o) {
  const spec::Recipe recipe = spec::load_recipe(o.recipe);
  const auto variants = driver::selected_variants(recipe, o.variant);
  const auto targets = driver::selected_targets(recipe, o.target);
  const fs::path out = o.out_dir.empty() ? driver::default_output_dir(recipe) : fs::path(o.out_dir);
  const size_t all_variants = spec::expand_variants(recipe).size();
  size_t jobs = 0;
  for (const spec::Variant& v : variants) jobs += driver::variant_targets(v, targets).size();
  std::cout << recipe.name << " " << recipe.version << ": " << variants.size() << " variant(s), " << jobs
            << " build(s)\n";
  for (const spec::Variant& v : variants) {
    std::cout << "variant " << v.name << (v.description.empty() ? "" : "  (" + v.description + ")") << "\n";
    for (const spec::TargetSpec& t : driver::variant_targets(v, targets)) {
      const auto& profile = targets::device_profile_of(v.recipe, t);
      const targets::Availability runs = targets::runs_here(profile);
      std::cout << "  " << t.name << ": device " << profile.name << ", "
                << (runs.available ? "runs here " + runs.detail : "compile only") << " -> "
                << driver::artifact_dir(out, v, all_variants, t.name).string() << "\n";
    }
  }
  return 0;
}

// `--time-passes`: one table per variant on stderr (stdout lists artifact folders).
void print_pass_times(const driver::CompiledArtifact& a) {
  double total = 0;
  std::cerr << "pass times (" << a.variant << "):\n";
  for (const lang::PassTiming& t : a.passes) {
    std::cerr << "  " << t.name << std::string(t.name.size() < 32 ? 32 - t.name.size() : 1, ' ');
    if (t.ran) std::cerr << fmt::format("{:9.4f} s\n", t.seconds);
    else std::cerr << "  skipped: " << t.skipped_because << "\n";
    total += t.seconds;
  }
  std::cerr << "  total" << std::string(27, ' ') << fmt::format("{:9.4f} s\n", total);
}

int cmd_compile(const CommonOptions& o, const std::vector<std::string>& emit, bool no_cache, bool time_passes) {
  const spec::Recipe recipe = spec::load_recipe(o.recipe);
  std::string timed_variant;
  const std::vector<driver::CompiledArtifact> artifacts = driver::compile(recipe, compile_options(o, emit, no_cache));
  clear_progress();
  for (const driver::CompiledArtifact& a : artifacts) {
    if (time_passes && a.variant != timed_variant) print_pass_times(a);
    timed_variant = a.variant;
    spdlog::info("{} / {}: {} kernels ({} cached), {} steps, arena {} KiB, weights {} KiB, {:.2f} s", a.variant, a.target,
                 a.summary.kernels, a.summary.kernels_from_cache, a.summary.steps, a.summary.arena_bytes / 1024,
                 a.summary.weight_bytes / 1024, a.seconds);
    std::string stages;
    for (const auto& [stage, seconds] : a.stage_seconds) stages += fmt::format("{}{} {:.3f} s", stages.empty() ? "" : ", ", stage, seconds);
    spdlog::debug("{} / {}: {}", a.variant, a.target, stages);
    std::cout << a.directory.string() << "\n";
  }
  return 0;
}

int cmd_run(const CommonOptions& o, const std::vector<std::string>& input_files, const std::string& output_dir,
            int threads) {
  const spec::Recipe recipe = spec::load_recipe(o.recipe);
  auto artifacts = driver::compile(recipe, compile_options(o, {}, false));
  clear_progress();
  if (artifacts.size() != 1)
    throw Error("`modelc run` needs one variant and one target; choose with --variant and --target");
  const driver::CompiledArtifact& a = artifacts.front();
  std::vector<lang::Tensor> inputs;
  if (input_files.empty()) {
    inputs = driver::benchmark_inputs(recipe, driver::import_model(recipe));
  } else {
    for (const std::string& f : input_files) inputs.push_back(driver::read_npy_tensor(f));
  }
  // Code for another ISA, wasm or a GPU runs through the runner built beside its library.
  const targets::DeviceProfile& profile = a.device_profile();
  const int run_threads = threads > 0 ? threads : a.threads;
  const std::vector<lang::Tensor> outputs =
      targets::runs_natively_here(profile)
          ? driver::run_artifact(a.directory, inputs, run_threads)
          : driver::run_foreign(profile, a.directory, inputs, targets::RunnerOptions{run_threads, 0, 0, 0}).outputs;
  const fs::path out = output_dir.empty() ? a.directory / "outputs" : fs::path(output_dir);
  fs::create_directories(out);
  // Output names come from the model: the manifest gives each a distinct, safe
  // file name inside `out` (support/file_names.h), and says which is which.
  const nlohmann::json& listed = a.summary.manifest.at("outputs");
  for (size_t i = 0; i < outputs.size(); ++i) {
    const std::string name = listed.at(i).at("name").get<std::string>();
    const fs::path file = out / listed.at(i).at("file").get<std::string>();
    if (file.filename() != name + ".npy")
      spdlog::info("output {} {} is written to {}", i, targets::c_string_literal(name), file.filename().string());
    driver::write_npy_tensor(file, outputs[i]);
    std::cout << file.string() << "\n";
  }
  return 0;
}

struct BenchFlags {
  std::optional<int> threads, repeats, warmup, rounds;
  bool no_reference = false;
  bool kernels = false;
  bool in_place = false;
  size_t kernel_rows = 25;
};

// Compiles (from cache when unchanged), then measures every artifact and its
// baselines in interleaved rounds; for a report, the per-layer sensitivity
// of the int8 variants that ask for it.
reports::Results measure(const CommonOptions& o, const BenchFlags& flags, bool for_report = false) {
  const spec::Recipe recipe = spec::load_recipe(o.recipe);
  const auto artifacts = driver::compile(recipe, compile_options(o, {}, false));
  driver::MeasureOptions options;
  options.benchmark = recipe.report.benchmark;
  if (flags.repeats) options.benchmark.repeats = *flags.repeats;
  if (flags.warmup) options.benchmark.warmup = *flags.warmup;
  if (flags.rounds) options.benchmark.rounds = *flags.rounds;
  options.threads = flags.threads;
  options.time_reference = !flags.no_reference;
  const auto& baselines = recipe.report.baselines;
  options.onnxruntime = std::find(baselines.begin(), baselines.end(), "onnxruntime") != baselines.end();
  options.sensitivity = for_report;
  options.progress = progress_logger();
  reports::Results results = driver::measure_artifacts(recipe, artifacts, options);
  clear_progress();
  return results;
}

// kExitArtifactFailed when an artifact failed, after saying which and why on
// stderr: its outputs differ from the reference, or it did not run at all (a
// runner that crashed, a missing driver).
int verdict(const reports::Results& results) {
  std::vector<const reports::VariantResult*> failed;
  for (const reports::VariantResult& r : results.results)
    if (r.status == reports::RunStatus::failed) failed.push_back(&r);
  if (failed.empty()) return 0;
  std::cerr << "modelc: " << failed.size() << " artifact" << (failed.size() == 1 ? "" : "s") << " failed:\n";
  for (const reports::VariantResult* r : failed) {
    const std::string note = r->note.substr(0, r->note.find('\n'));
    std::cerr << "  " << r->target << (r->variant.empty() || r->variant == "default" ? "" : " [" + r->variant + "]") << " ("
              << r->device << "): " << (note.empty() ? "failed" : note) << "\n";
  }
  return kExitArtifactFailed;
}

// `bench --kernels`: a per-kernel profile of each artifact instead of the rounds.
int cmd_bench_kernels(const CommonOptions& o, const BenchFlags& flags) {
  const spec::Recipe recipe = spec::load_recipe(o.recipe);
  const auto artifacts = driver::compile(recipe, compile_options(o, {}, false));
  driver::KernelProfileOptions options;
  options.threads = flags.threads;
  options.runs = flags.repeats.value_or(0);
  options.rows = flags.kernel_rows;
  options.in_place = flags.in_place;
  options.progress = progress_logger();
  const driver::KernelProfileText profile = driver::profile_artifact_kernels(recipe, artifacts, options);
  clear_progress();
  std::cout << profile.text;
  if (!profile.failed) return 0;
  std::cerr << "modelc: an artifact failed: it did not run, or its outputs differ from the reference (see above)\n";
  return kExitArtifactFailed;
}

int cmd_bench(const CommonOptions& o, const BenchFlags& flags) {
  if (flags.kernels) return cmd_bench_kernels(o, flags);
  const reports::Results results = measure(o, flags);
  if (o.format == "json") std::cout << reports::results_text(results);
  else std::cout << reports::render_text(results);
  return verdict(results);
}

// Writes results.json and the formats asked for into `out`; returns the path
// of the report for people (HTML before Markdown), else results.json.
fs::path write_reports(const reports::Results& results, const fs::path& out, const std::vector<std::string>& formats) {
  fs::create_directories(out);
  auto wants = [&](const char* f) { return std::find(formats.begin(), formats.end(), f) != formats.end(); };
  reports::write_results(out / "results.json", results);
  fs::path main_report = out / "results.json";
  if (wants("csv")) write_file_atomic(out / "results.csv", reports::render_csv(results));
  if (wants("md")) {
    write_file_atomic(out / "report.md", reports::render_markdown(results));
    main_report = out / "report.md";
  }
  if (wants("html")) {
    write_file_atomic(out / "report.html", reports::render_html(results));
    main_report = out / "report.html";
  }
  return main_report;
}

int cmd_report(const CommonOptions& o, const BenchFlags& flags) {
  const reports::Results results = measure(o, flags, true);
  const spec::Recipe recipe = spec::load_recipe(o.recipe);
  const fs::path out = o.out_dir.empty() ? driver::default_output_dir(recipe) : fs::path(o.out_dir);
  const fs::path main_report = write_reports(results, out, recipe.report.formats);
  if (o.format != "json") std::cout << reports::render_text(results);
  std::cout << main_report.string() << "\n";
  return verdict(results);
}

// Each profile: whether this machine builds its artifacts and runs them, and if not, why.
int cmd_devices(const std::string& format) {
  nlohmann::json all = nlohmann::json::array();
  for (const std::string& name : targets::device_profile_names()) {
    const targets::DeviceProfile& p = targets::find_device_profile(name);
    const targets::Availability compiles = targets::compiles_here(p), runs = targets::runs_here(p);
    if (format == "json") {
      nlohmann::json d = {{"name", name}, {"description", p.description}, {"halide_target", p.halide_target},
                          {"family", targets::to_string(p.family)}, {"run", targets::to_string(p.run)},
                          {"compiles_here", compiles.available}, {"compiles_detail", compiles.detail},
                          {"runs_here", runs.available}, {"runs_detail", runs.detail}};
      if (p.peak) d["peak"] = {{"gflops", p.peak->gflops}, {"bandwidth_gbs", p.peak->bandwidth_gbs}, {"source", p.peak->source}};
      all.push_back(std::move(d));
      continue;
    }
    const std::string status = !compiles.available ? "cannot build" : runs.available ? "runs here" : "compile only";
    std::cout << fmt::format("{:19} {:13} {}\n", name, status, p.description);
    if (!compiles.available) std::cout << fmt::format("{:33} build: {}\n", "", compiles.detail);
    std::cout << fmt::format("{:33} {}: {}\n", "", runs.available ? "runs" : "no run", runs.detail);
  }
  if (format == "json") std::cout << all.dump(2) << "\n";
  return 0;
}

// `report --merge`: no measuring; one report from results of several machines.
int cmd_merge(const std::vector<std::string>& files, const std::string& out_dir) {
  std::vector<reports::ResultsFile> inputs;
  for (const std::string& f : files) inputs.push_back({f, reports::read_results(f)});
  const reports::Results merged = reports::merge_results(inputs);
  const fs::path out = out_dir.empty() ? fs::path("merged-report") : fs::path(out_dir);
  const fs::path main_report = write_reports(merged, out, {"md", "html", "json", "csv"});
  std::cout << reports::render_text(merged) << main_report.string() << "\n";
  return 0;
}

constexpr int kExitRegression = 1;

int cmd_diff(const std::string& old_file, const std::string& new_file, double threshold_percent, const std::string& format) {
  if (threshold_percent < 0) throw Error("--threshold is a percentage >= 0, given " + std::to_string(threshold_percent));
  const reports::Results before = reports::read_results(old_file);
  const reports::Results after = reports::read_results(new_file);
  const reports::ResultsDiff diff = reports::diff_results(before, after, threshold_percent / 100);
  if (format == "json") {
    nlohmann::json rows = nlohmann::json::array();
    for (const reports::RowChange& c : diff.rows) {
      nlohmann::json row{{"row", reports::to_string(c.row)}, {"regressed", c.regressed()}};
      if (c.ratio) {
        row["ratio"] = c.ratio->value;
        if (c.ratio->interval) row["interval"] = {c.ratio->interval->low, c.ratio->interval->high};
      }
      rows.push_back(std::move(row));
    }
    std::cout << nlohmann::json{{"regressed", diff.regressed()}, {"threshold", diff.threshold}, {"rows", rows}}.dump(2)
              << "\n";
  } else {
    std::cout << reports::render_diff_markdown(diff, old_file, new_file);
  }
  return diff.regressed() ? kExitRegression : 0;
}

std::string version_text() {
  return std::string("modelc ") + MODELC_VERSION + " (Halide " + lower::halide_version() + ", LLVM " + lower::llvm_version() + ")";
}

struct TuneFlags {
  size_t candidates = 6;
  int runs = 0;
  std::optional<int> threads;
  std::string log;
  bool no_cache = false;
};

// Measures schedule knobs per kernel and merges the winners into the tuning log.
int cmd_tune(const CommonOptions& o, const TuneFlags& f) {
  const spec::Recipe recipe = spec::load_recipe(o.recipe);
  const fs::path log = f.log.empty() ? driver::default_tuning_log(recipe) : fs::path(f.log);
  driver::TuneOptions t;
  t.only_target = o.target;
  t.only_variant = o.variant;
  t.candidates = f.candidates;
  t.runs = f.runs;
  t.threads = f.threads;
  t.use_cache = !f.no_cache;
  t.progress = progress_logger();
  t.milestone = [](const std::string& line) {
    clear_progress();
    spdlog::info("{}", line);
  };
  t.warning = [](const std::string& line) { spdlog::warn("{}", line); };
  const driver::TuneResult result = driver::tune(recipe, t);
  clear_progress();
  std::cout << result.text;
  if (result.measured.empty()) {
    std::cout << "nothing measured: " << log.string() << " is unchanged\n";
    return 0;
  }
  driver::merge_tuning_log(log, result.entries, result.measured);
  std::cout << result.entries.size() << " kernel" << (result.entries.size() == 1 ? "" : "s") << " with tuned knobs written to "
            << log.string() << "\n";
  if (recipe.optimize.schedule != "tuned")
    std::cout << "build with them: optimize: {schedule: {strategy: tuned, log: "
              << fs::relative(fs::absolute(log), fs::absolute(recipe.file).parent_path()).string() << "}}\n";
  return 0;
}

// The per-layer accuracy table of each selected int8 variant.
int cmd_sensitivity(const CommonOptions& o, size_t inputs) {
  const spec::Recipe recipe = spec::load_recipe(o.recipe);
  std::vector<spec::Variant> variants = driver::selected_variants(recipe, o.variant);
  // Without --variant, the int8 variants of the recipe (every one, when none is).
  if (!o.variant) {
    std::vector<spec::Variant> int8;
    for (const spec::Variant& v : variants)
      if (v.recipe.quantization.mode == "int8") int8.push_back(v);
    if (!int8.empty()) variants = int8;
  }
  for (const spec::Variant& v : variants) {
    const reports::SensitivityResult table = driver::layer_sensitivity(v, inputs, progress_logger());
    clear_progress();
    std::cout << reports::render_sensitivity_markdown(table, v.name);
  }
  return 0;
}

// The QDQ ONNX form of an int8 variant: what `bench` and `report` give ONNX
// Runtime as its int8 version of the model, for a person to inspect or run.
int cmd_qdq(const CommonOptions& o, const std::string& out) {
  const spec::Recipe recipe = spec::load_recipe(o.recipe);
  std::vector<spec::Variant> int8;
  for (const spec::Variant& v : driver::selected_variants(recipe, o.variant))
    if (v.recipe.quantization.mode == "int8") int8.push_back(v);
  if (int8.empty())
    throw Error(o.variant ? "variant '" + *o.variant + "' is not int8 (its quantization.mode is not int8)"
                          : "the recipe has no int8 variant (quantization.mode: int8)");
  if (int8.size() > 1) throw Error("the recipe has " + std::to_string(int8.size()) + " int8 variants: choose one with --variant");
  const lang::QdqSummary s = driver::write_qdq_model(int8.front().recipe, out);
  std::cout << out << ": " << s.layers << " layers with int8 weights, " << s.float_layers << " left in float, "
            << s.activations << " activations with QuantizeLinear/DequantizeLinear pairs\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"modelc: compiles a versioned YAML recipe into deployable, measured model artifacts", "modelc"};
  app.require_subcommand(1);
  app.set_version_flag("--version", version_text());
  bool verbose = false, quiet = false;
  app.add_flag("-v,--verbose", verbose, "more detail (debug log)");
  app.add_flag("-q,--quiet", quiet, "only warnings and errors");

  CommonOptions common;
  auto* validate = app.add_subcommand("validate", "check a recipe against the schema and its semantics; exit 2 when invalid");
  add_recipe_options(validate, common, false);

  auto* plan = app.add_subcommand("plan", "list the variants x targets a recipe implies, without building");
  add_recipe_options(plan, common);

  std::vector<std::string> emit;
  bool no_cache = false;
  auto* compile = app.add_subcommand("compile", "build one artifact per variant x target");
  add_recipe_options(compile, common);
  compile->add_option("--emit", emit, "also write: ir (after each pass), stmt (Halide), asm (each kernel's object, disassembled), memory "
                                 "(the arena plan)")
      ->delimiter(',')
      ->check(CLI::IsMember({"ir", "stmt", "asm", "memory"}));
  compile->add_flag("--no-cache", no_cache, "compile every kernel again");
  bool time_passes = false;
  compile->add_flag("--time-passes", time_passes, "print the time each pass of the pipeline took (stderr)");

  std::vector<std::string> inputs;
  std::string output_dir;
  int run_threads = 0;
  auto* run = app.add_subcommand("run", "compile (cached) and run once on .npy inputs, writing .npy outputs");
  add_recipe_options(run, common);
  run->add_option("--input", inputs, "an .npy file per model input, in order (default: the recipe's input or seeded random)");
  run->add_option("--output-dir", output_dir, "where to write <output>.npy (default: <artifact>/outputs)");
  run->add_option("--threads", run_threads, "threads (default: the target's)");

  BenchFlags flags;
  auto add_bench_flags = [&](CLI::App* cmd, bool recipe_required) {
    add_recipe_options(cmd, common);
    if (!recipe_required) cmd->get_option("recipe")->required(false);
    cmd->add_option("--threads", flags.threads, "threads for modelc and the baselines (default: the target's)");
    cmd->add_option("--repeats", flags.repeats, "timed runs per implementation, all rounds together (default: report.benchmark.repeats)")
        ->check(CLI::Range(1, 1000000));
    cmd->add_option("--warmup", flags.warmup, "untimed runs first (default: report.benchmark.warmup)")->check(CLI::Range(0, 100000));
    cmd->add_option("--rounds", flags.rounds, "rounds the implementations take turns in (default: report.benchmark.rounds)")
        ->check(CLI::Range(1, 1000));
    cmd->add_flag("--no-reference", flags.no_reference, "do not time the reference interpreter (it still checks accuracy)");
  };
  auto* bench = app.add_subcommand("bench", "compile (cached), check and time each artifact and its baselines in interleaved rounds");
  add_bench_flags(bench, true);
  bench->add_flag("--kernels", flags.kernels,
                  "instead of timing whole runs against the baselines: time each kernel (--repeats runs), "
                  "with GFLOP/s and % of this core's measured fp32 peak");
  bench->add_flag("--in-place", flags.in_place,
                  "with --kernels: also time each kernel with its inputs where its own parallel loop left them "
                  "(called once more just before), which shows what moving data between cores costs it")
      ->needs(bench->get_option("--kernels"));
  bench->add_option("--top", flags.kernel_rows, "kernels listed per artifact with --kernels (default 25)")
      ->check(CLI::Range(1, 100000));
  std::vector<std::string> merge_files;
  auto* report = app.add_subcommand("report", "bench, then write results.json and the report.formats; prints the report's path");
  add_bench_flags(report, false);
  report->add_option("--merge", merge_files, "no measuring: one report from results.json files of several machines (same recipe)")
      ->check(CLI::ExistingFile);

  TuneFlags tune_flags;
  auto* tune = app.add_subcommand("tune", "measure schedule knobs per kernel on this machine; keep the faster ones in a tuning log");
  add_recipe_options(tune, common, false);
  tune->add_option("--target", common.target, "only this target (a key of targets:)");
  tune->add_option("--variant", common.variant, "only this variant (see `modelc plan`)");
  tune->add_option("--candidates", tune_flags.candidates, "schedules measured per kernel, the template's included (default 6)")
      ->check(CLI::Range(2, 64));
  tune->add_option("--runs", tune_flags.runs, "profiled runs per build (default: about a second's worth)")->check(CLI::Range(1, 1000000));
  tune->add_option("--threads", tune_flags.threads, "threads (default: the target's)");
  tune->add_option("--log", tune_flags.log, "the tuning log to merge into (default: optimize.schedule.log, else tuning.jsonl beside the recipe)");
  tune->add_flag("--no-cache", tune_flags.no_cache, "compile every kernel again");

  size_t sensitivity_inputs = 32;
  auto* sensitivity = app.add_subcommand(
      "sensitivity", "per int8 layer: the accuracy lost when only that layer is quantized (held-out inputs), to guide quantization.skip");
  add_recipe_options(sensitivity, common, false);
  sensitivity->add_option("--variant", common.variant, "only this variant (default: every int8 variant)");
  sensitivity->add_option("--inputs", sensitivity_inputs, "held-out inputs used, at most (default 32)")->check(CLI::Range(1, 100000));

  std::string qdq_out;
  auto* qdq = app.add_subcommand("qdq", "write an int8 variant's ONNX model in QDQ form, with its calibrated ranges (ONNX Runtime's int8 baseline)");
  add_recipe_options(qdq, common, false);
  qdq->add_option("--variant", common.variant, "the int8 variant (needed when there are several)");
  qdq->add_option("-o,--out", qdq_out, "the .onnx file to write")->required();

  std::string diff_old, diff_new;
  double threshold_percent = reports::kDefaultRegressionThreshold * 100;
  std::string diff_format = "text";
  auto* diff = app.add_subcommand("diff", "compare two results.json files row by row; exit 1 when a modelc row regressed");
  diff->add_option("old", diff_old, "results.json before")->required()->check(CLI::ExistingFile);
  diff->add_option("new", diff_new, "results.json after")->required()->check(CLI::ExistingFile);
  diff->add_option("--threshold", threshold_percent, "a slow-down (percent) that counts as a regression when beyond noise (default 5)");
  diff->add_option("--format", diff_format, "text (Markdown) or json")->check(CLI::IsMember({"text", "json"}));

  std::string schema_name;
  auto* schema = app.add_subcommand("schema", "print a JSON schema: recipe, graph, target or results");
  schema->add_option("name", schema_name, "which schema")->required()->check(CLI::IsMember({"recipe", "graph", "target", "results"}));

  auto* ops = app.add_subcommand("ops", "list the IR operators, their fusion pattern and whether they lower");
  bool onnx_ops = false;
  ops->add_flag("--onnx", onnx_ops, "list the ONNX operators the importer takes instead (see docs/onnx.md)");
  auto* passes = app.add_subcommand("passes", "list the passes and their opt levels");
  auto* devices = app.add_subcommand("devices", "list the device profiles, and whether each compiles and runs here");
  devices->add_option("--format", common.format, "text or json")->check(CLI::IsMember({"text", "json"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUserError;
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt("modelc"));
  spdlog::set_pattern("%^[%l]%$ %v");
  spdlog::set_level(quiet ? spdlog::level::warn : verbose ? spdlog::level::debug : spdlog::level::info);
  driver::TerminalProgress progress(driver::TerminalProgress::stderr_is_terminal() && !quiet && !verbose &&
                                    common.format != "json");
  g_progress = &progress;

  try {
    if (*validate) return cmd_validate(common, common.format);
    if (*plan) return cmd_plan(common);
    if (*compile) return cmd_compile(common, emit, no_cache, time_passes);
    if (*run) return cmd_run(common, inputs, output_dir, run_threads);
    if (*bench) return cmd_bench(common, flags);
    if (*tune) return cmd_tune(common, tune_flags);
    if (*sensitivity) return cmd_sensitivity(common, sensitivity_inputs);
    if (*qdq) return cmd_qdq(common, qdq_out);
    if (*report && !merge_files.empty()) return cmd_merge(merge_files, common.out_dir);
    if (*report) {
      if (common.recipe.empty()) throw Error("`modelc report` needs a recipe, or --merge and results.json files");
      return cmd_report(common, flags);
    }
    if (*diff) return cmd_diff(diff_old, diff_new, threshold_percent, diff_format);
    if (*schema) {
      std::cout << spec::builtin_schema(schema_name).dump(2) << "\n";
      return 0;
    }
    if (*ops && onnx_ops) {
      for (const std::string& op : lang::supported_onnx_ops()) std::cout << op << "\n";
      return 0;
    }
    if (*ops) {
      for (const lang::OpDef* op : lang::OpRegistry::global().all())
        std::cout << fmt::format("{:24} {:22} {:8} {}\n", op->name, lang::pattern_name(op->pattern),
                                 lower::has_lowering(op->name) ? "lowered" : "-", op->summary);
      return 0;
    }
    if (*passes) {
      for (const lang::PassInfo& p : lang::PassRegistry::global().all())
        std::cout << fmt::format("{:22} O{}  {}\n", p.name, p.opt_level, p.summary);
      return 0;
    }
    if (*devices) return cmd_devices(common.format);
  } catch (const Error& e) {
    clear_progress();
    print_errors(e, common.format == "json");
    return kExitUserError;
  } catch (const std::exception& e) {
    clear_progress();
    std::cerr << "internal error: " << e.what() << "\n(this is a bug in modelc; please report it with the recipe)\n";
    return kExitInternalError;
  }
  return 0;
}
