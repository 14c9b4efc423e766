#include "reports/onnxruntime_baseline.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "modelc_config.h"
#include "support/process.h"
#include "support/diagnostic.h"

namespace fs = std::filesystem;
using nlohmann::json;

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

std::string install_hint(const fs::path& cache) {
  return "install it with scripts/install-onnxruntime.sh (npm install --ignore-scripts --prefix " + cache.string() +
         " onnxruntime-node@1.30.0)";
}

// The one JSON line ort_bench.js prints (the last non-empty stdout line, in
// case onnxruntime logs something first).
std::optional<json> last_json_line(const std::string& text) {
  std::istringstream lines(text);
  std::optional<json> found;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.front() != '{') continue;
    try {
      found = json::parse(line);
    } catch (const json::parse_error&) {
    }
  }
  return found;
}

std::string first_line(const std::string& text) {
  const size_t end = text.find('\n');
  return text.substr(0, end);
}

// 0 means "all cores" in a recipe; ORT's own default for 0 differs (physical
// cores only), so the count is resolved here and both sides use the same one.
int resolved_threads(int threads) {
  if (threads > 0) return threads;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

std::vector<std::string> script_arguments(const fs::path& node, const fs::path& script,
                                          const OnnxRuntimeBaselineOptions& options, const fs::path& output,
                                          const fs::path& modules) {
  return {node.string(),
          script.string(),
          "--model", options.model.string(),
          "--input", options.input.string(),
          "--output", output.string(),
          "--threads", std::to_string(resolved_threads(options.threads)),
          "--warmup", std::to_string(std::max(options.benchmark.warmup, 0)),
          "--repeats", std::to_string(std::max(options.benchmark.repeats, 1)),
          "--min-seconds", std::to_string(std::max(options.benchmark.min_seconds, 0.0)),
          "--modules", modules.string()};
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
  const fs::path cache = options.cache_dir.empty() ? modelc_cache_dir() : options.cache_dir;
  const std::optional<fs::path> node = find_node();
  if (!node) {
    return not_measured(RunStatus::unavailable,
                        "node not found (Debian: apt-get install nodejs npm); then " + install_hint(cache));
  }
  if (!find_onnxruntime_node(cache)) {
    return not_measured(RunStatus::unavailable,
                        "onnxruntime-node not found under " + (cache / "node_modules").string() + "; " +
                            install_hint(cache));
  }
  const fs::path script = options.script.empty() ? default_ort_script() : options.script;
  std::error_code ec;
  if (!fs::is_regular_file(script, ec)) {
    return not_measured(RunStatus::unavailable, "the ONNX Runtime benchmark script " + script.string() +
                                                    " is missing (set MODELC_ORT_SCRIPT to its path)");
  }
  const fs::path output = options.output.empty()
                              ? fs::temp_directory_path() / ("modelc-ort-output-" + std::to_string(::getpid()) + ".npy")
                              : options.output;

  ProcessOptions process;
  process.timeout = options.timeout;
  process.environment = {{"MODELC_CACHE", cache.string()}};
  const ProcessResult run =
      run_process(script_arguments(*node, script, options, output, cache / "node_modules"), process);

  if (!run.started) return not_measured(RunStatus::unavailable, run.start_error);
  if (run.timed_out) {
    return not_measured(RunStatus::failed, "ONNX Runtime did not finish within " +
                                               std::to_string(options.timeout.count() / 1000) + " s");
  }
  const std::optional<json> reply = last_json_line(run.stdout_text);
  if (!reply || !reply->is_object() || !reply->contains("status")) {
    const std::string why = run.stderr_text.empty() ? first_line(run.stdout_text) : first_line(run.stderr_text);
    return not_measured(RunStatus::failed, "ort_bench.js gave no result (exit code " + std::to_string(run.exit_code) +
                                               (why.empty() ? ")" : "): " + why));
  }

  const std::string status = reply->value("status", "");
  const std::string note = reply->value("note", "");
  if (status == "unavailable") return not_measured(RunStatus::unavailable, note);
  if (status != "ok") return not_measured(RunStatus::failed, note.empty() ? "ort_bench.js failed" : note);

  OnnxRuntimeMeasurement measurement;
  try {
    measurement.samples_ms = reply->at("samples_ms").get<std::vector<double>>();
    measurement.result.latency = summarize_latency(measurement.samples_ms, reply->value("warmup", 0));
  } catch (const std::exception& e) {
    return not_measured(RunStatus::failed, std::string("ort_bench.js printed no usable samples: ") + e.what());
  }
  measurement.result.name = kBaselineName;
  measurement.result.status = RunStatus::ok;
  measurement.result.note = "onnxruntime-node " + reply->value("version", std::string("?")) + ", " +
                            std::to_string(resolved_threads(options.threads)) + " intra-op thread(s), graph optimization all";
  measurement.output = output;
  measurement.output_name = reply->value("output_name", std::string());
  return measurement;
}

}  // namespace modelc::reports
