#include "reports/rounds.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "support/diagnostic.h"

namespace modelc::reports {
namespace {

double median_of(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return percentile_of_sorted(samples, 50);
}

}  // namespace

std::function<std::vector<double>(int)> timed_in_process(std::function<void()> run_once) {
  return [run_once = std::move(run_once)](int runs) {
    using Clock = std::chrono::steady_clock;
    std::vector<double> samples;
    samples.reserve(static_cast<size_t>(std::max(runs, 0)));
    for (int i = 0; i < runs; ++i) {
      const Clock::time_point before = Clock::now();
      run_once();
      const Clock::time_point after = Clock::now();
      samples.push_back(std::chrono::duration<double, std::milli>(after - before).count());
    }
    return samples;
  };
}

int runs_per_round(double run_ms, const spec::BenchmarkSpec& spec, int max_runs_per_round) {
  const int rounds = std::max(spec.rounds, 1);
  const double for_repeats = std::ceil(static_cast<double>(std::max(spec.repeats, 1)) / rounds);
  const double for_time = run_ms > 0 ? std::ceil(std::max(spec.min_seconds, 0.0) * 1000.0 / rounds / run_ms) : 1.0;
  const double cap = std::min<double>(max_runs_per_round, std::max(1, kMaxTimedRuns / rounds));
  return static_cast<int>(std::clamp(std::max(for_repeats, for_time), 1.0, std::max(cap, 1.0)));
}

std::vector<RoundsMeasurement> measure_in_rounds(const std::vector<TimedImplementation>& implementations,
                                                 const spec::BenchmarkSpec& spec,
                                                 const std::function<void(const RoundsProgress&)>& progress) {
  const int count = static_cast<int>(implementations.size());
  const int rounds = std::max(spec.rounds, 1);
  std::vector<RoundsMeasurement> out(implementations.size());

  for (int i = 0; i < count; ++i) {
    RoundsMeasurement& m = out[static_cast<size_t>(i)];
    const TimedImplementation& impl = implementations[static_cast<size_t>(i)];
    // At least one untimed run: the batch size needs a time per run.
    m.warmup = std::clamp(spec.warmup, 1, std::max(impl.max_warmup, 1));
    try {
      const std::vector<double> warm = impl.run_batch(m.warmup);
      if (warm.empty()) throw Error(impl.label + " returned no timing for its warm-up runs");
      m.runs_per_round = runs_per_round(median_of(warm), spec, impl.max_runs_per_round);
    } catch (const Error& e) {
      m.error = e.diagnostics().empty() ? std::string(e.what()) : e.diagnostics().front().message;
    }
    if (progress) progress({RoundsProgress::Phase::warmup, i + 1, count});
  }

  for (int r = 0; r < rounds; ++r) {
    for (int k = 0; k < count; ++k) {
      const auto i = static_cast<size_t>((r + k) % count);
      RoundsMeasurement& m = out[i];
      if (!m.error.empty()) continue;
      try {
        std::vector<double> batch = implementations[i].run_batch(m.runs_per_round);
        if (batch.size() != static_cast<size_t>(m.runs_per_round)) {
          throw Error(implementations[i].label + " returned " + std::to_string(batch.size()) + " timings for " +
                      std::to_string(m.runs_per_round) + " runs");
        }
        m.samples_ms.push_back(std::move(batch));
      } catch (const Error& e) {
        m.error = e.diagnostics().empty() ? std::string(e.what()) : e.diagnostics().front().message;
        m.samples_ms.clear();
      }
    }
    if (progress) progress({RoundsProgress::Phase::round, r + 1, rounds});
  }
  return out;
}

}  // namespace modelc::reports
