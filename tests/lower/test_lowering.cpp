// Every op's lowering against its lang/ reference kernel, in the spirit of
// ggml's test-backend-ops: small graphs with random inputs, fused as the
// compiler would fuse them, each primitive function compiled with Halide's JIT
// for this machine and compared element by element.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "lang/interpreter.h"
#include "lang/pass.h"
#include "lang/text.h"
#include "lower/lowering.h"
#include "tests/lower/jit_check.h"
#include "lower/memory_plan.h"

using namespace modelc;
using namespace modelc::lang;

namespace {

// Every primitive function of the fused module against the reference.
// Tolerance: float32 kernels reassociate sums (vectorized partial sums), so
// allow 1e-4 relative plus 1e-5 absolute per element.
void check_against_reference(const std::string& text) {
  CAPTURE(text);
  Module m = parse_module(text, "case.ir");
  PassContext ctx;
  m = run_passes(m, {"InferType", "FuseOps", "InferType"}, ctx);
  CHECK(test::check_primitives_against_reference(m, 1e-4, 1e-5, 42) > 0);
}

}  // namespace

TEST_CASE("every op registered in lang/ has a lowering") {
  CHECK(lower::ops_without_lowering() == std::vector<std::string>{});
}

TEST_CASE("conv2d + bias + relu, padded and strided") {
  check_against_reference(R"(
const @w : Tensor[(24, 3, 3, 3), float32] = elided("0")
def @main(%x: Tensor[(1, 3, 19, 21), float32], %w: Tensor[(24, 3, 3, 3), float32], %b: Tensor[(24), float32]) {
  %0 = nn.conv2d(%x, %w, strides=[2, 2], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %1 = nn.bias_add(%0, %b, axis=1);
  %2 = nn.relu(%1);
  %2
})");
}

TEST_CASE("depthwise and grouped conv2d with dilation, residual add") {
  check_against_reference(R"(
def @main(%x: Tensor[(1, 8, 10, 10), float32], %w: Tensor[(8, 1, 3, 3), float32], %g: Tensor[(6, 4, 1, 1), float32], %y: Tensor[(1, 8, 10, 10), float32]) {
  %0 = nn.conv2d(%x, %w, strides=[1, 1], padding=[2, 2, 2, 2], dilation=[2, 2], groups=8);
  %1 = add(%0, %y);
  %2 = clip(%1, a_min=0.0, a_max=6.0);
  %3 = nn.conv2d(%2, %g, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=2);
  %3
})");
}

TEST_CASE("dense with a K tail, bias, activations") {
  check_against_reference(R"(
def @main(%x: Tensor[(2, 37), float32], %w: Tensor[(10, 37), float32], %b: Tensor[(10), float32]) {
  %0 = nn.dense(%x, %w);
  %1 = nn.bias_add(%0, %b, axis=1);
  %2 = sigmoid(%1);
  %3 = nn.softmax(%2, axis=-1);
  %3
})");
}

// One row of x reads its weights as four streams a quarter of N apart
// (DotColumns): N a multiple of four (1000), N = 7 (the last stream's last
// column clamped and recomputed), 37 with bias and ReLU, a single column
// (no streams), K with a tail; beside them two rows (blocks of adjacent
// columns) over the same weight.
TEST_CASE("dense over one row: four weight streams, clamped last columns, K tails") {
  check_against_reference(R"(
def @main(%a: Tensor[(1, 64), float32], %wa: Tensor[(7, 64), float32], %b: Tensor[(1, 192), float32], %wb: Tensor[(1, 192), float32], %c: Tensor[(1, 1280), float32], %wc: Tensor[(37, 1280), float32], %bc: Tensor[(37), float32], %d: Tensor[(2, 64), float32], %e: Tensor[(1, 37), float32], %we: Tensor[(1000, 37), float32]) {
  %0 = nn.dense(%a, %wa);
  %1 = nn.dense(%b, %wb);
  %2 = nn.dense(%c, %wc);
  %3 = nn.bias_add(%2, %bc, axis=1);
  %4 = nn.relu(%3);
  %5 = nn.dense(%d, %wa);
  %6 = nn.dense(%e, %we);
  (%0, %1, %4, %5, %6)
})");
}

// Softmax along the innermost axis runs row by row with vector partial
// maxima and sums: rows narrower than a vector, a whole vector, with a tail
// and long; inputs scaled up 8x (the maximum must be subtracted), a fused
// producer, a rank-1 input; along another axis it keeps the general rule.
TEST_CASE("softmax by rows and along other axes") {
  check_against_reference(R"(
def @main(%a: Tensor[(2, 3, 3), float32], %b: Tensor[(5, 8), float32], %c: Tensor[(2, 3, 37), float32], %d: Tensor[(1, 2, 3, 196), float32], %e: Tensor[(11), float32]) {
  %0 = nn.softmax(%a, axis=-1);
  %1 = nn.softmax(%b, axis=1);
  %2 = add(%c, %c);
  %3 = add(%2, %2);
  %4 = add(%3, %3);
  %5 = nn.softmax(%4, axis=2);
  %6 = nn.softmax(%d, axis=-1);
  %7 = nn.softmax(%e, axis=0);
  %8 = nn.softmax(%c, axis=1);
  (%0, %1, %5, %6, %7, %8)
})");
}

TEST_CASE("pooling: max with padding and ceil_mode, average with and without pad counting, global") {
  check_against_reference(R"(
def @main(%x: Tensor[(1, 4, 9, 9), float32]) {
  %0 = nn.max_pool2d(%x, pool_size=[3, 3], strides=[2, 2], padding=[1, 1, 1, 1], dilation=[1, 1], ceil_mode=true, count_include_pad=false);
  %1 = nn.avg_pool2d(%x, pool_size=[3, 3], strides=[2, 2], padding=[1, 1, 1, 1], dilation=[1, 1], ceil_mode=false, count_include_pad=true);
  %2 = nn.avg_pool2d(%x, pool_size=[2, 2], strides=[2, 2], padding=[0, 0, 1, 1], dilation=[1, 1], ceil_mode=true, count_include_pad=false);
  %3 = nn.global_avg_pool2d(%x);
  (%0, %1, %2, %3)
})");
}

// Float max pooling in NCHW (a row buffer holding the lowest value over the
// padding, lower/ops/nn.cpp): rows of one vector and a tail, of less than a
// vector, of several; windows whose rows are clamped (every window overlaps
// the input) and not (dilated rows whose first window's clamped row is not
// in it, a last window of padding only under ceil_mode); strides 1, 2 and 3;
// a 1-D pool of 4 over 1000 columns (whose shifted-in last vector Halide 14
// read from the row buffer with a misaligned aligned load: a crash whenever
// the stack was not 64-byte aligned).
TEST_CASE("float max pooling in NCHW: padding, dilation, ceil_mode, narrow and wide rows") {
  check_against_reference(R"(
def @main(%x: Tensor[(1, 3, 14, 28), float32], %y: Tensor[(2, 2, 11, 5), float32], %z: Tensor[(1, 2, 4, 70), float32],
          %w: Tensor[(1, 4, 1, 1000), float32]) {
  %0 = nn.max_pool2d(%x, pool_size=[3, 3], strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1]);
  %1 = nn.max_pool2d(%x, pool_size=[3, 3], strides=[2, 2], padding=[1, 1, 1, 1], dilation=[1, 1], ceil_mode=true);
  %2 = nn.max_pool2d(%y, pool_size=[3, 3], strides=[2, 1], padding=[2, 2, 2, 2], dilation=[2, 2]);
  %3 = nn.max_pool2d(%y, pool_size=[2, 3], strides=[1, 2], padding=[1, 1, 1, 1], dilation=[2, 1]);
  %4 = nn.max_pool2d(%z, pool_size=[2, 2], strides=[3, 3], padding=[0, 0, 2, 2], dilation=[1, 1], ceil_mode=true);
  %5 = nn.max_pool2d(%w, pool_size=[1, 4], strides=[1, 4], padding=[0, 0, 0, 0], dilation=[1, 1]);
  (%0, %1, %2, %3, %4, %5)
})");
}

TEST_CASE("elementwise, broadcasting and unary math") {
  check_against_reference(R"(
def @main(%a: Tensor[(2, 3, 4), float32], %b: Tensor[(3, 1), float32], %c: Tensor[(4), float32]) {
  %0 = add(%a, %b);
  %1 = multiply(%0, %c);
  %2 = subtract(%1, %a);
  %3 = divide(%2, %c);
  %4 = maximum(%3, %b);
  %5 = minimum(%4, %a);
  %6 = tanh(%5);
  %7 = exp(%6);
  %8 = log(%7);
  %9 = abs(%8);
  %10 = sqrt(%9);
  %11 = negative(%10);
  %12 = erf(%11);
  %13 = nn.leaky_relu(%12, alpha=0.2);
  %14 = power(%9, %c);
  %15 = nn.batch_norm(%a, %c, %c, %c, %c, axis=2, epsilon=1.5);
  (%13, %14, %15)
})");
}

TEST_CASE("unary math and activations") {
  check_against_reference(R"(
def @main(%a: Tensor[(2, 3, 9), float32]) {
  %0 = floor(%a);
  %1 = ceil(%a);
  %2 = round(%a);
  %3 = reciprocal(%a);
  %4 = sin(%a);
  %5 = cos(%a);
  %6 = tan(%a);
  %7 = asin(%a);
  %8 = acos(%a);
  %9 = atan(%a);
  %10 = sinh(%a);
  %11 = cosh(%a);
  %12 = asinh(%a);
  %13 = abs(%a);
  %14 = add(%13, %11);
  %15 = acosh(%14);
  %16 = atanh(%a);
  %17 = nn.softplus(%a);
  %18 = nn.softsign(%a);
  %19 = nn.hard_swish(%a);
  %20 = sign(%a);
  %21 = nn.elu(%a, alpha=0.5, beta=0.0);
  %22 = nn.celu(%a, alpha=2.0, beta=0.0);
  %23 = nn.selu(%a, alpha=1.6732632, beta=1.050701);
  %24 = nn.hard_sigmoid(%a, alpha=0.2, beta=0.5);
  %25 = nn.thresholded_relu(%a, alpha=0.1, beta=0.0);
  %26 = nn.shrink(%a, alpha=0.3, beta=0.1);
  (%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %12, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26)
})");
}

TEST_CASE("comparisons, logic, select, casts and integer arithmetic") {
  check_against_reference(R"(
def @main(%a: Tensor[(4, 6), float32], %b: Tensor[(6), float32], %i: Tensor[(4, 6), int64], %j: Tensor[(4, 1), int64], %u: Tensor[(4, 6), uint8], %s: Tensor[(6), uint8]) {
  %0 = less(%a, %b);
  %1 = greater_equal(%a, %b);
  %2 = logical_xor(%0, %1);
  %3 = logical_not(%2);
  %4 = logical_or(%3, %0);
  %5 = logical_and(%4, %1);
  %6 = where(%5, %a, %b);
  %7 = equal(%i, %j);
  %8 = not_equal(%i, %j);
  %9 = less_equal(%i, %j);
  %10 = greater(%a, %b);
  %11 = cast(%a, dtype=int32);
  %12 = cast(%i, dtype=float32);
  %13 = cast(%a, dtype=bool);
  %14 = floor_mod(%i, %j);
  %15 = trunc_mod(%i, %j);
  %16 = floor_mod(%a, %b);
  %17 = trunc_mod(%a, %b);
  %18 = power(%a, %i);
  %19 = nn.prelu(%a, %b);
  %20 = clip(%i, a_min=-3.0, a_max=4.0);
  %21 = sign(%i);
  %22 = left_shift(%u, %s);
  %23 = right_shift(%u, %s);
  %24 = isnan(%12);
  %25 = isinf(%17, detect_positive=true, detect_negative=false);
  (%24, %25, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23)
})");
}

// NaN made inside a kernel (the square root of a negative input, half of
// them) and told there: Halide compiles float math with LLVM's no-NaNs flag,
// under which LLVM folded Halide::is_nan of a computed value to false on an
// AVX2 host (AMD Zen 3): isnan said false, and qnn.quantize sent NaN to 255.
TEST_CASE("isnan and quantize of NaN computed in the same kernel") {
  check_against_reference(R"(
def @main(%a: Tensor[(4, 37), float32], %b: Tensor[(37), float32]) {
  %0 = sqrt(%a);
  %1 = isnan(%0);
  %2 = multiply(%0, %b);
  %3 = qnn.quantize(%2, scale=[0.5], zero_point=[3], axis=1, out_dtype=uint8);
  (%1, %3)
})");
}

// Reshape maps groups of axes whose products agree: kept axes (a channel
// shuffle's H and W), splits, merges, axes of extent 1 on either side, and
// shapes with no common cut (one group).
TEST_CASE("reshape by groups of axes") {
  check_against_reference(R"(
def @main(%x: Tensor[(1, 6, 4, 9), float32], %a: Tensor[(4, 1, 3), float32], %b: Tensor[(2, 3), float32]) {
  %0 = reshape(%x, newshape=[1, 2, 3, 4, 9]);
  %1 = transpose(%0, axes=[0, 2, 1, 3, 4]);
  %2 = reshape(%1, newshape=[1, 6, 4, 9]);
  %3 = reshape(%x, newshape=[6, 36]);
  %4 = reshape(%x, newshape=[1, 1, 24, 3, 3, 1]);
  %5 = reshape(%a, newshape=[2, 2, 3, 1]);
  %6 = reshape(%a, newshape=[1, 12]);
  %7 = reshape(%b, newshape=[3, 2]);
  %8 = reshape(%x, newshape=[3, 2, 6, 6]);
  (%2, %3, %4, %5, %6, %7, %8)
})");
}

TEST_CASE("data movement and reductions") {
  check_against_reference(R"(
def @main(%a: Tensor[(2, 3, 4), float32], %b: Tensor[(2, 5, 4), float32]) {
  %0 = reshape(%a, newshape=[4, -1]);
  %1 = transpose(%a, axes=[2, 0, 1]);
  %2 = concatenate(%a, %b, %a, axis=1);
  %3 = sum(%a, axes=[1], keepdims=true);
  %4 = mean(%b, axes=[0, 2], keepdims=false);
  %5 = max(%a, axes=[], keepdims=false);
  %6 = min(%a, axes=[-1], keepdims=true);
  %7 = prod(%a, axes=[0], keepdims=false);
  (%0, %1, %2, %3, %4, %5, %6, %7)
})");
}

// Float reductions whose axes include the innermost one, over rows of a
// vector or more: partial results in lanes side by side, rows of 45 (one
// vector's lanes, a tail) and 200 (four vectors', a tail), axes that are and
// are not a suffix, with and without keepdims, and every axis (a scalar).
TEST_CASE("reductions over contiguous rows") {
  check_against_reference(R"(
def @main(%a: Tensor[(2, 3, 37, 45), float32], %b: Tensor[(3, 200), float32]) {
  %0 = mean(%a, axes=[2, 3], keepdims=true);
  %1 = sum(%a, axes=[1, 3], keepdims=false);
  %2 = max(%b, axes=[-1], keepdims=false);
  %3 = min(%a, axes=[3], keepdims=true);
  %4 = max(%b, axes=[], keepdims=false);
  %5 = mean(%b, axes=[1], keepdims=true);
  %6 = sqrt(%5);
  (%0, %1, %2, %3, %4, %6)
})");
}

// Float reductions that keep the innermost axis and reduce the one outside
// it (a blocked layout's mean over H x W; column sums): partial results
// along the reduced axis, the kept one in vector lanes; reduced extents the
// four partials do not divide, kept extents of 16, 20 and 5 lanes.
TEST_CASE("reductions that keep the innermost axis") {
  check_against_reference(R"(
def @main(%a: Tensor[(2, 3, 37, 11, 16), float32], %b: Tensor[(45, 20), float32], %c: Tensor[(3, 7, 9, 5), float32]) {
  %0 = mean(%a, axes=[2, 3], keepdims=true);
  %1 = multiply(%0, %0);
  %2 = sqrt(%1);
  %3 = sum(%b, axes=[0], keepdims=false);
  %4 = max(%c, axes=[1, 2], keepdims=false);
  %5 = min(%c, axes=[2], keepdims=true);
  (%2, %3, %4, %5)
})");
}

// The attention-shaped product ([1, heads, M, K] x [1, heads, K, N], over a
// million multiply-adds) runs in parallel over both batch axes fused.
TEST_CASE("batched matmul with broadcast batch axes, strided slices") {
  check_against_reference(R"(
def @main(%a: Tensor[(2, 3, 5, 7), float32], %b: Tensor[(3, 7, 19), float32], %c: Tensor[(6, 9, 4), float32], %q: Tensor[(1, 6, 80, 32), float32], %k: Tensor[(1, 6, 32, 80), float32]) {
  %0 = nn.batch_matmul(%a, %b);
  %1 = strided_slice(%c, begin=[1, -1], end=[5, 0], axes=[0, 1], strides=[2, -3]);
  %2 = strided_slice(%c, begin=[2], end=[100], axes=[2], strides=[]);
  %3 = nn.batch_matmul(%q, %k);
  (%0, %1, %2, %3)
})");
}

// Products over weights in panels (PackMatmulWeights): one vector per panel
// (c = 16 with AVX-512), column blocks the panels do not divide evenly (48
// columns), rows past a whole tile, a batched input with a fused epilogue, a
// panel narrower than the vector (c = 4), and few rows over many columns.
TEST_CASE("matmul over a weight packed in panels") {
  check_against_reference(R"(
def @main(%x: Tensor[(2, 37, 19), float32], %w: Tensor[(3, 19, 16), float32], %b: Tensor[(48), float32], %y: Tensor[(5, 24), float32], %v: Tensor[(8, 24, 4), float32], %z: Tensor[(1, 2, 7, 64), float32], %u: Tensor[(64, 64, 16), float32]) {
  %0 = nn.packed_matmul(%x, %w);
  %1 = nn.bias_add(%0, %b, axis=2);
  %2 = nn.relu(%1);
  %3 = nn.packed_matmul(%y, %v);
  %4 = nn.packed_matmul(%z, %u);
  (%2, %3, %4)
})");
}

TEST_CASE("gathers, broadcasts, padding, triangles and resizing") {
  check_against_reference(R"(
def @main(%a: Tensor[(3, 5, 4), float32], %i: Tensor[(2, 3), int64], %e: Tensor[(3, 2, 4), int64], %s: Tensor[(1, 5, 1), float32], %img: Tensor[(1, 2, 5, 6), float32]) {
  %0 = take(%a, %i, axis=1);
  %1 = gather_elements(%a, %e, axis=1);
  %2 = broadcast_to(%s, shape=[2, 1, 5, 3]);
  %3 = tile(%a, reps=[2, 1, 3]);
  %4 = nn.pad(%a, pad_width=[1, 0, 2, 0, 3, -1], mode="constant", pad_value=1.5);
  %5 = nn.pad(%a, pad_width=[0, 2, 1, 0, 1, 3], mode="reflect", pad_value=0.0);
  %6 = nn.pad(%a, pad_width=[2, 1, 0, 1, 0, 2], mode="edge", pad_value=0.0);
  %7 = trilu(%a, upper=true, k=1);
  %8 = trilu(%a, upper=false, k=-1);
  %9 = image.resize(%img, size=[1, 2, 10, 9], scales=[1.0, 1.0, 2.0, 1.5], mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor", cubic_coeff_a=-0.75, exclude_outside=false);
  %10 = image.resize(%img, size=[1, 2, 3, 13], scales=[0.0, 0.0, 0.0, 0.0], mode="linear", coordinate_transformation_mode="half_pixel", nearest_mode="round_prefer_floor", cubic_coeff_a=-0.75, exclude_outside=false);
  %11 = image.resize(%img, size=[1, 2, 8, 8], scales=[1.0, 1.0, 1.6, 1.3333], mode="cubic", coordinate_transformation_mode="align_corners", nearest_mode="round_prefer_floor", cubic_coeff_a=-0.5, exclude_outside=true);
  (%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11)
})");
}

TEST_CASE("arg reductions, running sums and top-k") {
  check_against_reference(R"(
def @main(%a: Tensor[(3, 7, 4), float32], %i: Tensor[(5, 6), int64]) {
  %0 = argmax(%a, axis=1, keepdims=true, select_last_index=false);
  %1 = argmin(%a, axis=-1, keepdims=false, select_last_index=false);
  %2 = argmax(%i, axis=1, keepdims=false, select_last_index=true);
  %3 = argmin(%i, axis=0, keepdims=true, select_last_index=true);
  %4 = cumsum(%a, axis=1, exclusive=false, reverse=false);
  %5 = cumsum(%i, axis=1, exclusive=true, reverse=true);
  %6 = topk(%a, k=3, axis=1, largest=true, ret_type="values");
  %7 = topk(%a, k=2, axis=-1, largest=false, ret_type="indices");
  %8 = topk(%i, k=4, axis=1, largest=true, ret_type="indices");
  (%0, %1, %2, %3, %4, %5, %6, %7, %8)
})");
}

TEST_CASE("transposed, 3-D and 1-D-as-2-D windows") {
  check_against_reference(R"(
def @main(%x: Tensor[(1, 4, 5, 6), float32], %w: Tensor[(4, 3, 3, 2), float32], %v: Tensor[(2, 4, 4, 5, 3), float32], %k: Tensor[(6, 2, 2, 3, 2), float32]) {
  %0 = nn.conv2d_transpose(%x, %w, strides=[2, 3], padding=[1, 0, 0, 1], dilation=[1, 2], output_padding=[1, 0], groups=2);
  %1 = nn.relu(%0);
  %2 = nn.conv3d(%v, %k, strides=[1, 2, 1], padding=[1, 0, 1, 0, 1, 1], dilation=[1, 1, 2], groups=2);
  %3 = nn.max_pool3d(%v, pool_size=[2, 3, 2], strides=[2, 1, 2], padding=[0, 1, 1, 1, 1, 0], dilation=[1, 1, 1], ceil_mode=true, count_include_pad=false);
  %4 = nn.avg_pool3d(%v, pool_size=[3, 2, 2], strides=[1, 2, 1], padding=[1, 0, 1, 1, 1, 0], dilation=[1, 1, 1], ceil_mode=false, count_include_pad=true);
  (%1, %2, %3, %4)
})");
}

// Wider transposed convolutions take the tiled two-stage schedule with whole
// vectors (widths 12 and 19: the last vector shifted inwards): U-Net's 2x2
// stride 2, a GAN's 4x4 stride 2 pad 1 (taps beyond the register budget),
// and a 3x3 stride 2 with output padding.
TEST_CASE("transposed convolutions wider than a vector") {
  check_against_reference(R"(
def @main(%x: Tensor[(1, 8, 5, 12), float32], %w: Tensor[(8, 6, 2, 2), float32], %y: Tensor[(1, 4, 7, 19), float32], %k: Tensor[(4, 5, 4, 4), float32], %j: Tensor[(4, 4, 3, 3), float32]) {
  %0 = nn.conv2d_transpose(%x, %w, strides=[2, 2], padding=[0, 0, 0, 0], dilation=[1, 1], output_padding=[0, 0], groups=1);
  %1 = nn.conv2d_transpose(%y, %k, strides=[2, 2], padding=[1, 1, 1, 1], dilation=[1, 1], output_padding=[0, 0], groups=1);
  %2 = nn.conv2d_transpose(%y, %j, strides=[2, 2], padding=[1, 1, 1, 1], dilation=[1, 1], output_padding=[1, 1], groups=1);
  (%0, %1, %2)
})");
}

TEST_CASE("log_softmax and layer_norm") {
  check_against_reference(R"(
def @main(%x: Tensor[(2, 5, 8), float32], %g: Tensor[(8), float32], %b: Tensor[(5, 8), float32]) {
  %0 = nn.log_softmax(%x, axis=1);
  %1 = nn.layer_norm(%x, %g, %b, axis=-1, epsilon=1e-05);
  %2 = nn.layer_norm(%x, %g, %b, axis=1, epsilon=0.01);
  (%0, %1, %2)
})");
}

TEST_CASE("memory plan reuses memory of dead tensors") {
  Module m = parse_module(R"(
def @main(%x: Tensor[(1, 1024), float32]) {
  %0 = nn.relu(%x);
  %1 = sigmoid(%0);
  %2 = tanh(%1);
  %3 = exp(%2);
  %3
})", "plan.ir");
  m = infer_type(m, {});
  const lower::MemoryPlan plan = lower::plan_memory(m);
  // %0..%2 are intermediates, at most two live at once; %3 is the output.
  CHECK(plan.arena_bytes == 2 * 4096);
  CHECK(plan.unshared_bytes == 3 * 4096);
  CHECK(plan.bindings[3][0].storage == lower::TensorPlacement::Storage::output);
  CHECK(plan.bindings[0][0].offset != plan.bindings[1][0].offset);
  CHECK(plan.bindings[0][0].offset == plan.bindings[2][0].offset);
}

TEST_CASE("memory plan: a concatenation along channels of a batch of one takes its operands' memory") {
  Module m = parse_module(R"(
def @cat(%p0: Tensor[(1, 2, 4, 4, 8), float32], %p1: Tensor[(1, 1, 4, 4, 8), float32]) -> Tensor[(1, 3, 4, 4, 8), float32] primitive {
  %0 = concatenate(%p0, %p1, axis=1);
  %0
}

def @cat_w(%p0: Tensor[(1, 2, 4, 4, 8), float32], %p1: Tensor[(1, 2, 4, 4, 8), float32]) -> Tensor[(1, 2, 4, 8, 8), float32] primitive {
  %0 = concatenate(%p0, %p1, axis=3);
  %0
}

def @main(%x: Tensor[(1, 2, 4, 4, 8), float32], %y: Tensor[(1, 1, 4, 4, 8), float32]) {
  %0 = nn.relu(%x);
  %1 = sigmoid(%y);
  %2 = exp(%0);
  %3 = @cat(%0, %1);
  %4 = tanh(%3);
  %5 = @cat(%x, %1);
  %6 = @cat_w(%0, %2);
  %7 = add(%4, %4);
  %8 = exp(%5);
  %9 = exp(%6);
  (%7, %8, %9)
})", "plan.ir");
  m = infer_type(m, {});
  const lower::MemoryPlan copied = lower::plan_memory(m);
  CHECK(std::none_of(copied.in_place.begin(), copied.in_place.end(), [](bool b) { return b; }));
  const lower::MemoryPlan plan = lower::plan_memory(m, 64, true);
  // %3 concatenates %0 and %1 in place: they are its slices, and its block
  // is live from %0's producer on, so %2 (live beside %0) lies elsewhere.
  CHECK(plan.in_place[3]);
  CHECK(plan.bindings[0][0].offset == plan.bindings[3][0].offset);
  CHECK(plan.bindings[1][0].offset == plan.bindings[3][0].offset + 1024);
  CHECK(plan.bindings[3][0].first_use == 0);
  const size_t lo = plan.bindings[3][0].offset, hi = lo + 1536;
  for (size_t i : {2, 4}) CHECK((plan.bindings[i][0].offset >= hi || plan.bindings[i][0].offset + plan.bindings[i][0].bytes <= lo));
  // %5 reads a parameter and %1, already taken; %6 joins along an axis
  // with a non-unit axis before it: both stay copies.
  CHECK(!plan.in_place[5]);
  CHECK(!plan.in_place[6]);
  CHECK(lower::print_memory_plan(m, plan).find("(concatenated in place)") != std::string::npos);
}

TEST_CASE("memory plan: each result of a call has its own slot, live until its own last use") {
  Module m = parse_module(R"(
def @pair(%x: Tensor[(1, 1024), float32]) -> (Tensor[(1, 1024), float32], Tensor[(1, 1024), float32]) primitive {
  %0 = nn.relu(%x) : Tensor[(1, 1024), float32];
  %1 = sigmoid(%0) : Tensor[(1, 1024), float32];
  (%0, %1)
}

def @main(%x: Tensor[(1, 1024), float32]) {
  %0 = @pair(%x);
  %1 = tanh(%0.1);
  %2 = exp(%1);
  %3 = add(%2, %0.0);
  %4 = @pair(%3);
  (%4.1, %4.0)
})", "plan.ir");
  m = infer_type(m, {});
  const lower::MemoryPlan plan = lower::plan_memory(m);
  // %0.0 lives until %3, %0.1 until %1: the two outputs of %0 never share,
  // and %2 reuses %0.1's slot. The outputs of %4 are the model's, swapped.
  CHECK(plan.bindings[0].size() == 2);
  CHECK(plan.bindings[0][0].last_use == 3);
  CHECK(plan.bindings[0][1].last_use == 1);
  CHECK(plan.bindings[0][0].offset != plan.bindings[0][1].offset);
  CHECK(plan.bindings[2][0].offset == plan.bindings[0][1].offset);
  CHECK(plan.bindings[4][0].storage == lower::TensorPlacement::Storage::output);
  CHECK(plan.bindings[4][0].offset == 1);
  CHECK(plan.bindings[4][1].offset == 0);
  CHECK(plan.arena_bytes == 3 * 4096);
  CHECK(lower::print_memory_plan(m, plan).find("%0.1 Tensor[(1, 1024), float32] live [0, 1] arena @") != std::string::npos);
}
