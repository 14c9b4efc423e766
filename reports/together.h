// Running one measurement on several threads at once, as a parallel kernel's
// workers run: reports/peak.h (FMA loops) and reports/stream.h (copies).
#pragma once

#include <atomic>
#include <thread>
#include <vector>

namespace modelc::reports {

// Calls body(t) for t = 0..threads-1, each on a thread of its own; the
// threads start together (each waits until all have started), so they share
// the machine as a parallel kernel's threads do. Returns when all are done.
template <typename Body>
void run_together(int threads, Body body) {
  std::atomic<int> ready{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < threads) std::this_thread::yield();
      body(t);
    });
  }
  for (std::thread& w : workers) w.join();
}

}  // namespace modelc::reports
