#include <doctest/doctest.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>

#include "support/process.h"

using namespace modelc;

TEST_CASE("run_process captures stdout, stderr and the exit code") {
  const auto sh = find_executable("sh");
  REQUIRE(sh);
  const ProcessResult result = run_process({sh->string(), "-c", "echo out; echo err >&2; exit 3"});
  CHECK(result.started);
  CHECK_FALSE(result.timed_out);
  CHECK(result.exit_code == 3);
  CHECK(result.stdout_text == "out\n");
  CHECK(result.stderr_text == "err\n");
}

TEST_CASE("run_process passes extra environment variables, replacing inherited ones") {
  const auto sh = find_executable("sh");
  REQUIRE(sh);
  ProcessOptions options;
  options.environment = {{"MODELC_TEST_VALUE", "a b"}, {"PATH", "/nowhere"}};
  const ProcessResult result = run_process({sh->string(), "-c", "echo \"$MODELC_TEST_VALUE|$PATH\""}, options);
  CHECK(result.stdout_text == "a b|/nowhere\n");
}

TEST_CASE("run_process kills a child that outlives the timeout") {
  const auto sh = find_executable("sh");
  REQUIRE(sh);
  ProcessOptions options;
  options.timeout = std::chrono::milliseconds(200);
  const auto start = std::chrono::steady_clock::now();
  const ProcessResult result = run_process({sh->string(), "-c", "exec sleep 30"}, options);
  CHECK(result.timed_out);
  CHECK(result.signal != 0);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
}

TEST_CASE("run_process reports a program that cannot start") {
  const ProcessResult result = run_process({"/nonexistent/program"});
  CHECK_FALSE(result.started);
  CHECK(result.start_error.find("/nonexistent/program") != std::string::npos);
}

TEST_CASE("find_executable searches PATH") {
  CHECK(find_executable("sh").has_value());
  CHECK_FALSE(find_executable("modelc-no-such-program").has_value());
  CHECK_FALSE(find_executable("").has_value());
}

TEST_CASE("run_process reports the child's peak memory") {
  const auto sh = find_executable("sh");
  REQUIRE(sh);
  const ProcessResult small = run_process({sh->string(), "-c", "exit 0"});
  CHECK(small.peak_rss_kib > 0);
  // A shell's own peak is a few MB; until its exec it was counted in this
  // process's memory, whose peak (other tests, sanitizers) comes on top.
  rusage self{};
  REQUIRE(::getrusage(RUSAGE_SELF, &self) == 0);
  CHECK(small.peak_rss_kib < std::max<long>(64 * 1024, self.ru_maxrss + 16 * 1024));
}
