// The artifact from a C program's point of view: model.h compiles as C99, the
// static library links with only -lpthread -ldl -lm, and the program's
// outputs equal what the runner gets from the shared library.
#include <doctest/doctest.h>

#include <sstream>
#include <thread>

#include "driver/evaluate.h"
#include "driver/pipeline.h"
#include "support/process.h"
#include "tests/driver/test_util.h"

namespace fs = std::filesystem;
using namespace modelc;

TEST_CASE("a C program includes model.h, links the static library and runs the model") {
  test::TempDir tmp;
  const spec::Recipe recipe = spec::load_recipe(test::source_root() / "examples/quickstart/cnn.yaml");
  driver::CompileOptions options;
  options.out_dir = tmp.path() / "out";
  const driver::CompiledArtifact a = driver::compile(recipe, options).front();

  const auto cc = find_executable("cc");
  REQUIRE(cc);
  const fs::path program = tmp.path() / "model_user";
  const ProcessResult build = run_process({cc->string(), "-std=c99", "-Wall", "-Werror", "-pedantic", "-DPREFIX=quickstart_cnn",
                                           "-I" + a.directory.string(), (test::source_root() / "tests/driver/model_user.c").string(),
                                           (a.directory / "libquickstart_cnn.a").string(), "-lpthread", "-ldl", "-lm",
                                           "-o", program.string()});
  INFO(build.stderr_text);
  REQUIRE(build.exit_code == 0);
  const ProcessResult run = run_process({program.string()});
  INFO(run.stderr_text);
  REQUIRE(run.exit_code == 0);
  CHECK(run.stderr_text.find("input 'image' needs 12288 bytes, given 12287") != std::string::npos);
  // NULL where a buffer, a name or data belongs: an error code and a message, not a crash.
  CHECK(run.stderr_text.find("the input buffer array is NULL, expected 1 buffers") != std::string::npos);
  CHECK(run.stderr_text.find("the output buffer array is NULL, expected 1 buffers") != std::string::npos);
  CHECK(run.stderr_text.find("input buffer 0 has no name (NULL)") != std::string::npos);
  CHECK(run.stderr_text.find("output 'probabilities' has no data (NULL)") != std::string::npos);

  // The same input through the shared library.
  lang::Tensor input(lang::TensorType{{1, 3, 32, 32}, lang::DType::float32});
  auto values = input.mutable_values<float>();
  for (size_t k = 0; k < values.size(); ++k) values[k] = static_cast<float>((k * 7919) % 1000) / 1000.0f - 0.5f;
  const std::vector<lang::Tensor> want = driver::run_artifact(a.directory, {input}, 1);
  std::istringstream printed(run.stdout_text);
  std::vector<float> got;
  for (float v; printed >> v;) got.push_back(v);
  REQUIRE(got.size() == want[0].values<float>().size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[0].values<float>()[i]).epsilon(1e-6));
}

TEST_CASE("two models link into one program: only their API symbols (and hidden weights) are global") {
  test::TempDir tmp;
  const auto nm = find_executable("nm");
  REQUIRE(nm);
  const spec::Recipe recipe = spec::load_recipe(test::source_root() / "examples/quickstart/cnn.yaml");
  driver::CompileOptions options;
  options.out_dir = tmp.path() / "out";
  const driver::CompiledArtifact a = driver::compile(recipe, options).front();
  const ProcessResult symbols = run_process({nm->string(), "--defined-only", "--extern-only", (a.directory / "libquickstart_cnn.a").string()});
  REQUIRE(symbols.exit_code == 0);
  std::istringstream lines(symbols.stdout_text);
  std::vector<std::string> exported;
  for (std::string line; std::getline(lines, line);) {
    const size_t space = line.rfind(' ');
    if (line.empty() || line.back() == ':' || space == std::string::npos) continue;
    exported.push_back(line.substr(space + 1));
  }
  std::sort(exported.begin(), exported.end());
  // The weights are an object of their own in the archive, so their symbol
  // is global there too: prefixed like the API, and hidden, so that the
  // shared library exports the API alone.
  CHECK(exported == std::vector<std::string>{"quickstart_cnn_api", "quickstart_cnn_create", "quickstart_cnn_destroy",
                                             "quickstart_cnn_last_error", "quickstart_cnn_run", "quickstart_cnn_weights"});
  const ProcessResult dynamic = run_process({nm->string(), "-D", "--defined-only", (a.directory / "libquickstart_cnn.so").string()});
  REQUIRE(dynamic.exit_code == 0);
  std::istringstream dynamic_lines(dynamic.stdout_text);
  std::vector<std::string> shared;
  for (std::string line; std::getline(dynamic_lines, line);)
    if (const size_t space = line.rfind(' '); !line.empty() && space != std::string::npos) shared.push_back(line.substr(space + 1));
  std::sort(shared.begin(), shared.end());
  CHECK(shared == std::vector<std::string>{"quickstart_cnn_api", "quickstart_cnn_create", "quickstart_cnn_destroy",
                                           "quickstart_cnn_last_error", "quickstart_cnn_run"});
}

// Each instance keeps the thread count it was created with, whatever the
// other instances asked for (tests/driver/threads_user.c watches /proc). The
// model's parallel loops must outlast a worker's wake-up (tens of
// microseconds) for the workers to take iterations at all, so its layers are
// ResNet-sized (about 2 ms a run on one core). The same program then runs
// two 2-thread instances at once (the executor's spinning workers serve one,
// Halide's pool the other) against a lone run's output, and restarts the
// workers after the last destroy.
TEST_CASE("thread counts are per instance: create(0) then create(1) keeps both" *
          doctest::skip(std::thread::hardware_concurrency() < 2)) {
  test::TempDir tmp;
  const spec::Recipe recipe = spec::load_recipe(tmp.write("recipe.yaml", R"(apiVersion: modelc/v1
kind: Recipe
metadata: {name: quickstart-cnn, version: 1.0.0}
model:
  graph:
    seed: 3
    inputs:
      - {name: image, shape: [1, 64, 56, 56], dtype: float32}
    layers:
      - {op: conv2d, name: conv1, filters: 64, kernel: 3, padding: same}
      - {op: relu, name: relu1}
      - {op: conv2d, name: conv2, filters: 64, kernel: 3, padding: same}
    outputs: [conv2]
targets:
  host: {device: host}
)"));
  driver::CompileOptions options;
  options.out_dir = tmp.path() / "out";
  const driver::CompiledArtifact a = driver::compile(recipe, options).front();
  const auto cc = find_executable("cc");
  REQUIRE(cc);
  const fs::path program = tmp.path() / "threads_user";
  const ProcessResult build = run_process({cc->string(), "-std=c99", "-Wall", "-Werror", "-pedantic", "-DPREFIX=quickstart_cnn",
                                           "-I" + a.directory.string(), (test::source_root() / "tests/driver/threads_user.c").string(),
                                           (a.directory / "libquickstart_cnn.a").string(), "-lpthread", "-ldl", "-lm",
                                           "-o", program.string()});
  INFO(build.stderr_text);
  REQUIRE(build.exit_code == 0);
  const ProcessResult run = run_process({program.string()});
  MESSAGE(run.stdout_text);
  INFO(run.stderr_text);
  CHECK(run.exit_code == 0);
}
