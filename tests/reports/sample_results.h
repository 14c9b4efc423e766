// Results of a two-target recipe, shared by the results and renderer tests.
#pragma once

#include <limits>

#include "reports/results.h"

namespace modelc::reports::testing {

inline LatencyStats latency(double median) {
  LatencyStats stats;
  stats.warmup = 10;
  stats.repeats = 200;
  stats.median_ms = median;
  stats.p90_ms = median * 1.1;
  stats.p99_ms = median * 1.5;
  stats.min_ms = median * 0.9;
  stats.max_ms = median * 3;
  stats.mean_ms = median * 1.05;
  stats.stddev_ms = median * 0.1;
  stats.throughput_per_s = 1000.0 / stats.mean_ms;
  return stats;
}

inline Results sample_results() {
  Results results;
  results.recipe = {"mlp", "1.0.0", "examples/mlp/recipe.yaml", "ab12", {{"tier", "edge"}, {"batch", 1}}};
  results.environment.machine = {"AMD EPYC", "x86_64", 2, 2, {"fma", "avx2", "avx512f"}, "Linux 6.1.0", 8ull << 30};
  results.environment.timestamp = "2024-05-01T12:34:56Z";
  results.environment.modelc_version = "0.1.0";
  results.environment.halide_version = "14.0.0";
  results.environment.llvm_version = "14.0.6";
  results.benchmark = {.warmup = 10, .repeats = 200, .min_seconds = 0.5};

  VariantResult ok;
  ok.variant = "quantization.mode=none";
  ok.target = "host";
  ok.device = "x86-64-avx512";
  ok.threads = 2;
  ok.compile = {1.25, {{"lang", 0.25}, {"lower", 0.5}, {"targets", 0.5}}};  // alphabetical: JSON keeps objects sorted
  ok.latency = latency(0.03);
  ok.sizes = {120000, 2680000, 8192};
  ok.accuracy = AccuracyResult{2.5e-6, 1e-5, "reference", true, 1e-5, 1e-5};
  ok.baselines.push_back({"onnxruntime", RunStatus::ok, latency(0.048), std::nullopt, "onnxruntime-node 1.30.0"});
  ok.baselines.push_back({"reference", RunStatus::unavailable, std::nullopt, std::nullopt, "not built"});

  VariantResult failed;
  failed.variant = "quantization.mode=int8";
  failed.target = "pi5";
  failed.device = "arm64-dotprod";
  failed.status = RunStatus::compiled;
  failed.note = "aarch64 code cannot run on this x86_64 machine";
  failed.accuracy = AccuracyResult{std::numeric_limits<double>::infinity(), 0, "reference", std::nullopt, 0, 0};

  results.results = {ok, failed};
  return results;
}

}  // namespace modelc::reports::testing
