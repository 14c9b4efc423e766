// The integer kernels (qnn.*) against the integer reference implementation of
// lang/ops/qnn.cpp, bit for bit: integer arithmetic has no rounding to
// forgive, so the tolerance is zero. Operands span the full 8-bit ranges so
// that saturation, zero points and odd channel counts (the paired and
// quadrupled packings pad them) are exercised.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <random>

#include "lang/interpreter.h"
#include "lang/pass.h"
#include "lang/text.h"
#include "lower/lowering.h"

using namespace modelc;
using namespace modelc::lang;

namespace {

// Random operands: 8-bit ones over their full ranges, int32 ones (biases)
// within +-int32_bound, floats within +-4.
Tensor random_tensor(const TensorType& type, std::mt19937& rng, int int32_bound) {
  Tensor t(type);
  std::uniform_int_distribution<int> u8(0, 255), i8(-128, 127), i32(-int32_bound, int32_bound);
  std::uniform_real_distribution<float> f(-4.f, 4.f);
  for (size_t i = 0; i < static_cast<size_t>(type.element_count()); ++i) {
    switch (type.dtype) {
      case DType::uint8: t.set_element(i, u8(rng)); break;
      case DType::int8: t.set_element(i, i8(rng)); break;
      case DType::int32: t.set_element(i, i32(rng)); break;
      default: t.set_element(i, f(rng)); break;
    }
  }
  return t;
}

Tensor full_range_tensor(const TensorType& type, std::mt19937& rng) { return random_tensor(type, rng, 1 << 20); }

// Biases within +-4096: with +-2^20 the bias, not the sums, decided almost
// every requantized output (95-100 % of a convolution's outputs saturated),
// and a wrong sum went unseen. With this the sums decide them; the scales of
// the cases that use it put most outputs inside the 8-bit range.
Tensor small_bias_tensor(const TensorType& type, std::mt19937& rng) { return random_tensor(type, rng, 4096); }

// Every primitive function of the fused module, compiled with the JIT, equals
// the reference exactly, on the operands `make` gives (full-range random ones
// unless told).
void check_exact(const std::string& text, unsigned seed = 7,
                 const std::function<Tensor(const TensorType&, std::mt19937&)>& make = full_range_tensor,
                 const std::string& target = "host") {
  CAPTURE(text);
  CAPTURE(target);
  Module m = parse_module(text, "case.ir");
  m = run_passes(m, {"InferType", "FuseOps", "InferType"}, PassContext{});
  std::mt19937 rng(seed);
  int checked = 0;
  for (const Function& fn : m.functions) {
    if (!fn.primitive) continue;
    std::vector<Tensor> args;
    for (const Param& p : fn.params) args.push_back(make(p.type, rng));
    const std::vector<Tensor> want = evaluate(m, fn, args);
    const std::vector<Tensor> got = lower::run_kernel_jit(m, fn, args, false, target);
    REQUIRE(got.size() == want.size());
    for (size_t r = 0; r < want.size(); ++r) {
      REQUIRE(got[r].type() == want[r].type());
      size_t differ = 0, first = 0;
      for (size_t i = 0; i < static_cast<size_t>(want[r].type().element_count()); ++i)
        if (got[r].element_as_double(i) != want[r].element_as_double(i) && differ++ == 0) first = i;
      INFO("@" << fn.name << " result " << r << ": " << differ << " elements differ, first at " << first << ": want "
               << want[r].element_as_double(first) << ", got " << got[r].element_as_double(first));
      CHECK(differ == 0);
    }
    ++checked;
  }
  CHECK(checked > 0);
}

}  // namespace

TEST_CASE("qnn.conv2d u8 x s8, odd channels, padded, strided, bias, per-channel requantize with ReLU") {
  check_exact(R"(
def @main(%x: Tensor[(1, 5, 9, 11), uint8], %w: Tensor[(12, 5, 3, 3), int8], %b: Tensor[(12), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[2, 2], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1, input_zero_point=7, kernel_zero_point=[0]);
  %1 = qnn.requantize(%0, input_scale=[0.001, 0.002, 0.0005, 0.003, 0.001, 0.004, 0.001, 0.002, 0.0005, 0.003, 0.001, 0.0001], input_zero_point=0, output_scale=0.05, output_zero_point=3, axis=1, out_dtype=uint8, out_min=3, out_max=255);
  %1
})");
}

// AlterOpLayout's packed weights ([C/4, R, S, K, 4], or in blocks of 16
// output channels): the VNNI kernel reads them as they are, the paired and
// direct forms through their index; the reference unpacks them. With an
// input zero point (the weight sums) and without.
TEST_CASE("qnn.conv2d with its weight in quads (IHWO4i, OIHW16o4i), u8 x s8, with and without an input zero point") {
  check_exact(R"(
def @main(%x: Tensor[(1, 8, 9, 11), uint8], %w: Tensor[(2, 3, 3, 20, 4), int8], %b: Tensor[(20), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[1, 2], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1, input_zero_point=7, kernel_zero_point=[0], kernel_layout="IHWO4i");
  %1 = qnn.requantize(%0, input_scale=[0.001], input_zero_point=0, output_scale=0.05, output_zero_point=3, axis=1, out_dtype=uint8, out_min=3, out_max=255);
  %1
})");
  // In blocks of 16 output channels ([K/16, C/4, R, S, 16, 4], what
  // AlterOpLayout packs for narrow rows), padded, with a zero point.
  check_exact(R"(
def @main(%x: Tensor[(1, 8, 7, 9), uint8], %w: Tensor[(2, 2, 3, 3, 16, 4), int8], %b: Tensor[(32), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1, input_zero_point=5, kernel_zero_point=[0], kernel_layout="OIHW16o4i");
  %1 = qnn.requantize(%0, input_scale=[0.001], input_zero_point=0, output_scale=0.05, output_zero_point=3, axis=1, out_dtype=uint8, out_min=3, out_max=255);
  %1
})");
  check_exact(R"(
def @main(%x: Tensor[(1, 16, 7, 7), uint8], %w: Tensor[(4, 1, 1, 32, 4), int8]) {
  %0 = qnn.conv2d(%x, %w, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1, input_zero_point=0, kernel_zero_point=[0], kernel_layout="IHWO4i");
  %0
})");
}

// Rows of 16 output pixels or more take the form that vectorizes pixels (the
// output's rows stored whole): 1x1 and padded 3x3, rows and channels that
// do not fill the register tile, with and without an input zero point, and
// the requantize that narrows from 32 bits (8-bit output, every shift >= 31)
// next to one that does not (a scale above 1).
TEST_CASE("qnn.conv2d in quads with output pixels vectorized") {
  check_exact(R"(
def @main(%x: Tensor[(1, 16, 5, 37), uint8], %w: Tensor[(4, 1, 1, 27, 4), int8], %b: Tensor[(27), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1, input_zero_point=0, kernel_zero_point=[0], kernel_layout="IHWO4i");
  %1 = qnn.requantize(%0, input_scale=[0.0002], input_zero_point=0, output_scale=0.2, output_zero_point=3, axis=1, out_dtype=uint8, out_min=3, out_max=255);
  %1
})", 7, small_bias_tensor);
  check_exact(R"(
def @main(%x: Tensor[(1, 8, 6, 21), uint8], %w: Tensor[(2, 3, 3, 40, 4), int8], %b: Tensor[(40), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1, input_zero_point=9, kernel_zero_point=[0], kernel_layout="IHWO4i");
  %1 = qnn.requantize(%0, input_scale=[0.001], input_zero_point=0, output_scale=2.2, output_zero_point=-4, axis=1, out_dtype=int8);
  %2 = qnn.conv2d(%x, %w, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1, input_zero_point=0, kernel_zero_point=[0], kernel_layout="IHWO4i");
  %3 = qnn.requantize(%2, input_scale=[3.0], input_zero_point=0, output_scale=2.0, output_zero_point=0, axis=1, out_dtype=int8);
  (%1, %3)
})", 7, small_bias_tensor);
  // Rows of 14 pixels, fewer than a vector: channels vectorized (pixels in
  // one masked vector were measured 1.4x slower on MobileNetV2).
  check_exact(R"(
def @main(%x: Tensor[(1, 24, 3, 14), uint8], %w: Tensor[(6, 1, 1, 40, 4), int8], %b: Tensor[(40), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1, input_zero_point=0, kernel_zero_point=[0], kernel_layout="IHWO4i");
  %1 = qnn.requantize(%0, input_scale=[0.0003], input_zero_point=0, output_scale=0.4, output_zero_point=128, axis=1, out_dtype=uint8);
  %1
})", 7, small_bias_tensor);
  // Strided (a stem: 3 channels, 7x7, stride 2): the input's columns in two phases.
  check_exact(R"(
def @main(%x: Tensor[(1, 3, 9, 40), uint8], %w: Tensor[(16, 3, 7, 7), int8], %b: Tensor[(16), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[2, 2], padding=[3, 3, 3, 3], dilation=[1, 1], groups=1, input_zero_point=120, kernel_zero_point=[0]);
  %1 = qnn.requantize(%0, input_scale=[0.0004], input_zero_point=0, output_scale=0.67, output_zero_point=128, axis=1, out_dtype=uint8);
  %1
})", 7, small_bias_tensor);
}

// Where the taps reach past the ends of the input rows, the repacked input is
// the fill, then each stride phase's interior columns (masked where a row ends
// inside a vector): a border on the right only (padding left 0, right 1, a
// row of 20 output pixels: pixels vectorized), dilated taps with unequal
// borders over a row narrower than a vector, and the same on AVX2 (int16
// pairs, no VNNI).
TEST_CASE("qnn.conv2d with borders on one side, dilated, and rows narrower than a vector") {
  const std::string right_only = R"(
def @main(%x: Tensor[(1, 8, 6, 40), uint8], %w: Tensor[(2, 3, 3, 24, 4), int8], %b: Tensor[(24), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[2, 2], padding=[0, 0, 1, 1], dilation=[1, 1], groups=1, input_zero_point=11, kernel_zero_point=[0], kernel_layout="IHWO4i");
  %1 = qnn.requantize(%0, input_scale=[0.0004], input_zero_point=0, output_scale=0.87, output_zero_point=128, axis=1, out_dtype=uint8);
  %1
})";
  const std::string dilated = R"(
def @main(%x: Tensor[(1, 5, 7, 9), uint8], %w: Tensor[(12, 5, 3, 3), int8], %b: Tensor[(12), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[1, 1], padding=[2, 1, 2, 3], dilation=[2, 2], groups=1, input_zero_point=200, kernel_zero_point=[0]);
  %1 = qnn.requantize(%0, input_scale=[0.0004], input_zero_point=0, output_scale=0.5, output_zero_point=128, axis=1, out_dtype=uint8);
  %1
})";
  for (const std::string target : {"x86-64-linux-avx-avx2-f16c-fma-sse41", "host"}) {
    check_exact(right_only, 13, small_bias_tensor, target);
    check_exact(dilated, 17, small_bias_tensor, target);
  }
}

// Stride 1 with rows that whole vectors do not fill: the padded rows laid end
// to end (lower_flat), in blocks of rows (the last shifted in) and channels
// (a tail), with unequal borders, dilated taps, weights repacked from OIHW
// and an input zero point.
TEST_CASE("qnn.conv2d over padded rows laid end to end") {
  check_exact(R"(
def @main(%x: Tensor[(1, 12, 40, 37), uint8], %w: Tensor[(3, 3, 3, 20, 4), int8], %b: Tensor[(20), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[1, 1], padding=[1, 2, 1, 0], dilation=[1, 1], groups=1, input_zero_point=13, kernel_zero_point=[0], kernel_layout="IHWO4i");
  %1 = qnn.requantize(%0, input_scale=[0.0004], input_zero_point=0, output_scale=1.05, output_zero_point=128, axis=1, out_dtype=uint8);
  %1
})", 7, small_bias_tensor);
  check_exact(R"(
def @main(%x: Tensor[(1, 7, 9, 23), uint8], %w: Tensor[(11, 7, 3, 3), int8]) {
  %0 = qnn.conv2d(%x, %w, strides=[1, 1], padding=[2, 2, 2, 2], dilation=[2, 2], groups=1, input_zero_point=0, kernel_zero_point=[0]);
  %0
})");
}

// Strided 1x1 convolutions without padding (ResNet's shortcuts) repack just
// the pixels they read, from a copy of each input row: stride 2 both ways
// over an odd width (its last column unread), stride 3 along rows only with
// rows narrower than a vector; an input zero point; the int32 sums and their
// requantized bytes (scaled so that few saturate); AVX2 and the host.
TEST_CASE("qnn.conv2d 1x1 strided without padding") {
  const std::string both = R"(
def @main(%x: Tensor[(2, 12, 9, 37), uint8], %w: Tensor[(20, 12, 1, 1), int8]) {
  %0 = qnn.conv2d(%x, %w, strides=[2, 2], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1, input_zero_point=17, kernel_zero_point=[0]);
  %1 = qnn.requantize(%0, input_scale=[0.0004], input_zero_point=0, output_scale=0.2, output_zero_point=3, axis=1, out_dtype=int8);
  (%0, %1)
})";
  const std::string columns = R"(
def @main(%x: Tensor[(1, 8, 5, 29), uint8], %w: Tensor[(2, 1, 1, 24, 4), int8]) {
  %0 = qnn.conv2d(%x, %w, strides=[1, 3], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1, input_zero_point=0, kernel_zero_point=[0], kernel_layout="IHWO4i");
  %0
})";
  for (const std::string target : {"x86-64-linux-avx-avx2-f16c-fma-sse41", "host"}) {
    check_exact(both, 21, full_range_tensor, target);
    check_exact(columns, 23, full_range_tensor, target);
  }
}

TEST_CASE("qnn.conv2d s8 x s8 1x1 with a kernel zero point and int32 output") {
  check_exact(R"(
def @main(%x: Tensor[(2, 16, 7, 7), int8], %w: Tensor[(20, 16, 1, 1), int8]) {
  %0 = qnn.conv2d(%x, %w, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1, input_zero_point=-3, kernel_zero_point=[5]);
  %0
})");
}

TEST_CASE("qnn.conv2d depthwise and grouped (direct form), dilated") {
  check_exact(R"(
def @main(%x: Tensor[(1, 8, 10, 13), uint8], %w: Tensor[(8, 1, 3, 3), int8], %g: Tensor[(6, 4, 3, 3), uint8]) {
  %0 = qnn.conv2d(%x, %w, strides=[1, 1], padding=[2, 2, 2, 2], dilation=[2, 2], groups=8, input_zero_point=128, kernel_zero_point=[0]);
  %1 = qnn.requantize(%0, input_scale=[0.0003], input_zero_point=0, output_scale=0.02, output_zero_point=0, axis=1, out_dtype=int8);
  %2 = qnn.conv2d(%x, %g, strides=[2, 1], padding=[1, 0, 1, 0], dilation=[1, 1], groups=2, input_zero_point=0, kernel_zero_point=[100]);
  (%1, %2)
})");
  // Sums of up to 257 products add exactly in float32, longer ones in int32:
  // 2 groups of 32 channels x 3 x 3 = 288 products per output.
  check_exact(R"(
def @main(%x: Tensor[(1, 64, 6, 7), uint8], %w: Tensor[(4, 32, 3, 3), int8]) {
  %0 = qnn.conv2d(%x, %w, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=2, input_zero_point=255, kernel_zero_point=[-128]);
  %0
})");
}

// Stride 2 along the rows reads the padded input in two phases (even and
// odd columns): odd and even left padding, 3x3 and 5x5 windows, rows of 28
// outputs or more (the input staged row by row) and narrower ones, a
// grouped (not depthwise) case, and an int32 output with no requantize.
TEST_CASE("qnn.conv2d depthwise and grouped with stride 2 along the rows") {
  check_exact(R"(
def @main(%x: Tensor[(1, 6, 9, 33), uint8], %w: Tensor[(6, 1, 3, 3), int8], %v: Tensor[(6, 1, 5, 5), int8], %y: Tensor[(1, 4, 7, 61), uint8], %u: Tensor[(4, 1, 3, 3), int8], %g: Tensor[(4, 2, 3, 3), int8]) {
  %0 = qnn.conv2d(%x, %w, strides=[2, 2], padding=[1, 1, 1, 1], dilation=[1, 1], groups=6, input_zero_point=131, kernel_zero_point=[0]);
  %1 = qnn.requantize(%0, input_scale=[0.0003], input_zero_point=0, output_scale=0.02, output_zero_point=5, axis=1, out_dtype=uint8);
  %2 = qnn.conv2d(%x, %v, strides=[1, 2], padding=[2, 2, 2, 1], dilation=[1, 1], groups=6, input_zero_point=7, kernel_zero_point=[0]);
  %3 = qnn.conv2d(%y, %u, strides=[2, 2], padding=[0, 0, 1, 1], dilation=[1, 1], groups=4, input_zero_point=0, kernel_zero_point=[3]);
  %4 = qnn.conv2d(%y, %g, strides=[2, 2], padding=[1, 1, 1, 1], dilation=[1, 1], groups=2, input_zero_point=200, kernel_zero_point=[0]);
  (%1, %2, %3, %4)
})");
}

// FuseOps fuses an 8-bit pointwise convolution (with its requantize) into
// the depthwise convolution that alone reads it, and the kernel computes it
// inside the depthwise loops (lower/ops/qnn_conv2d.cpp): every depthwise form
// (rows of quads with stride 1 and 2, whole planes, the direct form of a
// target without VNNI) with every pointwise form (quads read as packed or
// repacked from OIHW with a zero point, pairs without VNNI), channel counts
// that fill no block of 4, rows narrower than a vector. The fused kernel is
// checked to exist, then against the reference bit for bit.
TEST_CASE("qnn.conv2d pointwise computed inside the depthwise convolution that reads it") {
  const std::string cases[] = {
      // 56-style rows, stride 1, quads packed at compile time, 22 channels.
      R"(
def @main(%x: Tensor[(1, 16, 12, 40), uint8], %w: Tensor[(4, 1, 1, 22, 4), int8], %b: Tensor[(22), int32], %d: Tensor[(22, 1, 3, 3), int8], %e: Tensor[(22), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1, input_zero_point=0, kernel_zero_point=[0], kernel_layout="IHWO4i");
  %1 = qnn.requantize(%0, input_scale=[0.0003], input_zero_point=0, output_scale=0.05, output_zero_point=0, axis=1, out_dtype=uint8, out_min=0, out_max=120);
  %2 = qnn.conv2d(%1, %d, %e, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=22, input_zero_point=0, kernel_zero_point=[0]);
  %3 = qnn.requantize(%2, input_scale=[0.0004], input_zero_point=0, output_scale=0.03, output_zero_point=4, axis=1, out_dtype=uint8);
  %3
})",
      // Stride 2, odd width and padding, OIHW weights repacked, an input zero point.
      R"(
def @main(%x: Tensor[(1, 10, 11, 33), uint8], %w: Tensor[(12, 10, 1, 1), int8], %d: Tensor[(12, 1, 3, 3), int8]) {
  %0 = qnn.conv2d(%x, %w, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1, input_zero_point=17, kernel_zero_point=[0]);
  %1 = qnn.requantize(%0, input_scale=[0.0005], input_zero_point=0, output_scale=0.07, output_zero_point=9, axis=1, out_dtype=uint8);
  %2 = qnn.conv2d(%1, %d, strides=[2, 2], padding=[1, 0, 1, 1], dilation=[1, 1], groups=12, input_zero_point=9, kernel_zero_point=[0]);
  %3 = qnn.requantize(%2, input_scale=[0.0004], input_zero_point=0, output_scale=0.03, output_zero_point=0, axis=1, out_dtype=int8);
  %3
})",
      // A 14 x 14 plane (the whole-plane form on VNNI), a 5x5 window.
      R"(
def @main(%x: Tensor[(1, 8, 14, 14), uint8], %w: Tensor[(2, 1, 1, 16, 4), int8], %d: Tensor[(16, 1, 5, 5), int8]) {
  %0 = qnn.conv2d(%x, %w, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1, input_zero_point=3, kernel_zero_point=[0], kernel_layout="IHWO4i");
  %1 = qnn.requantize(%0, input_scale=[0.0002], input_zero_point=0, output_scale=0.05, output_zero_point=1, axis=1, out_dtype=uint8);
  %2 = qnn.conv2d(%1, %d, strides=[1, 1], padding=[2, 2, 2, 2], dilation=[1, 1], groups=16, input_zero_point=1, kernel_zero_point=[0]);
  %3 = qnn.requantize(%2, input_scale=[0.0004], input_zero_point=0, output_scale=0.05, output_zero_point=2, axis=1, out_dtype=uint8);
  %3
})",
      // Symmetric int8 activations (the direct depthwise form everywhere), a batch of two.
      R"(
def @main(%x: Tensor[(2, 12, 9, 20), int8], %w: Tensor[(3, 1, 1, 8, 4), int8], %d: Tensor[(8, 1, 3, 3), int8]) {
  %0 = qnn.conv2d(%x, %w, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1, input_zero_point=0, kernel_zero_point=[0], kernel_layout="IHWO4i");
  %1 = qnn.requantize(%0, input_scale=[0.0003], input_zero_point=0, output_scale=0.05, output_zero_point=0, axis=1, out_dtype=int8);
  %2 = qnn.conv2d(%1, %d, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=8, input_zero_point=0, kernel_zero_point=[0]);
  %3 = qnn.requantize(%2, input_scale=[0.0004], input_zero_point=0, output_scale=0.03, output_zero_point=0, axis=1, out_dtype=int8);
  %3
})",
  };
  for (const std::string& text : cases) {
    Module m = run_passes(parse_module(text, "case.ir"), {"InferType", "FuseOps", "InferType"}, PassContext{});
    int fused = 0;
    for (const Function& fn : m.functions) {
      int convolutions = 0;
      for (const Binding& b : fn.body) convolutions += b.is_op("qnn.conv2d");
      fused += fn.primitive && convolutions == 2;
    }
    CAPTURE(text);
    CHECK(fused == 1);
    // A target without VNNI (AVX2: pairs, and the direct depthwise form), then this host.
    for (const std::string target : {"x86-64-linux-avx-avx2-f16c-fma-sse41", "host"}) check_exact(text, 11, full_range_tensor, target);
  }
}

// On a GPU (no anchor schedules) the fused pointwise convolution's value is
// a grid of its own: two device launches, not the pointwise convolution
// computed again in every output thread.
TEST_CASE("qnn.conv2d pointwise fused into a depthwise one is its own grid on a GPU") {
  const Module m = run_passes(parse_module(R"(
def @main(%x: Tensor[(1, 8, 10, 24), uint8], %w: Tensor[(16, 8, 1, 1), int8], %d: Tensor[(16, 1, 3, 3), int8]) {
  %0 = qnn.conv2d(%x, %w, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1, input_zero_point=3, kernel_zero_point=[0]);
  %1 = qnn.requantize(%0, input_scale=[0.0002], input_zero_point=0, output_scale=0.05, output_zero_point=1, axis=1, out_dtype=uint8);
  %2 = qnn.conv2d(%1, %d, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=16, input_zero_point=1, kernel_zero_point=[0]);
  %2
})", "case.ir"),
                                    {"InferType", "FuseOps", "InferType"}, PassContext{});
  const Function* fused = nullptr;
  for (const Function& fn : m.functions)
    if (fn.primitive) fused = &fn;
  REQUIRE(fused);
  const auto dir = std::filesystem::temp_directory_path() / ("modelc_qnn_gpu_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto stmt = dir / "k.stmt";
  lower::compile_kernel_object(m, *fused, "k", lower::KernelTarget{"x86-64-linux-avx2-fma-sse41-cuda-cuda_capability_80"},
                               dir / "k.o", &stmt);
  std::ifstream in(stmt);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(dir);
  size_t launches = 0;
  for (size_t at = text.find("halide_cuda_run("); at != std::string::npos; at = text.find("halide_cuda_run(", at + 1)) ++launches;
  CHECK(launches == 2);
}

TEST_CASE("qnn.dense with a K tail and bias; u8 x u8 per-column zero points; batch_matmul") {
  check_exact(R"(
def @main(%x: Tensor[(3, 37), uint8], %w: Tensor[(19, 37), int8], %b: Tensor[(19), int32], %y: Tensor[(4, 5), uint8], %v: Tensor[(3, 5), uint8], %p: Tensor[(2, 3, 4, 6), int8], %q: Tensor[(3, 6, 5), uint8]) {
  %0 = qnn.dense(%x, %w, %b, input_zero_point=12, kernel_zero_point=[0]);
  %1 = qnn.requantize(%0, input_scale=[0.0007], input_zero_point=0, output_scale=0.1, output_zero_point=-5, axis=1, out_dtype=int8, out_min=-5, out_max=100);
  %2 = qnn.dense(%y, %v, input_zero_point=200, kernel_zero_point=[1, 2, 3]);
  %3 = qnn.batch_matmul(%p, %q, input_zero_point=-1, kernel_zero_point=[7]);
  (%1, %2, %3)
})");
}

// The weight in quads (AlterOpLayout's [K/4, N, 4]): the paired form over
// rows and the row dot products over two rows read it through its index.
TEST_CASE("qnn.dense with its weight in quads (KN4k), over rows and over two rows") {
  check_exact(R"(
def @main(%x: Tensor[(6, 40), uint8], %w: Tensor[(10, 19, 4), int8], %b: Tensor[(19), int32], %y: Tensor[(2, 40), uint8]) {
  %0 = qnn.dense(%x, %w, %b, input_zero_point=12, kernel_zero_point=[0], kernel_layout="KN4k");
  %1 = qnn.dense(%y, %w, input_zero_point=0, kernel_zero_point=[0], kernel_layout="KN4k");
  (%0, %1)
})");
}

// The same weights in pairs (KN2k, [K/2, N, 2]: what AlterOpLayout packs for
// AVX2 without VNNI, read as int16 pairs as they are), columns off the
// vectors, rows off the tile, an input zero point and kernel zero points per
// column, and over two rows (the row form reads them through their index);
// on AVX2 and on this host.
TEST_CASE("qnn.dense with its weight in pairs (KN2k)") {
  const std::string text = R"(
def @main(%x: Tensor[(13, 40), uint8], %w: Tensor[(20, 19, 2), int8], %b: Tensor[(19), int32], %y: Tensor[(2, 40), uint8], %z: Tensor[(6, 40), uint8]) {
  %0 = qnn.dense(%x, %w, %b, input_zero_point=12, kernel_zero_point=[0], kernel_layout="KN2k");
  %1 = qnn.dense(%y, %w, input_zero_point=0, kernel_zero_point=[0], kernel_layout="KN2k");
  %2 = qnn.dense(%z, %w, %b, input_zero_point=0, kernel_zero_point=[1, -2, 3, 0, 5, 6, -7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, -19], kernel_layout="KN2k");
  (%0, %1, %2)
})";
  for (const std::string target : {"x86-64-linux-avx-avx2-f16c-fma-sse41", "host"}) check_exact(text, 53, full_range_tensor, target);
}

// Fewer than four rows, uint8 x int8 [N, K] with no zero points (a
// classifier whose input zero point AlterOpLayout folded into its bias): on
// VNNI the row dot products take four K per lane and step (vpdpbusd), with
// K in whole steps of 64, with a tail, and shorter than one step; N off the
// blocks of four columns; one row of K 512 over 10 columns (four streams,
// the last clamped); the full byte ranges (255 x -128 products). The
// JIT has VNNI on Sapphire Rapids hosts only (lower::host_target); the
// artifact test in tests/driver/accuracy_test.cpp runs the form on Zen too.
TEST_CASE("qnn.dense over one and three rows as uint8 x int8 quads, K steps and tails") {
  const std::string text = R"(
def @main(%x: Tensor[(1, 200), uint8], %w: Tensor[(19, 200), int8], %b: Tensor[(19), int32], %y: Tensor[(3, 64), uint8], %v: Tensor[(6, 64), int8], %z: Tensor[(2, 37), uint8], %u: Tensor[(5, 37), int8], %p: Tensor[(1, 512), uint8], %q: Tensor[(10, 512), int8]) {
  %0 = qnn.dense(%x, %w, %b, input_zero_point=0, kernel_zero_point=[0]);
  %1 = qnn.dense(%y, %v, input_zero_point=0, kernel_zero_point=[0, 0, 0, 0, 0, 0]);
  %2 = qnn.dense(%z, %u, input_zero_point=0, kernel_zero_point=[0]);
  %3 = qnn.dense(%p, %q, input_zero_point=0, kernel_zero_point=[0]);
  (%0, %1, %2, %3)
})";
  for (const std::string target : {"x86-64-linux-avx-avx2-f16c-fma-sse41", "host"}) check_exact(text, 5, full_range_tensor, target);
}

TEST_CASE("qnn.quantize, qnn.dequantize per channel, qnn.add with broadcasting") {
  check_exact(R"(
def @main(%x: Tensor[(2, 3, 5), float32], %a: Tensor[(2, 3, 5), uint8], %b: Tensor[(3, 1), uint8], %i: Tensor[(2, 3, 5), int32]) {
  %0 = qnn.quantize(%x, scale=[0.03, 0.5, 0.001], zero_point=[128, 0, 255], axis=1, out_dtype=uint8);
  %1 = qnn.quantize(%x, scale=[0.02], zero_point=[-4], axis=1, out_dtype=int8);
  %2 = qnn.dequantize(%a, scale=[0.1, 0.2, 0.3], zero_point=[1, 2, 3], axis=1);
  %3 = qnn.add(%a, %b, lhs_scale=0.04, lhs_zero_point=10, rhs_scale=0.3, rhs_zero_point=100, output_scale=0.09, output_zero_point=20, out_dtype=uint8);
  %4 = qnn.requantize(%i, input_scale=[0.5], input_zero_point=3, output_scale=0.25, output_zero_point=0, axis=1, out_dtype=int32);
  (%0, %1, %2, %3, %4)
})");
}

// The x86 target without FMA: requantize to 8 bits takes its float64 form
// there (with FMA, the float32 one).
const std::string kWithoutFma = "x86-64-linux-sse41";

// To 8 bits from an int32 accumulator without a zero point, requantize runs
// in float32 with one fused multiply-add where the target has it, else in
// float64 (its operand clamped to where the output saturates, a range a
// narrower integer holds): scales that a narrower float holds exactly, and
// accumulators small enough to land inside the 8-bit range, ties included.
TEST_CASE("qnn.requantize to 8 bits in float32 and float64: power-of-two scales and ties") {
  for (const std::string target : {"host", kWithoutFma.c_str()})
    check_exact(R"(
def @main(%i: Tensor[(2, 3, 64), int32]) {
  %0 = qnn.requantize(%i, input_scale=[0.5], input_zero_point=0, output_scale=1.0, output_zero_point=7, axis=1, out_dtype=uint8);
  %1 = qnn.requantize(%i, input_scale=[0.25, 0.5, 0.125], input_zero_point=0, output_scale=1.0, output_zero_point=-3, axis=1, out_dtype=int8);
  (%0, %1)
})",
                7,
                [](const TensorType& type, std::mt19937& rng) {
                  Tensor t(type);
                  std::uniform_int_distribution<int> near(-600, 600);
                  for (size_t i = 0; i < static_cast<size_t>(type.element_count()); ++i) t.set_element(i, near(rng));
                  return t;
                },
                target);
}

// Scales whose float32 product with some accumulators rounds onto the
// wrong side of a half (found by search; e.g. 0.00711946680829 x -27179 is
// -193.4999999..., a float32 product rounds to -193.5 and then to -194):
// the float32 form is exact only when the multiply and the add are fused,
// which this checks, around those accumulators, in both forms. In the
// second requantize a channel's scale is so small that its in-range
// accumulators (about -2e7) pass 2^24, which float32 does not hold: it stays
// in float64 on every target.
TEST_CASE("qnn.requantize to 8 bits rounds the exact product where float32 products round wrong") {
  const int64_t centre[] = {-27179, -52538, -20000000, 0};
  const auto around = [&](const TensorType& type, std::mt19937&) {
    Tensor t(type);
    const auto n = static_cast<size_t>(type.element_count()), per = n / 4;
    for (size_t i = 0; i < n; ++i) t.set_element(i, static_cast<double>(centre[i / per] + static_cast<int64_t>(i % per) - 600));
    return t;
  };
  for (const std::string target : {"host", kWithoutFma.c_str()})
    check_exact(R"(
def @main(%i: Tensor[(1, 4, 1200), int32]) {
  %0 = qnn.requantize(%i, input_scale=[0.00711946680829, 0.00149415668779, 0.00711946680829, 0.00149415668779], input_zero_point=0, output_scale=1.0, output_zero_point=200, axis=1, out_dtype=uint8);
  %1 = qnn.requantize(%i, input_scale=[0.00711946680829, 0.00149415668779, 0.000005, 0.5], input_zero_point=0, output_scale=1.0, output_zero_point=0, axis=1, out_dtype=int8, out_min=-120, out_max=-60);
  (%0, %1)
})",
                7, around, target);
}

// qnn.add computes each rescaled term with one FMA in float32 where the
// target fuses them, in float64 where that is exact (and in int64 where not): ratios of scales that are powers of two make exact ties
// of both signs, which must round to even as the reference does; a ratio of
// 3e6 stays in float64, one of 5e6 (the int32 sum could overflow) does not;
// int8 and uint8 operands and outputs, clamps narrower than the type.
TEST_CASE("qnn.add rounds exact ties to even and keeps large ratios exact") {
  for (const std::string target : {"host", kWithoutFma.c_str()})
    check_exact(R"(
def @main(%a: Tensor[(2, 3, 37), uint8], %b: Tensor[(2, 3, 37), uint8], %c: Tensor[(2, 3, 37), int8]) {
  %0 = qnn.add(%a, %b, lhs_scale=0.5, lhs_zero_point=0, rhs_scale=0.25, rhs_zero_point=255, output_scale=1.0, output_zero_point=3, out_dtype=uint8);
  %1 = qnn.add(%a, %c, lhs_scale=0.125, lhs_zero_point=128, rhs_scale=0.5, rhs_zero_point=-7, output_scale=1.0, output_zero_point=-1, out_dtype=int8);
  %2 = qnn.add(%c, %c, lhs_scale=3000000.0, lhs_zero_point=0, rhs_scale=0.37, rhs_zero_point=5, output_scale=1.0, output_zero_point=0, out_dtype=int8);
  %3 = qnn.add(%c, %a, lhs_scale=5000000.0, lhs_zero_point=0, rhs_scale=0.37, rhs_zero_point=5, output_scale=1.0, output_zero_point=0, out_dtype=int8);
  %4 = qnn.add(%a, %b, lhs_scale=0.013, lhs_zero_point=117, rhs_scale=0.021, rhs_zero_point=3, output_scale=0.02, output_zero_point=9, out_dtype=uint8, out_min=40, out_max=200);
  (%0, %1, %2, %3, %4)
})",
                7, full_range_tensor, target);
}

// qnn.quantize of values that are not ordinary: NaN (the zero point, as
// the reference), infinities and values far past the 8-bit range (clamped),
// exact ties of x / scale (half to even), per tensor and per channel.
TEST_CASE("qnn.quantize of NaN, infinities, huge values and ties") {
  check_exact(R"(
def @main(%x: Tensor[(2, 3, 40), float32]) {
  %0 = qnn.quantize(%x, scale=[0.5], zero_point=[3], axis=1, out_dtype=uint8);
  %1 = qnn.quantize(%x, scale=[0.25, 2.0, 0.001], zero_point=[-7, 0, 100], axis=1, out_dtype=int8);
  %2 = qnn.quantize(%x, scale=[0.5], zero_point=[0], axis=1, out_dtype=int32);
  (%0, %1, %2)
})",
              7, [](const TensorType& type, std::mt19937& rng) {
                Tensor t(type);
                const float specials[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                                          -std::numeric_limits<float>::infinity(), 1e30f, -1e30f, 16777216.f, -16777217.f,
                                          0.25f, -0.25f, 0.75f, -0.75f, 1.25f, 63.75f, -64.25f};
                std::uniform_real_distribution<float> f(-80.f, 80.f);
                const size_t n = static_cast<size_t>(type.element_count());
                for (size_t i = 0; i < n; ++i)
                  t.set_element(i, i % 3 == 0 ? specials[(i / 3) % std::size(specials)] : f(rng));
                return t;
              });
}

// The quickstart CNN's first layer quantized (3 input channels, padded,
// per-channel requantize to uint8 with the default clamp, then dequantize):
// the whole int8 model disagreed with the reference interpreter.
TEST_CASE("qnn.conv2d with 3 input channels, requantize and dequantize fused") {
  check_exact(R"(
def @main(%x: Tensor[(1, 3, 32, 32), uint8], %w: Tensor[(16, 3, 3, 3), int8], %b: Tensor[(16), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1, input_zero_point=126, kernel_zero_point=[0]);
  %1 = qnn.requantize(%0, input_scale=[0.00012648656120730733, 0.00014914824762095148, 0.00013388787871041624, 0.00013196529642490608, 0.00013191857410439447, 0.0001237186570235402, 0.00010273399850835603, 9.969965098985944e-05, 9.410547717945199e-05, 0.00012141845050992922, 9.370635219348877e-05, 0.00010036897757310531, 0.00014473220171951103, 0.00012103108726258756, 0.00014496969644384335, 0.00014066283993119873], input_zero_point=0, output_scale=0.04192227101793476, output_zero_point=127, axis=1, out_dtype=uint8, out_min=-2147483647, out_max=2147483647);
  %2 = qnn.dequantize(%1, scale=[0.04192227101793476], zero_point=[127], axis=1);
  %2
})");
}

// Ratios of scales that are powers of two make every other value (or one in
// four, eight) an exact tie, positive and negative: rounding half to even
// must pick the even neighbour each time (the kernels round with an add and
// a shift, the reference with a compare). A multiplier past 2^23 (shift 1
// and a multiplier wider than 24 bits) to int32.
TEST_CASE("qnn.requantize rounds exact ties to even, positive and negative") {
  check_exact(R"(
def @main(%i: Tensor[(2, 3, 64), int32]) {
  %0 = qnn.requantize(%i, input_scale=[0.5], input_zero_point=0, output_scale=1.0, output_zero_point=0, axis=1, out_dtype=int32);
  %1 = qnn.requantize(%i, input_scale=[0.25, 0.5, 0.125], input_zero_point=-3, output_scale=1.0, output_zero_point=5, axis=1, out_dtype=int32);
  %2 = qnn.requantize(%i, input_scale=[0.5], input_zero_point=1, output_scale=4096.0, output_zero_point=0, axis=1, out_dtype=int8);
  %3 = qnn.requantize(%i, input_scale=[30000000.5, 0.25, 1.0], input_zero_point=0, output_scale=1.0, output_zero_point=0, axis=1, out_dtype=int32);
  (%0, %1, %2, %3)
})");
}

// The same with 8-bit outputs and no input zero point, which requantize in
// float64 (the accumulator clamped to where the output saturates): every
// accumulator from -600 to 599 per channel, so that ties (and the clamp's
// edges) come up in each channel, and the largest ones beyond.
TEST_CASE("qnn.requantize to 8 bits rounds exact ties to even in float64, and saturates") {
  const auto ramp = [](const TensorType& type, std::mt19937&) {
    Tensor t(type);
    const auto n = static_cast<size_t>(type.element_count());
    for (size_t i = 0; i < n; ++i)
      t.set_element(i, i + 2 < n ? static_cast<double>(static_cast<int64_t>(i % 1200) - 600)
                                 : (i + 2 == n ? 2147483647.0 : -2147483648.0));
    return t;
  };
  check_exact(R"(
def @main(%i: Tensor[(1, 4, 1200), int32]) {
  %0 = qnn.requantize(%i, input_scale=[0.5, 0.25, 0.125, 0.3333333], input_zero_point=0, output_scale=1.0, output_zero_point=-3, axis=1, out_dtype=int8);
  %1 = qnn.requantize(%i, input_scale=[0.75], input_zero_point=0, output_scale=1.5, output_zero_point=128, axis=1, out_dtype=uint8, out_min=130, out_max=250);
  (%0, %1)
})", 7, ramp);
}

// Max pooling of 8-bit integers (a quantized CNN's stem): padding never wins,
// rows wider than a vector and narrower ones, uint8 and int8.
TEST_CASE("nn.max_pool2d of uint8 and int8 values") {
  check_exact(R"(
def @main(%x: Tensor[(1, 3, 9, 70), uint8], %y: Tensor[(2, 2, 7, 5), int8]) {
  %0 = nn.max_pool2d(%x, pool_size=[3, 3], strides=[2, 2], padding=[1, 1, 1, 1], dilation=[1, 1]);
  %1 = nn.max_pool2d(%y, pool_size=[2, 3], strides=[1, 2], padding=[0, 1, 1, 1], dilation=[1, 1], ceil_mode=true);
  (%0, %1)
})");
  // Reads past the edges clamped (every window overlaps the input: rows of
  // two and three byte vectors, padding one short of the window) and not
  // (dilated windows, a last window of padding only under ceil_mode).
  check_exact(R"(
def @main(%x: Tensor[(1, 2, 6, 261), uint8], %y: Tensor[(1, 3, 11, 130), int8], %z: Tensor[(1, 2, 4, 4), uint8]) {
  %0 = nn.max_pool2d(%x, pool_size=[3, 3], strides=[2, 2], padding=[1, 1, 1, 1], dilation=[1, 1]);
  %1 = nn.max_pool2d(%y, pool_size=[3, 3], strides=[1, 1], padding=[2, 2, 2, 2], dilation=[1, 1]);
  %2 = nn.max_pool2d(%y, pool_size=[3, 3], strides=[2, 1], padding=[2, 2, 2, 2], dilation=[2, 2]);
  %3 = nn.max_pool2d(%z, pool_size=[2, 2], strides=[3, 3], padding=[0, 0, 2, 2], dilation=[1, 1], ceil_mode=true);
  (%0, %1, %2, %3)
})");
}

// Byte pairs (AVX2 without VNNI, weights of 7 bits: kernel_bits=7): each
// quads form of qnn.conv2d, on operands at the extremes half the time (inputs
// 255, weights -64 and 63: pair sums of -32640 and 32130, at the edge of
// int16), equals the reference: channels vectorized (rows narrower than a
// vector, tails), pixels vectorized with borders and a zero point, a strided
// stem (taps in quads), padded rows end to end, grouped, and pointwise inside
// a depthwise convolution.
TEST_CASE("qnn.conv2d in byte pairs (vpmaddubsw) with 7-bit weights at the int16 limits") {
  const auto extremes = [](const TensorType& type, std::mt19937& rng) {
    Tensor t(type);
    std::uniform_int_distribution<int> coin(0, 3), u8(0, 255), i7(-64, 63);
    for (size_t i = 0; i < static_cast<size_t>(type.element_count()); ++i) {
      const int c = coin(rng);
      if (type.dtype == DType::uint8) t.set_element(i, c < 2 ? 255 : u8(rng));
      else if (type.dtype == DType::int8) t.set_element(i, c == 0 ? -64 : c == 1 ? 63 : i7(rng));
      else t.set_element(i, std::uniform_int_distribution<int>(-4096, 4096)(rng));
    }
    return t;
  };
  const std::string requantize =
      "  %1 = qnn.requantize(%0, input_scale=[0.0001], input_zero_point=0, output_scale=1.5, output_zero_point=128, axis=1, "
      "out_dtype=uint8);\n  (%0, %1)\n}";
  const std::string cases[] = {
      // channels vectorized: rows of 14, 40 channels (a tail of the tile)
      R"(def @main(%x: Tensor[(1, 24, 3, 14), uint8], %w: Tensor[(6, 1, 1, 40, 4), int8], %b: Tensor[(40), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1, input_zero_point=0, kernel_zero_point=[0], kernel_layout="IHWO4i", kernel_bits=7);
)",
      // pixels vectorized, 3x3 with borders and an input zero point
      R"(def @main(%x: Tensor[(1, 8, 6, 21), uint8], %w: Tensor[(2, 3, 3, 20, 4), int8], %b: Tensor[(20), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[1, 2], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1, input_zero_point=9, kernel_zero_point=[0], kernel_layout="IHWO4i", kernel_bits=7);
)",
      // a stem: 3 channels, 7x7, stride 2 (a row's taps packed with the channels)
      R"(def @main(%x: Tensor[(1, 3, 9, 40), uint8], %w: Tensor[(16, 3, 7, 7), int8], %b: Tensor[(16), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[2, 2], padding=[3, 3, 3, 3], dilation=[1, 1], groups=1, input_zero_point=120, kernel_zero_point=[0], kernel_bits=7);
)",
      // padded rows laid end to end
      R"(def @main(%x: Tensor[(1, 12, 40, 37), uint8], %w: Tensor[(3, 3, 3, 20, 4), int8], %b: Tensor[(20), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[1, 1], padding=[1, 2, 1, 0], dilation=[1, 1], groups=1, input_zero_point=13, kernel_zero_point=[0], kernel_layout="IHWO4i", kernel_bits=7);
)",
      // channels vectorized, weights in blocks of 8 (OIHW8o4i): rows of 7, 3x3 with borders, and stride 2
      R"(def @main(%x: Tensor[(1, 16, 7, 7), uint8], %w: Tensor[(3, 4, 3, 3, 8, 4), int8], %b: Tensor[(24), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1, input_zero_point=9, kernel_zero_point=[0], kernel_layout="OIHW8o4i", kernel_bits=7);
)",
      R"(def @main(%x: Tensor[(1, 16, 14, 13), uint8], %w: Tensor[(2, 4, 3, 3, 8, 4), int8], %b: Tensor[(16), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[2, 2], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1, input_zero_point=0, kernel_zero_point=[0], kernel_layout="OIHW8o4i", kernel_bits=7);
)",
      // grouped: two groups of 8 channels
      R"(def @main(%x: Tensor[(1, 16, 9, 20), uint8], %w: Tensor[(24, 8, 3, 3), int8], %b: Tensor[(24), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=2, input_zero_point=5, kernel_zero_point=[0], kernel_bits=7);
)"};
  for (const std::string& text : cases) check_exact(text + requantize, 29, extremes, "x86-64-linux-avx-avx2-f16c-fma-sse41");
  // a dense layer over rows (weights in quads), columns off the vectors and rows off the tile, with and
  // without an input zero point (which then comes off the sums' start)
  for (const std::string zx : {"0", "9"})
    check_exact(R"(def @main(%x: Tensor[(13, 40), uint8], %w: Tensor[(10, 20, 4), int8], %b: Tensor[(20), int32]) {
  %0 = qnn.dense(%x, %w, %b, input_zero_point=)" + zx + R"(, kernel_zero_point=[0], kernel_layout="KN4k", kernel_bits=7);
)" + requantize, 41, extremes, "x86-64-linux-avx-avx2-f16c-fma-sse41");
  // pointwise computed inside the depthwise convolution that reads it
  check_exact(R"(
def @main(%x: Tensor[(1, 16, 12, 40), uint8], %w: Tensor[(4, 1, 1, 22, 4), int8], %b: Tensor[(22), int32], %d: Tensor[(22, 1, 3, 3), int8], %e: Tensor[(22), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1, input_zero_point=0, kernel_zero_point=[0], kernel_layout="IHWO4i", kernel_bits=7);
  %1 = qnn.requantize(%0, input_scale=[0.0003], input_zero_point=0, output_scale=0.05, output_zero_point=0, axis=1, out_dtype=uint8, out_min=0, out_max=120);
  %2 = qnn.conv2d(%1, %d, %e, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=22, input_zero_point=0, kernel_zero_point=[0], kernel_bits=7);
  %3 = qnn.requantize(%2, input_scale=[0.0004], input_zero_point=0, output_scale=0.03, output_zero_point=4, axis=1, out_dtype=uint8);
  %3
})", 31, extremes, "x86-64-linux-avx-avx2-f16c-fma-sse41");
  // depthwise: quads of a kernel row's taps over rows (stride 1 and 2), and over a whole 14 x 14 plane
  for (const std::string& dw : {std::string("(1, 24, 11, 30), uint8], %w: Tensor[(24, 1, 3, 3), int8]) {\n"
                                            "  %0 = qnn.conv2d(%x, %w, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=24"),
                                std::string("(1, 24, 11, 30), uint8], %w: Tensor[(24, 1, 3, 3), int8]) {\n"
                                            "  %0 = qnn.conv2d(%x, %w, strides=[2, 2], padding=[1, 0, 1, 1], dilation=[1, 1], groups=24"),
                                std::string("(1, 16, 14, 14), uint8], %w: Tensor[(16, 1, 5, 5), int8]) {\n"
                                            "  %0 = qnn.conv2d(%x, %w, strides=[1, 1], padding=[2, 2, 2, 2], dilation=[1, 1], groups=16")})
    check_exact("def @main(%x: Tensor[" + dw + ", input_zero_point=7, kernel_zero_point=[0], kernel_bits=7);\n" + requantize, 37,
                extremes, "x86-64-linux-avx-avx2-f16c-fma-sse41");
}

// 8-bit weights in blocks of pairs (OIHW8o2i: what AlterOpLayout packs for
// AVX2 without VNNI), read as they are and sign-extended into int16 pairs:
// rows of 7 with borders, a channel tail of the tile (24 = 3 blocks), wide
// rows, a strided 1x1 over 6 channels, a 7x7 stem over 3 channels (OIHW:
// taps packed in pairs), a kernel zero point per channel, and
// pointwise inside a depthwise convolution, on operands over their full
// ranges; on AVX2 and on this host (VNNI reads such a weight as pairs too).
TEST_CASE("qnn.conv2d with 8-bit weights in int16 pairs: blocks of pairs (OIHW8o2i), taps in pairs") {
  const std::string requantize =
      "  %1 = qnn.requantize(%0, input_scale=[0.0001], input_zero_point=0, output_scale=1.5, output_zero_point=128, axis=1, "
      "out_dtype=uint8);\n  (%0, %1)\n}";
  const std::string cases[] = {
      R"(def @main(%x: Tensor[(1, 16, 7, 7), uint8], %w: Tensor[(3, 8, 3, 3, 8, 2), int8], %b: Tensor[(24), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1, input_zero_point=9, kernel_zero_point=[0], kernel_layout="OIHW8o2i");
)",
      R"(def @main(%x: Tensor[(1, 8, 6, 21), uint8], %w: Tensor[(2, 4, 3, 3, 8, 2), int8], %b: Tensor[(16), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[1, 2], padding=[1, 0, 1, 2], dilation=[1, 1], groups=1, input_zero_point=0, kernel_zero_point=[0], kernel_layout="OIHW8o2i");
)",
      R"(def @main(%x: Tensor[(1, 6, 9, 26), uint8], %w: Tensor[(2, 3, 1, 1, 8, 2), int8]) {
  %0 = qnn.conv2d(%x, %w, strides=[2, 2], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1, input_zero_point=200, kernel_zero_point=[0], kernel_layout="OIHW8o2i");
)",
      // a stem (OIHW, 3 channels, 7x7, stride 2): a row's taps packed with the channels in pairs
      R"(def @main(%x: Tensor[(1, 3, 9, 40), uint8], %w: Tensor[(16, 3, 7, 7), int8], %b: Tensor[(16), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[2, 2], padding=[3, 3, 3, 3], dilation=[1, 1], groups=1, input_zero_point=120, kernel_zero_point=[0]);
)",
      R"(def @main(%x: Tensor[(1, 4, 5, 12), uint8], %w: Tensor[(2, 2, 3, 3, 8, 2), int8], %b: Tensor[(16), int32]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[2, 1], groups=1, input_zero_point=3, kernel_zero_point=[0, 1, -2, 3, 4, 5, 6, 7, -8, 9, 10, 11, 12, 13, 14, -15], kernel_layout="OIHW8o2i");
)"};
  for (const std::string& text : cases)
    for (const std::string target : {"x86-64-linux-avx-avx2-f16c-fma-sse41", "host"}) check_exact(text + requantize, 43, full_range_tensor, target);
  const std::string fused = R"(
def @main(%x: Tensor[(1, 16, 12, 40), uint8], %w: Tensor[(3, 8, 1, 1, 8, 2), int8], %b: Tensor[(24), int32], %d: Tensor[(24, 1, 3, 3), int8]) {
  %0 = qnn.conv2d(%x, %w, %b, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1, input_zero_point=0, kernel_zero_point=[0], kernel_layout="OIHW8o2i");
  %1 = qnn.requantize(%0, input_scale=[0.0003], input_zero_point=0, output_scale=0.05, output_zero_point=0, axis=1, out_dtype=uint8, out_min=0, out_max=120);
  %2 = qnn.conv2d(%1, %d, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=24, input_zero_point=0, kernel_zero_point=[0]);
  %3 = qnn.requantize(%2, input_scale=[0.0004], input_zero_point=0, output_scale=0.03, output_zero_point=4, axis=1, out_dtype=uint8);
  %3
})";
  for (const std::string target : {"x86-64-linux-avx-avx2-f16c-fma-sse41", "host"}) check_exact(fused, 47, full_range_tensor, target);
}

// Which targets multiply int8 with an 8-bit dot product (the artifact builder
// warns for int8 models on CPUs without one: targets/artifact.cpp).
TEST_CASE("int8 dot products: VNNI, Arm's dot-product extension, AMX tiles") {
  CHECK(lower::has_int8_dot_product(lower::KernelTarget{"x86-64-linux-avx512_sapphirerapids-avx512-avx2-fma-sse41"}));
  CHECK(lower::has_int8_dot_product(lower::KernelTarget{"arm-64-linux-arm_dot_prod"}));
  CHECK_FALSE(lower::has_int8_dot_product(lower::KernelTarget{"arm-64-linux"}));
  CHECK_FALSE(lower::has_int8_dot_product(lower::KernelTarget{"x86-64-linux-avx512_skylake-avx512-avx2-fma-sse41"}));
  CHECK_FALSE(lower::has_int8_dot_product(lower::KernelTarget{"x86-64-linux-avx2-fma-sse41"}));
  lower::KernelTarget tiles{"x86-64-linux-avx2-fma-sse41"};
  tiles.amx = true;
  CHECK(lower::has_int8_dot_product(tiles));
  // Without one, x86 with AVX2 multiplies 7-bit weights in byte pairs (vpmaddubsw).
  CHECK(lower::has_int8_byte_pairs(lower::KernelTarget{"x86-64-linux-avx2-fma-sse41"}));
  CHECK(lower::has_int8_byte_pairs(lower::KernelTarget{"x86-64-linux-avx512_skylake-avx512-avx2-fma-sse41"}));
  CHECK_FALSE(lower::has_int8_byte_pairs(lower::KernelTarget{"x86-64-linux-sse41"}));
  CHECK_FALSE(lower::has_int8_byte_pairs(lower::KernelTarget{"x86-64-linux-avx512_sapphirerapids-avx512-avx2-fma-sse41"}));
  CHECK_FALSE(lower::has_int8_byte_pairs(lower::KernelTarget{"arm-64-linux"}));
}
