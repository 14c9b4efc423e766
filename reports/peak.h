// This core's fp32 peak, measured: the figure a kernel's GFLOP/s is a
// fraction of. A data-sheet peak assumes a clock the core may not hold under
// an FMA load and vector units a virtual machine may not expose; a loop of
// independent fused multiply-adds, run here and now, says what the core gives.
//
// The loop keeps more independent accumulators than FMA units x FMA latency
// (12 x 256-bit for AVX2, 16 x 512-bit for AVX-512), so it is limited by
// throughput, not by the dependency chain; the widest instruction set the CPU
// reports (__builtin_cpu_supports) is chosen at run time: AVX-512F, AVX2 with
// FMA, else SSE2 multiply + add. Time is the thread's CPU time, so a core
// shared with other work (a build on the same machine) is not counted as slow.
#pragma once

#include <string>

namespace modelc::reports {

struct Fp32Peak {
  std::string isa;        // "avx512f", "avx2+fma" or "sse2"
  int threads = 0;        // threads that ran the loop at once
  double gflops = 0;      // all threads together: the sum of each thread's rate
};

// Runs the loop on `threads` threads at once (<= 0: every available core),
// the best of a few repetitions of about 50 ms each.
Fp32Peak measure_fp32_peak_detail(int threads);

// GFLOP/s of `threads` threads together (see above).
double measure_fp32_peak(int threads);

// The same for 8-bit integer dot products, with the instruction the
// quantized kernels use on this CPU: vpdpbusd with AVX-512 VNNI, else
// vpmaddwd (int16 pairs) plus a 32-bit add, or with `byte_pairs` (weights of
// 7 bits) vpmaddubsw, vpmaddwd with ones and a 32-bit add. GOP/s counts a
// multiply and an add per product, as GFLOP/s does, so the peaks compare
// directly.
struct Int8Peak {
  std::string instruction;  // "avx512vnni vpdpbusd", "avx2 vpmaddwd", ...
  int threads = 0;
  double gops = 0;
};
Int8Peak measure_int8_peak_detail(int threads, bool byte_pairs = false);

}  // namespace modelc::reports
