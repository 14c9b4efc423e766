#include "reports/stream.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <vector>

#include "reports/together.h"

namespace modelc::reports {
namespace {

constexpr double kSecondsPerRound = 0.002;
constexpr int kRounds = 5;
constexpr size_t kLine = 64;

std::atomic<unsigned char> g_sink{0};  // keeps the copies observable

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Seconds per copy of [from, from + n) to `to`, over `copies` copies.
double time_copies(const std::byte* from, std::byte* to, size_t n, int copies) {
  const double start = now_seconds();
  for (int c = 0; c < copies; ++c) {
    std::memcpy(to, from, n);
    // The next copy must not be merged with this one.
    std::atomic_signal_fence(std::memory_order_seq_cst);
  }
  const double took = now_seconds() - start;
  g_sink.store(static_cast<unsigned char>(to[n - 1]), std::memory_order_relaxed);
  return took / copies;
}

}  // namespace

double measure_stream_ms(uint64_t bytes, int threads) {
  threads = std::max(threads, 1);
  // Each thread's share a whole number of cache lines, so no two share one.
  const size_t share = std::max<size_t>((bytes / 2 / static_cast<uint64_t>(threads) + kLine - 1) / kLine * kLine, kLine);
  const size_t half = share * static_cast<size_t>(threads);
  std::vector<std::byte> from(half), to(half);
  for (size_t i = 0; i < half; ++i) from[i] = static_cast<std::byte>(i * 131 + 7);

  // Copies per round for about kSecondsPerRound, from one warmed-up copy.
  time_copies(from.data(), to.data(), share, 1);
  const double once = std::max(time_copies(from.data(), to.data(), share, 1), 1e-8);
  const int copies = static_cast<int>(std::clamp(kSecondsPerRound / once, 1.0, 100000.0));

  double best = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<double> per_thread(static_cast<size_t>(threads), 0.0);
    run_together(threads, [&](int t) {
      const size_t offset = share * static_cast<size_t>(t);
      per_thread[static_cast<size_t>(t)] = time_copies(from.data() + offset, to.data() + offset, share, copies);
    });
    const double seconds = *std::max_element(per_thread.begin(), per_thread.end());
    best = round == 0 ? seconds : std::min(best, seconds);
  }
  return best * 1e3;
}

double StreamTimes::ms(uint64_t bytes) {
  auto found = measured_.find(bytes);
  if (found != measured_.end()) return found->second;
  return measured_[bytes] = measure_stream_ms(bytes, threads_);
}

}  // namespace modelc::reports
