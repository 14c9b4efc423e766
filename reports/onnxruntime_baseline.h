// ONNX Runtime (CPU) as a report baseline, through Node and onnxruntime-node
// (reports/baselines/ort_bench.js) so modelc links nothing of ONNX Runtime and
// its install stays optional. Installed by scripts/install-onnxruntime.sh into
// the modelc cache folder. Reports time it in rounds through
// reports/onnxruntime_session.h; run_onnxruntime_baseline times it alone.
//
// A missing node or package, or a model ORT refuses, gives a BaselineResult
// with status unavailable/failed and a note saying why and how to fix it; it
// never throws, so one baseline cannot sink a whole report.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "reports/results.h"
#include "spec/recipe.h"

namespace modelc::reports {

struct OnnxRuntimeBaselineOptions {
  std::filesystem::path model;   // .onnx
  std::filesystem::path input;   // float32 .npy fed to the model's single input
  std::filesystem::path output;  // where ORT's first output is written (.npy); empty: a temp file
  int threads = 1;               // intra-op threads; <= 0: every core this machine has
  spec::BenchmarkSpec benchmark;
  std::filesystem::path cache_dir;  // empty: modelc_cache_dir()
  std::filesystem::path script;     // empty: default_ort_script()
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
};

struct OnnxRuntimeMeasurement {
  BaselineResult result;             // name "onnxruntime"
  std::vector<double> samples_ms;    // empty unless status is ok
  std::optional<std::filesystem::path> output;  // ORT's output .npy when status is ok
  std::string output_name;                      // the model output it holds (ORT writes the first one)
};

// $MODELC_CACHE, else ~/.cache/modelc.
std::filesystem::path modelc_cache_dir();
// $MODELC_ORT_SCRIPT, else <modelc source root>/reports/baselines/ort_bench.js.
std::filesystem::path default_ort_script();
// <cache>/node_modules/onnxruntime-node when it holds a package.json.
std::optional<std::filesystem::path> find_onnxruntime_node(const std::filesystem::path& cache_dir);
// $MODELC_NODE, else node (or nodejs) on $PATH.
std::optional<std::filesystem::path> find_node();

OnnxRuntimeMeasurement run_onnxruntime_baseline(const OnnxRuntimeBaselineOptions& options);

}  // namespace modelc::reports
