// runtime/modelc_amx.c, the tile kernels of bfloat16 matrix products and
// uint8 x int8 convolutions, called as Halide calls an extern stage: bounds
// queries, then regions of the output, against sums of the same values in
// double (bfloat16) or exact integers (int8). With AMX on this CPU the tiles
// compute (partial tiles, scratch tiles); elsewhere their plain C form does,
// and the test checks that.
#include <HalideRuntime.h>
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

extern "C" int modelc_amx_matmul_bf16(halide_buffer_t* a, halide_buffer_t* w, int32_t kp, int32_t np, halide_buffer_t* out);
extern "C" int modelc_amx_conv_u8s8(halide_buffer_t* in, halide_buffer_t* w, int32_t blocks, int32_t channels, int32_t r_taps,
                                    int32_t s_taps, int32_t sw, int32_t sh, int32_t dw, int32_t dh, int32_t pl, int32_t pt,
                                    halide_buffer_t* out);
extern "C" int modelc_amx_conv_u8s8_row_taps(halide_buffer_t* in, halide_buffer_t* w, int32_t channels, int32_t r_taps,
                                             int32_t sw, int32_t sh, int32_t dh, int32_t pl, int32_t pt, halide_buffer_t* out);

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
// `spread` > 1 leaves gaps between output elements: the kernels then take
// their plain C form (the tiles store rows of contiguous elements), which is
// what runs on CPUs without AMX.
void check(int rows, int K, int N, int r_lo, int r_n, int n_lo, int n_n, int spread = 1) {
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

  std::vector<halide_dimension_t> ad(2), wd(3), od{{n_lo, n_n, spread, 0}, {r_lo, r_n, n_n * spread, 0}};
  halide_buffer_t a = buffer(nullptr, halide_type_uint, 16, ad);
  halide_buffer_t w = buffer(nullptr, halide_type_uint, 16, wd);
  std::vector<float> out(static_cast<size_t>(r_n) * n_n * spread, -1.f);
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
      if (std::fabs(out[(static_cast<size_t>(r) * n_n + n) * spread] - sum) > 1e-6 * magnitude + 1e-6) ++wrong;
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
  check(37, 100, 70, 5, 20, 5, 50, 2);   // the plain C form
}

namespace {

struct ConvCase {
  int C, K, H, W, R, S, stride, dilation, pad;
};

// One convolution over an output region [x_lo, +x_n) x [y_lo, +y_n) x [k_lo, +k_n).
// `channels_inner`: the output's channels contiguous (qnn.dense's rows), whole
// tiles stored in place.
void check_conv(const ConvCase& g, int x_lo, int x_n, int y_lo, int y_n, int k_lo, int k_n, int spread = 1,
                bool channels_inner = false) {
  CAPTURE(g.C);
  CAPTURE(g.K);
  CAPTURE(g.H);
  CAPTURE(g.R);
  CAPTURE(g.stride);
  CAPTURE(g.dilation);
  CAPTURE(x_lo);
  CAPTURE(y_lo);
  CAPTURE(k_lo);
  const int blocks = g.C / 64;
  std::mt19937 rng(static_cast<unsigned>(g.C * 7 + g.K * 3 + g.H + g.R * 11 + g.stride));
  std::uniform_int_distribution<int> byte(0, 255);
  // The image [C, H, W] and weights [K, C, R, S].
  std::vector<uint8_t> image(static_cast<size_t>(g.C) * g.H * g.W);
  std::vector<int8_t> weight(static_cast<size_t>(g.K) * g.C * g.R * g.S);
  for (uint8_t& v : image) v = static_cast<uint8_t>(byte(rng));
  for (int8_t& v : weight) v = static_cast<int8_t>(byte(rng) - 128);
  auto image_at = [&](int c, int y, int x) -> int {
    return x < 0 || x >= g.W || y < 0 || y >= g.H ? 7 : image[(static_cast<size_t>(c) * g.H + y) * g.W + x];  // pad: 7
  };
  // The weights in quads [C/4, R, S, K, 4].
  std::vector<int8_t> quads(weight.size());
  for (int k = 0; k < g.K; ++k)
    for (int c = 0; c < g.C; ++c)
      for (int r = 0; r < g.R; ++r)
        for (int s = 0; s < g.S; ++s)
          quads[((((static_cast<size_t>(c / 4) * g.R + r) * g.S + s) * g.K + k) * 4) + c % 4] =
              weight[((static_cast<size_t>(k) * g.C + c) * g.R + r) * g.S + s];

  std::vector<halide_dimension_t> id(5), wd(5);
  std::vector<halide_dimension_t> od{
      {x_lo, x_n, spread, 0}, {y_lo, y_n, x_n * spread, 0}, {k_lo, k_n, x_n * y_n * spread, 0}, {0, 1, x_n * y_n * k_n * spread, 0}};
  if (channels_inner) od = {{x_lo, x_n, k_n, 0}, {y_lo, y_n, x_n * k_n, 0}, {k_lo, k_n, 1, 0}, {0, 1, x_n * y_n * k_n, 0}};
  auto at = [&](int x, int y, int k) {
    return channels_inner ? (static_cast<size_t>(y) * x_n + x) * k_n + k : ((static_cast<size_t>(k) * y_n + y) * x_n + x) * spread;
  };
  std::vector<int32_t> out(static_cast<size_t>(x_n) * y_n * k_n * spread, -1);
  halide_buffer_t in = buffer(nullptr, halide_type_uint, 8, id);
  halide_buffer_t w = buffer(nullptr, halide_type_int, 8, wd);
  halide_buffer_t o = buffer(out.data(), halide_type_int, 32, od);
  auto call = [&] {
    return modelc_amx_conv_u8s8(&in, &w, blocks, g.K, g.R, g.S, g.stride, g.stride, g.dilation, g.dilation, g.pad, g.pad, &o);
  };
  REQUIRE(call() == 0);  // a bounds query
  CHECK(id[0].extent == 64);
  CHECK(id[1].min == x_lo * g.stride - g.pad);
  CHECK(id[1].extent == (x_n - 1) * g.stride + (g.S - 1) * g.dilation + 1);
  CHECK(id[2].min == y_lo * g.stride - g.pad);
  CHECK(id[2].extent == (y_n - 1) * g.stride + (g.R - 1) * g.dilation + 1);
  CHECK(id[3].extent == blocks);
  CHECK(wd[1].extent == g.K);
  CHECK(wd[4].extent == g.C / 4);

  // The blocked input over exactly the region asked, padding included.
  const int bx = id[1].min, bw = id[1].extent, by = id[2].min, bh = id[2].extent;
  std::vector<uint8_t> blocked(static_cast<size_t>(64) * bw * bh * blocks);
  for (int cb = 0; cb < blocks; ++cb)
    for (int y = 0; y < bh; ++y)
      for (int x = 0; x < bw; ++x)
        for (int c = 0; c < 64; ++c)
          blocked[((static_cast<size_t>(cb) * bh + y) * bw + x) * 64 + c] = static_cast<uint8_t>(image_at(cb * 64 + c, by + y, bx + x));
  id = {{0, 64, 1, 0}, {bx, bw, 64, 0}, {by, bh, 64 * bw, 0}, {0, blocks, 64 * bw * bh, 0}, {0, 1, 64 * bw * bh * blocks, 0}};
  wd = {{0, 4, 1, 0}, {0, g.K, 4, 0}, {0, g.S, 4 * g.K, 0}, {0, g.R, 4 * g.K * g.S, 0}, {0, g.C / 4, 4 * g.K * g.S * g.R, 0}};
  in = buffer(blocked.data(), halide_type_uint, 8, id);
  w = buffer(quads.data(), halide_type_int, 8, wd);
  REQUIRE(call() == 0);
  int wrong = 0;
  for (int k = 0; k < k_n; ++k)
    for (int y = 0; y < y_n; ++y)
      for (int x = 0; x < x_n; ++x) {
        int32_t sum = 0;
        for (int c = 0; c < g.C; ++c)
          for (int r = 0; r < g.R; ++r)
            for (int s = 0; s < g.S; ++s)
              sum += image_at(c, (y_lo + y) * g.stride + r * g.dilation - g.pad, (x_lo + x) * g.stride + s * g.dilation - g.pad) *
                     weight[((static_cast<size_t>(k_lo + k) * g.C + c) * g.R + r) * g.S + s];
        wrong += out[at(x, y, k)] != sum;
      }
  CHECK(wrong == 0);
}

}  // namespace

TEST_CASE("the AMX tile kernel computes uint8 x int8 convolutions exactly over any region") {
  const ConvCase three{64, 32, 9, 9, 3, 3, 1, 1, 1};
  check_conv(three, 0, 9, 0, 9, 0, 32);   // the whole output: a partial pixel tile, an odd row
  check_conv(three, 2, 5, 3, 4, 16, 16);  // a region inside, one channel tile
  check_conv(ConvCase{128, 48, 20, 21, 3, 3, 2, 1, 1}, 0, 10, 0, 10, 0, 48);  // stride 2, three channel tiles
  check_conv(ConvCase{64, 16, 12, 12, 3, 3, 1, 2, 2}, 1, 11, 0, 12, 0, 16);   // dilation 2
  check_conv(ConvCase{192, 64, 7, 7, 1, 1, 1, 1, 0}, 0, 7, 0, 7, 8, 40);     // 1x1, channels off the tiles
  check_conv(ConvCase{64, 32, 40, 40, 1, 1, 2, 1, 0}, 0, 20, 5, 9, 0, 32);   // 1x1 stride 2, 20 pixels a row
  check_conv(ConvCase{128, 48, 20, 21, 3, 3, 2, 1, 1}, 1, 8, 2, 7, 8, 32, 2);  // the plain C form
  check_conv(ConvCase{128, 48, 1, 37, 1, 1, 1, 1, 0}, 0, 37, 0, 1, 0, 48, 1, true);  // rows of a product: tiles in place
  check_conv(ConvCase{64, 64, 1, 20, 1, 1, 1, 1, 0}, 3, 17, 0, 1, 8, 40, 1, true);   // partial channel tiles
}

namespace {

// An input of C <= 4 channels (one quad per pixel) and a kernel row's taps in
// place of channels (the stem's form), over an output region, against exact
// sums; `spread` > 1 takes the plain C form.
void check_row_taps(int C, int K, int H, int W, int R, int S, int stride, int pad, int x_lo, int x_n, int y_lo, int y_n,
                    int k_lo, int k_n, int spread = 1) {
  CAPTURE(C);
  CAPTURE(S);
  CAPTURE(stride);
  CAPTURE(x_lo);
  CAPTURE(y_lo);
  CAPTURE(spread);
  std::mt19937 rng(static_cast<unsigned>(C * 5 + K + H * 3 + S));
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<uint8_t> image(static_cast<size_t>(C) * H * W);
  std::vector<int8_t> weight(static_cast<size_t>(K) * C * R * S);
  for (uint8_t& v : image) v = static_cast<uint8_t>(byte(rng));
  for (int8_t& v : weight) v = static_cast<int8_t>(byte(rng) - 128);
  auto image_at = [&](int c, int y, int x) -> int {
    return x < 0 || x >= W || y < 0 || y >= H ? 9 : image[(static_cast<size_t>(c) * H + y) * W + x];  // pad: 9
  };
  const int Kp = (K + 15) / 16 * 16;
  // Weights [16 taps, R, 1, Kp, 4]: tap s of row r, channel c, zero past S, C and K.
  std::vector<int8_t> taps(static_cast<size_t>(16) * R * Kp * 4, 0);
  for (int t = 0; t < S; ++t)
    for (int r = 0; r < R; ++r)
      for (int k = 0; k < K; ++k)
        for (int c = 0; c < C; ++c)
          taps[((static_cast<size_t>(t) * R + r) * Kp + k) * 4 + c] = weight[((static_cast<size_t>(k) * C + c) * R + r) * S + t];
  std::vector<halide_dimension_t> id(4), wd(5);
  std::vector<halide_dimension_t> od{
      {x_lo, x_n, spread, 0}, {y_lo, y_n, x_n * spread, 0}, {k_lo, k_n, x_n * y_n * spread, 0}, {0, 1, x_n * y_n * k_n * spread, 0}};
  std::vector<int32_t> out(static_cast<size_t>(x_n) * y_n * k_n * spread, -1);
  halide_buffer_t in = buffer(nullptr, halide_type_uint, 8, id);
  halide_buffer_t w = buffer(nullptr, halide_type_int, 8, wd);
  halide_buffer_t o = buffer(out.data(), halide_type_int, 32, od);
  auto call = [&] { return modelc_amx_conv_u8s8_row_taps(&in, &w, Kp, R, stride, stride, 1, pad, pad, &o); };
  REQUIRE(call() == 0);  // a bounds query
  CHECK(id[0].extent == 4);
  CHECK(id[1].min == x_lo * stride - pad);
  CHECK(id[1].extent == (x_n - 1) * stride + 16);
  CHECK(id[2].min == y_lo * stride - pad);
  CHECK(id[2].extent == (y_n - 1) * stride + R);
  CHECK(wd[1].extent == Kp);
  CHECK(wd[4].extent == 16);
  const int bx = id[1].min, bw = id[1].extent, by = id[2].min, bh = id[2].extent;
  std::vector<uint8_t> pixels(static_cast<size_t>(4) * bw * bh);
  for (int y = 0; y < bh; ++y)
    for (int x = 0; x < bw; ++x)
      for (int c = 0; c < 4; ++c)
        pixels[(static_cast<size_t>(y) * bw + x) * 4 + c] = static_cast<uint8_t>(c < C ? image_at(c, by + y, bx + x) : 9);
  id = {{0, 4, 1, 0}, {bx, bw, 4, 0}, {by, bh, 4 * bw, 0}, {0, 1, 4 * bw * bh, 0}};
  wd = {{0, 4, 1, 0}, {0, Kp, 4, 0}, {0, 1, 4 * Kp, 0}, {0, R, 4 * Kp, 0}, {0, 16, 4 * Kp * R, 0}};
  in = buffer(pixels.data(), halide_type_uint, 8, id);
  w = buffer(taps.data(), halide_type_int, 8, wd);
  REQUIRE(call() == 0);
  int wrong = 0;
  for (int k = 0; k < k_n; ++k)
    for (int y = 0; y < y_n; ++y)
      for (int x = 0; x < x_n; ++x) {
        int32_t sum = 0;
        for (int c = 0; c < C; ++c)
          for (int r = 0; r < R; ++r)
            for (int t = 0; t < S; ++t)
              sum += image_at(c, (y_lo + y) * stride + r - pad, (x_lo + x) * stride + t - pad) *
                     weight[((static_cast<size_t>(k_lo + k) * C + c) * R + r) * S + t];
        wrong += out[((static_cast<size_t>(k) * y_n + y) * x_n + x) * spread] != sum;
      }
  CHECK(wrong == 0);
}

}  // namespace

TEST_CASE("the AMX tile kernel computes a stem's convolution (few channels, a row's taps as the reduction) exactly") {
  check_row_taps(3, 64, 20, 40, 7, 7, 2, 3, 0, 20, 0, 10, 0, 64);   // ResNet's stem: 7x7 stride 2, whole output
  check_row_taps(3, 20, 20, 40, 7, 7, 2, 3, 3, 13, 2, 5, 4, 16);    // a region inside, channels off the tiles
  check_row_taps(4, 32, 9, 21, 3, 3, 1, 1, 0, 21, 0, 9, 0, 32);     // 4 channels, 3x3 stride 1
  check_row_taps(1, 16, 8, 30, 5, 5, 1, 2, 0, 30, 0, 8, 0, 16);     // one channel, 5x5
  check_row_taps(3, 32, 20, 40, 7, 7, 2, 3, 1, 12, 0, 6, 0, 32, 2);  // the plain C form
}
