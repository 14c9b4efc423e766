// Results of a two-target recipe, shared by the results and renderer tests:
// modelc and ONNX Runtime measured in 5 rounds of 20 runs on `host`, the
// reference interpreter not installed, and an int8 build for `pi5` that was
// only compiled.
#pragma once

#include <cmath>
#include <limits>

#include "reports/comparison.h"
#include "reports/results.h"

namespace modelc::reports::testing {

inline LatencyStats latency(double median) {
  LatencyStats stats;
  stats.warmup = 10;
  stats.repeats = 100;
  stats.rounds = 5;
  stats.runs_per_round = 20;
  stats.median_ms = median;
  stats.p90_ms = median * 1.1;
  stats.p99_ms = median * 1.5;
  stats.min_ms = median * 0.9;
  stats.max_ms = median * 3;
  stats.mean_ms = median * 1.05;
  stats.stddev_ms = median * 0.1;
  stats.throughput_per_s = 1000.0 / stats.mean_ms;
  stats.median_interval = Interval{median * 0.98, median * 1.02};
  stats.p90_bound = EarlyStoppingBound{0.90, 64, median * 1.2};
  stats.p99_bound = EarlyStoppingBound{0.99, 662, std::nullopt};
  return stats;
}

// `rounds` rounds of `runs` runs spread +-4 % around `median`, the same
// pattern in every round shifted by `drift` per round (a machine slowing down).
inline RoundSamples rounds_around(double median, int rounds = 5, int runs = 20, double drift = 0) {
  RoundSamples samples;
  for (int r = 0; r < rounds; ++r) {
    std::vector<double> round;
    for (int i = 0; i < runs; ++i) {
      const double spread = 0.04 * (static_cast<double>((i * 7 + r * 3) % runs) / (runs - 1) * 2 - 1);
      // On the nanosecond grid results.json writes, so that a round trip is exact.
      round.push_back(std::round(median * (1 + spread) * (1 + drift * r) * 1e6) / 1e6);
    }
    samples.push_back(std::move(round));
  }
  return samples;
}

inline BaselineResult baseline(std::string name, RunStatus status, int threads, std::optional<LatencyStats> l,
                               std::string note) {
  BaselineResult b;
  b.name = std::move(name);
  b.status = status;
  b.threads = threads;
  b.latency = std::move(l);
  b.note = std::move(note);
  return b;
}

inline Results sample_results() {
  Results results;
  results.recipe = {"mlp", "1.0.0", "examples/mlp/recipe.yaml", "ab12", {{"tier", "edge"}, {"batch", 1}}};
  results.environment.machine = {"AMD EPYC", "x86_64", 2, 2, {"fma", "avx2", "avx512f"}, "Linux 6.1.0", 8ull << 30};
  results.environment.fp32_peak = Fp32PeakFigures{"avx2+fma", 90.5, 2, 180.25};
  results.environment.core_transfer = CoreTransferFigures{512 * 1024, 210.5, 35.25};
  results.environment.timestamp = "2024-05-01T12:34:56Z";
  results.environment.modelc_version = "0.1.0";
  results.environment.halide_version = "14.0.0";
  results.environment.llvm_version = "14.0.6";
  results.benchmark = {.warmup = 10, .repeats = 100, .min_seconds = 0.5, .rounds = 5};

  VariantResult ok;
  ok.variant = "quantization.mode=none";
  ok.target = "host";
  ok.device = "x86-64-avx512";
  ok.threads = 2;
  ok.compile = {1.25, {{"lang", 0.25}, {"lower", 0.5}, {"targets", 0.5}}};  // alphabetical: JSON keeps objects sorted
  ok.latency = latency(0.03);
  ok.samples_ms = rounds_around(0.03);
  ok.sizes = {120000, 2680000, 8192};
  ok.accuracy = AccuracyResult{2.5e-6, 1e-5, "reference", true, 1e-5, 1e-5};
  BaselineResult ort = baseline("onnxruntime", RunStatus::ok, 2, latency(0.048), "onnxruntime-node 1.30.0");
  ort.samples_ms = rounds_around(0.048);
  ort.call_overhead = latency(0.012);
  ok.baselines.push_back(ort);
  ok.baselines.push_back(baseline("reference", RunStatus::unavailable, 1, std::nullopt, "not built"));

  VariantResult compiled;
  compiled.variant = "quantization.mode=int8";
  compiled.target = "pi5";
  compiled.device = "arm64-dotprod";
  compiled.status = RunStatus::compiled;
  compiled.note = "aarch64 code cannot run on this x86_64 machine";
  compiled.accuracy = AccuracyResult{std::numeric_limits<double>::infinity(), 0, "reference", std::nullopt, 0, 0};
  // The per-layer table of an int8 variant (`modelc report` runs it through the JIT on the host, whatever the target).
  SensitivityResult sensitivity;
  sensitivity.output = "probs";
  sensitivity.inputs = 8;
  sensitivity.layers = {{"stem", "qnn.conv2d", 0.99812, 0.99701, 0.012, 0.061, 7, 8},
                        {"logits", "qnn.dense", 0.99990, 0.99981, 0.0021, 0.014, 8, 8}};
  sensitivity.all = {"", "", 0.99733, 0.99514, 0.019, 0.073, 7, 8};
  compiled.sensitivity = sensitivity;

  results.results = {ok, compiled};
  results.compare_to = {"quantization.mode=none", "host", "modelc", 0};
  results.comparisons = compare_rows(results);
  return results;
}

}  // namespace modelc::reports::testing
