#include "reports/results.h"

#include <cmath>
#include <ctime>
#include <limits>

#include "reports/json_reader.h"
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

double number_from_json(const JsonFieldReader& read, const json& object, const std::string& pointer,
                        std::string_view key) {
  const json& value = read.member(object, pointer, key);
  if (value.is_string()) {
    const std::string text = value.get<std::string>();
    if (text == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (text == "inf") return std::numeric_limits<double>::infinity();
    if (text == "-inf") return -std::numeric_limits<double>::infinity();
  }
  return read.number(object, pointer, key);
}

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

json baseline_to_json(const BaselineResult& baseline) {
  json out{{"name", baseline.name}, {"status", to_string(baseline.status)}};
  if (baseline.latency) out["latency_ms"] = latency_to_json(*baseline.latency);
  if (baseline.accuracy) out["accuracy"] = accuracy_to_json(*baseline.accuracy);
  if (!baseline.note.empty()) out["note"] = baseline.note;
  return out;
}

json result_to_json(const VariantResult& result) {
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
  if (!result.note.empty()) out["note"] = result.note;
  if (result.latency) {
    out["latency_ms"] = latency_to_json(*result.latency);
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
  return out;
}

// ---- reading ----------------------------------------------------------------

std::optional<LatencyStats> read_latency(const JsonFieldReader& read, const json& object, const std::string& pointer) {
  if (!read.has(object, "latency_ms")) return std::nullopt;
  const json& latency = read.object(object, pointer, "latency_ms");
  const std::string at = pointer + "/latency_ms";
  LatencyStats stats;
  stats.warmup = static_cast<int>(read.count(latency, at, "warmup"));
  stats.repeats = static_cast<int>(read.count(latency, at, "repeats"));
  stats.median_ms = number_from_json(read, latency, at, "median");
  stats.p90_ms = number_from_json(read, latency, at, "p90");
  stats.p99_ms = number_from_json(read, latency, at, "p99");
  stats.min_ms = number_from_json(read, latency, at, "min");
  stats.max_ms = number_from_json(read, latency, at, "max");
  stats.mean_ms = number_from_json(read, latency, at, "mean");
  stats.stddev_ms = number_from_json(read, latency, at, "stddev");
  // Baselines carry no throughput of their own: it follows from the mean.
  stats.throughput_per_s = read.has(object, "throughput_per_s")
                               ? number_from_json(read, object, pointer, "throughput_per_s")
                               : (stats.mean_ms > 0 ? 1000.0 / stats.mean_ms : 0.0);
  return stats;
}

std::optional<AccuracyResult> read_accuracy(const JsonFieldReader& read, const json& object,
                                            const std::string& pointer) {
  if (!read.has(object, "accuracy")) return std::nullopt;
  const json& accuracy = read.object(object, pointer, "accuracy");
  const std::string at = pointer + "/accuracy";
  AccuracyResult out;
  out.max_abs_error = number_from_json(read, accuracy, at, "max_abs_error");
  out.max_rel_error = number_from_json(read, accuracy, at, "max_rel_error");
  out.reference = read.optional_string(accuracy, at, "reference");
  if (read.has(accuracy, "allclose")) {
    out.allclose = read.boolean(accuracy, at, "allclose");
    out.rtol = read.number(accuracy, at, "rtol");
    out.atol = read.number(accuracy, at, "atol");
  }
  return out;
}

RunStatus read_status(const JsonFieldReader& read, const json& object, const std::string& pointer) {
  const std::string text = read.string(object, pointer, "status");
  try {
    return parse_run_status(text);
  } catch (const Error& e) {
    read.fail(pointer + "/status", e.diagnostics().front().message);
  }
}

BaselineResult read_baseline(const JsonFieldReader& read, const json& object, const std::string& pointer) {
  BaselineResult out;
  out.name = read.string(object, pointer, "name");
  out.status = read_status(read, object, pointer);
  out.latency = read_latency(read, object, pointer);
  out.accuracy = read_accuracy(read, object, pointer);
  out.note = read.optional_string(object, pointer, "note");
  return out;
}

VariantResult read_result(const JsonFieldReader& read, const json& object, const std::string& pointer) {
  VariantResult out;
  out.variant = read.string(object, pointer, "variant");
  out.target = read.string(object, pointer, "target");
  out.device = read.optional_string(object, pointer, "device");
  out.threads = read.has(object, "threads") ? static_cast<int>(read.integer(object, pointer, "threads")) : 0;
  out.status = read_status(read, object, pointer);
  out.note = read.optional_string(object, pointer, "note");

  if (read.has(object, "compile")) {
    const json& compile = read.object(object, pointer, "compile");
    out.compile.seconds = number_from_json(read, compile, pointer + "/compile", "seconds");
    if (read.has(compile, "stages")) {
      const json& stages = read.object(compile, pointer + "/compile", "stages");
      for (const auto& [stage, seconds] : stages.items()) {
        out.compile.stages.emplace_back(stage, number_from_json(read, stages, pointer + "/compile/stages", stage));
      }
    }
  }
  out.latency = read_latency(read, object, pointer);

  if (read.has(object, "sizes")) {
    const json& sizes = read.object(object, pointer, "sizes");
    const std::string at = pointer + "/sizes";
    out.sizes = {read.count(sizes, at, "code_bytes"), read.count(sizes, at, "weight_bytes"),
                 read.count(sizes, at, "arena_bytes")};
  }
  out.accuracy = read_accuracy(read, object, pointer);
  if (read.has(object, "roofline")) {
    const json& r = read.object(object, pointer, "roofline");
    const std::string at = pointer + "/roofline";
    out.roofline = RooflineResult{number_from_json(read, r, at, "milliseconds"), number_from_json(read, r, at, "compute_ms"),
                                  number_from_json(read, r, at, "memory_ms"),
                                  static_cast<int64_t>(read.count(r, at, "multiply_adds")),
                                  static_cast<int64_t>(read.count(r, at, "bytes")),
                                  number_from_json(read, r, at, "peak_gflops"),
                                  number_from_json(read, r, at, "peak_bandwidth_gbs"), read.optional_string(r, at, "source")};
  }

  if (read.has(object, "baselines")) {
    const json& baselines = read.array(object, pointer, "baselines");
    for (size_t i = 0; i < baselines.size(); ++i) {
      out.baselines.push_back(read_baseline(read, baselines[i], pointer + "/baselines/" + std::to_string(i)));
    }
  }
  return out;
}

Environment read_environment(const JsonFieldReader& read, const json& document) {
  const json& environment = read.object(document, "", "environment");
  const std::string at = "/environment";
  Environment out;
  out.machine.cpu_model = read.optional_string(environment, at, "cpu");
  out.machine.architecture = read.optional_string(environment, at, "architecture");
  out.machine.logical_cores = read.has(environment, "cores") ? static_cast<int>(read.count(environment, at, "cores")) : 0;
  out.machine.available_cores =
      read.has(environment, "available_cores") ? static_cast<int>(read.count(environment, at, "available_cores")) : 0;
  if (read.has(environment, "flags")) {
    const json& flags = read.array(environment, at, "flags");
    for (size_t i = 0; i < flags.size(); ++i) {
      if (!flags[i].is_string()) read.fail(at + "/flags/" + std::to_string(i), "expected an ISA flag name");
      out.machine.isa_flags.push_back(flags[i].get<std::string>());
    }
  }
  out.machine.os = read.optional_string(environment, at, "os");
  out.machine.memory_bytes = read.has(environment, "memory_bytes") ? read.count(environment, at, "memory_bytes") : 0;
  out.timestamp = read.optional_string(environment, at, "timestamp");
  out.modelc_version = read.optional_string(environment, at, "modelc");
  out.halide_version = read.optional_string(environment, at, "halide");
  out.llvm_version = read.optional_string(environment, at, "llvm");
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

bool operator==(const Results& a, const Results& b) {
  return a.schema_version == b.schema_version && a.recipe == b.recipe && a.environment == b.environment &&
         a.benchmark.warmup == b.benchmark.warmup && a.benchmark.repeats == b.benchmark.repeats &&
         a.benchmark.min_seconds == b.benchmark.min_seconds && a.results == b.results;
}

json latency_to_json(const LatencyStats& latency) {
  return json{{"warmup", latency.warmup},
              {"repeats", latency.repeats},
              {"median", number_to_json(latency.median_ms)},
              {"p90", number_to_json(latency.p90_ms)},
              {"p99", number_to_json(latency.p99_ms)},
              {"min", number_to_json(latency.min_ms)},
              {"max", number_to_json(latency.max_ms)},
              {"mean", number_to_json(latency.mean_ms)},
              {"stddev", number_to_json(latency.stddev_ms)}};
}

json to_json(const Results& results) {
  const MachineInfo& machine = results.environment.machine;
  json entries = json::array();
  for (const VariantResult& result : results.results) entries.push_back(result_to_json(result));
  json document{
      {"schema_version", results.schema_version},
      {"recipe",
       {{"name", results.recipe.name},
        {"version", results.recipe.version},
        {"file", results.recipe.file},
        {"sha256", results.recipe.sha256}}},
      {"environment",
       {{"cpu", machine.cpu_model},
        {"architecture", machine.architecture},
        {"cores", machine.logical_cores},
        {"available_cores", machine.available_cores},
        {"flags", machine.isa_flags},
        {"os", machine.os},
        {"memory_bytes", machine.memory_bytes},
        {"modelc", results.environment.modelc_version},
        {"halide", results.environment.halide_version},
        {"llvm", results.environment.llvm_version}}},
      {"benchmark",
       {{"warmup", results.benchmark.warmup},
        {"repeats", results.benchmark.repeats},
        {"min_seconds", results.benchmark.min_seconds}}},
      {"results", entries},
  };
  if (!results.environment.timestamp.empty()) document["environment"]["timestamp"] = results.environment.timestamp;
  if (!results.recipe.labels.empty()) document["recipe"]["labels"] = results.recipe.labels;
  return document;
}

Results results_from_json(const json& document, const std::string& source) {
  const JsonFieldReader read(source);
  if (!document.is_object()) read.fail("", "expected a JSON object at the top level");

  Results out;
  const uint64_t version = read.count(document, "", "schema_version");
  if (version != kResultsSchemaVersion) {
    read.fail("/schema_version",
              "results schema version " + std::to_string(version) + " is not supported (expected " +
                  std::to_string(kResultsSchemaVersion) + ")");
  }
  out.schema_version = static_cast<int>(version);

  const json& recipe = read.object(document, "", "recipe");
  out.recipe = {read.string(recipe, "/recipe", "name"), read.optional_string(recipe, "/recipe", "version"),
                read.optional_string(recipe, "/recipe", "file"), read.optional_string(recipe, "/recipe", "sha256")};
  if (read.has(recipe, "labels")) out.recipe.labels = read.object(recipe, "/recipe", "labels");
  out.environment = read_environment(read, document);

  if (read.has(document, "benchmark")) {
    const json& benchmark = read.object(document, "", "benchmark");
    out.benchmark.warmup = static_cast<int>(read.count(benchmark, "/benchmark", "warmup"));
    out.benchmark.repeats = static_cast<int>(read.count(benchmark, "/benchmark", "repeats"));
    out.benchmark.min_seconds = read.number(benchmark, "/benchmark", "min_seconds");
  }

  const json& entries = read.array(document, "", "results");
  for (size_t i = 0; i < entries.size(); ++i) {
    out.results.push_back(read_result(read, entries[i], "/results/" + std::to_string(i)));
  }
  return out;
}

Results read_results(const std::filesystem::path& path) {
  return results_from_json(parse_json_text(read_text_file(path), path.string()), path.string());
}

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

void write_results(const std::filesystem::path& path, const Results& results) {
  write_file_atomic(path, to_json(results).dump(2) + "\n");
}

}  // namespace modelc::reports
