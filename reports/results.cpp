#include "reports/results.h"

#include <cmath>
#include <ctime>

#include "support/diagnostic.h"
#include "support/file_io.h"

using nlohmann::json;

namespace modelc::reports {
namespace {

json number_to_json(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return value;
}

// A steady clock's nanoseconds are all a sample holds; more digits are noise in the file.
double to_nanosecond(double ms) { return std::round(ms * 1e6) / 1e6; }

json accuracy_to_json(const AccuracyResult& accuracy) {
  json out{{"max_abs_error", number_to_json(accuracy.max_abs_error)},
           {"max_rel_error", number_to_json(accuracy.max_rel_error)},
           {"reference", accuracy.reference}};
  if (accuracy.allclose) {
    out["allclose"] = *accuracy.allclose;
    out["rtol"] = accuracy.rtol;
    out["atol"] = accuracy.atol;
  }
  return out;
}

json bound_to_json(const EarlyStoppingBound& bound) {
  json out{{"samples_needed", bound.samples_needed}};
  if (bound.bound_ms) out["bound"] = number_to_json(*bound.bound_ms);
  return out;
}

json baseline_to_json(const BaselineResult& baseline) {
  json out{{"name", baseline.name}, {"status", to_string(baseline.status)}};
  if (baseline.threads > 0) out["threads"] = baseline.threads;
  if (baseline.latency) out["latency_ms"] = latency_to_json(*baseline.latency, baseline.samples_ms);
  if (baseline.call_overhead) out["call_overhead_ms"] = latency_to_json(*baseline.call_overhead);
  if (baseline.accuracy) out["accuracy"] = accuracy_to_json(*baseline.accuracy);
  if (!baseline.note.empty()) out["note"] = baseline.note;
  return out;
}

json agreement_to_json(const LayerAgreement& a) {
  json out{{"cosine_mean", number_to_json(a.cosine_mean)}, {"cosine_min", number_to_json(a.cosine_min)},
           {"max_abs_error", number_to_json(a.max_abs_error)}, {"relative_error", number_to_json(a.relative_error)}};
  if (!a.layer.empty()) out["layer"] = a.layer;
  if (!a.op.empty()) out["op"] = a.op;
  if (a.rows > 0) {
    out["top1"] = a.top1;
    out["rows"] = a.rows;
  }
  return out;
}

json sensitivity_to_json(const SensitivityResult& s) {
  json layers = json::array();
  for (const LayerAgreement& l : s.layers) layers.push_back(agreement_to_json(l));
  return {{"output", s.output}, {"inputs", s.inputs}, {"layers", layers}, {"all", agreement_to_json(s.all)}};
}

json result_to_json(const VariantResult& result, bool merged) {
  json stages = json::object();
  for (const auto& [stage, seconds] : result.compile.stages) stages[stage] = number_to_json(seconds);
  json baselines = json::array();
  for (const BaselineResult& baseline : result.baselines) baselines.push_back(baseline_to_json(baseline));

  json out{
      {"variant", result.variant},
      {"target", result.target},
      {"device", result.device},
      {"threads", result.threads},
      {"status", to_string(result.status)},
      {"compile", {{"seconds", number_to_json(result.compile.seconds)}, {"stages", stages}}},
      {"sizes",
       {{"code_bytes", result.sizes.code_bytes},
        {"weight_bytes", result.sizes.weight_bytes},
        {"arena_bytes", result.sizes.arena_bytes}}},
      {"baselines", baselines},
  };
  if (merged) out["machine"] = result.machine;
  if (!result.note.empty()) out["note"] = result.note;
  if (result.latency) {
    out["latency_ms"] = latency_to_json(*result.latency, result.samples_ms);
    out["throughput_per_s"] = number_to_json(result.latency->throughput_per_s);
  }
  if (result.accuracy) out["accuracy"] = accuracy_to_json(*result.accuracy);
  if (result.roofline) {
    const RooflineResult& r = *result.roofline;
    out["roofline"] = {{"milliseconds", number_to_json(r.milliseconds)}, {"compute_ms", number_to_json(r.compute_ms)},
                       {"memory_ms", number_to_json(r.memory_ms)}, {"multiply_adds", r.multiply_adds},
                       {"bytes", r.bytes}, {"peak_gflops", number_to_json(r.peak_gflops)},
                       {"peak_bandwidth_gbs", number_to_json(r.peak_bandwidth_gbs)}, {"source", r.source}};
  }
  if (result.sensitivity) out["sensitivity"] = sensitivity_to_json(*result.sensitivity);
  return out;
}

json environment_to_json(const Environment& environment) {
  const MachineInfo& machine = environment.machine;
  json out{{"cpu", machine.cpu_model},
           {"architecture", machine.architecture},
           {"cores", machine.logical_cores},
           {"available_cores", machine.available_cores},
           {"flags", machine.isa_flags},
           {"os", machine.os},
           {"memory_bytes", machine.memory_bytes},
           {"modelc", environment.modelc_version},
           {"halide", environment.halide_version},
           {"llvm", environment.llvm_version}};
  if (!environment.timestamp.empty()) out["timestamp"] = environment.timestamp;
  if (environment.fp32_peak) {
    const Fp32PeakFigures& peak = *environment.fp32_peak;
    out["fp32_peak"] = {{"isa", peak.isa},
                        {"single_thread_gflops", number_to_json(peak.single_thread_gflops)},
                        {"threads", peak.threads},
                        {"all_threads_gflops", number_to_json(peak.all_threads_gflops)}};
  }
  if (environment.core_transfer) {
    const CoreTransferFigures& t = *environment.core_transfer;
    out["core_transfer"] = {{"bytes", t.bytes},
                            {"own_gb_per_s", number_to_json(t.own_gb_per_s)},
                            {"other_gb_per_s", number_to_json(t.other_gb_per_s)}};
  }
  return out;
}

json row_to_json(const RowId& row, bool merged) {
  json out{{"variant", row.variant}, {"target", row.target}, {"implementation", row.implementation}};
  if (merged) out["machine"] = row.machine;
  return out;
}

json comparison_to_json(const Comparison& c, bool merged) {
  json out{{"row", row_to_json(c.row, merged)},
           {"against", row_to_json(c.against, merged)},
           {"speedup", number_to_json(c.speedup.value)},
           {"paired", c.speedup.paired}};
  if (c.speedup.interval) {
    out["interval"] = {number_to_json(c.speedup.interval->low), number_to_json(c.speedup.interval->high)};
    out["within_noise"] = c.speedup.within_noise();
  }
  return out;
}

}  // namespace

const char* to_string(RunStatus status) {
  switch (status) {
    case RunStatus::ok: return "ok";
    case RunStatus::compiled: return "compiled";
    case RunStatus::emulated: return "emulated";
    case RunStatus::estimated: return "estimated";
    case RunStatus::failed: return "failed";
    case RunStatus::skipped: return "skipped";
    case RunStatus::unavailable: return "unavailable";
  }
  return "failed";
}

RunStatus parse_run_status(std::string_view text) {
  for (const RunStatus status : {RunStatus::ok, RunStatus::compiled, RunStatus::emulated, RunStatus::estimated,
                                 RunStatus::failed, RunStatus::skipped, RunStatus::unavailable}) {
    if (text == to_string(status)) return status;
  }
  throw Error("unknown status '" + std::string(text) +
              "' (expected ok, compiled, emulated, estimated, failed, skipped or unavailable)");
}

std::string to_string(const RowId& row) {
  std::string text = row.variant + " / " + row.target + " / " + row.implementation;
  if (row.machine > 0) text += " @ m" + std::to_string(row.machine + 1);
  return text;
}

bool operator==(const Results& a, const Results& b) {
  return a.schema_version == b.schema_version && a.recipe == b.recipe && a.environment == b.environment &&
         a.benchmark.warmup == b.benchmark.warmup && a.benchmark.repeats == b.benchmark.repeats &&
         a.benchmark.min_seconds == b.benchmark.min_seconds && a.benchmark.rounds == b.benchmark.rounds &&
         a.results == b.results && a.compare_to == b.compare_to && a.comparisons == b.comparisons &&
         a.machines == b.machines;
}

json latency_to_json(const LatencyStats& latency, const RoundSamples& samples) {
  json out{{"warmup", latency.warmup},
           {"repeats", latency.repeats},
           {"rounds", latency.rounds},
           {"runs_per_round", latency.runs_per_round},
           {"median", number_to_json(latency.median_ms)},
           {"p90", number_to_json(latency.p90_ms)},
           {"p99", number_to_json(latency.p99_ms)},
           {"min", number_to_json(latency.min_ms)},
           {"max", number_to_json(latency.max_ms)},
           {"mean", number_to_json(latency.mean_ms)},
           {"stddev", number_to_json(latency.stddev_ms)}};
  if (latency.median_interval) {
    out["median_interval"] = {number_to_json(latency.median_interval->low),
                              number_to_json(latency.median_interval->high)};
  }
  if (latency.p90_bound || latency.p99_bound) {
    json bounds = json::object();
    if (latency.p90_bound) bounds["p90"] = bound_to_json(*latency.p90_bound);
    if (latency.p99_bound) bounds["p99"] = bound_to_json(*latency.p99_bound);
    out["early_stopping"] = bounds;
  }
  if (!samples.empty()) {
    json rounds = json::array();
    for (const std::vector<double>& round : samples) {
      json runs = json::array();
      for (const double ms : round) runs.push_back(to_nanosecond(ms));
      rounds.push_back(std::move(runs));
    }
    out["samples"] = std::move(rounds);
  }
  return out;
}

json to_json(const Results& results) {
  const bool merged = !results.machines.empty();
  json entries = json::array();
  for (const VariantResult& result : results.results) entries.push_back(result_to_json(result, merged));
  json comparisons = json::array();
  for (const Comparison& c : results.comparisons) comparisons.push_back(comparison_to_json(c, merged));
  json document{
      {"schema_version", results.schema_version},
      {"recipe",
       {{"name", results.recipe.name},
        {"version", results.recipe.version},
        {"file", results.recipe.file},
        {"sha256", results.recipe.sha256}}},
      {"environment", environment_to_json(results.environment)},
      {"benchmark",
       {{"warmup", results.benchmark.warmup},
        {"repeats", results.benchmark.repeats},
        {"min_seconds", results.benchmark.min_seconds},
        {"rounds", results.benchmark.rounds}}},
      {"results", entries},
      {"compare_to", row_to_json(results.compare_to, merged)},
      {"comparisons", comparisons},
  };
  if (!results.recipe.labels.empty()) document["recipe"]["labels"] = results.recipe.labels;
  if (merged) {
    json machines = json::array();
    for (const MachineSource& m : results.machines)
      machines.push_back({{"file", m.file}, {"environment", environment_to_json(m.environment)}});
    document["machines"] = std::move(machines);
  }
  return document;
}

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

std::string results_text(const Results& results) {
  // Indented for people, except the samples: one line per round, not one per run.
  json document = to_json(results);
  std::vector<std::string> rounds_text;
  const auto park_samples = [&](json& holder) {
    if (!holder.contains("latency_ms") || !holder["latency_ms"].contains("samples")) return;
    json& samples = holder["latency_ms"]["samples"];
    std::string text = "[";
    for (size_t r = 0; r < samples.size(); ++r) text += (r ? ", " : "") + samples[r].dump();
    rounds_text.push_back(text + "]");
    samples = "@@modelc-samples-" + std::to_string(rounds_text.size() - 1) + "@@";
  };
  for (json& result : document["results"]) {
    park_samples(result);
    for (json& baseline : result["baselines"]) park_samples(baseline);
  }
  std::string text = document.dump(2);
  for (size_t k = 0; k < rounds_text.size(); ++k) {
    const std::string token = "\"@@modelc-samples-" + std::to_string(k) + "@@\"";
    const size_t at = text.find(token);
    if (at != std::string::npos) text.replace(at, token.size(), rounds_text[k]);
  }
  return text + "\n";
}

void write_results(const std::filesystem::path& path, const Results& results) {
  write_file_atomic(path, results_text(results));
}

}  // namespace modelc::reports
