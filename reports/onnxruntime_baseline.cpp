#include "reports/onnxruntime_baseline.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "modelc_config.h"
#include "reports/benchmark.h"
#include "reports/onnxruntime_session.h"
#include "support/diagnostic.h"
#include "support/process.h"

namespace fs = std::filesystem;

namespace modelc::reports {
namespace {

constexpr const char* kBaselineName = "onnxruntime";

OnnxRuntimeMeasurement not_measured(RunStatus status, std::string note) {
  OnnxRuntimeMeasurement measurement;
  measurement.result.name = kBaselineName;
  measurement.result.status = status;
  measurement.result.note = std::move(note);
  return measurement;
}

}  // namespace

fs::path modelc_cache_dir() {
  if (const char* cache = std::getenv("MODELC_CACHE"); cache != nullptr && *cache != '\0') return cache;
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return fs::path(home) / ".cache/modelc";
  return fs::temp_directory_path() / "modelc-cache";
}

fs::path default_ort_script() {
  if (const char* script = std::getenv("MODELC_ORT_SCRIPT"); script != nullptr && *script != '\0') return script;
  return fs::path(MODELC_SOURCE_ROOT) / "reports" / "baselines" / "ort_bench.js";
}

std::optional<fs::path> find_onnxruntime_node(const fs::path& cache_dir) {
  const fs::path package = cache_dir / "node_modules" / "onnxruntime-node";
  std::error_code ec;
  if (fs::is_regular_file(package / "package.json", ec)) return package;
  return std::nullopt;
}

std::optional<fs::path> find_node() {
  if (const char* node = std::getenv("MODELC_NODE"); node != nullptr && *node != '\0') return find_executable(node);
  if (auto node = find_executable("node")) return node;
  return find_executable("nodejs");
}

OnnxRuntimeMeasurement run_onnxruntime_baseline(const OnnxRuntimeBaselineOptions& options) {
  OnnxRuntimeSessionOptions so;
  so.model = options.model;
  so.input = options.input;
  so.threads = options.threads;
  so.cache_dir = options.cache_dir;
  so.script = options.script;
  so.start_timeout = so.command_timeout = options.timeout;
  OnnxRuntimeSession session = OnnxRuntimeSession::start(so);
  if (!session.ready()) return not_measured(session.status(), session.note());

  const fs::path output = options.output.empty()
                              ? fs::temp_directory_path() / ("modelc-ort-output-" + std::to_string(::getpid()) + ".npy")
                              : options.output;
  OnnxRuntimeMeasurement measurement;
  try {
    const int warmup = std::max(options.benchmark.warmup, 0);
    if (warmup > 0) session.run(warmup);
    // Batches until both `repeats` runs and `min_seconds` of timed work are done.
    const int repeats = std::max(options.benchmark.repeats, 1);
    double busy_ms = 0;
    while (static_cast<int>(measurement.samples_ms.size()) < repeats || busy_ms < options.benchmark.min_seconds * 1000) {
      if (measurement.samples_ms.size() >= static_cast<size_t>(kMaxTimedRuns)) break;
      const int batch = std::max(1, repeats - static_cast<int>(measurement.samples_ms.size()));
      for (const double ms : session.run(batch)) {
        measurement.samples_ms.push_back(ms);
        busy_ms += ms;
      }
    }
    session.write_output(output);
  } catch (const Error& e) {
    return not_measured(RunStatus::failed, e.diagnostics().empty() ? e.what() : e.diagnostics().front().message);
  }
  measurement.result.name = kBaselineName;
  measurement.result.status = RunStatus::ok;
  measurement.result.threads = session.threads();
  measurement.result.latency = summarize_latency(measurement.samples_ms, std::max(options.benchmark.warmup, 0));
  measurement.result.note = "onnxruntime-node " + session.version() + ", " + std::to_string(session.threads()) +
                            " intra-op thread(s), graph optimization all";
  measurement.output = output;
  measurement.output_name = session.output_name();
  return measurement;
}

}  // namespace modelc::reports
