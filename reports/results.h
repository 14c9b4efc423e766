// results.json: what one `modelc bench` measured, per recipe variant and
// target, with the baselines measured beside it and the environment needed to
// judge whether two results are comparable. The renderers (Markdown, CSV) and
// `modelc diff` read this, never the measuring code.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/statistics.h"
#include "reports/machine.h"
#include "spec/recipe.h"

namespace modelc::reports {

// 2: rounds, raw samples per round, intervals, comparisons, merged machines.
// Version 1 files (no samples) are still read; they give no intervals.
inline constexpr int kResultsSchemaVersion = 2;

// schemas/results.schema.json's statuses; `unavailable` is for a baseline
// that is not installed here (its note says how to install it).
enum class RunStatus {
  ok,           // measured
  compiled,     // built, but cannot run on this machine (another ISA)
  emulated,     // ran under an emulator: outputs checked, timings mean nothing
  estimated,    // figures from the roofline model, not measured
  failed,       // compiling or running failed; `note` says why
  skipped,      // not applicable
  unavailable,  // a baseline whose software is missing; `note` says how to get it
};
const char* to_string(RunStatus status);
// Throws modelc::Error for any other text.
RunStatus parse_run_status(std::string_view text);

struct AccuracyResult {
  double max_abs_error = 0;
  double max_rel_error = 0;
  std::string reference;  // what was compared against: "reference", "onnxruntime", a file name...
  std::optional<bool> allclose;  // under `rtol`/`atol`, when a tolerance was applied
  double rtol = 0;
  double atol = 0;

  bool operator==(const AccuracyResult&) const = default;
};

struct BaselineResult {
  std::string name;  // reference | onnxruntime | ...
  RunStatus status = RunStatus::ok;
  int threads = 0;   // threads it ran with; 0 when unknown (results written before version 2)
  std::optional<LatencyStats> latency;
  RoundSamples samples_ms;  // the timed runs, per round (empty when not measured)
  std::optional<AccuracyResult> accuracy;
  // onnxruntime: the same binding timed on a one-op model (an Add of a
  // 1-element tensor): what every call costs before any model work.
  std::optional<LatencyStats> call_overhead;
  std::string note;

  bool operator==(const BaselineResult&) const = default;
};

struct CompileTimes {
  double seconds = 0;                                   // wall time of the whole compilation
  std::vector<std::pair<std::string, double>> stages;  // seconds per stage (lang, lower, targets...)

  bool operator==(const CompileTimes&) const = default;
};

struct ArtifactSizes {
  uint64_t code_bytes = 0;
  uint64_t weight_bytes = 0;
  uint64_t arena_bytes = 0;

  bool operator==(const ArtifactSizes&) const = default;
};

// How fast the target's device could run the model (targets/roofline.h):
// from its profile's peak figures and the model's multiply-adds and bytes.
struct RooflineResult {
  double milliseconds = 0;  // the estimate: per kernel call, the slower of compute and memory
  double compute_ms = 0;    // all multiply-adds at peak FLOP/s
  double memory_ms = 0;     // all bytes at peak bandwidth
  int64_t multiply_adds = 0;
  int64_t bytes = 0;
  double peak_gflops = 0;
  double peak_bandwidth_gbs = 0;
  std::string source;  // the device the peak figures describe

  bool operator==(const RooflineResult&) const = default;
};

// How far a quantized model's first float output is from the float model's
// on held-out inputs (driver/sensitivity.h): one row of a sensitivity table.
struct LayerAgreement {
  std::string layer;  // the layer's name (an ONNX node's), or "(every layer)"
  std::string op;     // qnn.conv2d, qnn.dense; empty for the whole model
  double cosine_mean = 1, cosine_min = 1;
  double max_abs_error = 0, relative_error = 0;
  int64_t top1 = 0, rows = 0;  // classifier outputs ([batch, classes]) only; rows 0 otherwise

  bool operator==(const LayerAgreement&) const = default;
};

// The per-layer sensitivity of an int8 variant: the model with only that
// layer quantized, against the float model (quantization.evaluation.sensitivity).
struct SensitivityResult {
  std::string output;   // the output compared
  int64_t inputs = 0;   // held-out inputs
  std::vector<LayerAgreement> layers;  // most sensitive (lowest mean cosine) first
  LayerAgreement all;                  // every layer quantized (the variant's model)

  bool operator==(const SensitivityResult&) const = default;
};

struct VariantResult {
  std::string variant;  // e.g. "quantization.mode=int8"; "default" when the recipe has no variants
  std::string target;   // key under `targets:`
  std::string device;   // device profile
  int threads = 0;      // threads the artifact and the baselines ran with
  RunStatus status = RunStatus::ok;
  std::string note;
  CompileTimes compile;
  std::optional<LatencyStats> latency;  // absent unless status is ok
  RoundSamples samples_ms;              // the timed runs, per round
  ArtifactSizes sizes;
  std::optional<AccuracyResult> accuracy;
  std::vector<BaselineResult> baselines;
  std::optional<RooflineResult> roofline;  // when the device profile has peak figures
  std::optional<SensitivityResult> sensitivity;  // int8 variants that ask for it: on the variant's first row
  int machine = 0;  // index into Results::machines of a merged report; 0 otherwise

  bool operator==(const VariantResult&) const = default;
};

struct RecipeInfo {
  std::string name;
  std::string version;
  std::string file;
  std::string sha256;
  nlohmann::json labels = nlohmann::json::object();  // metadata.labels, copied so results can be grouped by them

  bool operator==(const RecipeInfo&) const = default;
};

// This core's fp32 peak, measured in the same run (reports/peak.h).
struct Fp32PeakFigures {
  std::string isa;
  double single_thread_gflops = 0;
  int threads = 0;  // all available cores
  double all_threads_gflops = 0;

  bool operator==(const Fp32PeakFigures&) const = default;
};

// How fast one core reads a buffer another core just wrote, beside the rate
// at which it reads what it wrote itself, measured in the same run
// (reports/core_transfer.h): what several threads' figures depend on.
struct CoreTransferFigures {
  int64_t bytes = 0;          // the buffer
  double own_gb_per_s = 0;    // read by the core that wrote it
  double other_gb_per_s = 0;  // read by another core

  bool operator==(const CoreTransferFigures&) const = default;
};

struct Environment {
  MachineInfo machine;
  std::optional<Fp32PeakFigures> fp32_peak;
  std::optional<CoreTransferFigures> core_transfer;
  std::string timestamp;  // when the run started, RFC 3339 (utc_timestamp()); may be empty
  std::string modelc_version;
  std::string halide_version;
  std::string llvm_version;

  bool operator==(const Environment&) const = default;
};

// One row of a report: an implementation of a variant on a target, on a
// machine (always 0 unless results of several machines were merged).
struct RowId {
  std::string variant;
  std::string target;
  std::string implementation = "modelc";  // or a baseline's name
  int machine = 0;

  bool operator==(const RowId&) const = default;
};
std::string to_string(const RowId& row);  // "variant / target / implementation" (+ " @ m<k+1>" when merged)

// How much faster `row` is than `against` (reports/comparison.h computes them).
struct Comparison {
  RowId row;
  RowId against;
  Speedup speedup;

  bool operator==(const Comparison&) const = default;
};

// A results file that went into a merged report, and the machine it was measured on.
struct MachineSource {
  std::string file;
  Environment environment;

  bool operator==(const MachineSource&) const = default;
};

struct Results {
  int schema_version = kResultsSchemaVersion;
  RecipeInfo recipe;
  Environment environment;  // of a merged report: the first machine's
  spec::BenchmarkSpec benchmark;  // what was asked for; each LatencyStats says what was done
  std::vector<VariantResult> results;
  RowId compare_to;                      // the row speed-ups are measured against
  std::vector<Comparison> comparisons;   // filled by reports::compare_rows
  std::vector<MachineSource> machines;   // merged reports only: one per results file
};

bool operator==(const Results& a, const Results& b);

// The shape of schemas/results.schema.json; absent optionals are left out (not
// null). Non-finite numbers (an infinite error after a NaN output) are written
// as the strings "inf", "-inf" and "nan", which JSON has no numbers for.
// Samples are written to the nanosecond.
nlohmann::json to_json(const Results& results);
nlohmann::json latency_to_json(const LatencyStats& latency, const RoundSamples& samples = {});

// Throws modelc::Error naming `source` (a file name) and the JSON pointer of
// the first field that is missing or has the wrong type.
Results results_from_json(const nlohmann::json& document, const std::string& source);

Results read_results(const std::filesystem::path& path);
// Now, in UTC: "2024-05-01T12:34:56Z".
std::string utc_timestamp();

// The text of results.json: indented, with each round of samples on one line.
std::string results_text(const Results& results);
// results_text(results), written atomically.
void write_results(const std::filesystem::path& path, const Results& results);

}  // namespace modelc::reports
