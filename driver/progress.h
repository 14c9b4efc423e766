// Progress of long work (kernels compiled of total, rounds measured of
// total) for a person at a terminal: one status line on stderr, rewritten in
// place. Where nobody watches it live (stderr is a file or a pipe, -q, or
// --format json for tools) it stays quiet: the lines go to the debug log.
#pragma once

#include <string>

namespace modelc::driver {

class TerminalProgress {
 public:
  // `live`: stderr is a terminal and the output is for people.
  explicit TerminalProgress(bool live) : live_(live) {}
  ~TerminalProgress() { clear(); }
  TerminalProgress(const TerminalProgress&) = delete;
  TerminalProgress& operator=(const TerminalProgress&) = delete;

  void show(const std::string& line);
  // Erases the status line, so that what follows starts on a clean line.
  void clear();

  // Whether stderr (fd 2) is a terminal.
  static bool stderr_is_terminal();

 private:
  bool live_;
  bool shown_ = false;
};

}  // namespace modelc::driver
