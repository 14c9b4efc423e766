// `modelc bench --kernels`: run_observed reports every step in order, and the
// kernel profile accounts for each step once, with the multiply-adds the
// manifest counts; in place (each kernel called once more before its timed
// call) it still does, and the outputs are the same.
#include <doctest/doctest.h>

#include "driver/evaluate.h"
#include "driver/pipeline.h"
#include "reports/artifact_timer.h"
#include "reports/kernel_profile.h"
#include "tests/driver/test_util.h"

namespace fs = std::filesystem;
using namespace modelc;

namespace {

struct Observed {
  std::vector<std::pair<int32_t, int32_t>> events;  // (step, finished)
};

void record(void* user, int32_t step, int32_t finished) {
  static_cast<Observed*>(user)->events.emplace_back(step, finished);
}

}  // namespace

TEST_CASE("run_observed brackets every step, in order, and a profile counts each step once") {
  test::TempDir tmp;
  const spec::Recipe recipe = spec::load_recipe(test::source_root() / "examples/quickstart/cnn.yaml");
  driver::CompileOptions options;
  options.out_dir = tmp.path() / "out";
  const auto artifacts = driver::compile(recipe, options);
  REQUIRE(artifacts.size() == 1);
  const std::vector<lang::Tensor> inputs = driver::benchmark_inputs(recipe, driver::import_model(recipe));
  std::vector<std::vector<std::byte>> bytes;
  for (const lang::Tensor& t : inputs) bytes.emplace_back(t.bytes().begin(), t.bytes().end());

  reports::ArtifactTimer timer(artifacts.front().directory, 1, bytes);
  const reports::ArtifactManifest& manifest = timer.artifact().manifest();
  const int32_t steps = timer.artifact().api().num_steps;
  REQUIRE(steps > 1);
  CHECK(static_cast<int32_t>(manifest.step_kernels.size()) == steps);

  // The observer, straight through the C API.
  reports::ModelInstance model = timer.artifact().create(1);
  std::vector<std::vector<std::byte>> outputs;
  std::vector<modelc_buffer> in, out;
  for (size_t i = 0; i < bytes.size(); ++i) in.push_back({timer.artifact().inputs()[i].name, bytes[i].data(), bytes[i].size()});
  for (const modelc_tensor_info& info : timer.artifact().outputs()) outputs.emplace_back(info.bytes);
  for (size_t i = 0; i < outputs.size(); ++i)
    out.push_back({timer.artifact().outputs()[i].name, outputs[i].data(), outputs[i].size()});
  Observed observed;
  REQUIRE(model.run_observed_unchecked(in, out, record, &observed) == MODELC_OK);
  REQUIRE(observed.events.size() == 2 * static_cast<size_t>(steps));
  for (int32_t s = 0; s < steps; ++s) {
    CHECK(observed.events[2 * static_cast<size_t>(s)] == std::make_pair(s, 0));
    CHECK(observed.events[2 * static_cast<size_t>(s) + 1] == std::make_pair(s, 1));
  }

  // In place, on two threads (the kernels' parallel loops run): the same
  // events, and the same outputs as a plain run (a kernel never writes what it reads).
  {
    reports::ModelInstance two = timer.artifact().create(2);
    REQUIRE(two.run_unchecked(in, out) == MODELC_OK);
    const std::vector<std::vector<std::byte>> plain = outputs;
    for (auto& o : outputs) std::fill(o.begin(), o.end(), std::byte{0x7f});
    Observed twice;
    REQUIRE(two.run_observed_unchecked(in, out, record, &twice, MODELC_OBSERVE_IN_PLACE) == MODELC_OK);
    CHECK(twice.events == observed.events);
    CHECK(outputs == plain);
  }

  const reports::KernelProfile profile = reports::profile_kernels(timer, 3);
  CHECK(profile.thread_cpu_time);
  int calls = 0;
  uint64_t multiply_adds = 0;
  for (const reports::KernelTiming& k : profile.kernels) {
    calls += k.calls;
    multiply_adds += k.multiply_adds;
    CHECK(k.ms >= 0);
    const bool computes = std::find(k.ops.begin(), k.ops.end(), "nn.conv2d") != k.ops.end() ||
                          std::find(k.ops.begin(), k.ops.end(), "nn.dense") != k.ops.end() ||
                          std::find(k.ops.begin(), k.ops.end(), "nn.conv2d_winograd") != k.ops.end();
    CHECK_MESSAGE(computes == (k.multiply_adds > 0), k.kernel);
  }
  CHECK(calls == steps);
  CHECK(multiply_adds > 0);
  CHECK(profile.kernels_ms > 0);
  CHECK(profile.run_ms >= profile.kernels_ms);
  const std::string text = reports::render_kernel_profile(profile, 100.0, 200.0, 1000);
  for (const reports::KernelTiming& k : profile.kernels) CHECK(text.find(k.kernel) != std::string::npos);
  CHECK(!profile.in_place);
  CHECK(text.find("in place") == std::string::npos);
  CHECK(text.find("x copy") == std::string::npos);

  // Beside the time a copy of each kernel's bytes takes: measured once per size.
  reports::KernelProfile streamed = profile;
  reports::StreamTimes streams(1);
  reports::add_stream_times(streamed, streams);
  for (const reports::KernelTiming& k : streamed.kernels) CHECK_MESSAGE((k.stream_ms > 0) == (k.bytes > 0), k.kernel);
  CHECK(reports::render_kernel_profile(streamed, 100.0, 200.0, 1000).find("x copy") != std::string::npos);
  const double small = reports::measure_stream_ms(4096, 1), large = reports::measure_stream_ms(64 << 20, 2);
  CHECK(small > 0);
  CHECK(large > small);

  const reports::KernelProfile placed = reports::profile_kernels(timer, 3, true);
  REQUIRE(placed.in_place);
  CHECK(placed.in_place_kernels_ms > 0);
  for (const reports::KernelTiming& k : placed.kernels) CHECK(k.in_place_ms > 0);
  const std::string placed_text = reports::render_kernel_profile(placed, 100.0, 200.0, 1000);
  CHECK(placed_text.find("in place  ratio") != std::string::npos);
  CHECK(placed_text.find("in a run they take") != std::string::npos);
}
