// A child process one talks to line by line over pipes (stdin, stdout), for
// helpers that stay alive between requests: the ONNX Runtime benchmark server
// holds a loaded model so its timed runs can be interleaved with modelc's.
// run_process (support/process.h) is for children that run to completion.
//
// stderr is collected in the background of every read, so a chatty child
// never blocks on a full pipe. Destroying a ChildProcess closes its stdin,
// waits briefly for it to exit, then kills it: no child outlives its owner.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/process.h"

namespace modelc {

class ChildProcess {
 public:
  // Starts argv[0] (a path; see find_executable) with ProcessOptions::environment.
  // Never throws for a child that cannot start: started() says so.
  static ChildProcess start(const std::vector<std::string>& argv, const ProcessOptions& options = {});

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  bool started() const { return pid_ > 0; }
  const std::string& start_error() const { return start_error_; }

  // Writes `line` and a newline to the child's stdin; false when the child
  // has closed it (it exited). Never raises SIGPIPE.
  bool write_line(std::string_view line);

  // The next line of the child's stdout without its newline; nullopt when the
  // child closed stdout (exited) or `timeout` passed first (timed_out() then
  // says which).
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  bool timed_out() const { return timed_out_; }

  // What the child wrote to stderr so far.
  const std::string& stderr_text() const { return stderr_text_; }

  // Closes stdin and waits up to `grace` for the child to exit, then kills it.
  // Returns its exit status (-1 when killed by a signal). Idempotent.
  int finish(std::chrono::milliseconds grace = std::chrono::seconds(2));

 private:
  ChildProcess() = default;
  void close_all();
  bool pump(std::chrono::steady_clock::time_point deadline);

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  std::string start_error_;
  std::string stdout_buffer_;
  std::string stderr_text_;
  bool timed_out_ = false;
  int exit_code_ = -1;
};

}  // namespace modelc
