#include "reports/artifact_timer.h"

#include <algorithm>
#include <chrono>
#include <ctime>

#include "support/diagnostic.h"

namespace modelc::reports {

ArtifactTimer::ArtifactTimer(const std::filesystem::path& folder, int threads, std::vector<std::vector<std::byte>> inputs)
    : artifact_(LoadedArtifact::open(folder)), model_(artifact_.create(threads)), threads_(threads),
      inputs_(std::move(inputs)) {
  const auto infos = artifact_.inputs();
  if (inputs_.size() != infos.size()) {
    throw Error("the artifact in " + folder.string() + " takes " + std::to_string(infos.size()) + " inputs, given " +
                std::to_string(inputs_.size()));
  }
  for (size_t i = 0; i < infos.size(); ++i) in_.push_back({infos[i].name, inputs_[i].data(), inputs_[i].size()});
  for (const modelc_tensor_info& info : artifact_.outputs()) outputs_.emplace_back(info.bytes);
  for (size_t i = 0; i < outputs_.size(); ++i)
    out_.push_back({artifact_.outputs()[i].name, outputs_[i].data(), outputs_[i].size()});
  // One checked run: names and sizes are right before the unchecked ones.
  std::vector<InputTensor> checked_in;
  for (size_t i = 0; i < inputs_.size(); ++i) checked_in.push_back({infos[i].name, inputs_[i]});
  std::vector<OutputTensor> checked_out;
  for (size_t i = 0; i < outputs_.size(); ++i) checked_out.push_back({artifact_.outputs()[i].name, outputs_[i]});
  model_.run(checked_in, checked_out);
}

std::vector<double> ArtifactTimer::run_batch(int runs) {
  using Clock = std::chrono::steady_clock;
  std::vector<double> samples;
  samples.reserve(static_cast<size_t>(std::max(runs, 0)));
  for (int i = 0; i < runs; ++i) {
    const Clock::time_point before = Clock::now();
    const modelc_status status = model_.run_unchecked(in_, out_);
    const Clock::time_point after = Clock::now();
    if (status != MODELC_OK) {
      throw Error("the artifact in " + artifact_.folder().string() + " failed during the benchmark: " +
                  model_.last_error());
    }
    samples.push_back(std::chrono::duration<double, std::milli>(after - before).count());
  }
  return samples;
}

namespace {

// Milliseconds on the clock a profile uses: the calling thread's CPU time when
// the kernels run on that thread alone (other work on a shared machine then
// does not count), else the steady wall clock.
double now_ms(bool thread_cpu) {
  timespec t{};
  clock_gettime(thread_cpu ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
}

// What the observer of one run writes: when the current step started, and
// each step's duration.
struct StepClock {
  bool thread_cpu = false;
  double started = 0;
  std::vector<double> ms;
};

void observe_step(void* user, int32_t step, int32_t finished) {
  auto* clock = static_cast<StepClock*>(user);
  const double now = now_ms(clock->thread_cpu);
  if (!finished) {
    clock->started = now;
    return;
  }
  if (step >= 0 && static_cast<size_t>(step) < clock->ms.size()) clock->ms[static_cast<size_t>(step)] = now - clock->started;
}

}  // namespace

StepSamples ArtifactTimer::run_steps(int runs, bool in_place) {
  StepSamples samples;
  samples.thread_cpu_time = threads_ == 1;
  const auto steps = static_cast<size_t>(std::max(model_.api().num_steps, 0));
  for (int i = 0; i < runs; ++i) {
    StepClock clock{samples.thread_cpu_time, 0, std::vector<double>(steps, 0.0)};
    const double before = now_ms(clock.thread_cpu);
    if (model_.run_observed_unchecked(in_, out_, observe_step, &clock, in_place ? MODELC_OBSERVE_IN_PLACE : 0u) != MODELC_OK) {
      throw Error("the artifact in " + artifact_.folder().string() + " failed during the kernel profile: " +
                  model_.last_error());
    }
    samples.run_ms.push_back(now_ms(clock.thread_cpu) - before);
    samples.step_ms.push_back(std::move(clock.ms));
  }
  return samples;
}

}  // namespace modelc::reports
