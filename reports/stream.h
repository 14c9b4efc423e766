// How long this core (or several) takes to stream a number of bytes: the
// yardstick of a memory-bound kernel, as the FMA loop's peak (reports/peak.h)
// is a compute-bound one's. A depthwise convolution, a pooling or an
// elementwise kernel has few multiply-adds per byte; what it can at best do is
// read its operands and write its results once, at the rate a copy of as many
// bytes runs here, from the cache level where bytes of that size live.
//
// The copy reads `bytes` / 2 and writes `bytes` / 2 (memcpy, the C library's
// best), over buffers it just wrote, as a kernel reads what the kernel before
// it wrote; the best of repetitions over a few milliseconds, in wall time.
// On several threads each copies its share at once, as a parallel kernel's
// threads do.
#pragma once

#include <cstdint>
#include <map>

namespace modelc::reports {

// Milliseconds to stream `bytes` (read half, write half) on `threads` threads.
double measure_stream_ms(uint64_t bytes, int threads);

// The same, measured once per size and kept: a profile asks for the sizes of
// its kernels, several of which are alike.
class StreamTimes {
 public:
  explicit StreamTimes(int threads) : threads_(threads) {}
  double ms(uint64_t bytes);

 private:
  int threads_;
  std::map<uint64_t, double> measured_;
};

}  // namespace modelc::reports
