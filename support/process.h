// Child processes for runners and baselines that live outside modelc (node for
// ONNX Runtime and wasm artifacts, qemu-user for foreign ISAs): argv, not a
// shell command line, so paths never need quoting.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace modelc {

struct ProcessOptions {
  // Added to (or replacing entries of) this process's environment.
  std::vector<std::pair<std::string, std::string>> environment;
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
};

struct ProcessResult {
  bool started = false;    // false: argv[0] could not be executed; see start_error
  std::string start_error;
  bool timed_out = false;  // killed (SIGKILL) after ProcessOptions::timeout
  int exit_code = -1;      // exit status, or -1 when killed by a signal
  int signal = 0;          // the signal that ended it, 0 when it exited
  // The child's peak resident memory (getrusage's ru_maxrss). posix_spawn
  // starts the child in the caller's memory (vfork), and Linux counts the
  // caller's peak until the exec: the figure is at least the caller's own peak.
  long peak_rss_kib = 0;
  std::string stdout_text;
  std::string stderr_text;
};

// Runs argv[0] (a path; see find_executable) to completion, capturing stdout
// and stderr. Never throws for a failing child: the result says what happened.
ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// The first executable `name` on $PATH (or `name` itself when it contains '/').
std::optional<std::filesystem::path> find_executable(std::string_view name);

}  // namespace modelc
