#include <doctest/doctest.h>

#include <chrono>

#include "support/child_process.h"

using namespace modelc;
using namespace std::chrono_literals;

namespace {

std::string shell() {
  const auto sh = find_executable("sh");
  REQUIRE(sh);
  return sh->string();
}

}  // namespace

TEST_CASE("ChildProcess answers line by line while it stays alive") {
  // An echo server: reads a line, answers it doubled, until stdin closes.
  ChildProcess child = ChildProcess::start({shell(), "-c", "while read l; do echo \"$l$l\"; done; echo bye"});
  REQUIRE(child.started());
  for (const char* word : {"a", "bc", "def"}) {
    REQUIRE(child.write_line(word));
    const auto answer = child.read_line(5s);
    REQUIRE(answer);
    CHECK(*answer == std::string(word) + word);
  }
  CHECK(child.finish() == 0);
  CHECK_FALSE(child.write_line("late"));  // stdin is closed: no SIGPIPE, just false
}

TEST_CASE("ChildProcess: a read times out, and the end of output is nullopt") {
  ChildProcess child = ChildProcess::start({shell(), "-c", "read l; printf 'last'"});
  REQUIRE(child.started());
  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(child.read_line(100ms));
  CHECK(child.timed_out());
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  REQUIRE(child.write_line("go"));
  const auto last = child.read_line(5s);  // the last line has no newline
  REQUIRE(last);
  CHECK(*last == "last");
  CHECK_FALSE(child.read_line(5s));
  CHECK_FALSE(child.timed_out());
}

TEST_CASE("ChildProcess collects stderr and survives a child that exits before reading") {
  ChildProcess child = ChildProcess::start({shell(), "-c", "echo oops >&2; exit 4"});
  REQUIRE(child.started());
  CHECK_FALSE(child.read_line(5s));
  for (int i = 0; i < 100; ++i) child.write_line(std::string(1000, 'x'));  // EPIPE, never SIGPIPE
  CHECK(child.finish() == 4);
  CHECK(child.stderr_text() == "oops\n");
}

TEST_CASE("ChildProcess kills a child that ignores the end of its input") {
  ChildProcess child = ChildProcess::start({shell(), "-c", "exec sleep 30"});
  REQUIRE(child.started());
  const auto start = std::chrono::steady_clock::now();
  CHECK(child.finish(100ms) == -1);
  CHECK(std::chrono::steady_clock::now() - start < 10s);
}

TEST_CASE("ChildProcess reports a program that cannot start") {
  const ChildProcess child = ChildProcess::start({"/nonexistent/program"});
  CHECK_FALSE(child.started());
  CHECK(child.start_error().find("/nonexistent/program") != std::string::npos);
}
