/* The AMX tile kernels: extern stages that kernels call on x86-64 targets
 * compiled for a host with AMX (lower::KernelTarget::amx). Linked into every
 * x86-64 Linux artifact beside the executor; needs no C library (the one
 * system call is made here). Where the CPU or the kernel does not allow AMX
 * (an artifact moved to another machine), the same sums run as plain C.
 *
 * modelc_amx_matmul_bf16: bfloat16 matrix products (nn.batch_matmul with a
 * bfloat16 weight; lower/ops/nn.cpp, lower_batch_matmul_amx):
 *
 *   out[r, n] = sum over k of a[r, k] * w[k, n], in float32
 *
 * a: bfloat16 [rows, Kp] (Halide dims k, r), k contiguous, Kp a multiple of
 *    32 (zero columns past the model's K);
 * w: bfloat16 pairs [Kp/2, Np, 2] (dims p, n, kp), dense, Np a multiple of
 *    16 (zero columns past N): what AMX's B operand reads, 16 k-pairs x 16
 *    columns per 1 KiB tile;
 * out: float32 [rows, N] (dims n, r), the region Halide asks for.
 *
 * Each 32 x 32 block of the output is four accumulator tiles (tmm0-3); per 32
 * values of k, two tiles of a's rows (tmm4-5) and two of w's columns (tmm6-7)
 * are loaded and multiplied four times (tdpbf16ps: 16 x 16 x 32
 * multiply-adds). Rows past a multiple of 16 take tiles of fewer rows;
 * columns past the region are stored through a scratch tile.
 *
 * Products of bfloat16 values are exact in float32 either way; the sums are
 * float32 in another order than the reference interpreter's.
 *
 * modelc_amx_conv_u8s8: a qnn.conv2d's uint8 x int8 sums (lower/ops/
 * qnn_conv2d_amx.cpp, lower_quads_amx), exact int32:
 *
 *   out[n, k, y, x] = sum over c, r, s of in[n, c, y*sh + r*dh - pt, x*sw + s*dw - pl] * w[k, c, r, s]
 *
 * in: uint8 in `blocks` blocks of 64 channels, each pixel's 64 contiguous
 *     (Halide dims c64, x, y, cb, n; the padding already filled in);
 * w: int8 in quads [C/4, R, S, K, 4] (lang::kQnnQuadWeightLayout), K = `channels`
 *    a multiple of 16; or [C/4, K, 4] when R = S = 1 (lang::kQnnDenseQuadLayout);
 * out: int32 (dims x, y, k, n), the region Halide asks for: NCHW (x
 *      contiguous), or channels contiguous (qnn.dense computed as a 1x1
 *      convolution over "pixels" that are its rows).
 *
 * A tile of 16 output pixels of one row (rows: pixels; 64 bytes: 64 input
 * channels) times a tile of 16 quads x 16 output channels, per tap and block
 * of 64 channels (tdpbusd); two output rows x 32 channels per step. The
 * accumulators (pixels x channels) are turned to NCHW as they are stored.
 *
 * modelc_amx_conv_u8s8_row_taps: the same sums for an input of at most 4
 * channels (a CNN's stem: 3 colour channels, 7x7 taps): in is one quad per
 * pixel (Halide dims g, x, y, n), and the taps of a kernel row take the place
 * of the channels: 64 bytes from input column x are the quads of columns x ..
 * x + 15, which meet 16 quads of weights, tap s = 0 .. 15 of the row (zero
 * past the kernel's width): w is [16, R, 1, K, 4] (dims g, k, s, r, q, q the
 * tap). So each A tile row is read 64 bytes at the pixel's first column,
 * rows a stride apart, and a 7-tap row fills 7 of the 16 quads, where a
 * 4-channel pixel filled one. */
#include <HalideRuntime.h>

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <immintrin.h>
#define MC_AMX_POSSIBLE 1
#else
#define MC_AMX_POSSIBLE 0
#endif

int modelc_amx_matmul_bf16(halide_buffer_t* a, halide_buffer_t* w, int32_t kp, int32_t np, halide_buffer_t* out);
int modelc_amx_conv_u8s8(halide_buffer_t* in, halide_buffer_t* w, int32_t blocks, int32_t channels, int32_t r_taps,
                         int32_t s_taps, int32_t sw, int32_t sh, int32_t dw, int32_t dh, int32_t pl, int32_t pt,
                         halide_buffer_t* out);
int modelc_amx_conv_u8s8_row_taps(halide_buffer_t* in, halide_buffer_t* w, int32_t channels, int32_t r_taps,
                                  int32_t sw, int32_t sh, int32_t dh, int32_t pl, int32_t pt, halide_buffer_t* out);

static float mc_bf16(uint16_t bits) {
  union {
    uint32_t u;
    float f;
  } v;
  v.u = (uint32_t)bits << 16;
  return v.f;
}

#if MC_AMX_POSSIBLE

/* 0: not checked yet; else AMX usable with bit 1 (tiles and bf16) and bit 2
 * (int8); -1: not at all. */
static volatile int mc_amx_state = 0;

static long mc_arch_prctl(long code, long arg) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(158L), "D"(code), "S"(arg) : "rcx", "r11", "memory");
  return ret;
}

/* AMX-TILE and AMX-BF16 in CPUID, and the kernel's permission to use the
 * tile data state (Linux asks each process to request it: ARCH_REQ_XCOMP_PERM
 * for XTILEDATA, feature 18). */
static int mc_amx_usable(int what) {
  int state = mc_amx_state;
  if (state == 0) {
    unsigned eax, ebx, ecx, edx;
    state = -1;
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && (edx & (1u << 24)) &&
        mc_arch_prctl(0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XFEATURE_XTILEDATA */) == 0)
      state = ((edx & (1u << 22)) ? 1 : 0) | ((edx & (1u << 25)) ? 2 : 0);
    if (state == 0) state = -1;
    mc_amx_state = state;
  }
  return state > 0 && (state & what);
}

typedef struct __attribute__((aligned(64))) mc_tile_config {
  uint8_t palette;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
  uint8_t reserved2[16];
} mc_tile_config;

/* Accumulators 0-3 (rows of the first and second row tile), a's tiles 4-5,
 * w's tiles 6-7. */
static void mc_configure(mc_tile_config* c, int rows0, int rows1) {
  uint8_t* bytes = (uint8_t*)c;
  for (int i = 0; i < 64; ++i) bytes[i] = 0;
  c->palette = 1;
  const int rows[8] = {rows0, rows0, rows1, rows1, rows0, rows1, 16, 16};
  for (int t = 0; t < 8; ++t) {
    c->rows[t] = (uint8_t)(rows[t] > 0 ? rows[t] : 1);
    c->colsb[t] = 64;
  }
}

__attribute__((target("amx-tile,amx-bf16"))) static void mc_amx_rows(const uint8_t* a_rows, long a_stride, const uint8_t* w,
                                                                    long w_stride, int kp, int n_lo, int n_hi, int rows0,
                                                                    int rows1, float* out_rows, long out_stride) {
  float scratch[2][16 * 16];
  for (int n0 = n_lo & ~15; n0 < n_hi; n0 += 32) {
    const int two = n0 + 16 < n_hi;
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (int k0 = 0; k0 < kp; k0 += 32) {
      const uint8_t* b = w + (long)(k0 / 2) * w_stride + (long)n0 * 4;
      _tile_loadd(4, a_rows + (long)k0 * 2, a_stride);
      _tile_loadd(6, b, w_stride);
      _tile_dpbf16ps(0, 4, 6);
      if (two) {
        _tile_loadd(7, b + 64, w_stride);
        _tile_dpbf16ps(1, 4, 7);
      }
      if (rows1 > 0) {
        _tile_loadd(5, a_rows + 16 * a_stride + (long)k0 * 2, a_stride);
        _tile_dpbf16ps(2, 5, 6);
        if (two) _tile_dpbf16ps(3, 5, 7);
      }
    }
    /* Columns n0 .. n0 + 32 of the region's n_lo .. n_hi: whole tiles
     * straight into out, others through the scratch. */
    for (int half = 0; half < 1 + two; ++half) {
      const int c0 = n0 + 16 * half;
      const int whole = c0 >= n_lo && c0 + 16 <= n_hi;
      for (int rt = 0; rt < 1 + (rows1 > 0); ++rt) {
        float* dst = out_rows + (long)(16 * rt) * out_stride + (c0 - n_lo);
        const int rows = rt ? rows1 : rows0;
        if (whole) {
          if (half == 0 && rt == 0) _tile_stored(0, dst, out_stride * 4);
          else if (half == 1 && rt == 0) _tile_stored(1, dst, out_stride * 4);
          else if (half == 0) _tile_stored(2, dst, out_stride * 4);
          else _tile_stored(3, dst, out_stride * 4);
          continue;
        }
        float* s = scratch[rt];
        if (half == 0 && rt == 0) _tile_stored(0, s, 64);
        else if (half == 1 && rt == 0) _tile_stored(1, s, 64);
        else if (half == 0) _tile_stored(2, s, 64);
        else _tile_stored(3, s, 64);
        for (int i = 0; i < rows; ++i)
          for (int j = 0; j < 16; ++j)
            if (c0 + j >= n_lo && c0 + j < n_hi) out_rows[(long)(16 * rt + i) * out_stride + (c0 + j - n_lo)] = s[16 * i + j];
      }
    }
  }
}

__attribute__((target("amx-tile,amx-bf16"))) static void mc_amx_matmul(halide_buffer_t* a, halide_buffer_t* w, int kp,
                                                                      halide_buffer_t* out) {
  const int r_lo = out->dim[1].min, rows = out->dim[1].extent;
  const int n_lo = out->dim[0].min, n_hi = n_lo + out->dim[0].extent;
  const long a_stride = (long)a->dim[1].stride * 2, w_stride = (long)w->dim[2].stride * 2;
  const long out_stride = out->dim[1].stride;
  mc_tile_config config;
  int configured0 = -1, configured1 = -1;
  for (int r = 0; r < rows; r += 32) {
    const int rows0 = rows - r < 16 ? rows - r : 16;
    const int rows1 = rows - r - 16 < 16 ? rows - r - 16 : 16;
    if (rows0 != configured0 || rows1 != configured1) {
      mc_configure(&config, rows0, rows1);
      _tile_loadconfig(&config);
      configured0 = rows0;
      configured1 = rows1;
    }
    const uint8_t* a_rows = a->host + ((long)(r_lo + r - a->dim[1].min) * a->dim[1].stride - (long)a->dim[0].min) * 2;
    mc_amx_rows(a_rows, a_stride, w->host, w_stride, kp, n_lo, n_hi, rows0, rows1,
                (float*)out->host + (long)r * out_stride, out_stride);
  }
  _tile_release();
}

#endif

/* The same sums in plain C (any CPU, any strides). */
static void mc_plain_matmul(halide_buffer_t* a, halide_buffer_t* w, int kp, halide_buffer_t* out) {
  const uint16_t* av = (const uint16_t*)a->host;
  const uint16_t* wv = (const uint16_t*)w->host;
  float* o = (float*)out->host;
  for (int r = 0; r < out->dim[1].extent; ++r) {
    const int ar = out->dim[1].min + r - a->dim[1].min;
    for (int n = 0; n < out->dim[0].extent; ++n) {
      const int wn = out->dim[0].min + n;
      float sum = 0;
      for (int k = 0; k < kp; ++k) {
        const float x = mc_bf16(av[(long)ar * a->dim[1].stride + (long)(k - a->dim[0].min) * a->dim[0].stride]);
        const float y = mc_bf16(wv[(long)(k / 2) * w->dim[2].stride + (long)wn * w->dim[1].stride + (long)(k % 2) * w->dim[0].stride]);
        sum += x * y;
      }
      o[(long)r * out->dim[1].stride + (long)n * out->dim[0].stride] = sum;
    }
  }
}

int modelc_amx_matmul_bf16(halide_buffer_t* a, halide_buffer_t* w, int32_t kp, int32_t np, halide_buffer_t* out) {
  if (a->host == 0 || w->host == 0) {
    /* Bounds query: every k of the output's rows, all of w. */
    a->dim[0].min = 0;
    a->dim[0].extent = kp;
    a->dim[1].min = out->dim[1].min;
    a->dim[1].extent = out->dim[1].extent;
    w->dim[0].min = 0;
    w->dim[0].extent = 2;
    w->dim[1].min = 0;
    w->dim[1].extent = np;
    w->dim[2].min = 0;
    w->dim[2].extent = kp / 2;
    return 0;
  }
#if MC_AMX_POSSIBLE
  const int dense = a->dim[0].stride == 1 && w->dim[0].stride == 1 && w->dim[1].stride == 2 && out->dim[0].stride == 1 &&
                    kp % 32 == 0 && out->dim[0].min >= 0 && out->dim[0].min + out->dim[0].extent <= np;
  if (dense && mc_amx_usable(1)) {
    mc_amx_matmul(a, w, kp, out);
    return 0;
  }
#endif
  mc_plain_matmul(a, w, kp, out);
  return 0;
}

/* ---- qnn.conv2d: uint8 x int8 -> int32 ---- */

typedef struct mc_conv {
  int r_taps, s_taps, sw, sh, dw, dh, pl, pt;
} mc_conv;

/* The stride of w's quads, taps (r, s): w is 5-D (g, k, s, r, q), or 3-D
 * (g, k, q) for a 1x1 product (qnn.dense's [K/4, N, 4]). */
static long mc_w_quad_stride(const halide_buffer_t* w) { return w->dim[w->dimensions - 1].stride; }
static long mc_w_tap_stride(const halide_buffer_t* w, int which /* 2: s, 3: r */) {
  return w->dimensions == 5 ? w->dim[which].stride : 0;
}

/* The address of input pixel (x, y) of channel block cb, image n. */
static const uint8_t* mc_pixel(const halide_buffer_t* in, int x, int y, int cb, int n) {
  const halide_dimension_t* d = in->dim;
  return in->host + (long)(x - d[1].min) * d[1].stride + (long)(y - d[2].min) * d[2].stride +
         (long)(cb - d[3].min) * d[3].stride + (long)(n - d[4].min) * d[4].stride;
}

static int32_t* mc_out_at(const halide_buffer_t* out, int x, int y, int k, int n) {
  const halide_dimension_t* d = out->dim;
  return (int32_t*)out->host + (long)(x - d[0].min) * d[0].stride + (long)(y - d[1].min) * d[1].stride +
         (long)(k - d[2].min) * d[2].stride + (long)(n - d[3].min) * d[3].stride;
}

/* A 16 x 16 accumulator (pixels x channels, 64-byte rows) into out's
 * channels k0 .. k0 + 16 (those in [k_lo, k_hi)), pixels x0 .. x0 + pixels of row y. */
static void mc_store_nchw(const int32_t* tile, const halide_buffer_t* out, int x0, int pixels, int y, int k0, int k_lo,
                          int k_hi, int n) {
  for (int j = 0; j < 16; ++j) {
    const int k = k0 + j;
    if (k < k_lo || k >= k_hi) continue;
    int32_t* dst = mc_out_at(out, x0, y, k, n);
    const long step = out->dim[0].stride;
    for (int i = 0; i < pixels; ++i) dst[i * step] = tile[16 * i + j];
  }
}

#if MC_AMX_POSSIBLE

/* mc_store_nchw with AVX-512: the 16 x 16 tile transposed in registers
 * (four rounds of unpacks and lane shuffles), each channel's pixels one
 * masked store. */
__attribute__((target("avx512f"))) static void mc_store_nchw_avx512(const int32_t* tile, const halide_buffer_t* out, int x0,
                                                                    int pixels, int y, int k0, int k_lo, int k_hi, int n) {
  __m512i r[16], t[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_si512((const void*)(tile + 16 * i));
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0x88);
    t[i + 4] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0xdd);
    t[i + 8] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0x88);
    t[i + 12] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0xdd);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0xdd);
    r[i + 4] = _mm512_shuffle_i32x4(t[i + 4], t[i + 12], 0x88);
    r[i + 12] = _mm512_shuffle_i32x4(t[i + 4], t[i + 12], 0xdd);
  }
  const __mmask16 mask = (__mmask16)((1u << pixels) - 1u);
  for (int j = 0; j < 16; ++j) {
    const int k = k0 + j;
    if (k >= k_lo && k < k_hi) _mm512_mask_storeu_epi32((void*)mc_out_at(out, x0, y, k, n), mask, r[j]);
  }
}

/* A scratch tile into out: transposed in registers when out's pixels are
 * contiguous (NCHW), element by element otherwise (a partial tile of a
 * matrix product's channels). */
static void mc_store_tile(const int32_t* tile, const halide_buffer_t* out, int x0, int pixels, int y, int k0, int k_lo,
                          int k_hi, int n) {
  if (out->dim[0].stride == 1) mc_store_nchw_avx512(tile, out, x0, pixels, y, k0, k_lo, k_hi, n);
  else mc_store_nchw(tile, out, x0, pixels, y, k0, k_lo, k_hi, n);
}

/* The tile configuration for A tiles of rows0 and rows1 rows, loaded when it changes. */
__attribute__((target("amx-tile"))) static void mc_reconfigure(mc_tile_config* config, int* configured, int rows0,
                                                                 int rows1) {
  if (rows0 == configured[0] && rows1 == configured[1]) return;
  mc_configure(config, rows0, rows1);
  _tile_loadconfig(config);
  configured[0] = rows0;
  configured[1] = rows1;
}

/* One step of the convolution kernels: accumulators 0-3 (A tiles of the
 * configured rows times B tiles of channels k0 .. k0 + 16 and, with two_k,
 * k0 + 16 .. k0 + 32) summed over every block of 64 channels and tap. Tap (r,
 * s)'s first A tile starts `offset` bytes after input pixel (x + s dw - pl, y +
 * r dh - pt), its rows a_stride apart; the second (when `two`) `second` bytes
 * after it. */
__attribute__((target("amx-tile,amx-int8"))) static void mc_conv_step(const halide_buffer_t* in, const halide_buffer_t* w,
                                                                      const mc_conv* g, int n, int k0, int two_k, int x, int y,
                                                                      long offset, long a_stride, int two, long second) {
  const long w_quad = mc_w_quad_stride(w), w_r = mc_w_tap_stride(w, 3), w_s = mc_w_tap_stride(w, 2);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int cb = 0; cb < in->dim[3].extent; ++cb)
    for (int r = 0; r < g->r_taps; ++r)
      for (int s = 0; s < g->s_taps; ++s) {
        const uint8_t* a = mc_pixel(in, x + s * g->dw - g->pl, y + r * g->dh - g->pt, cb, n) + offset;
        const int8_t* b = (const int8_t*)w->host + (long)(16 * cb) * w_quad + (long)r * w_r + (long)s * w_s + (long)k0 * 4;
        _tile_loadd(4, a, a_stride);
        _tile_loadd(6, b, w_quad);
        _tile_dpbusd(0, 4, 6);
        if (two_k) {
          _tile_loadd(7, b + 64, w_quad);
          _tile_dpbusd(1, 4, 7);
        }
        if (two) {
          _tile_loadd(5, a + second, a_stride);
          _tile_dpbusd(2, 5, 6);
          if (two_k) _tile_dpbusd(3, 5, 7);
        }
      }
}

__attribute__((target("amx-tile,amx-int8"))) static void mc_amx_conv(const halide_buffer_t* in, const halide_buffer_t* w,
                                                                     const mc_conv* g, const halide_buffer_t* out) {
  const int x_lo = out->dim[0].min, x_hi = x_lo + out->dim[0].extent;
  const int y_lo = out->dim[1].min, y_hi = y_lo + out->dim[1].extent;
  const int k_lo = out->dim[2].min, k_hi = k_lo + out->dim[2].extent;
  const int n_lo = out->dim[3].min, n_hi = n_lo + out->dim[3].extent;
  const long a_stride = (long)in->dim[1].stride * g->sw;
  const int channels_inner = out->dim[2].stride == 1;
  int32_t scratch[16 * 16] __attribute__((aligned(64)));
  mc_tile_config config;
  int configured[2] = {-1, -1};
  /* Channel pairs outermost: their slice of w (C x R x S x 32 bytes) stays
   * in the caches while every pixel of the region passes. */
  for (int n = n_lo; n < n_hi; ++n)
    for (int k0 = k_lo & ~15; k0 < k_hi; k0 += 32) {
      const int two_k = k0 + 16 < k_hi;
      for (int y = y_lo; y < y_hi; y += 2) {
        const int two_rows = y + 1 < y_hi;
        for (int x0 = x_lo; x0 < x_hi; x0 += 16) {
          const int pixels = x_hi - x0 < 16 ? x_hi - x0 : 16;
          mc_reconfigure(&config, configured, pixels, two_rows ? pixels : 0);
          /* The second row tile: the next output row, sh input rows down. */
          mc_conv_step(in, w, g, n, k0, two_k, x0 * g->sw, y * g->sh, 0, a_stride, two_rows,
                       (long)in->dim[2].stride * g->sh);
          /* Channels contiguous in out (a matrix product's rows): whole
           * tiles straight in; else through the scratch, turned to NCHW. */
          const long row_bytes = (long)out->dim[0].stride * 4;
          const int direct0 = channels_inner && k0 >= k_lo && k0 + 16 <= k_hi;
          const int direct1 = channels_inner && k0 + 16 >= k_lo && k0 + 32 <= k_hi;
          if (direct0) _tile_stored(0, mc_out_at(out, x0, y, k0, n), row_bytes);
          else {
            _tile_stored(0, scratch, 64);
            mc_store_tile(scratch, out, x0, pixels, y, k0, k_lo, k_hi, n);
          }
          if (two_k) {
            if (direct1) _tile_stored(1, mc_out_at(out, x0, y, k0 + 16, n), row_bytes);
            else {
              _tile_stored(1, scratch, 64);
              mc_store_tile(scratch, out, x0, pixels, y, k0 + 16, k_lo, k_hi, n);
            }
          }
          if (two_rows) {
            if (direct0) _tile_stored(2, mc_out_at(out, x0, y + 1, k0, n), row_bytes);
            else {
              _tile_stored(2, scratch, 64);
              mc_store_tile(scratch, out, x0, pixels, y + 1, k0, k_lo, k_hi, n);
            }
            if (two_k) {
              if (direct1) _tile_stored(3, mc_out_at(out, x0, y + 1, k0 + 16, n), row_bytes);
              else {
                _tile_stored(3, scratch, 64);
                mc_store_tile(scratch, out, x0, pixels, y + 1, k0 + 16, k_lo, k_hi, n);
              }
            }
          }
        }
      }
    }
  _tile_release();
}

/* Output rows narrower than a tile (7x7 layers: 7 of 16 rows used) as one
 * flat run of pixels: output pixel (x, y) of the region is flat index
 * (y - y_lo) * Wp + (x - x_lo), Wp the input rows' width, so that for a unit
 * stride each tap's 16 consecutive flat pixels lie 64 bytes apart in the
 * input (a tile load) and only the Wp - width columns between rows are
 * wasted (7x7 with 3x3 taps: 61 flat pixels in 4 tiles where rows took 7). */
static int mc_flat_pixels(const halide_buffer_t* in, const mc_conv* g, const halide_buffer_t* out) {
  const int width = out->dim[0].extent, rows = out->dim[1].extent;
  const int wp = in->dim[1].extent;
  if (g->sw != 1 || out->dim[0].stride != 1 || in->dim[2].stride != (long)wp * 64 || rows < 2) return 0;
  /* Steps of two tiles each way (a step's two A tiles share its B tiles):
   * two 7-pixel rows take one step either way, and stay rows. */
  const int flat = (rows - 1) * wp + width;
  const int flat_steps = ((flat + 15) / 16 + 1) / 2, row_steps = (rows + 1) / 2 * ((width + 15) / 16);
  return flat_steps < row_steps ? flat : 0;
}

__attribute__((target("amx-tile,amx-int8"))) static void mc_amx_conv_flat(const halide_buffer_t* in, const halide_buffer_t* w,
                                                                          const mc_conv* g, const halide_buffer_t* out,
                                                                          int flat) {
  const int x_lo = out->dim[0].min, x_hi = x_lo + out->dim[0].extent;
  const int y_lo = out->dim[1].min;
  const int k_lo = out->dim[2].min, k_hi = k_lo + out->dim[2].extent;
  const int n_lo = out->dim[3].min, n_hi = n_lo + out->dim[3].extent;
  const int wp = in->dim[1].extent;
  int32_t scratch[16 * 16] __attribute__((aligned(64)));
  mc_tile_config config;
  int configured[2] = {-1, -1};
  for (int n = n_lo; n < n_hi; ++n)
    for (int k0 = k_lo & ~15; k0 < k_hi; k0 += 32) {
      const int two_k = k0 + 16 < k_hi;
      for (int p0 = 0; p0 < flat; p0 += 32) {
        const int rows0 = flat - p0 < 16 ? flat - p0 : 16;
        const int rows1 = flat - p0 - 16 <= 0 ? 0 : (flat - p0 - 16 < 16 ? flat - p0 - 16 : 16);
        mc_reconfigure(&config, configured, rows0, rows1);
        mc_conv_step(in, w, g, n, k0, two_k, x_lo, y_lo, (long)p0 * 64, 64, rows1 > 0, 16 * 64);
        for (int t = 0; t < 4; ++t) {
          const int rows = t < 2 ? rows0 : rows1;
          const int k_base = k0 + 16 * (t & 1);
          if (rows == 0 || ((t & 1) && !two_k)) continue;
          switch (t) {
            case 0: _tile_stored(0, scratch, 64); break;
            case 1: _tile_stored(1, scratch, 64); break;
            case 2: _tile_stored(2, scratch, 64); break;
            default: _tile_stored(3, scratch, 64); break;
          }
          /* Each flat pixel of the tile that is an output pixel (not one of
           * the columns between rows) into out, its 16 channels. */
          for (int i = 0; i < rows; ++i) {
            const int p = p0 + 16 * (t >> 1) + i;
            const int x = x_lo + p % wp, y = y_lo + p / wp;
            if (x >= x_hi) continue;
            for (int j = 0; j < 16; ++j) {
              const int k = k_base + j;
              if (k >= k_lo && k < k_hi) *mc_out_at(out, x, y, k, n) = scratch[16 * i + j];
            }
          }
        }
      }
    }
  _tile_release();
}

#endif

/* The same sums in plain C. */
static void mc_plain_conv(const halide_buffer_t* in, const halide_buffer_t* w, const mc_conv* g, const halide_buffer_t* out) {
  const halide_dimension_t* o = out->dim;
  const int blocks = in->dim[3].extent;
  for (int n = o[3].min; n < o[3].min + o[3].extent; ++n)
    for (int k = o[2].min; k < o[2].min + o[2].extent; ++k)
      for (int y = o[1].min; y < o[1].min + o[1].extent; ++y)
        for (int x = o[0].min; x < o[0].min + o[0].extent; ++x) {
          int32_t sum = 0;
          for (int cb = 0; cb < blocks; ++cb)
            for (int r = 0; r < g->r_taps; ++r)
              for (int s = 0; s < g->s_taps; ++s) {
                const uint8_t* px = mc_pixel(in, x * g->sw + s * g->dw - g->pl, y * g->sh + r * g->dh - g->pt, cb, n);
                for (int c = 0; c < 64; ++c) {
                  const int q = 16 * cb + c / 4;
                  const int8_t wv = ((const int8_t*)w->host)[(long)q * mc_w_quad_stride(w) + (long)r * mc_w_tap_stride(w, 3) +
                                                             (long)s * mc_w_tap_stride(w, 2) + (long)k * w->dim[1].stride +
                                                             (long)(c % 4) * w->dim[0].stride];
                  sum += (int32_t)px[(long)c * in->dim[0].stride] * wv;
                }
              }
          *mc_out_at(out, x, y, k, n) = sum;
        }
}

int modelc_amx_conv_u8s8_row_taps(halide_buffer_t* in, halide_buffer_t* w, int32_t channels, int32_t r_taps,
                                  int32_t sw, int32_t sh, int32_t dh, int32_t pl, int32_t pt, halide_buffer_t* out) {
  const halide_dimension_t* o = out->dim;
  if (in->host == 0 || w->host == 0) {
    /* Bounds query: 16 columns from each output pixel's first, the rows of
     * its taps, all of w. */
    in->dim[0].min = 0;
    in->dim[0].extent = 4;
    in->dim[1].min = o[0].min * sw - pl;
    in->dim[1].extent = (o[0].extent - 1) * sw + 16;
    in->dim[2].min = o[1].min * sh - pt;
    in->dim[2].extent = (o[1].extent - 1) * sh + (r_taps - 1) * dh + 1;
    in->dim[3].min = o[3].min;
    in->dim[3].extent = o[3].extent;
    const int w_extents[5] = {4, channels, 1, r_taps, 16};
    for (int i = 0; i < 5; ++i) {
      w->dim[i].min = 0;
      w->dim[i].extent = w_extents[i];
    }
    return 0;
  }
  /* The input seen as 64-byte "pixels" that overlap (column x: the quads of
   * columns x .. x + 15) in one block of 64 "channels": a 1-tap-wide
   * convolution of the quad-major weights. */
  halide_dimension_t dims[5] = {{0, 64, 1, 0},
                                {in->dim[1].min, in->dim[1].extent - 15, in->dim[1].stride, 0},
                                {in->dim[2].min, in->dim[2].extent, in->dim[2].stride, 0},
                                {0, 1, 0, 0},
                                {in->dim[3].min, in->dim[3].extent, in->dim[3].stride, 0}};
  halide_buffer_t view = *in;
  view.dimensions = 5;
  view.dim = dims;
  const mc_conv g = {r_taps, 1, sw, sh, 1, dh, pl, pt};
#if MC_AMX_POSSIBLE
  const int dense = in->dim[0].stride == 1 && in->dim[1].stride == 4 && out->dim[0].stride == 1 && w->dim[0].stride == 1 &&
                    w->dim[1].stride == 4 && w->dim[1].extent % 16 == 0 && o[2].min >= 0 && o[2].min + o[2].extent <= w->dim[1].extent;
  if (dense && mc_amx_usable(2)) {
    mc_amx_conv(&view, w, &g, out);
    return 0;
  }
#endif
  mc_plain_conv(&view, w, &g, out);
  return 0;
}

int modelc_amx_conv_u8s8(halide_buffer_t* in, halide_buffer_t* w, int32_t blocks, int32_t channels, int32_t r_taps,
                         int32_t s_taps, int32_t sw, int32_t sh, int32_t dw, int32_t dh, int32_t pl, int32_t pt,
                         halide_buffer_t* out) {
  const mc_conv g = {r_taps, s_taps, sw, sh, dw, dh, pl, pt};
  if (in->host == 0 || w->host == 0) {
    /* Bounds query: the window of the output's pixels, every channel, all of w. */
    const halide_dimension_t* o = out->dim;
    in->dim[0].min = 0;
    in->dim[0].extent = 64;
    in->dim[1].min = o[0].min * sw - pl;
    in->dim[1].extent = (o[0].extent - 1) * sw + (s_taps - 1) * dw + 1;
    in->dim[2].min = o[1].min * sh - pt;
    in->dim[2].extent = (o[1].extent - 1) * sh + (r_taps - 1) * dh + 1;
    in->dim[3].min = 0;
    in->dim[3].extent = blocks;
    in->dim[4].min = o[3].min;
    in->dim[4].extent = o[3].extent;
    const int w_extents[5] = {4, channels, s_taps, r_taps, 16 * blocks};
    for (int i = 0; i < w->dimensions; ++i) {
      w->dim[i].min = 0;
      w->dim[i].extent = w_extents[w->dimensions == 5 || i < 2 ? i : 4];
    }
    return 0;
  }
#if MC_AMX_POSSIBLE
  const int dense = in->dim[0].stride == 1 && (out->dim[0].stride == 1 || out->dim[2].stride == 1) && in->dim[1].stride == 64 &&
                    w->dim[0].stride == 1 && w->dim[1].stride == 4 &&
                    w->dim[1].extent % 16 == 0 && out->dim[2].min >= 0 && out->dim[2].min + out->dim[2].extent <= w->dim[1].extent;
  if (dense && mc_amx_usable(2)) {
    const int flat = mc_flat_pixels(in, &g, out);
    if (flat) mc_amx_conv_flat(in, w, &g, out, flat);
    else mc_amx_conv(in, w, &g, out);
    return 0;
  }
#endif
  mc_plain_conv(in, w, &g, out);
  return 0;
}
