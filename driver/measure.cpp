#include "driver/measure.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "driver/calibration.h"
#include "driver/evaluate.h"
#include "driver/foreign_run.h"
#include "driver/sensitivity.h"
#include "lang/interpreter.h"
#include "reports/artifact_timer.h"
#include "reports/comparison.h"
#include "reports/core_transfer.h"
#include "reports/format.h"
#include "reports/kernel_profile.h"
#include "reports/method_text.h"
#include "reports/onnxruntime_session.h"
#include "reports/peak.h"
#include "reports/rounds.h"
#include "support/diagnostic.h"

namespace fs = std::filesystem;

namespace modelc::driver {
namespace {

constexpr int kNotTimed = -1;

// A model with its benchmark inputs and the reference interpreter's outputs,
// shared by every artifact built from it (variants often change only how
// the model is compiled, not the model).
struct ModelCase {
  spec::Recipe recipe;  // the first variant's recipe naming it
  lang::Module module;
  std::vector<lang::Tensor> inputs;
  ReferenceRun reference;
  std::string versus_float;  // a quantized model: how far its reference is from the float model's
  int reference_timing = kNotTimed;  // index of its implementation
  std::optional<fs::path> input_file;  // the input as .npy, for ONNX Runtime
  // An int8 model's QDQ form for ONNX Runtime (written once, for every thread count), what it holds, or why there is none.
  std::optional<fs::path> qdq_file;
  std::string qdq_summary, qdq_error;
};

// An ONNX Runtime session, shared by the artifacts of one model and thread count.
struct OrtCase {
  std::shared_ptr<reports::OnnxRuntimeSession> session;
  std::string model;  // what ONNX Runtime runs, for the note
  int timing = kNotTimed;
  int overhead_timing = kNotTimed;
};

struct ArtifactCase {
  reports::VariantResult result;
  ModelCase* model = nullptr;
  int timing = kNotTimed;
  OrtCase* ort = nullptr;
  std::string ort_skipped;  // why ONNX Runtime does not apply, when it does not
};

// Variants share a model case when they share the model, its input and
// (for the reference run) the quantization block.
std::string model_key(const spec::Recipe& recipe) {
  const nlohmann::json quantization = recipe.quantization.mode == "none" ? nlohmann::json() : recipe.resolved.value("quantization", nlohmann::json());
  return recipe.resolved["model"].dump() + "|" + quantization.dump() + "|" +
         (recipe.report.input ? recipe.report.input->string() : std::string());
}


// Removes the temporary .npy files ONNX Runtime read, however measuring ends.
struct TemporaryFiles {
  std::vector<fs::path> paths;
  ~TemporaryFiles() {
    for (const fs::path& p : paths) {
      std::error_code ec;
      fs::remove(p, ec);
    }
  }
  fs::path add(const std::string& stem, const std::string& extension = ".npy") {
    paths.push_back(fs::temp_directory_path() /
                    ("modelc-" + stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(paths.size()) + extension));
    return paths.back();
  }
};

class Measurement {
 public:
  Measurement(const spec::Recipe& recipe, const MeasureOptions& options) : recipe_(recipe), options_(options) {}

  reports::Results run(const std::vector<CompiledArtifact>& artifacts) {
    reports::Results results = results_for(recipe_, options_.benchmark);
    if (options_.measure_peak) {
      say("measuring this core's fp32 peak");
      const reports::Fp32Peak one = reports::measure_fp32_peak_detail(1);
      const reports::Fp32Peak all = reports::measure_fp32_peak_detail(0);
      results.environment.fp32_peak = reports::Fp32PeakFigures{one.isa, one.gflops, all.threads, all.gflops};
      say("measuring how fast a core reads what another core wrote");
      results.environment.core_transfer = reports::measure_core_transfer();
    }
    for (size_t i = 0; i < artifacts.size(); ++i) {
      say("checking " + artifacts[i].variant + " / " + artifacts[i].target + " against the reference interpreter (" +
          std::to_string(i + 1) + "/" + std::to_string(artifacts.size()) + ")");
      add_artifact(artifacts[i]);
    }
    compare_held_out(artifacts);
    if (options_.sensitivity) add_sensitivity(artifacts);
    add_baselines();
    const std::vector<reports::RoundsMeasurement> measured =
        reports::measure_in_rounds(implementations_, options_.benchmark, [&](const reports::RoundsProgress& p) {
          say(p.phase == reports::RoundsProgress::Phase::warmup
                  ? "warming up " + std::to_string(p.done) + "/" + std::to_string(p.total)
                  : "measuring in rounds: " + std::to_string(p.done) + "/" + std::to_string(p.total));
        });
    for (ArtifactCase& a : artifacts_) results.results.push_back(finish(a, measured));
    results.compare_to = reports::resolve_compare_to(results, recipe_.report.compare_to);
    results.comparisons = reports::compare_rows(results);
    return results;
  }

 private:
  void say(const std::string& line) const {
    if (options_.progress) options_.progress(line);
  }

  ModelCase& model_case(const spec::Recipe& variant_recipe, const std::string& layout) {
    const std::string key = model_key(variant_recipe) + (reference_depends_on_layout(variant_recipe) ? "|" + layout : "");
    auto found = models_.find(key);
    if (found != models_.end()) return *found->second;
    auto model = std::make_unique<ModelCase>();
    model->recipe = variant_recipe;
    const lang::Module imported = import_model(variant_recipe);
    model->inputs = benchmark_inputs(variant_recipe, imported);
    model->module = reference_module(variant_recipe, imported, layout);
    model->reference = run_reference(model->module, model->inputs, &variant_recipe);
    if (variant_recipe.quantization.mode != "none")
      model->versus_float = quantization_error(model->reference, run_reference(imported, model->inputs));
    return *models_.emplace(key, std::move(model)).first->second;
  }

  int add_timing(std::string label, std::function<std::vector<double>(int)> run_batch, int max_runs_per_round = 1 << 30,
                 int max_warmup = 1 << 30) {
    implementations_.push_back({std::move(label), std::move(run_batch), max_runs_per_round, max_warmup});
    return static_cast<int>(implementations_.size()) - 1;
  }

  void add_artifact(const CompiledArtifact& artifact) {
    const spec::Variant variant = selected_variants(recipe_, artifact.variant).front();
    const targets::DeviceProfile& profile = artifact.device_profile();
    ArtifactCase a;
    a.model = &model_case(variant.recipe, activation_layout(variant.recipe, profile));
    a.result = check_artifact(artifact, a.model->inputs, a.model->reference, options_.threads.value_or(artifact.threads));
    // The artifact equals the quantized model's reference run (checked just
    // now), so that run's distance from the float model is the artifact's.
    if (a.result.status == reports::RunStatus::ok && !a.model->versus_float.empty())
      a.result.note = a.result.note.empty() ? a.model->versus_float : a.result.note + "; " + a.model->versus_float;
    if (a.result.status == reports::RunStatus::ok && targets::runs_natively_here(profile)) {
      auto timer = std::make_shared<reports::ArtifactTimer>(artifact.directory, a.result.threads, input_bytes(a.model->inputs));
      a.timing = add_timing(artifact.variant + " / " + artifact.target + " / modelc",
                            [timer](int runs) { return timer->run_batch(runs); });
    } else if (a.result.status == reports::RunStatus::ok) {
      // A GPU's runner (check_artifact leaves emulated runs untimed): each
      // batch is one runner process that times `runs` runs after its first,
      // so neither process start-up nor the copies of inputs are timed.
      const ModelCase* model = a.model;
      const fs::path dir = artifact.directory;
      const int threads = a.result.threads;
      a.timing = add_timing(artifact.variant + " / " + artifact.target + " / modelc",
                            [&profile, model, dir, threads](int runs) {
                              return run_foreign(profile, dir, model->inputs, targets::RunnerOptions{threads, 0, runs, 0})
                                  .samples_ms;
                            });
    }
    artifacts_.push_back(std::move(a));
  }

  // A quantized artifact that ran here, beside a float build of the same
  // model for the same target in this run: both on the held-out inputs of
  // quantization.evaluation, the result appended to the row's note.
  void compare_held_out(const std::vector<CompiledArtifact>& artifacts) {
    auto native_ok = [&](size_t i) {
      return artifacts_[i].result.status == reports::RunStatus::ok && targets::runs_natively_here(artifacts[i].device_profile());
    };
    for (size_t i = 0; i < artifacts.size(); ++i) {
      const spec::Recipe quantized = selected_variants(recipe_, artifacts[i].variant).front().recipe;
      if (quantized.quantization.mode == "none" || !native_ok(i)) continue;
      const std::vector<std::vector<lang::Tensor>> inputs = held_out_inputs(quantized, artifacts_[i].model->module);
      if (inputs.empty()) continue;
      std::optional<size_t> twin;
      for (size_t j = 0; j < artifacts.size() && !twin; ++j) {
        if (artifacts[j].target != artifacts[i].target || !native_ok(j)) continue;
        const spec::Recipe other = selected_variants(recipe_, artifacts[j].variant).front().recipe;
        if (other.quantization.mode == "none" && other.resolved["model"] == quantized.resolved["model"]) twin = j;
      }
      std::string& note = artifacts_[i].result.note;
      std::string line;
      if (!twin) {
        line = "no held-out comparison: no variant with quantization.mode none ran for target '" + artifacts[i].target + "'";
      } else {
        say("comparing " + artifacts[i].variant + " / " + artifacts[i].target + " with " + artifacts[*twin].variant +
            " on " + std::to_string(inputs.size()) + " held-out inputs");
        line = held_out_comparison(artifacts[i].directory, artifacts[*twin].directory, artifacts[*twin].variant, inputs,
                                   artifacts_[i].result.threads);
      }
      if (!line.empty()) note += (note.empty() ? "" : "; ") + line;
    }
  }

  // quantization.evaluation.sensitivity: the per-layer table of each int8
  // variant, once per variant (the models run through the JIT here, whatever
  // the target), on the variant's first row.
  void add_sensitivity(const std::vector<CompiledArtifact>& artifacts) {
    std::set<std::string> done;
    for (size_t i = 0; i < artifacts.size(); ++i) {
      if (done.count(artifacts[i].variant) != 0) continue;
      const spec::Variant variant = selected_variants(recipe_, artifacts[i].variant).front();
      const spec::Recipe& r = variant.recipe;
      if (r.quantization.mode != "int8") continue;
      const auto inputs = r.quantization.options["evaluation"]["sensitivity"].get<int64_t>();
      if (inputs <= 0) continue;
      done.insert(artifacts[i].variant);
      say("per-layer sensitivity of " + artifacts[i].variant);
      artifacts_[i].result.sensitivity = layer_sensitivity(variant, static_cast<size_t>(inputs), options_.progress);
    }
  }

  // Baselines run beside artifacts that ran here, right or wrong.
  void add_baselines() {
    for (ArtifactCase& a : artifacts_) {
      const bool ran = a.result.status == reports::RunStatus::ok || a.result.status == reports::RunStatus::failed;
      if (!ran) continue;
      if (options_.time_reference && a.model->reference_timing == kNotTimed) {
        const ModelCase* model = a.model;
        // The reference kernels are slow: one warm-up run and one run per round are enough to place them.
        a.model->reference_timing = add_timing(
            "reference interpreter",
            reports::timed_in_process([model] { (void)lang::evaluate_main(model->module, model->inputs); }), 1, 1);
      }
      if (options_.onnxruntime) add_onnxruntime(a);
    }
  }

  void add_onnxruntime(ArtifactCase& a) {
    const ModelCase& model = *a.model;
    if (!model.recipe.model.onnx || model.inputs.size() != 1 || model.inputs[0].type().dtype != lang::DType::float32) {
      a.ort_skipped = "ONNX Runtime runs ONNX models with one float32 input";
      return;
    }
    const std::string key = model_key(model.recipe) + "|" + std::to_string(a.result.threads);
    auto found = ort_.find(key);
    if (found != ort_.end()) {
      a.ort = found->second.get();
      return;
    }
    if (!a.model->input_file) {
      a.model->input_file = temporary_.add("ort-input");
      write_npy_tensor(*a.model->input_file, model.inputs[0]);
    }
    auto ort = std::make_unique<OrtCase>();
    reports::OnnxRuntimeSessionOptions so;
    so.model = *model.recipe.model.onnx;
    ort->model = "the float32 model";
    if (model.recipe.quantization.mode == "int8") {
      // ONNX Runtime's own int8 kernels on the QDQ form of the model, with this variant's ranges and weight scales.
      if (!write_qdq(*a.model)) {
        a.ort_skipped = "no QDQ int8 model for ONNX Runtime: " + a.model->qdq_error;
        return;
      }
      so.model = *a.model->qdq_file;
      ort->model = a.model->qdq_summary;
    } else if (model.recipe.quantization.mode != "none") {
      ort->model = "the float32 model (" + model.recipe.quantization.mode + " is not an ONNX Runtime CPU form)";
    }
    say("starting ONNX Runtime (" + std::to_string(a.result.threads) + " threads)");
    so.input = *a.model->input_file;
    so.threads = a.result.threads;
    ort->session = std::make_shared<reports::OnnxRuntimeSession>(reports::OnnxRuntimeSession::start(so));
    if (ort->session->ready()) {
      auto session = ort->session;
      ort->timing = add_timing("onnxruntime", [session](int runs) { return session->run(runs); });
      ort->overhead_timing = overhead_timing(a.result.threads);
    }
    a.ort = ort.get();
    ort_.emplace(key, std::move(ort));
  }

  bool write_qdq(ModelCase& model) {
    if (model.qdq_file) return true;
    if (!model.qdq_error.empty()) return false;
    say("writing the QDQ int8 form of the model for ONNX Runtime");
    try {
      const fs::path file = temporary_.add("ort-qdq", ".onnx");
      const lang::QdqSummary q = write_qdq_model(model.recipe, file);
      model.qdq_file = file;
      model.qdq_summary = "its int8 QDQ form of the model (" + std::to_string(q.layers) + " layers with int8 weights, " +
                          std::to_string(q.float_layers) + " in float, " + std::to_string(q.activations) +
                          " quantized activations; modelc's calibration)";
      return true;
    } catch (const Error& e) {
      model.qdq_error = e.diagnostics().front().message;
      return false;
    }
  }

  // The one-op model through the same binding, once per thread count.
  int overhead_timing(int threads) {
    auto found = overhead_.find(threads);
    if (found != overhead_.end()) return found->second;
    reports::OnnxRuntimeSessionOptions so;
    so.one_op = true;
    so.threads = threads;
    auto session = std::make_shared<reports::OnnxRuntimeSession>(reports::OnnxRuntimeSession::start(so));
    int timing = kNotTimed;
    if (session->ready()) {
      overhead_sessions_.push_back(session);
      timing = add_timing("onnxruntime one-op model", [session](int runs) { return session->run(runs); });
    }
    overhead_.emplace(threads, timing);
    return timing;
  }

  static bool timed(int timing, const std::vector<reports::RoundsMeasurement>& measured) {
    return timing != kNotTimed && measured[static_cast<size_t>(timing)].error.empty();
  }

  reports::VariantResult finish(ArtifactCase& a, const std::vector<reports::RoundsMeasurement>& measured) {
    reports::VariantResult result = std::move(a.result);
    if (a.timing != kNotTimed) {
      const reports::RoundsMeasurement& m = measured[static_cast<size_t>(a.timing)];
      if (m.error.empty()) {
        result.latency = reports::summarize_rounds(m.samples_ms, m.warmup);
        result.samples_ms = m.samples_ms;
      } else {
        result.status = reports::RunStatus::failed;
        result.note = m.error;
      }
    }
    const bool ran = result.status == reports::RunStatus::ok || result.status == reports::RunStatus::failed;
    if (!ran) return result;
    if (options_.time_reference) result.baselines.push_back(reference_baseline(*a.model, measured));
    if (options_.onnxruntime) result.baselines.push_back(onnxruntime_baseline(a, measured));
    return result;
  }

  reports::BaselineResult reference_baseline(const ModelCase& model, const std::vector<reports::RoundsMeasurement>& measured) {
    reports::BaselineResult b;
    b.name = "reference";
    b.threads = 1;
    b.note = "lang/ reference kernels, single thread";
    const reports::RoundsMeasurement& m = measured[static_cast<size_t>(model.reference_timing)];
    if (!m.error.empty()) {
      b.status = reports::RunStatus::failed;
      b.note = m.error;
      return b;
    }
    b.status = reports::RunStatus::ok;
    b.latency = reports::summarize_rounds(m.samples_ms, m.warmup);
    b.samples_ms = m.samples_ms;
    return b;
  }

  reports::BaselineResult onnxruntime_baseline(ArtifactCase& a, const std::vector<reports::RoundsMeasurement>& measured) {
    reports::BaselineResult b;
    b.name = "onnxruntime";
    b.threads = a.result.threads;
    if (!a.ort) {
      b.status = reports::RunStatus::skipped;
      b.note = a.ort_skipped;
      return b;
    }
    reports::OnnxRuntimeSession& session = *a.ort->session;
    if (!session.ready()) {
      b.status = session.status();
      b.note = session.note();
      return b;
    }
    const reports::RoundsMeasurement& m = measured[static_cast<size_t>(a.ort->timing)];
    if (!m.error.empty()) {
      b.status = reports::RunStatus::failed;
      b.note = m.error;
      return b;
    }
    b.status = reports::RunStatus::ok;
    b.threads = session.threads();
    b.latency = reports::summarize_rounds(m.samples_ms, m.warmup);
    b.samples_ms = m.samples_ms;
    b.note = "onnxruntime-node " + session.version() + ", " + std::to_string(session.threads()) +
             " intra-op thread(s), graph optimization all, on " + a.ort->model;
    if (timed(a.ort->overhead_timing, measured)) {
      const reports::RoundsMeasurement& o = measured[static_cast<size_t>(a.ort->overhead_timing)];
      b.call_overhead = reports::summarize_rounds(o.samples_ms, o.warmup);
    }
    b.accuracy = onnxruntime_accuracy(session, *a.model);
    return b;
  }

  // ORT writes the model's first output; model.outputs may have left it out or moved it.
  std::optional<reports::AccuracyResult> onnxruntime_accuracy(reports::OnnxRuntimeSession& session, const ModelCase& model) {
    try {
      const fs::path file = temporary_.add("ort-output");
      session.write_output(file);
      const auto& names = model.reference.names;
      const auto same = std::find(names.begin(), names.end(), session.output_name());
      if (same == names.end()) return std::nullopt;
      const size_t k = static_cast<size_t>(same - names.begin());
      return compare_outputs({read_npy_tensor(file)}, {session.output_name()}, {model.reference.outputs.at(k)},
                             {names[k]}, "reference");
    } catch (const Error&) {
      return std::nullopt;  // an output ORT cannot write (not float32) leaves its accuracy unknown
    }
  }

  const spec::Recipe& recipe_;
  const MeasureOptions& options_;
  TemporaryFiles temporary_;
  std::map<std::string, std::unique_ptr<ModelCase>> models_;
  std::map<std::string, std::unique_ptr<OrtCase>> ort_;
  std::map<int, int> overhead_;
  std::vector<std::shared_ptr<reports::OnnxRuntimeSession>> overhead_sessions_;
  std::vector<ArtifactCase> artifacts_;
  std::vector<reports::TimedImplementation> implementations_;
};

}  // namespace

KernelProfileText profile_artifact_kernels(const spec::Recipe& recipe, const std::vector<CompiledArtifact>& artifacts,
                                           const KernelProfileOptions& options) {
  KernelProfileText out;
  std::map<int, reports::Fp32Peak> peaks;  // by thread count
  std::map<std::pair<int, bool>, reports::Int8Peak> int8_peaks;  // by threads and byte pairs
  std::map<int, reports::StreamTimes> streams;  // by thread count
  bool transfer_measured = false;  // once, at the first profile on several threads
  std::optional<reports::CoreTransferFigures> transfer;
  for (const CompiledArtifact& artifact : artifacts) {
    const std::string name = artifact.variant + " / " + artifact.target;
    const spec::Variant variant = selected_variants(recipe, artifact.variant).front();
    if (options.progress) options.progress("checking " + name + " against the reference interpreter");
    const lang::Module module = import_model(variant.recipe);
    const std::vector<lang::Tensor> inputs = benchmark_inputs(variant.recipe, module);
    const reports::VariantResult checked = check_artifact(
        artifact, inputs,
        run_reference(reference_module(variant.recipe, module, activation_layout(variant.recipe, artifact.device_profile())),
                      inputs, &variant.recipe),
        options.threads.value_or(artifact.threads));
    if (checked.status != reports::RunStatus::ok) {
      out.failed = out.failed || checked.status == reports::RunStatus::failed;
      out.text += name + ": not profiled (" + checked.note + ")\n\n";
      continue;
    }
    const int threads = checked.threads;
    if (!peaks.count(threads)) {
      if (options.progress) options.progress("measuring this core's fp32 peak on " + std::to_string(threads) + " thread(s)");
      peaks[threads] = reports::measure_fp32_peak_detail(threads);
    }
    const reports::Fp32Peak& peak = peaks[threads];
    reports::ArtifactTimer timer(artifact.directory, threads, input_bytes(inputs));
    int runs = options.runs;
    if (runs <= 0) runs = reports::profile_runs_for(timer);
    if (options.progress) options.progress("profiling " + name + ": " + std::to_string(runs) + " runs");
    reports::KernelProfile profile = reports::profile_kernels(timer, runs, options.in_place);
    if (options.progress) options.progress("timing copies of each kernel's bytes on " + std::to_string(threads) + " thread(s)");
    reports::add_stream_times(profile, streams.try_emplace(threads, threads).first->second);
    // Quantized kernels are held to the int8 dot-product peak, measured the same way.
    const bool integer = std::any_of(profile.kernels.begin(), profile.kernels.end(),
                                     [](const reports::KernelTiming& k) { return k.integer_multiply_adds > 0; });
    std::string int8_line;
    double int8_gops = 0;
    if (integer) {
      // Weights of 7 bits: held to the byte pairs' peak where the kernels take them.
      const bool byte_pairs = variant.recipe.quantization.mode == "int8" &&
                              variant.recipe.quantization.options["weights"].value("bits", 8) == 7;
      const std::pair<int, bool> key{threads, byte_pairs};
      if (!int8_peaks.count(key)) {
        if (options.progress) options.progress("measuring this core's int8 peak on " + std::to_string(threads) + " thread(s)");
        int8_peaks[key] = reports::measure_int8_peak_detail(threads, byte_pairs);
      }
      const reports::Int8Peak& p8 = int8_peaks[key];
      int8_gops = p8.gops;
      int8_line = "; int8 peak " + reports::format_fixed(p8.gops, 1) + " GOP/s (" + p8.instruction + ")";
    }
    // On several threads, what moving data between cores costs here now.
    std::string transfer_line;
    if (threads > 1) {
      if (!transfer_measured) {
        if (options.progress) options.progress("measuring how fast a core reads what another core wrote");
        transfer = reports::measure_core_transfer();
        transfer_measured = true;
      }
      if (transfer) transfer_line = "core to core: " + reports::core_transfer_text(*transfer) + "\n";
    }
    out.text += name + ", " + std::to_string(threads) + " thread" + (threads == 1 ? "" : "s") + ": " +
                std::to_string(profile.kernels.size()) + " kernels; fp32 peak " + reports::format_fixed(peak.gflops, 1) +
                " GFLOP/s (" + peak.isa + ")" + int8_line + "; " + std::to_string(peak.threads) + " thread" +
                (peak.threads == 1 ? "" : "s") + ", measured now\n" + transfer_line +
                reports::render_kernel_profile(profile, peak.gflops, int8_gops, options.rows) + "\n";
  }
  return out;
}

reports::Results measure_artifacts(const spec::Recipe& recipe, const std::vector<CompiledArtifact>& artifacts,
                                   const MeasureOptions& options) {
  return Measurement(recipe, options).run(artifacts);
}

}  // namespace modelc::driver
