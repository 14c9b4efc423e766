#include "reports/core_transfer.h"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include <pthread.h>
#include <sched.h>

#include "reports/machine.h"
#include "reports/statistics.h"

namespace modelc::reports {
namespace {

constexpr int kRepetitions = 41;

double now_seconds() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// One word of every 64-byte line of the buffer, summed (so the reads cannot
// be dropped); the loads' addresses do not depend on each other, so the
// lines are fetched as fast as the memory system moves them.
uint64_t read_all(const std::vector<uint64_t>& buffer) {
  constexpr size_t kWordsPerLine = 64 / sizeof(uint64_t);
  uint64_t sum = 0;
  for (size_t i = 0; i < buffer.size(); i += kWordsPerLine) sum += *static_cast<const volatile uint64_t*>(&buffer[i]);
  return sum;
}

void write_all(std::vector<uint64_t>& buffer, uint64_t value) { std::fill(buffer.begin(), buffer.end(), value); }

// Pins the calling thread to `cpu` (best effort); restores its mask when destroyed.
class Pin {
 public:
  explicit Pin(int cpu) {
    CPU_ZERO(&saved_);
    if (pthread_getaffinity_np(pthread_self(), sizeof saved_, &saved_) != 0) return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pinned_ = pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0;
  }
  ~Pin() {
    if (pinned_) pthread_setaffinity_np(pthread_self(), sizeof saved_, &saved_);
  }
  Pin(const Pin&) = delete;
  Pin& operator=(const Pin&) = delete;

 private:
  cpu_set_t saved_{};
  bool pinned_ = false;
};

}  // namespace

std::optional<CoreTransferFigures> measure_core_transfer(size_t bytes) {
  const std::vector<int> cpus = allowed_cpus();
  if (cpus.size() < 2) return std::nullopt;
  const int reader_cpu = cpus[0], writer_cpu = cpus[1];

  std::vector<uint64_t> buffer(std::max<size_t>(bytes / sizeof(uint64_t), 8));
  const double size = static_cast<double>(buffer.size() * sizeof(uint64_t));
  // 0: idle, 1: the writer's turn, 2: written, 3: stop.
  std::atomic<int> turn{0};
  std::atomic<uint64_t> sink{0};
  std::thread writer([&] {
    Pin pin(writer_cpu);
    for (uint64_t round = 1;; ++round) {
      int t;
      while ((t = turn.load(std::memory_order_acquire)) != 1 && t != 3) std::this_thread::yield();
      if (t == 3) return;
      write_all(buffer, round);
      turn.store(2, std::memory_order_release);
    }
  });
  std::vector<double> other, own;
  {
    Pin pin(reader_cpu);
    for (int r = 0; r < kRepetitions; ++r) {
      turn.store(1, std::memory_order_release);
      while (turn.load(std::memory_order_acquire) != 2) std::this_thread::yield();
      double start = now_seconds();
      uint64_t sum = read_all(buffer);
      other.push_back(size / (now_seconds() - start) * 1e-9);
      write_all(buffer, static_cast<uint64_t>(r));
      start = now_seconds();
      sum += read_all(buffer);
      own.push_back(size / (now_seconds() - start) * 1e-9);
      sink.fetch_add(sum, std::memory_order_relaxed);
    }
  }
  turn.store(3, std::memory_order_release);
  writer.join();
  std::sort(other.begin(), other.end());
  std::sort(own.begin(), own.end());
  return CoreTransferFigures{static_cast<int64_t>(size), percentile_of_sorted(own, 50), percentile_of_sorted(other, 50)};
}

}  // namespace modelc::reports
