#include "driver/progress.h"

#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>

namespace modelc::driver {
namespace {

size_t terminal_columns() {
  winsize size{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

}  // namespace

bool TerminalProgress::stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

void TerminalProgress::show(const std::string& line) {
  if (!live_) {
    spdlog::debug("{}", line);
    return;
  }
  // One column short of the width, so the line never wraps and \r returns to its start.
  const size_t columns = terminal_columns() > 1 ? terminal_columns() - 1 : 1;
  std::string text = line.size() > columns ? line.substr(0, columns) : line;
  std::fprintf(stderr, "\r\033[2K%s", text.c_str());
  std::fflush(stderr);
  shown_ = true;
}

void TerminalProgress::clear() {
  if (!shown_) return;
  std::fprintf(stderr, "\r\033[2K");
  std::fflush(stderr);
  shown_ = false;
}

}  // namespace modelc::driver
