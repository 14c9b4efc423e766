#include "reports/peak.h"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "reports/together.h"
#define MODELC_PEAK_X86 1
#endif

namespace modelc::reports {
namespace {

// Each loop returns a value derived from every accumulator, so the compiler
// cannot drop any of them; a * acc + b with a just below 1 converges instead
// of overflowing or going subnormal.
constexpr float kScale = 0.999999f;
constexpr float kOffset = 1e-6f;

#ifdef MODELC_PEAK_X86

constexpr int kAvx512Accumulators = 16;  // 2 FMA units x 4 cycles latency, doubled
constexpr int kAvx2Accumulators = 12;    // 2 FMA units x 4-5 cycles latency, and some
constexpr int kSseAccumulators = 12;

__attribute__((target("avx512f"))) float fma_loop_avx512(int64_t iterations) {
  __m512 acc[kAvx512Accumulators];
  for (int i = 0; i < kAvx512Accumulators; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(kScale), b = _mm512_set1_ps(kOffset);
  for (int64_t n = 0; n < iterations; ++n) {
#pragma GCC unroll 16
    for (int i = 0; i < kAvx512Accumulators; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < kAvx512Accumulators; ++i) sum = _mm512_add_ps(sum, acc[i]);
  // Not _mm512_reduce_add_ps: GCC 12's header warns about it (an uninitialized __m256d inside).
  float lanes[16];
  _mm512_storeu_ps(lanes, sum);
  float total = 0;
  for (const float lane : lanes) total += lane;
  return total;
}

__attribute__((target("avx2,fma"))) float fma_loop_avx2(int64_t iterations) {
  __m256 acc[kAvx2Accumulators];
  for (int i = 0; i < kAvx2Accumulators; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(kScale), b = _mm256_set1_ps(kOffset);
  for (int64_t n = 0; n < iterations; ++n) {
#pragma GCC unroll 12
    for (int i = 0; i < kAvx2Accumulators; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  __m256 sum = acc[0];
  for (int i = 1; i < kAvx2Accumulators; ++i) sum = _mm256_add_ps(sum, acc[i]);
  float lanes[8];
  _mm256_storeu_ps(lanes, sum);
  float total = 0;
  for (const float lane : lanes) total += lane;
  return total;
}

float mul_add_loop_sse(int64_t iterations) {
  __m128 acc[kSseAccumulators];
  for (int i = 0; i < kSseAccumulators; ++i) acc[i] = _mm_set1_ps(static_cast<float>(i));
  const __m128 a = _mm_set1_ps(kScale), b = _mm_set1_ps(kOffset);
  for (int64_t n = 0; n < iterations; ++n) {
#pragma GCC unroll 12
    for (int i = 0; i < kSseAccumulators; ++i) acc[i] = _mm_add_ps(_mm_mul_ps(acc[i], a), b);
  }
  __m128 sum = acc[0];
  for (int i = 1; i < kSseAccumulators; ++i) sum = _mm_add_ps(sum, acc[i]);
  float lanes[4];
  _mm_storeu_ps(lanes, sum);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

// int8 dot products as the quantized kernels issue them (lower/ops/qnn_conv2d.cpp):
// vpdpbusd (4 uint8 x int8 products per 32-bit lane, added in place) with
// VNNI, a chain per accumulator as for the FMA; without it, pairs (below).
template <typename V>
float sum_int_lanes(const V& v) {
  int32_t lanes[sizeof(V) / 4];
  std::memcpy(lanes, &v, sizeof lanes);
  int64_t total = 0;
  for (const int32_t lane : lanes) total += lane;
  return static_cast<float>(total);
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) float dpbusd_loop_avx512(int64_t iterations) {
  __m512i acc[kAvx512Accumulators];
  for (int i = 0; i < kAvx512Accumulators; ++i) acc[i] = _mm512_set1_epi32(i);
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  for (int64_t n = 0; n < iterations; ++n) {
#pragma GCC unroll 16
    for (int i = 0; i < kAvx512Accumulators; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
  }
  __m512i sum = acc[0];
  for (int i = 1; i < kAvx512Accumulators; ++i) sum = _mm512_add_epi32(sum, acc[i]);
  return sum_int_lanes(sum);
}

// Without VNNI the kernels multiply int16 pairs (vpmaddwd, 2 products per
// 32-bit lane) or, with 7-bit weights, byte pairs (vpmaddubsw, 2 uint8 x
// int8 products per int16 lane, then vpmaddwd with ones), and add each
// product to an accumulator: no multiply waits on another. So do these
// loops: a tile of 2 weight vectors x 3 input vectors, which an empty asm
// statement says may change at each step (the compiler can neither hoist
// the products nor share one), 6 accumulators. Multiplying the accumulator
// itself (a chain of multiplies, as for the FMA) measured half of what the
// kernels reach on Zen 3: int16 pairs 80 GOP/s against 152 in this form,
// byte pairs 153-160 against 195, BERT's int8 dense layers 175.
constexpr int kPairTile = 6;   // accumulators: 2 weights x 3 inputs
constexpr int kPairSteps = 4;  // tiles per iteration (unrolled)

__attribute__((target("avx512f,avx512bw"))) float pmaddwd_loop_avx512(int64_t iterations) {
  __m512i acc[kPairTile], w0 = _mm512_set1_epi16(3), w1 = _mm512_set1_epi16(-5), x[3];
  for (int i = 0; i < kPairTile; ++i) acc[i] = _mm512_set1_epi32(i);
  for (int i = 0; i < 3; ++i) x[i] = _mm512_set1_epi16(static_cast<int16_t>(i + 1));
  for (int64_t n = 0; n < iterations; ++n) {
#pragma GCC unroll 4
    for (int u = 0; u < kPairSteps; ++u) {
      asm volatile("" : "+v"(w0), "+v"(w1), "+v"(x[0]), "+v"(x[1]), "+v"(x[2]));
      for (int i = 0; i < kPairTile; ++i) acc[i] = _mm512_add_epi32(acc[i], _mm512_madd_epi16(x[i / 2], i % 2 ? w1 : w0));
    }
  }
  __m512i sum = acc[0];
  for (int i = 1; i < kPairTile; ++i) sum = _mm512_add_epi32(sum, acc[i]);
  return sum_int_lanes(sum);
}

__attribute__((target("avx2"))) float pmaddwd_loop_avx2(int64_t iterations) {
  __m256i acc[kPairTile], w0 = _mm256_set1_epi16(3), w1 = _mm256_set1_epi16(-5), x[3];
  for (int i = 0; i < kPairTile; ++i) acc[i] = _mm256_set1_epi32(i);
  for (int i = 0; i < 3; ++i) x[i] = _mm256_set1_epi16(static_cast<int16_t>(i + 1));
  for (int64_t n = 0; n < iterations; ++n) {
#pragma GCC unroll 4
    for (int u = 0; u < kPairSteps; ++u) {
      asm volatile("" : "+x"(w0), "+x"(w1), "+x"(x[0]), "+x"(x[1]), "+x"(x[2]));
      for (int i = 0; i < kPairTile; ++i) acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(x[i / 2], i % 2 ? w1 : w0));
    }
  }
  __m256i sum = acc[0];
  for (int i = 1; i < kPairTile; ++i) sum = _mm256_add_epi32(sum, acc[i]);
  return sum_int_lanes(sum);
}

__attribute__((target("avx2"))) float pmaddubsw_loop_avx2(int64_t iterations) {
  __m256i acc[kPairTile], w0 = _mm256_set1_epi8(3), w1 = _mm256_set1_epi8(-5), x[3];
  const __m256i ones = _mm256_set1_epi16(1);
  for (int i = 0; i < kPairTile; ++i) acc[i] = _mm256_set1_epi32(i);
  for (int i = 0; i < 3; ++i) x[i] = _mm256_set1_epi8(static_cast<char>(i + 1));
  for (int64_t n = 0; n < iterations; ++n) {
#pragma GCC unroll 4
    for (int u = 0; u < kPairSteps; ++u) {
      asm volatile("" : "+x"(w0), "+x"(w1), "+x"(x[0]), "+x"(x[1]), "+x"(x[2]));
      for (int i = 0; i < kPairTile; ++i)
        acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(_mm256_maddubs_epi16(x[i / 2], i % 2 ? w1 : w0), ones));
    }
  }
  __m256i sum = acc[0];
  for (int i = 1; i < kPairTile; ++i) sum = _mm256_add_epi32(sum, acc[i]);
  return sum_int_lanes(sum);
}

__attribute__((target("avx512f,avx512bw"))) float pmaddubsw_loop_avx512(int64_t iterations) {
  __m512i acc[kPairTile], w0 = _mm512_set1_epi8(3), w1 = _mm512_set1_epi8(-5), x[3];
  const __m512i ones = _mm512_set1_epi16(1);
  for (int i = 0; i < kPairTile; ++i) acc[i] = _mm512_set1_epi32(i);
  for (int i = 0; i < 3; ++i) x[i] = _mm512_set1_epi8(static_cast<char>(i + 1));
  for (int64_t n = 0; n < iterations; ++n) {
#pragma GCC unroll 4
    for (int u = 0; u < kPairSteps; ++u) {
      asm volatile("" : "+v"(w0), "+v"(w1), "+v"(x[0]), "+v"(x[1]), "+v"(x[2]));
      for (int i = 0; i < kPairTile; ++i)
        acc[i] = _mm512_add_epi32(acc[i], _mm512_madd_epi16(_mm512_maddubs_epi16(x[i / 2], i % 2 ? w1 : w0), ones));
    }
  }
  __m512i sum = acc[0];
  for (int i = 1; i < kPairTile; ++i) sum = _mm512_add_epi32(sum, acc[i]);
  return sum_int_lanes(sum);
}

float pmaddwd_loop_sse(int64_t iterations) {
  __m128i acc[kPairTile], w0 = _mm_set1_epi16(3), w1 = _mm_set1_epi16(-5), x[3];
  for (int i = 0; i < kPairTile; ++i) acc[i] = _mm_set1_epi32(i);
  for (int i = 0; i < 3; ++i) x[i] = _mm_set1_epi16(static_cast<int16_t>(i + 1));
  for (int64_t n = 0; n < iterations; ++n) {
#pragma GCC unroll 4
    for (int u = 0; u < kPairSteps; ++u) {
      asm volatile("" : "+x"(w0), "+x"(w1), "+x"(x[0]), "+x"(x[1]), "+x"(x[2]));
      for (int i = 0; i < kPairTile; ++i) acc[i] = _mm_add_epi32(acc[i], _mm_madd_epi16(x[i / 2], i % 2 ? w1 : w0));
    }
  }
  __m128i sum = acc[0];
  for (int i = 1; i < kPairTile; ++i) sum = _mm_add_epi32(sum, acc[i]);
  return sum_int_lanes(sum);
}

#else

constexpr int kGenericAccumulators = 16;

float mul_add_loop_generic(int64_t iterations) {
  float acc[kGenericAccumulators];
  for (int i = 0; i < kGenericAccumulators; ++i) acc[i] = static_cast<float>(i);
  for (int64_t n = 0; n < iterations; ++n) {
    for (float& x : acc) x = x * kScale + kOffset;
  }
  float total = 0;
  for (const float x : acc) total += x;
  return total;
}

float int_mul_add_loop_generic(int64_t iterations) {
  int32_t acc[kGenericAccumulators];
  for (int i = 0; i < kGenericAccumulators; ++i) acc[i] = i;
  for (int64_t n = 0; n < iterations; ++n) {
    for (int32_t& x : acc) x = static_cast<int32_t>(static_cast<uint32_t>(x) * 3u + 1u);
  }
  int64_t total = 0;
  for (const int32_t x : acc) total += x;
  return static_cast<float>(total);
}

#endif  // MODELC_PEAK_X86

struct Loop {
  const char* isa;
  float (*run)(int64_t iterations);
  double flops_per_iteration;  // accumulators x products per instruction x 2 (multiply and add)
};

Loop best_loop() {
#ifdef MODELC_PEAK_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return {"avx512f", fma_loop_avx512, kAvx512Accumulators * 16 * 2.0};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return {"avx2+fma", fma_loop_avx2, kAvx2Accumulators * 8 * 2.0};
  return {"sse2", mul_add_loop_sse, kSseAccumulators * 4 * 2.0};
#else
  return {"generic", mul_add_loop_generic, kGenericAccumulators * 2.0};
#endif
}

Loop best_int8_loop(bool byte_pairs) {
#ifdef MODELC_PEAK_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw"))
    return {"avx512vnni vpdpbusd", dpbusd_loop_avx512, kAvx512Accumulators * 64 * 2.0};
  if (byte_pairs && __builtin_cpu_supports("avx512bw"))
    return {"avx512bw vpmaddubsw byte pairs", pmaddubsw_loop_avx512, kPairSteps * kPairTile * 64 * 2.0};
  if (byte_pairs && __builtin_cpu_supports("avx2"))
    return {"avx2 vpmaddubsw byte pairs", pmaddubsw_loop_avx2, kPairSteps * kPairTile * 32 * 2.0};
  if (__builtin_cpu_supports("avx512bw")) return {"avx512bw vpmaddwd", pmaddwd_loop_avx512, kPairSteps * kPairTile * 32 * 2.0};
  if (__builtin_cpu_supports("avx2")) return {"avx2 vpmaddwd", pmaddwd_loop_avx2, kPairSteps * kPairTile * 16 * 2.0};
  return {"sse2 pmaddwd", pmaddwd_loop_sse, kPairSteps * kPairTile * 8 * 2.0};
#else
  (void)byte_pairs;
  return {"generic", int_mul_add_loop_generic, kGenericAccumulators * 2.0};
#endif
}

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

std::atomic<float> g_sink{0};  // keeps every loop's result observable

// GFLOP/s of this thread over `iterations`, in its own CPU time.
double timed_gflops(const Loop& loop, int64_t iterations) {
  const double start = thread_cpu_seconds();
  const float result = loop.run(iterations);
  const double seconds = thread_cpu_seconds() - start;
  g_sink.store(result, std::memory_order_relaxed);
  return seconds > 0 ? static_cast<double>(iterations) * loop.flops_per_iteration / seconds * 1e-9 : 0;
}

// Iterations that take about `seconds` of CPU time on this core.
int64_t calibrate(const Loop& loop, double seconds) {
  int64_t iterations = 1 << 16;
  for (;;) {
    const double start = thread_cpu_seconds();
    g_sink.store(loop.run(iterations), std::memory_order_relaxed);
    const double took = thread_cpu_seconds() - start;
    if (took >= 0.005) return std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(iterations) * seconds / took));
    iterations *= 4;
  }
}

int available_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

// Many short runs, the best kept: work on the other hardware thread of the
// core (another tenant of the VM's host) takes issue slots from the integer
// loops. With 3 runs of 50 ms the int16 pairs' peak read 106-120 GOP/s as
// often as 150 on Zen 3 while another process ran (kernels then shown at
// "115 %" of it); with 8 runs of 25 ms, 151-152 every time. The FMA loop
// was not affected either way.
constexpr double kSecondsPerRepetition = 0.025;
constexpr int kRepetitions = 8;

// The best of kRepetitions runs of `loop` on `threads` threads at once:
// the sum of each thread's rate, in G(FL)OP/s.
double measure_loop(const Loop& loop, int threads) {
  const int64_t iterations = calibrate(loop, kSecondsPerRepetition);
  double best = 0;
  for (int repetition = 0; repetition < kRepetitions; ++repetition) {
    std::vector<double> rates(static_cast<size_t>(threads), 0.0);
    run_together(threads, [&](int t) { rates[static_cast<size_t>(t)] = timed_gflops(loop, iterations); });
    double total = 0;
    for (const double r : rates) total += r;
    best = std::max(best, total);
  }
  return best;
}

}  // namespace

Fp32Peak measure_fp32_peak_detail(int threads) {
  const Loop loop = best_loop();
  Fp32Peak peak;
  peak.isa = loop.isa;
  peak.threads = threads > 0 ? threads : available_threads();
  peak.gflops = measure_loop(loop, peak.threads);
  return peak;
}

Int8Peak measure_int8_peak_detail(int threads, bool byte_pairs) {
  const Loop loop = best_int8_loop(byte_pairs);
  Int8Peak peak;
  peak.instruction = loop.isa;
  peak.threads = threads > 0 ? threads : available_threads();
  peak.gops = measure_loop(loop, peak.threads);
  return peak;
}

double measure_fp32_peak(int threads) { return measure_fp32_peak_detail(threads).gflops; }

}  // namespace modelc::reports
