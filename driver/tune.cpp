#include "driver/tune.h"

#include <algorithm>
#include <map>

#include "driver/evaluate.h"
#include "reports/artifact_timer.h"
#include "reports/format.h"
#include "reports/kernel_profile.h"
#include "reports/machine.h"
#include "reports/statistics.h"
#include "support/diagnostic.h"
#include "support/file_io.h"
#include "targets/recipe_device.h"

namespace modelc::driver {
namespace fs = std::filesystem;

namespace {

// A kept knob must beat the template by this much in the trials, and again
// (by kVerifyMargin) when both builds are profiled side by side: smaller
// differences are this machine's noise, not the schedule's.
constexpr double kTrialMargin = 0.03;
constexpr double kVerifyMargin = 0.02;
constexpr int kVerifyRounds = 2;  // template and tuned profiles, alternately
constexpr int kModelRounds = 5;   // whole-model rounds, alternately

using KnobMap = std::map<std::string, lower::ScheduleKnobs>;

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return reports::percentile_of_sorted(v, 50);
}

// One distinct kernel of the model (a workload) and what was measured of it.
struct Workload {
  std::string ops;
  std::vector<lower::ScheduleKnobs> candidates;  // [0]: the template's own choice
  std::map<size_t, std::vector<double>> ms;       // candidate -> medians of the builds that used it
  size_t best = 0;                                // a candidate; 0: the template
  size_t verified = 0;                            // the candidate the side-by-side profiles compared (0: none)
  double verified_template_ms = 0, verified_ms = 0;
};

// What one tuning of a variant x target works with.
struct Session {
  Session(const spec::Recipe& r, const spec::Variant& v, const spec::TargetSpec& t, const TuneOptions& o)
      : recipe(r), variant(v), target(t), options(o) {}

  const spec::Recipe& recipe;
  const spec::Variant& variant;
  const spec::TargetSpec& target;
  const TuneOptions& options;
  ScratchDirectory scratch{"modelc-tune"};
  std::vector<lang::Tensor> inputs;
  ReferenceRun reference;
  int threads = 1;
  int runs = 0;
  std::map<std::string, Workload> workloads;

  // Builds the variant x target into scratch/<folder> with `knobs`, checks
  // its outputs against the reference interpreter, and returns it.
  CompiledArtifact build(const std::string& folder, const KnobMap& knobs, const std::string& what) {
    CompileOptions co;
    co.out_dir = scratch.path() / folder;
    co.only_variant = variant.name;
    co.only_target = target.name;
    co.use_cache = options.use_cache;
    co.force = true;
    co.schedule_knobs = knobs;
    co.warning = options.warning;
    if (options.progress) co.progress = [&](const std::string& line) { options.progress(what + ": " + line); };
    CompiledArtifact a = compile(recipe, co).at(0);
    const reports::VariantResult checked = check_artifact(a, inputs, reference, threads);
    if (checked.status != reports::RunStatus::ok)
      throw Error("modelc tune: the " + what + " build of " + variant.name + " / " + target.name +
                  " does not match the reference interpreter (" + checked.note + "); this is a bug in a schedule");
    return a;
  }

  // Per workload, the median time per run of its kernel in a profile of `a`.
  std::map<std::string, double> profile(const CompiledArtifact& a, double* run_ms = nullptr) {
    std::map<std::string, std::string> workload_of;  // symbol -> workload
    for (const auto& k : a.summary.manifest.at("kernels"))
      workload_of[k.at("name").get<std::string>()] =
          k.contains("schedule") ? k.at("schedule").at("workload").get<std::string>() : k.at("hash").get<std::string>();
    reports::ArtifactTimer timer(a.directory, threads, input_bytes(inputs));
    if (runs <= 0) runs = reports::profile_runs_for(timer);
    const reports::KernelProfile p = reports::profile_kernels(timer, runs);
    if (run_ms) *run_ms = p.run_ms;
    std::map<std::string, double> out;
    for (const reports::KernelTiming& k : p.kernels) out[workload_of.at(k.kernel)] = k.ms;
    return out;
  }

  // Trial `i`: every workload with an i-th candidate gets it, the others their template.
  KnobMap trial_knobs(size_t i) const {
    KnobMap knobs;
    for (const auto& [w, wl] : workloads)
      if (i > 0 && i < wl.candidates.size()) knobs[w] = wl.candidates[i];
    return knobs;
  }

  KnobMap chosen_knobs() const {
    KnobMap knobs;
    for (const auto& [w, wl] : workloads)
      if (wl.best > 0) knobs[w] = wl.candidates[wl.best];
    return knobs;
  }

  void record(size_t trial, const std::map<std::string, double>& ms) {
    for (auto& [w, wl] : workloads) {
      auto it = ms.find(w);
      if (it == ms.end()) continue;
      wl.ms[trial < wl.candidates.size() ? trial : 0].push_back(it->second);
    }
  }
};

// "3x4": a candidate's register tile, for the table.
std::string knob_text(const Workload& w, size_t i) {
  if (i >= w.candidates.size()) return "-";
  const lower::ScheduleKnobs& k = w.candidates[i];
  return std::to_string(k.tile_blocks) + "x" + std::to_string(k.tile_pixels);
}

}  // namespace

TuneResult tune(const spec::Recipe& recipe, const TuneOptions& options) {
  TuneResult result;
  const reports::MachineInfo machine = reports::describe_machine();
  for (const spec::Variant& variant : selected_variants(recipe, options.only_variant)) {
    for (const spec::TargetSpec& target : variant_targets(variant, selected_targets(recipe, options.only_target))) {
      const targets::DeviceProfile& profile = targets::device_profile_of(variant.recipe, target);
      const std::string name = variant.name + " / " + target.name;
      if (!targets::runs_natively_here(profile)) {
        result.text += name + ": not tuned (" + profile.name + " does not run natively on this machine: tuning measures here)\n\n";
        continue;
      }
      Session s(recipe, variant, target, options);
      s.threads = resolve_threads(options.threads.value_or(target.threads));
      s.runs = options.runs;
      const lang::Module imported = import_model(variant.recipe);
      s.inputs = benchmark_inputs(variant.recipe, imported);
      if (options.progress) options.progress(name + ": running the reference interpreter");
      s.reference = run_reference(reference_module(variant.recipe, imported, activation_layout(variant.recipe, profile)), s.inputs,
                                  &variant.recipe);

      // The kernels and their candidate knobs, from the module the build compiles.
      const OptimizedModule optimized = optimize(imported, variant.recipe, activation_layout(variant.recipe, profile));
      const lower::KernelTarget kernel_target = targets::kernel_target(profile);
      size_t trials = 1;
      for (const lang::Function& fn : optimized.module.functions) {
        if (!fn.primitive) continue;
        const std::string workload = lower::kernel_hash(optimized.module, fn, kernel_target);
        if (s.workloads.count(workload)) continue;
        Workload& w = s.workloads[workload];
        for (const lang::Binding& b : fn.body) w.ops += (w.ops.empty() ? "" : "+") + b.callee_name();
        w.candidates = lower::schedule_candidates(optimized.module, fn, kernel_target, std::max<size_t>(1, options.candidates));
        trials = std::max(trials, w.candidates.size());
      }
      const size_t tunable = static_cast<size_t>(std::count_if(s.workloads.begin(), s.workloads.end(),
                                                               [](const auto& w) { return w.second.candidates.size() > 1; }));
      if (tunable == 0) {
        result.text += name + ": nothing to tune (no kernel's schedule has knobs)\n\n";
        continue;
      }

      // The trials: 0 is every template.
      for (size_t i = 0; i < trials; ++i) {
        const std::string what = "trial " + std::to_string(i + 1) + "/" + std::to_string(trials);
        const CompiledArtifact a = s.build("trial", s.trial_knobs(i), what);
        if (options.progress) options.progress(name + ": profiling " + what);
        double run_ms = 0;
        s.record(i, s.profile(a, &run_ms));
        if (options.milestone)
          options.milestone(name + ": " + what + " profiled, " + reports::format_fixed(run_ms, 3) + " ms per run");
      }
      for (auto& [w, wl] : s.workloads) {
        if (!wl.ms.count(0)) continue;
        const double base = median(wl.ms[0]);
        for (size_t c = 1; c < wl.candidates.size(); ++c)
          if (wl.ms.count(c) && median(wl.ms[c]) < base * (1 - kTrialMargin) &&
              (wl.best == 0 || median(wl.ms[c]) < median(wl.ms[wl.best])))
            wl.best = c;
      }

      // Verification: the template and the tuned build, profiled alternately.
      const CompiledArtifact plain = s.build("template", {}, "template");
      KnobMap chosen = s.chosen_knobs();
      double plain_ms = 0, tuned_ms = 0;
      if (!chosen.empty()) {
        const CompiledArtifact tuned = s.build("tuned", chosen, "tuned");
        std::map<std::string, std::vector<double>> a_ms, b_ms;
        for (int r = 0; r < kVerifyRounds; ++r) {
          if (options.progress) options.progress(name + ": verifying, round " + std::to_string(r + 1) + "/" + std::to_string(kVerifyRounds));
          for (const auto& [w, ms] : s.profile(plain)) a_ms[w].push_back(ms);
          for (const auto& [w, ms] : s.profile(tuned)) b_ms[w].push_back(ms);
        }
        for (auto& [w, wl] : s.workloads) {
          wl.verified = wl.best;
          wl.verified_template_ms = median(a_ms[w]);
          wl.verified_ms = median(b_ms[w]);
          if (wl.best > 0 && !(wl.verified_ms < wl.verified_template_ms * (1 - kVerifyMargin))) wl.best = 0;
        }
        chosen = s.chosen_knobs();
      }
      // The whole model, template against tuned, in alternating rounds.
      std::optional<reports::Speedup> model_speedup;
      if (!chosen.empty()) {
        const CompiledArtifact tuned = s.build("final", chosen, "tuned");
        reports::ArtifactTimer a(plain.directory, s.threads, input_bytes(s.inputs));
        reports::ArtifactTimer b(tuned.directory, s.threads, input_bytes(s.inputs));
        const int per_round = std::max(3, s.runs / 2);
        reports::RoundSamples ra, rb;
        for (int r = 0; r < kModelRounds; ++r) {
          if (options.progress) options.progress(name + ": whole model, round " + std::to_string(r + 1) + "/" + std::to_string(kModelRounds));
          ra.push_back(a.run_batch(per_round));
          rb.push_back(b.run_batch(per_round));
        }
        model_speedup = reports::speedup(rb, ra, true);
        plain_ms = reports::summarize_rounds(ra, 0).median_ms;
        tuned_ms = reports::summarize_rounds(rb, 0).median_ms;
      }
      const bool keep = model_speedup && model_speedup->value > 1.0;

      // The table.
      result.text += name + ", " + std::to_string(s.threads) + " thread" + (s.threads == 1 ? "" : "s") + ": " +
                     std::to_string(s.workloads.size()) + " kernels, " + std::to_string(tunable) + " with knobs, " +
                     std::to_string(trials) + " builds profiled (" + std::to_string(s.runs) + " runs each)\n";
      result.text += "  template  ms        best      ms        verified (template -> tuned)   kernel\n";
      std::vector<std::pair<double, const std::string*>> order;
      for (const auto& [w, wl] : s.workloads)  // a kernel no step calls was never timed
        if (wl.candidates.size() > 1 && wl.ms.count(0)) order.emplace_back(-median(wl.ms.at(0)), &w);
      std::sort(order.begin(), order.end());
      for (const auto& [_, w] : order) {
        const Workload& wl = s.workloads.at(*w);
        size_t fastest = 0;
        for (const auto& [c, ms] : wl.ms)
          if (median(ms) < median(wl.ms.at(fastest))) fastest = c;
        const std::string best = knob_text(wl, fastest);
        const std::string best_ms = reports::format_fixed(median(wl.ms.at(fastest)), 3);
        const std::string verified =
            wl.verified > 0 ? reports::format_fixed(wl.verified_template_ms, 3) + " -> " + reports::format_fixed(wl.verified_ms, 3) : "";
        const std::string verdict = wl.best > 0 && keep ? "kept " + knob_text(wl, wl.best) : "template";
        char line[512];
        std::snprintf(line, sizeof line, "  %-8s  %-8s  %-8s  %-8s  %-20s %-9s  %s\n", knob_text(wl, 0).c_str(),
                      reports::format_fixed(median(wl.ms.at(0)), 3).c_str(), best.c_str(), best_ms.c_str(), verified.c_str(),
                      verdict.c_str(), wl.ops.c_str());
        result.text += line;
      }
      for (const auto& [w, wl] : s.workloads)
        if (wl.candidates.size() > 1) result.measured.emplace(w, kernel_target.halide_target, s.threads);
      if (!model_speedup) {
        result.text += "  no knob beat its template by more than noise: the template schedules stay\n\n";
        continue;
      }
      result.text += "  whole model: template " + reports::format_ms(plain_ms) + " ms, tuned " + reports::format_ms(tuned_ms) +
                     " ms per run: " + reports::format_speedup(*model_speedup) +
                     (keep ? "" : ": not faster, so the template schedules stay") + "\n\n";
      if (!keep) continue;
      for (const auto& [w, wl] : s.workloads) {
        if (wl.best == 0) continue;
        TuningEntry e;
        e.workload = w;
        e.halide_target = kernel_target.halide_target;
        e.knobs = wl.candidates[wl.best];
        e.ops = wl.ops;
        e.template_knobs = wl.candidates[0].str();
        e.ms = wl.verified_ms;
        e.template_ms = wl.verified_template_ms;
        e.threads = s.threads;
        e.machine = machine.cpu_model;
        e.date = reports::utc_timestamp();
        result.entries.push_back(std::move(e));
      }
    }
  }
  return result;
}

}  // namespace modelc::driver
