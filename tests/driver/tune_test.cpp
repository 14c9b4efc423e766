// Tuned schedules: knobs reach the kernels they name and nothing else, a
// tuning log feeds the tuned strategy (and the lockfile), bad logs are located
// errors, and `modelc tune` measures and writes a log.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "driver/evaluate.h"
#include "driver/pipeline.h"
#include "driver/tuning_log.h"
#include "lower/lowering.h"
#include "spec/lockfile.h"
#include "support/diagnostic.h"
#include "support/file_io.h"
#include "support/process.h"
#include "targets/recipe_device.h"
#include "tests/driver/test_util.h"

namespace fs = std::filesystem;
using namespace modelc;

namespace {

// The quickstart CNN in a folder of its own, with `schedule` (a YAML flow
// mapping) under optimize when given.
fs::path quickstart_copy(const test::TempDir& tmp, const std::string& schedule = "") {
  std::string text = read_text_file(test::source_root() / "examples/quickstart/cnn.yaml");
  const std::string level = "optimize:\n  level: 2\n";
  REQUIRE(text.find(level) != std::string::npos);
  if (!schedule.empty()) text.replace(text.find(level), level.size(), level + "  schedule: " + schedule + "\n");
  return tmp.write("cnn.yaml", text);
}

struct Workloads {
  std::string halide_target;
  std::map<std::string, std::vector<lower::ScheduleKnobs>> candidates;  // workload -> knobs, template first
};

Workloads workloads_of(const spec::Recipe& recipe) {
  const targets::DeviceProfile& profile = targets::device_profile_of(recipe, recipe.targets.front());
  const driver::OptimizedModule optimized =
      driver::optimize(driver::import_model(recipe), recipe, driver::activation_layout(recipe, profile));
  Workloads w;
  w.halide_target = targets::resolved_halide_target(profile);
  const lower::KernelTarget target{w.halide_target, {}};
  for (const lang::Function& fn : optimized.module.functions)
    if (fn.primitive)
      w.candidates[lower::kernel_hash(optimized.module, fn, target)] = lower::schedule_candidates(optimized.module, fn, target, 4);
  return w;
}

size_t kernels_with_knobs(const driver::CompiledArtifact& a) {
  size_t n = 0;
  for (const auto& k : a.summary.manifest.at("kernels")) n += k.contains("schedule") ? 1 : 0;
  return n;
}

void check_outputs(const spec::Recipe& recipe, const driver::CompiledArtifact& a) {
  const lang::Module imported = driver::import_model(recipe);
  const std::vector<lang::Tensor> inputs = driver::benchmark_inputs(recipe, imported);
  const reports::VariantResult r =
      driver::check_artifact(a, inputs, driver::run_reference(driver::reference_module(recipe, imported, "NCHW"), inputs), 1);
  CHECK_MESSAGE(r.status == reports::RunStatus::ok, r.note);
}

}  // namespace

TEST_CASE("schedule knobs: the kernels they name get other tiles, compute the same, and leave the lockfile alone") {
  test::TempDir tmp;
  const spec::Recipe recipe = spec::load_recipe(quickstart_copy(tmp));
  const Workloads w = workloads_of(recipe);
  std::map<std::string, lower::ScheduleKnobs> knobs;
  for (const auto& [workload, candidates] : w.candidates) {
    if (candidates.size() < 2) continue;
    CHECK(!candidates.front().empty());
    knobs[workload] = candidates.back();  // the model's least favourite of the four: still correct
  }
  REQUIRE(knobs.size() >= 2);  // the convolutions
  driver::CompileOptions options;
  options.out_dir = tmp.path() / "trial";
  options.schedule_knobs = knobs;
  const driver::CompiledArtifact trial = driver::compile(recipe, options).at(0);
  CHECK(kernels_with_knobs(trial) == knobs.size());
  for (const auto& k : trial.summary.manifest.at("kernels"))
    if (k.contains("schedule")) CHECK(knobs.count(k.at("schedule").at("workload").get<std::string>()));
  CHECK_FALSE(fs::exists(spec::lock_path(recipe)));
  check_outputs(recipe, trial);

  options.out_dir = tmp.path() / "template";
  options.schedule_knobs.reset();
  const driver::CompiledArtifact plain = driver::compile(recipe, options).at(0);
  CHECK(kernels_with_knobs(plain) == 0);
  CHECK(fs::exists(spec::lock_path(recipe)));
  // Tuned kernels are other kernels: other symbols, cached apart.
  std::set<std::string> symbols;
  for (const auto& k : plain.summary.manifest.at("kernels")) symbols.insert(k.at("name").get<std::string>());
  for (const auto& k : trial.summary.manifest.at("kernels"))
    CHECK(symbols.count(k.at("name").get<std::string>()) == (k.contains("schedule") ? 0 : 1));
}

TEST_CASE("the tuned strategy builds with its log's entries for this target, and the lockfile hashes the log") {
  test::TempDir tmp;
  const fs::path recipe_path = quickstart_copy(tmp, "{strategy: tuned, log: tuning.jsonl}");
  const Workloads w = workloads_of(spec::load_recipe(recipe_path));
  const int threads = driver::resolve_threads(0);  // the quickstart's target runs on every core
  std::vector<driver::TuningEntry> entries;
  for (const auto& [workload, candidates] : w.candidates) {
    if (candidates.size() < 2) continue;
    entries.push_back({workload, w.halide_target, candidates[1], "nn.conv2d", candidates[0].str(), 1, 2, threads, "cpu", "now"});
    // The same kernel measured for another target, or with other threads: not this build's business.
    entries.push_back({workload, "arm-64-linux", candidates[0], "nn.conv2d", "", 1, 2, threads, "cpu", "now"});
    entries.push_back({workload, w.halide_target, candidates[0], "nn.conv2d", "", 1, 2, threads + 1, "cpu", "now"});
  }
  REQUIRE(entries.size() >= 6);
  driver::merge_tuning_log(tmp.path() / "tuning.jsonl", entries);
  CHECK(driver::read_tuning_log(tmp.path() / "tuning.jsonl").size() == entries.size());

  const spec::Recipe recipe = spec::load_recipe(recipe_path);
  driver::validate_recipe(recipe);
  driver::CompileOptions options;
  options.out_dir = tmp.path() / "out";
  std::vector<std::string> warnings;
  options.warning = [&](const std::string& line) { warnings.push_back(line); };
  const driver::CompiledArtifact a = driver::compile(recipe, options).at(0);
  CHECK(kernels_with_knobs(a) == entries.size() / 3);
  CHECK(warnings.empty());
  check_outputs(recipe, a);
  const spec::Lock lock = spec::read_lock(spec::lock_path(recipe));
  CHECK(lock.variants.at("default").inputs.count("tuning.jsonl") == 1);

  // A log measured elsewhere reaches no kernel here: built with templates, and said so.
  std::vector<driver::TuningEntry> elsewhere;
  for (driver::TuningEntry e : entries) {
    e.halide_target = "x86-64-linux-avx512";
    elsewhere.push_back(e);
  }
  fs::remove(tmp.path() / "tuning.jsonl");
  driver::merge_tuning_log(tmp.path() / "tuning.jsonl", elsewhere);
  const driver::CompiledArtifact b = driver::compile(spec::load_recipe(recipe_path), options).at(0);
  CHECK(kernels_with_knobs(b) == 0);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("0 of") != std::string::npos);
  CHECK(warnings[0].find("modelc tune") != std::string::npos);
}

TEST_CASE("tuning logs: a missing log, a broken line and knobs that do not fit are located errors") {
  test::TempDir tmp;
  const fs::path recipe_path = quickstart_copy(tmp, "{strategy: tuned, log: tuning.jsonl}");
  driver::CompileOptions options;
  options.out_dir = tmp.path() / "out";
  auto compile_error = [&]() -> std::string {
    try {
      driver::compile(spec::load_recipe(recipe_path), options);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  std::string err = compile_error();
  CHECK(err.find("cnn.yaml:") != std::string::npos);
  CHECK(err.find("tuning.jsonl does not exist") != std::string::npos);
  CHECK(err.find("/optimize/schedule/log") != std::string::npos);
  CHECK_THROWS_AS(driver::validate_recipe(spec::load_recipe(recipe_path)), Error);

  const Workloads w = workloads_of(spec::load_recipe(recipe_path));
  const std::string workload = std::find_if(w.candidates.begin(), w.candidates.end(), [](const auto& c) {
                                 return c.second.size() > 1;
                               })->first;
  const std::string good = R"({"workload":")" + workload + R"(","target":")" + w.halide_target +
                           R"(","threads":1,"knobs":{"tile_blocks":1,"tile_pixels":1}})";
  tmp.write("tuning.jsonl", good + "\n\n{\"workload\": \"x\", \"target\": \"t\", \"threads\": 1, \"knobs\": {\"unroll\": 2}}\n");
  err = compile_error();
  CHECK(err.find("tuning.jsonl:3") != std::string::npos);
  CHECK(err.find("unknown knob \"unroll\"") != std::string::npos);
  tmp.write("tuning.jsonl", "not json\n");
  CHECK(compile_error().find("tuning.jsonl:1") != std::string::npos);

  // Knobs the kernel cannot take (a hand-edited log): refused, not ignored.
  tmp.write("tuning.jsonl", R"({"workload":")" + workload + R"(","target":")" + w.halide_target + R"(","threads":)" +
                                std::to_string(driver::resolve_threads(0)) +
                                R"(,"knobs":{"tile_blocks":64,"tile_pixels":64}})" + "\n");
  err = compile_error();
  CHECK(err.find("do not fit") != std::string::npos);
  CHECK_FALSE(fs::exists(tmp.path() / "out" / "host"));
}

TEST_CASE("modelc tune measures each kernel's candidates and merges what it keeps into the log") {
  test::TempDir tmp;
  const fs::path recipe_path = quickstart_copy(tmp);
  const fs::path log = tmp.path() / "logs" / "cnn.jsonl";
  // An entry of another model stays; the kernels measured now replace theirs.
  driver::merge_tuning_log(log, {{"other-model-kernel", "x86-64-linux", {2, 2}, "nn.conv2d", "", 1, 2, 1, "cpu", "then"}});
  const ProcessResult r = run_process({test::modelc_binary().string(), "tune", recipe_path.string(), "--runs", "3",
                                       "--candidates", "2", "--threads", "1", "--log", log.string()});
  INFO(r.stderr_text);
  INFO(r.stdout_text);
  REQUIRE(r.exit_code == 0);
  CHECK(r.stdout_text.find("with knobs") != std::string::npos);
  CHECK(r.stdout_text.find("written to " + log.string()) != std::string::npos);
  CHECK(r.stdout_text.find("strategy: tuned, log: logs/cnn.jsonl") != std::string::npos);
  const std::vector<driver::TuningEntry> entries = driver::read_tuning_log(log);
  REQUIRE(!entries.empty());
  CHECK(entries.front().workload == "other-model-kernel");
  const Workloads w = workloads_of(spec::load_recipe(recipe_path));
  for (size_t i = 1; i < entries.size(); ++i) {
    const driver::TuningEntry& e = entries[i];
    CHECK(e.halide_target == w.halide_target);
    REQUIRE(w.candidates.count(e.workload));
    CHECK(e.knobs == w.candidates.at(e.workload).at(1));  // the template is never written: it is the default
    CHECK(e.ms < e.template_ms);
    CHECK(e.threads == 1);
  }
}
