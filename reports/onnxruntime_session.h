// One ONNX Runtime InferenceSession, held by a Node process running
// reports/baselines/ort_bench.js in its server mode and driven over pipes:
// `run N` answers N run times, so ONNX Runtime can take its turn in the
// rounds of reports/rounds.h like any in-process implementation.
//
// One session, one process. A session of the one-op model (an Add of a
// 1-element tensor, built by the script) measures what every call through
// Node costs before any model work.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "reports/results.h"
#include "support/child_process.h"

namespace modelc::reports {

struct OnnxRuntimeSessionOptions {
  std::filesystem::path model;  // .onnx; ignored with one_op
  std::filesystem::path input;  // float32 .npy fed to the model's single input; ignored with one_op
  bool one_op = false;
  int threads = 1;                  // intra-op threads; <= 0: every core this machine has
  std::filesystem::path cache_dir;  // empty: modelc_cache_dir()
  std::filesystem::path script;     // empty: default_ort_script()
  std::chrono::milliseconds start_timeout{std::chrono::minutes(2)};
  std::chrono::milliseconds command_timeout{std::chrono::minutes(10)};
};

class OnnxRuntimeSession {
 public:
  // Never throws: when node, the package or the model is missing, the session
  // is not ready() and status()/note() say why and how to fix it.
  static OnnxRuntimeSession start(const OnnxRuntimeSessionOptions& options);

  bool ready() const { return status_ == RunStatus::ok; }
  RunStatus status() const { return status_; }  // ok, unavailable or failed
  const std::string& note() const { return note_; }
  const std::string& version() const { return version_; }
  const std::string& output_name() const { return output_name_; }
  int threads() const { return threads_; }

  // Runs the model `count` times; the time of each run in ms. Throws
  // modelc::Error when the server refuses or has died.
  std::vector<double> run(int count);
  // Writes the first output of the last run as a float32 .npy file; throws like run().
  void write_output(const std::filesystem::path& file);

 private:
  OnnxRuntimeSession() = default;
  nlohmann::json command(const std::string& line);

  std::optional<ChildProcess> child_;
  std::chrono::milliseconds command_timeout_{0};
  RunStatus status_ = RunStatus::failed;
  std::string note_;
  std::string version_;
  std::string output_name_;
  int threads_ = 1;
};

// 0 means "all cores" in a recipe; ORT's own default for 0 differs (physical
// cores only), so the count is resolved here and both sides use the same one.
int resolved_thread_count(int threads);

}  // namespace modelc::reports
