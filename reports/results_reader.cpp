// Reading results.json back (results_from_json, read_results): every field
// checked for presence and type, errors naming the file and JSON pointer.
#include <cmath>
#include <limits>

#include "reports/json_reader.h"
#include "reports/results.h"
#include "support/diagnostic.h"
#include "support/file_io.h"

using nlohmann::json;

namespace modelc::reports {
namespace {

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

std::optional<Interval> read_interval(const JsonFieldReader& read, const json& object, const std::string& pointer,
                                      std::string_view key) {
  if (!read.has(object, key)) return std::nullopt;
  const json& pair = read.array(object, pointer, key);
  const std::string at = pointer + "/" + std::string(key);
  if (pair.size() != 2 || !pair[0].is_number() || !pair[1].is_number()) read.fail(at, "expected [low, high]");
  return Interval{pair[0].get<double>(), pair[1].get<double>()};
}

std::optional<EarlyStoppingBound> read_bound(const JsonFieldReader& read, const json& bounds, const std::string& pointer,
                                             std::string_view key, double percentile) {
  if (!read.has(bounds, key)) return std::nullopt;
  const json& object = read.object(bounds, pointer, key);
  const std::string at = pointer + "/" + std::string(key);
  EarlyStoppingBound bound;
  bound.percentile = percentile;
  bound.samples_needed = static_cast<int64_t>(read.count(object, at, "samples_needed"));
  if (read.has(object, "bound")) bound.bound_ms = number_from_json(read, object, at, "bound");
  return bound;
}

RoundSamples read_samples(const JsonFieldReader& read, const json& latency, const std::string& pointer) {
  RoundSamples samples;
  if (!read.has(latency, "samples")) return samples;
  const json& rounds = read.array(latency, pointer, "samples");
  for (size_t r = 0; r < rounds.size(); ++r) {
    const std::string at = pointer + "/samples/" + std::to_string(r);
    if (!rounds[r].is_array()) read.fail(at, "expected an array of run times (ms)");
    std::vector<double> runs;
    for (size_t i = 0; i < rounds[r].size(); ++i) {
      if (!rounds[r][i].is_number() || rounds[r][i].get<double>() < 0)
        read.fail(at + "/" + std::to_string(i), "expected a run time in ms (a number >= 0)");
      runs.push_back(rounds[r][i].get<double>());
    }
    samples.push_back(std::move(runs));
  }
  return samples;
}

LatencyStats read_latency_object(const JsonFieldReader& read, const json& latency, const std::string& at,
                                 const json& owner, const std::string& owner_pointer) {
  LatencyStats stats;
  stats.warmup = static_cast<int>(read.count(latency, at, "warmup"));
  stats.repeats = static_cast<int>(read.count(latency, at, "repeats"));
  if (read.has(latency, "rounds")) stats.rounds = static_cast<int>(read.count(latency, at, "rounds"));
  if (read.has(latency, "runs_per_round")) stats.runs_per_round = static_cast<int>(read.count(latency, at, "runs_per_round"));
  stats.median_ms = number_from_json(read, latency, at, "median");
  stats.p90_ms = number_from_json(read, latency, at, "p90");
  stats.p99_ms = number_from_json(read, latency, at, "p99");
  stats.min_ms = number_from_json(read, latency, at, "min");
  stats.max_ms = number_from_json(read, latency, at, "max");
  stats.mean_ms = number_from_json(read, latency, at, "mean");
  stats.stddev_ms = number_from_json(read, latency, at, "stddev");
  stats.median_interval = read_interval(read, latency, at, "median_interval");
  if (read.has(latency, "early_stopping")) {
    const json& bounds = read.object(latency, at, "early_stopping");
    stats.p90_bound = read_bound(read, bounds, at + "/early_stopping", "p90", 0.90);
    stats.p99_bound = read_bound(read, bounds, at + "/early_stopping", "p99", 0.99);
  }
  // Baselines carry no throughput of their own: it follows from the mean.
  stats.throughput_per_s = read.has(owner, "throughput_per_s")
                               ? number_from_json(read, owner, owner_pointer, "throughput_per_s")
                               : (stats.mean_ms > 0 ? 1000.0 / stats.mean_ms : 0.0);
  return stats;
}

std::optional<LatencyStats> read_latency(const JsonFieldReader& read, const json& object, const std::string& pointer,
                                         const char* key, RoundSamples* samples) {
  if (!read.has(object, key)) return std::nullopt;
  const json& latency = read.object(object, pointer, key);
  const std::string at = pointer + "/" + key;
  if (samples != nullptr) *samples = read_samples(read, latency, at);
  return read_latency_object(read, latency, at, object, pointer);
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

LayerAgreement read_agreement(const JsonFieldReader& read, const json& object, const std::string& at) {
  LayerAgreement out;
  out.layer = read.optional_string(object, at, "layer");
  out.op = read.optional_string(object, at, "op");
  out.cosine_mean = number_from_json(read, object, at, "cosine_mean");
  out.cosine_min = number_from_json(read, object, at, "cosine_min");
  out.max_abs_error = number_from_json(read, object, at, "max_abs_error");
  out.relative_error = number_from_json(read, object, at, "relative_error");
  if (read.has(object, "rows")) {
    out.rows = static_cast<int64_t>(read.count(object, at, "rows"));
    out.top1 = static_cast<int64_t>(read.count(object, at, "top1"));
  }
  return out;
}

std::optional<SensitivityResult> read_sensitivity(const JsonFieldReader& read, const json& object,
                                                  const std::string& pointer) {
  if (!read.has(object, "sensitivity")) return std::nullopt;
  const json& s = read.object(object, pointer, "sensitivity");
  const std::string at = pointer + "/sensitivity";
  SensitivityResult out;
  out.output = read.string(s, at, "output");
  out.inputs = static_cast<int64_t>(read.count(s, at, "inputs"));
  const json& layers = read.array(s, at, "layers");
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string item = at + "/layers/" + std::to_string(i);
    if (!layers[i].is_object()) read.fail(item, "expected an object");
    out.layers.push_back(read_agreement(read, layers[i], item));
  }
  out.all = read_agreement(read, read.object(s, at, "all"), at + "/all");
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
  if (read.has(object, "threads")) out.threads = static_cast<int>(read.count(object, pointer, "threads"));
  out.latency = read_latency(read, object, pointer, "latency_ms", &out.samples_ms);
  out.call_overhead = read_latency(read, object, pointer, "call_overhead_ms", nullptr);
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
  if (read.has(object, "machine")) out.machine = static_cast<int>(read.count(object, pointer, "machine"));

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
  out.latency = read_latency(read, object, pointer, "latency_ms", &out.samples_ms);

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
  out.sensitivity = read_sensitivity(read, object, pointer);

  if (read.has(object, "baselines")) {
    const json& baselines = read.array(object, pointer, "baselines");
    for (size_t i = 0; i < baselines.size(); ++i) {
      out.baselines.push_back(read_baseline(read, baselines[i], pointer + "/baselines/" + std::to_string(i)));
    }
  }
  return out;
}

Environment read_environment(const JsonFieldReader& read, const json& environment, const std::string& at) {
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
  if (read.has(environment, "fp32_peak")) {
    const json& peak = read.object(environment, at, "fp32_peak");
    const std::string p = at + "/fp32_peak";
    out.fp32_peak = Fp32PeakFigures{read.string(peak, p, "isa"), number_from_json(read, peak, p, "single_thread_gflops"),
                                    static_cast<int>(read.count(peak, p, "threads")),
                                    number_from_json(read, peak, p, "all_threads_gflops")};
  }
  if (read.has(environment, "core_transfer")) {
    const json& transfer = read.object(environment, at, "core_transfer");
    const std::string p = at + "/core_transfer";
    out.core_transfer = CoreTransferFigures{static_cast<int64_t>(read.count(transfer, p, "bytes")),
                                            number_from_json(read, transfer, p, "own_gb_per_s"),
                                            number_from_json(read, transfer, p, "other_gb_per_s")};
  }
  return out;
}

RowId read_row(const JsonFieldReader& read, const json& object, const std::string& pointer, std::string_view key) {
  const json& row = read.object(object, pointer, key);
  const std::string at = pointer + "/" + std::string(key);
  RowId out{read.string(row, at, "variant"), read.string(row, at, "target"), read.string(row, at, "implementation"), 0};
  if (read.has(row, "machine")) out.machine = static_cast<int>(read.count(row, at, "machine"));
  return out;
}

Comparison read_comparison(const JsonFieldReader& read, const json& object, const std::string& pointer) {
  Comparison out;
  out.row = read_row(read, object, pointer, "row");
  out.against = read_row(read, object, pointer, "against");
  out.speedup.value = number_from_json(read, object, pointer, "speedup");
  out.speedup.paired = read.has(object, "paired") && read.boolean(object, pointer, "paired");
  out.speedup.interval = read_interval(read, object, pointer, "interval");
  return out;
}

}  // namespace

Results results_from_json(const json& document, const std::string& source) {
  const JsonFieldReader read(source);
  if (!document.is_object()) read.fail("", "expected a JSON object at the top level");

  Results out;
  const uint64_t version = read.count(document, "", "schema_version");
  if (version < 1 || version > static_cast<uint64_t>(kResultsSchemaVersion)) {
    read.fail("/schema_version", "results schema version " + std::to_string(version) +
                                     " is not supported (expected 1 to " + std::to_string(kResultsSchemaVersion) + ")");
  }
  out.schema_version = static_cast<int>(version);

  const json& recipe = read.object(document, "", "recipe");
  out.recipe = {read.string(recipe, "/recipe", "name"), read.optional_string(recipe, "/recipe", "version"),
                read.optional_string(recipe, "/recipe", "file"), read.optional_string(recipe, "/recipe", "sha256")};
  if (read.has(recipe, "labels")) out.recipe.labels = read.object(recipe, "/recipe", "labels");
  out.environment = read_environment(read, read.object(document, "", "environment"), "/environment");

  if (read.has(document, "benchmark")) {
    const json& benchmark = read.object(document, "", "benchmark");
    out.benchmark.warmup = static_cast<int>(read.count(benchmark, "/benchmark", "warmup"));
    out.benchmark.repeats = static_cast<int>(read.count(benchmark, "/benchmark", "repeats"));
    out.benchmark.min_seconds = read.number(benchmark, "/benchmark", "min_seconds");
    out.benchmark.rounds = read.has(benchmark, "rounds") ? static_cast<int>(read.count(benchmark, "/benchmark", "rounds")) : 1;
  }

  const json& entries = read.array(document, "", "results");
  for (size_t i = 0; i < entries.size(); ++i) {
    out.results.push_back(read_result(read, entries[i], "/results/" + std::to_string(i)));
  }
  if (read.has(document, "compare_to")) {
    out.compare_to = read_row(read, document, "", "compare_to");
  } else if (!out.results.empty()) {
    out.compare_to = {out.results.front().variant, out.results.front().target, "modelc", 0};
  }
  if (read.has(document, "comparisons")) {
    const json& comparisons = read.array(document, "", "comparisons");
    for (size_t i = 0; i < comparisons.size(); ++i)
      out.comparisons.push_back(read_comparison(read, comparisons[i], "/comparisons/" + std::to_string(i)));
  }
  if (read.has(document, "machines")) {
    const json& machines = read.array(document, "", "machines");
    for (size_t i = 0; i < machines.size(); ++i) {
      const std::string at = "/machines/" + std::to_string(i);
      out.machines.push_back({read.optional_string(machines[i], at, "file"),
                              read_environment(read, read.object(machines[i], at, "environment"), at + "/environment")});
    }
  }
  return out;
}

Results read_results(const std::filesystem::path& path) {
  return results_from_json(parse_json_text(read_text_file(path), path.string()), path.string());
}

}  // namespace modelc::reports
