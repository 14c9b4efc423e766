#include "reports/artifact_timer.h"

#include <algorithm>
#include <chrono>

#include "support/diagnostic.h"

namespace modelc::reports {

ArtifactTimer::ArtifactTimer(const std::filesystem::path& folder, int threads, std::vector<std::vector<std::byte>> inputs)
    : artifact_(LoadedArtifact::open(folder)), model_(artifact_.create(threads)), inputs_(std::move(inputs)) {
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

}  // namespace modelc::reports
