#include "support/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <thread>
#include <utility>

#include "support/spawn_arguments.h"

namespace modelc {
namespace {

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// A write to a pipe whose reader is gone raises SIGPIPE, which would end this
// process. Blocking it for the write turns it into EPIPE; a SIGPIPE that the
// write left pending is consumed, so the process-wide disposition is untouched.
bool write_all_without_sigpipe(int fd, std::string_view bytes) {
  sigset_t pipe_only, old_mask;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask);
  sigset_t pending;
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;

  bool ok = true;
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  if (!ok && !was_pending) {
    const timespec zero{0, 0};
    while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  return ok;
}

}  // namespace

ChildProcess ChildProcess::start(const std::vector<std::string>& argv, const ProcessOptions& options) {
  ChildProcess child;
  if (argv.empty()) {
    child.start_error_ = "no program given";
    return child;
  }
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    child.start_error_ = std::string("cannot create a pipe: ") + std::strerror(errno);
    for (int* fds : {in, out, err})
      for (int i : {0, 1}) close_fd(fds[i]);
    return child;
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);

  std::vector<std::string> arguments = argv;
  std::vector<std::string> environment = child_environment(options);
  std::vector<char*> c_argv = c_strings(arguments);
  std::vector<char*> c_env = c_strings(environment);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, arguments[0].c_str(), &actions, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  close_fd(in[0]);
  close_fd(out[1]);
  close_fd(err[1]);
  if (spawned != 0) {
    child.start_error_ = "cannot run " + argv[0] + ": " + std::strerror(spawned);
    close_fd(in[1]);
    close_fd(out[0]);
    close_fd(err[0]);
    return child;
  }
  child.pid_ = pid;
  child.stdin_fd_ = in[1];
  child.stdout_fd_ = out[0];
  child.stderr_fd_ = err[0];
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept { *this = std::move(other); }

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this == &other) return *this;
  finish();
  pid_ = std::exchange(other.pid_, -1);
  stdin_fd_ = std::exchange(other.stdin_fd_, -1);
  stdout_fd_ = std::exchange(other.stdout_fd_, -1);
  stderr_fd_ = std::exchange(other.stderr_fd_, -1);
  start_error_ = std::move(other.start_error_);
  stdout_buffer_ = std::move(other.stdout_buffer_);
  stderr_text_ = std::move(other.stderr_text_);
  timed_out_ = other.timed_out_;
  exit_code_ = other.exit_code_;
  return *this;
}

ChildProcess::~ChildProcess() { finish(); }

bool ChildProcess::write_line(std::string_view line) {
  if (stdin_fd_ < 0) return false;
  std::string text(line);
  text += '\n';
  return write_all_without_sigpipe(stdin_fd_, text);
}

// Reads whatever stdout and stderr have until one of them gives data or the
// deadline passes; false when stdout is closed and nothing more can come.
bool ChildProcess::pump(std::chrono::steady_clock::time_point deadline) {
  std::array<char, 65536> buffer{};
  while (stdout_fd_ >= 0) {
    std::array<pollfd, 2> fds{pollfd{stdout_fd_, POLLIN, 0}, pollfd{stderr_fd_, POLLIN, 0}};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out_ = true;
      return true;
    }
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) return false;
    if (ready <= 0) continue;
    if (fds[1].fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t n = ::read(stderr_fd_, buffer.data(), buffer.size());
      if (n > 0) stderr_text_.append(buffer.data(), static_cast<size_t>(n));
      else if (n == 0 || errno != EINTR) close_fd(stderr_fd_);
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t n = ::read(stdout_fd_, buffer.data(), buffer.size());
      if (n > 0) {
        stdout_buffer_.append(buffer.data(), static_cast<size_t>(n));
        return true;
      }
      if (n == 0 || errno != EINTR) {
        close_fd(stdout_fd_);
        return false;
      }
    }
  }
  return false;
}

std::optional<std::string> ChildProcess::read_line(std::chrono::milliseconds timeout) {
  timed_out_ = false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const size_t newline = stdout_buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = stdout_buffer_.substr(0, newline);
      stdout_buffer_.erase(0, newline + 1);
      return line;
    }
    if (!pump(deadline) || timed_out_) break;
  }
  if (timed_out_ || stdout_buffer_.empty()) return std::nullopt;
  // The child exited after a last line without a newline.
  return std::exchange(stdout_buffer_, std::string());
}

int ChildProcess::finish(std::chrono::milliseconds grace) {
  if (pid_ <= 0) {
    close_all();
    return exit_code_;
  }
  close_fd(stdin_fd_);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0;
  bool exited = false;
  while (!exited) {
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exited = true;
      break;
    }
    if (done < 0 && errno != EINTR) {  // reaped elsewhere: nothing left to wait for or kill
      pid_ = -1;
      close_all();
      return exit_code_;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    // Keep its stderr flowing so it is not stuck writing while we wait.
    if (stderr_fd_ >= 0) {
      pollfd fd{stderr_fd_, POLLIN, 0};
      if (::poll(&fd, 1, 10) > 0) {
        std::array<char, 4096> buffer{};
        const ssize_t n = ::read(stderr_fd_, buffer.data(), buffer.size());
        if (n > 0) stderr_text_.append(buffer.data(), static_cast<size_t>(n));
        else close_fd(stderr_fd_);
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (!exited) {
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  pid_ = -1;
  // What it wrote to stderr just before exiting is still in the pipe.
  for (std::array<char, 4096> buffer{}; stderr_fd_ >= 0;) {
    pollfd fd{stderr_fd_, POLLIN, 0};
    if (::poll(&fd, 1, 0) <= 0) break;
    const ssize_t n = ::read(stderr_fd_, buffer.data(), buffer.size());
    if (n <= 0) break;
    stderr_text_.append(buffer.data(), static_cast<size_t>(n));
  }
  close_all();
  return exit_code_;
}

void ChildProcess::close_all() {
  close_fd(stdin_fd_);
  close_fd(stdout_fd_);
  close_fd(stderr_fd_);
}

}  // namespace modelc
