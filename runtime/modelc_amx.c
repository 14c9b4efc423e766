/* The AMX tile kernel of bfloat16 matrix products: the extern stage that
 * kernels of nn.batch_matmul with a bfloat16 weight call on x86-64 targets
 * compiled for a host with AMX (lower/ops/nn.cpp, lower_batch_matmul_amx).
 * Linked into every x86-64 Linux artifact beside the executor; needs no C
 * library (the one system call is made here).
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
 * Where the CPU or the kernel does not allow AMX (an artifact moved to
 * another machine), the same products run as plain C: slower, same sums.
 * Products of bfloat16 values are exact in float32 either way; the sums are
 * float32 in another order than the reference interpreter's. */
#include <HalideRuntime.h>

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <immintrin.h>
#define MC_AMX_POSSIBLE 1
#else
#define MC_AMX_POSSIBLE 0
#endif

int modelc_amx_matmul_bf16(halide_buffer_t* a, halide_buffer_t* w, int32_t kp, int32_t np, halide_buffer_t* out);

static float mc_bf16(uint16_t bits) {
  union {
    uint32_t u;
    float f;
  } v;
  v.u = (uint32_t)bits << 16;
  return v.f;
}

#if MC_AMX_POSSIBLE

/* 0: not checked yet; 1: AMX usable; -1: not. */
static volatile int mc_amx_state = 0;

static long mc_arch_prctl(long code, long arg) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(158L), "D"(code), "S"(arg) : "rcx", "r11", "memory");
  return ret;
}

/* AMX-TILE and AMX-BF16 in CPUID, and the kernel's permission to use the
 * tile data state (Linux asks each process to request it: ARCH_REQ_XCOMP_PERM
 * for XTILEDATA, feature 18). */
static int mc_amx_usable(void) {
  int state = mc_amx_state;
  if (state != 0) return state > 0;
  unsigned eax, ebx, ecx, edx;
  int ok = __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && (edx & (1u << 24)) && (edx & (1u << 22));
  if (ok) ok = mc_arch_prctl(0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XFEATURE_XTILEDATA */) == 0;
  mc_amx_state = ok ? 1 : -1;
  return ok;
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
  if (dense && mc_amx_usable()) {
    mc_amx_matmul(a, w, kp, out);
    return 0;
  }
#endif
  mc_plain_matmul(a, w, kp, out);
  return 0;
}
