// runtime/modelc_amx.c, the tile kernel of bfloat16 matrix products, called
// as Halide calls an extern stage: bounds queries, then regions of rows and
// columns, against sums of the same bfloat16 values in double. With AMX on
// this CPU the tiles compute (partial row tiles, column tiles through the
// scratch); elsewhere its plain C form does, and the test checks that.
#include <HalideRuntime.h>
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

extern "C" int modelc_amx_matmul_bf16(halide_buffer_t* a, halide_buffer_t* w, int32_t kp, int32_t np, halide_buffer_t* out);

namespace {

uint16_t to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

float from_bf16(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

halide_buffer_t buffer(void* host, halide_type_code_t code, int bits, std::vector<halide_dimension_t>& dims) {
  halide_buffer_t b{};
  b.host = static_cast<uint8_t*>(host);
  b.type = {code, static_cast<uint8_t>(bits), 1};
  b.dimensions = static_cast<int32_t>(dims.size());
  b.dim = dims.data();
  return b;
}

// rows x K times K x N; the output region is rows [r_lo, r_lo + r_n) and
// columns [n_lo, n_lo + n_n); a holds exactly the rows the bounds query asks.
void check(int rows, int K, int N, int r_lo, int r_n, int n_lo, int n_n) {
  CAPTURE(rows);
  CAPTURE(K);
  CAPTURE(N);
  CAPTURE(r_lo);
  CAPTURE(n_lo);
  const int Kp = (K + 31) / 32 * 32, Np = (N + 15) / 16 * 16;
  std::mt19937 rng(static_cast<unsigned>(rows * 131 + K * 7 + N));
  std::uniform_real_distribution<float> d(-2.f, 2.f);
  std::vector<uint16_t> x(static_cast<size_t>(rows) * K), y(static_cast<size_t>(K) * N);
  for (uint16_t& v : x) v = to_bf16(d(rng));
  for (uint16_t& v : y) v = to_bf16(d(rng));
  std::vector<uint16_t> pairs(static_cast<size_t>(Kp) * Np, 0);
  for (int k = 0; k < K; ++k)
    for (int n = 0; n < N; ++n) pairs[static_cast<size_t>(k / 2) * Np * 2 + n * 2 + k % 2] = y[static_cast<size_t>(k) * N + n];

  std::vector<halide_dimension_t> ad(2), wd(3), od{{n_lo, n_n, 1, 0}, {r_lo, r_n, n_n, 0}};
  halide_buffer_t a = buffer(nullptr, halide_type_uint, 16, ad);
  halide_buffer_t w = buffer(nullptr, halide_type_uint, 16, wd);
  std::vector<float> out(static_cast<size_t>(r_n) * n_n, -1.f);
  halide_buffer_t o = buffer(out.data(), halide_type_float, 32, od);
  REQUIRE(modelc_amx_matmul_bf16(&a, &w, Kp, Np, &o) == 0);  // a bounds query
  CHECK(ad[0].min == 0);
  CHECK(ad[0].extent == Kp);
  CHECK(ad[1].min == r_lo);
  CHECK(ad[1].extent == r_n);
  CHECK(wd[0].extent == 2);
  CHECK(wd[1].extent == Np);
  CHECK(wd[2].extent == Kp / 2);

  std::vector<uint16_t> rows_a(static_cast<size_t>(r_n) * Kp, 0);
  for (int r = 0; r < r_n; ++r)
    for (int k = 0; k < K; ++k) rows_a[static_cast<size_t>(r) * Kp + k] = x[static_cast<size_t>(r_lo + r) * K + k];
  ad = {{0, Kp, 1, 0}, {r_lo, r_n, Kp, 0}};
  wd = {{0, 2, 1, 0}, {0, Np, 2, 0}, {0, Kp / 2, 2 * Np, 0}};
  a = buffer(rows_a.data(), halide_type_uint, 16, ad);
  w = buffer(pairs.data(), halide_type_uint, 16, wd);
  REQUIRE(modelc_amx_matmul_bf16(&a, &w, Kp, Np, &o) == 0);
  int wrong = 0;
  for (int r = 0; r < r_n; ++r)
    for (int n = 0; n < n_n; ++n) {
      double sum = 0, magnitude = 0;
      for (int k = 0; k < K; ++k) {
        const double p = static_cast<double>(from_bf16(x[static_cast<size_t>(r_lo + r) * K + k])) *
                         from_bf16(y[static_cast<size_t>(k) * N + n_lo + n]);
        sum += p;
        magnitude += std::fabs(p);
      }
      // float32 sums of exact products: within a few units of float32 of their magnitude.
      if (std::fabs(out[static_cast<size_t>(r) * n_n + n] - sum) > 1e-6 * magnitude + 1e-6) ++wrong;
    }
  CHECK(wrong == 0);
}

}  // namespace

TEST_CASE("the AMX tile kernel computes bfloat16 products over any region of rows and columns") {
  check(32, 64, 32, 0, 32, 0, 32);       // whole tiles
  check(128, 256, 96, 32, 64, 0, 96);    // a middle band of rows
  check(37, 100, 70, 0, 37, 0, 70);      // K, N and rows off tile multiples: zero padding, partial tiles
  check(37, 100, 70, 5, 20, 5, 50);      // a region that starts and ends inside tiles
  check(3, 8, 5, 0, 3, 0, 5);            // fewer rows, columns and k than one tile
  check(50, 33, 40, 17, 33, 16, 24);     // one column tile, rows starting mid-tile
}
