// The ONNX backend test data as a conformance suite: runs every test under
// <data>/{node,pytorch-converted,pytorch-operator,simple} (Debian's
// libonnx-testdata), writes a table of test, status (pass / mismatch /
// unsupported / error), seconds and message, and prints totals per folder.
//
// Tests run in worker processes forked before any kernel is compiled, fed one
// test at a time over a pipe: a test that crashes its worker (a Halide internal
// assertion aborts) or runs past the time limit is reported as an error and a
// fresh worker takes the rest, so no test can stop the run. Each worker keeps
// its compiled kernels by structural hash across the tests it runs.
//
// With --expected FILE, exits 1 when a test listed there does not pass or is
// not in the data (the regression test; --only-expected runs just those).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/conformance/run_case.h"

namespace fs = std::filesystem;
using modelc::conformance::Outcome;
using modelc::conformance::Status;

namespace {

struct Options {
  fs::path data = "/usr/share/libonnx-testdata/data";
  std::vector<std::string> folders{"node", "pytorch-converted", "pytorch-operator", "simple"};
  int jobs = 2;
  int timeout_s = 120;
  std::vector<fs::path> tables;  // .tsv or .md, any number
  fs::path expected;
  bool only_expected = false;
  fs::path write_expected;
  std::string filter;
  bool verbose = false;
};

struct TestCase {
  std::string folder;
  std::string name;  // "folder/test_x"
  fs::path dir;
};

struct Result {
  Status status = Status::error;
  double seconds = 0;
  std::string message;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "conformance: " << problem << "\n"
            << "usage: conformance [--data DIR] [--folders a,b] [--jobs N] [--timeout S] [--table FILE.tsv|.md]...\n"
            << "                   [--expected FILE [--only-expected]] [--write-expected FILE] [--filter TEXT] [--verbose]\n";
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--data") o.data = value();
    else if (a == "--folders") {
      o.folders.clear();
      std::stringstream s(value());
      for (std::string f; std::getline(s, f, ',');) o.folders.push_back(f);
    } else if (a == "--jobs") o.jobs = std::max(1, std::stoi(value()));
    else if (a == "--timeout") o.timeout_s = std::max(1, std::stoi(value()));
    else if (a == "--table") o.tables.push_back(value());
    else if (a == "--expected") o.expected = value();
    else if (a == "--only-expected") o.only_expected = true;
    else if (a == "--write-expected") o.write_expected = value();
    else if (a == "--filter") o.filter = value();
    else if (a == "--verbose") o.verbose = true;
    else usage("unknown argument '" + a + "'");
  }
  return o;
}

std::set<std::string> read_list(const fs::path& file) {
  std::ifstream in(file);
  if (!in) usage("cannot read " + file.string());
  std::set<std::string> names;
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') names.insert(line);
  return names;
}

std::vector<TestCase> discover(const Options& o, const std::set<std::string>* only) {
  std::vector<TestCase> tests;
  for (const std::string& folder : o.folders) {
    const fs::path dir = o.data / folder;
    if (!fs::is_directory(dir)) continue;
    std::vector<TestCase> found;
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = folder + "/" + e.path().filename().string();
      if (!fs::exists(e.path() / "model.onnx")) continue;
      if (!o.filter.empty() && name.find(o.filter) == std::string::npos) continue;
      if (only && !only->count(name)) continue;
      found.push_back({folder, name, e.path()});
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    tests.insert(tests.end(), found.begin(), found.end());
  }
  return tests;
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return s;
}

// ---- worker side ----

bool write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = write(fd, s.data() + done, s.size() - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Reads test indices, one per line, and answers "index\tstatus\tseconds\tmessage".
[[noreturn]] void worker_main(const std::vector<TestCase>& tests, int in_fd, int out_fd) {
  modelc::conformance::KernelCache kernels;
  FILE* in = fdopen(in_fd, "r");
  char line[64];
  while (in && std::fgets(line, sizeof line, in)) {
    const auto index = static_cast<size_t>(std::atol(line));
    const auto start = std::chrono::steady_clock::now();
    const Outcome outcome = modelc::conformance::run_case(tests.at(index).dir, kernels);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::ostringstream reply;
    reply << index << '\t' << modelc::conformance::status_name(outcome.status) << '\t' << seconds << '\t'
          << one_line(outcome.message) << '\n';
    if (!write_all(out_fd, reply.str())) break;
  }
  std::_Exit(0);
}

// ---- parent side ----

struct Worker {
  pid_t pid = -1;
  int to_child = -1;
  int from_child = -1;
  long current = -1;  // test index in flight
  std::chrono::steady_clock::time_point started;
  std::string pending;  // partial reply line
};

class Scheduler {
 public:
  Scheduler(const Options& o, const std::vector<TestCase>& tests) : options_(o), tests_(tests), results_(tests.size()) {}

  std::vector<Result> run() {
    std::vector<Worker> workers(static_cast<size_t>(std::min<int>(options_.jobs, std::max<int>(1, static_cast<int>(tests_.size())))));
    for (Worker& w : workers) spawn(w, workers);
    while (finished_ < tests_.size()) {
      for (Worker& w : workers)
        if (w.pid > 0 && w.current < 0 && next_ < tests_.size()) assign(w, next_++);
      std::vector<pollfd> fds;
      for (const Worker& w : workers) fds.push_back({w.from_child, POLLIN, 0});
      poll(fds.data(), fds.size(), 500);
      for (size_t i = 0; i < workers.size(); ++i) {
        Worker& w = workers[i];
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) read_replies(w, workers);
        if (w.current >= 0 && elapsed(w) > options_.timeout_s) {
          kill(w.pid, SIGKILL);
          finish(w, Result{Status::error, elapsed(w), "timed out after " + std::to_string(options_.timeout_s) + " s"});
          restart(w, workers);
        }
      }
    }
    for (Worker& w : workers) stop(w);
    return results_;
  }

 private:
  static double elapsed(const Worker& w) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - w.started).count();
  }

  void spawn(Worker& w, std::vector<Worker>& all) {
    int down[2], up[2];
    if (pipe(down) != 0 || pipe(up) != 0) {
      std::perror("pipe");
      std::exit(1);
    }
    std::cout.flush();
    const pid_t pid = fork();
    if (pid == 0) {
      for (Worker& other : all) {
        if (other.to_child >= 0) close(other.to_child);
        if (other.from_child >= 0) close(other.from_child);
      }
      close(down[1]);
      close(up[0]);
      if (!options_.verbose) {
        const int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
      }
      setenv("HL_NUM_THREADS", "1", 1);  // one core per worker
      worker_main(tests_, down[0], up[1]);
    }
    close(down[0]);
    close(up[1]);
    w = Worker{pid, down[1], up[0], -1, {}, {}};
  }

  void assign(Worker& w, size_t index) {
    w.current = static_cast<long>(index);
    w.started = std::chrono::steady_clock::now();
    if (!write_all(w.to_child, std::to_string(index) + "\n")) {
      // The worker is gone; the read side will see it.
    }
  }

  void read_replies(Worker& w, std::vector<Worker>& all) {
    char buffer[4096];
    const ssize_t n = read(w.from_child, buffer, sizeof buffer);
    if (n > 0) {
      w.pending.append(buffer, static_cast<size_t>(n));
      size_t eol;
      while ((eol = w.pending.find('\n')) != std::string::npos) {
        accept_reply(w, w.pending.substr(0, eol));
        w.pending.erase(0, eol + 1);
      }
      return;
    }
    // EOF: the worker died.
    int status = 0;
    waitpid(w.pid, &status, 0);
    w.pid = -1;
    if (w.current >= 0) {
      std::string why = WIFSIGNALED(status) ? "crashed the worker (signal " + std::to_string(WTERMSIG(status)) + ", " +
                                                  strsignal(WTERMSIG(status)) + ")"
                                            : "the worker exited with status " + std::to_string(WEXITSTATUS(status));
      finish(w, Result{Status::error, elapsed(w), why});
    }
    restart(w, all);
  }

  void accept_reply(Worker& w, const std::string& line) {
    std::stringstream s(line);
    std::string index, status, seconds, message;
    std::getline(s, index, '\t');
    std::getline(s, status, '\t');
    std::getline(s, seconds, '\t');
    std::getline(s, message);
    Result r;
    r.status = status == "pass" ? Status::pass : status == "mismatch" ? Status::mismatch
               : status == "unsupported"         ? Status::unsupported
                                                 : Status::error;
    r.seconds = std::atof(seconds.c_str());
    r.message = message;
    if (static_cast<long>(std::atol(index.c_str())) == w.current) finish(w, r);
  }

  void finish(Worker& w, Result r) {
    const auto index = static_cast<size_t>(w.current);
    results_[index] = std::move(r);
    w.current = -1;
    ++finished_;
    if (options_.verbose)
      std::cerr << tests_[index].name << ": " << modelc::conformance::status_name(results_[index].status) << " "
                << results_[index].message << "\n";
  }

  void stop(Worker& w) {
    if (w.to_child >= 0) close(w.to_child);
    if (w.pid > 0) waitpid(w.pid, nullptr, 0);
    if (w.from_child >= 0) close(w.from_child);
    w = Worker{};
  }

  void restart(Worker& w, std::vector<Worker>& all) {
    if (w.pid > 0) waitpid(w.pid, nullptr, 0);
    close(w.to_child);
    close(w.from_child);
    w = Worker{};
    if (next_ < tests_.size()) spawn(w, all);
  }

  const Options& options_;
  const std::vector<TestCase>& tests_;
  std::vector<Result> results_;
  size_t next_ = 0;
  size_t finished_ = 0;
};

void write_table(const fs::path& file, const std::vector<TestCase>& tests, const std::vector<Result>& results) {
  std::ofstream out(file);
  const bool markdown = file.extension() == ".md";
  if (markdown) out << "| test | status | seconds | message |\n|---|---|---|---|\n";
  else out << "test\tstatus\tseconds\tmessage\n";
  for (size_t i = 0; i < tests.size(); ++i) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.2f", results[i].seconds);
    const char* status = modelc::conformance::status_name(results[i].status);
    if (markdown) {
      std::string message = results[i].message;
      for (size_t p = 0; (p = message.find('|', p)) != std::string::npos; p += 2) message.replace(p, 1, "\\|");
      out << "| " << tests[i].name << " | " << status << " | " << seconds << " | " << message << " |\n";
    } else {
      out << tests[i].name << '\t' << status << '\t' << seconds << '\t' << results[i].message << '\n';
    }
  }
}

void print_totals(const std::vector<TestCase>& tests, const std::vector<Result>& results, double seconds) {
  struct Counts { int n[4] = {0, 0, 0, 0}; int total = 0; };
  std::map<std::string, Counts> by_folder;
  std::vector<std::string> order;
  for (size_t i = 0; i < tests.size(); ++i) {
    if (!by_folder.count(tests[i].folder)) order.push_back(tests[i].folder);
    Counts& c = by_folder[tests[i].folder];
    ++c.n[static_cast<int>(results[i].status)];
    ++c.total;
  }
  std::printf("%-20s %6s %6s %9s %12s %6s\n", "folder", "total", "pass", "mismatch", "unsupported", "error");
  for (const std::string& f : order) {
    const Counts& c = by_folder[f];
    std::printf("%-20s %6d %6d %9d %12d %6d   (%.1f%% pass)\n", f.c_str(), c.total, c.n[0], c.n[1], c.n[2], c.n[3],
                c.total ? 100.0 * c.n[0] / c.total : 0.0);
  }
  std::printf("%zu tests in %.1f s\n", tests.size(), seconds);
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  if (!fs::is_directory(options.data)) {
    // CI installs the data (MODELC_REQUIRE_ALL=1): there a missing folder fails instead of skipping.
    const char* require_all = std::getenv("MODELC_REQUIRE_ALL");
    const bool required = require_all && *require_all && std::string(require_all) != "0";
    std::cout << "conformance: no test data at " << options.data.string() << " (install libonnx-testdata)"
              << (required ? ", and MODELC_REQUIRE_ALL is set: failing\n" : "; skipping\n");
    return required ? 1 : 77;  // 77: meson's "skipped"
  }
  std::set<std::string> expected;
  if (!options.expected.empty()) expected = read_list(options.expected);
  const std::vector<TestCase> tests = discover(options, options.only_expected ? &expected : nullptr);
  // An expected pass that the data does not hold would otherwise pass by not running.
  std::set<std::string> discovered;
  for (const TestCase& t : tests) discovered.insert(t.name);
  int missing = 0;
  for (const std::string& name : expected) {
    if (discovered.count(name) || (!options.filter.empty() && name.find(options.filter) == std::string::npos)) continue;
    std::printf("MISSING %s: listed in %s, not in %s\n", name.c_str(), options.expected.string().c_str(),
                options.data.string().c_str());
    ++missing;
  }

  const auto start = std::chrono::steady_clock::now();
  const std::vector<Result> results = Scheduler(options, tests).run();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  for (const fs::path& table : options.tables) write_table(table, tests, results);
  print_totals(tests, results, seconds);
  if (!options.write_expected.empty()) {
    std::ofstream out(options.write_expected);
    out << "# Conformance tests that pass (tests/conformance/conformance --write-expected); one per line.\n";
    for (size_t i = 0; i < tests.size(); ++i)
      if (results[i].status == Status::pass) out << tests[i].name << '\n';
  }
  int regressions = 0;
  for (size_t i = 0; i < tests.size(); ++i)
    if (expected.count(tests[i].name) && results[i].status != Status::pass) {
      std::printf("REGRESSION %s: %s %s\n", tests[i].name.c_str(), modelc::conformance::status_name(results[i].status),
                  results[i].message.c_str());
      ++regressions;
    }
  if (regressions) std::printf("%d expected passes no longer pass\n", regressions);
  if (missing) std::printf("%d expected passes are missing from the test data\n", missing);
  return regressions || missing ? 1 : 0;
}
