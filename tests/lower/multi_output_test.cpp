// Kernels with several results (FuseOps' tuple outputs): results of one shape
// computed in one loop nest, under an anchor's schedule where the group has
// an anchor; results of different shapes each with their own output Func.
// Every result of every kernel is compared with the reference interpreter.
#include <doctest/doctest.h>

#include "lang/interpreter.h"
#include "lang/pass.h"
#include "lang/text.h"
#include "lower/lowering.h"
#include "tests/lower/jit_check.h"

using namespace modelc;
using namespace modelc::lang;

namespace {

Module fused(const std::string& text, int opt_level) {
  PassContext context;
  context.opt_level = opt_level;
  return run_passes(parse_module(text, "case.ir"), {"InferType", "FuseOps", "InferType"}, context);
}

const Function& function_with(const Module& m, const std::string& name) {
  const Function* f = m.find_function(name);
  REQUIRE_MESSAGE(f, "no function @" << name << " in\n" << print_module(m));
  return *f;
}

// Tolerance: the anchors reassociate their float32 sums (vector lanes,
// partial sums), so 1e-4 relative plus 1e-5 absolute per element.
constexpr double kRtol = 1e-4, kAtol = 1e-5;

}  // namespace

TEST_CASE("anchor groups with extra results: conv2d, dense and batch_matmul keep their schedules") {
  // Each pre-activation value is also read by another group (pooling, a
  // second dense, the @main results), so it becomes a second result of the
  // anchor's kernel, in the anchor's shape.
  const Module m = fused(R"(
def @main(%x: Tensor[(1, 8, 9, 11), float32], %w: Tensor[(16, 8, 3, 3), float32], %b: Tensor[(16), float32],
          %d: Tensor[(5, 37), float32], %wd: Tensor[(24, 37), float32], %wd2: Tensor[(3, 24), float32],
          %l: Tensor[(2, 6, 7), float32], %r: Tensor[(2, 7, 19), float32]) {
  %0 = nn.conv2d(%x, %w, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %1 = nn.bias_add(%0, %b, axis=1);
  %2 = nn.relu(%1);
  %3 = nn.max_pool2d(%1, pool_size=[2, 2], strides=[2, 2], padding=[0, 0, 0, 0], dilation=[1, 1], ceil_mode=false, count_include_pad=false);
  %4 = nn.dense(%d, %wd);
  %5 = tanh(%4);
  %6 = sigmoid(%4);
  %7 = nn.dense(%5, %wd2);
  %8 = nn.batch_matmul(%l, %r);
  %9 = exp(%8);
  (%2, %3, %6, %7, %8, %9)
})", 2);
  CHECK(m.result_types(function_with(m, "fused_nn_conv2d_nn_bias_add_nn_relu")).size() == 2);
  CHECK(m.result_types(function_with(m, "fused_nn_dense_tanh_sigmoid")).size() == 2);
  CHECK(m.result_types(function_with(m, "fused_nn_batch_matmul_exp")).size() == 2);
  CHECK(test::check_primitives_against_reference(m, kRtol, kAtol, 11) == 5);
}

TEST_CASE("the slices of a fused projection: one injective kernel with results of three shapes") {
  const Module m = fused(R"(
def @main(%qkv: Tensor[(6, 36), float32], %s: Tensor[(1), float32]) {
  %0 = reshape(%qkv, newshape=[6, 3, 3, 4]);
  %1 = strided_slice(%0, begin=[0], end=[1], axes=[1], strides=[1]);
  %2 = reshape(%1, newshape=[6, 3, 4]);
  %3 = transpose(%2, axes=[1, 0, 2]);
  %4 = divide(%3, %s);
  %5 = strided_slice(%0, begin=[1], end=[2], axes=[1], strides=[1]);
  %6 = reshape(%5, newshape=[6, 3, 4]);
  %7 = transpose(%6, axes=[1, 2, 0]);
  %8 = strided_slice(%0, begin=[2], end=[3], axes=[1], strides=[1]);
  %9 = reshape(%8, newshape=[6, 3, 4]);
  %10 = transpose(%9, axes=[1, 0, 2]);
  %11 = nn.batch_matmul(%4, %7);
  %12 = nn.batch_matmul(%11, %10);
  %12
})", 2);
  const Function& slices = function_with(m, "fused_reshape_strided_slice_reshape_transpose_divide_strided_slice_reshape_"
                                            "transpose_strided_slice_reshape_transpose");
  CHECK(m.result_types(slices) == std::vector<TensorType>{{{3, 6, 4}, DType::float32},
                                                          {{3, 4, 6}, DType::float32},
                                                          {{3, 6, 4}, DType::float32}});
  CHECK(test::check_primitives_against_reference(m, kRtol, kAtol, 12) == 3);
}

// The same at a transformer's proportions: 20 tokens and a head depth of 18,
// both a vector of 16 lanes or more and none a multiple of 16, so the key's
// transpose takes register tiles (schedule_register_transpose) whose last
// tile along each axis shifts inwards over the one before. A transpose of a
// parameter alone (one result, its own kernel) takes them too.
TEST_CASE("a transposed slice of a fused projection in register tiles, tails on both axes") {
  const Module m = fused(R"(
def @main(%qkv: Tensor[(20, 108), float32], %s: Tensor[(1), float32], %x: Tensor[(3, 17, 33), float32]) {
  %0 = reshape(%qkv, newshape=[20, 3, 2, 18]);
  %1 = strided_slice(%0, begin=[0], end=[1], axes=[1], strides=[1]);
  %2 = reshape(%1, newshape=[20, 2, 18]);
  %3 = transpose(%2, axes=[1, 0, 2]);
  %4 = divide(%3, %s);
  %5 = strided_slice(%0, begin=[1], end=[2], axes=[1], strides=[1]);
  %6 = reshape(%5, newshape=[20, 2, 18]);
  %7 = transpose(%6, axes=[1, 2, 0]);
  %8 = strided_slice(%0, begin=[2], end=[3], axes=[1], strides=[1]);
  %9 = reshape(%8, newshape=[20, 2, 18]);
  %10 = transpose(%9, axes=[1, 0, 2]);
  %11 = nn.batch_matmul(%4, %7);
  %12 = nn.batch_matmul(%11, %10);
  %13 = transpose(%x, axes=[2, 0, 1]);
  (%12, %13)
})", 2);
  const Function& slices = function_with(m, "fused_reshape_strided_slice_reshape_transpose_divide_strided_slice_reshape_"
                                            "transpose_strided_slice_reshape_transpose");
  CHECK(m.result_types(slices)[1] == TensorType{{2, 18, 20}, DType::float32});
  CHECK(test::check_primitives_against_reference(m, kRtol, kAtol, 14) == 4);
}

TEST_CASE("opt level 3: a layer norm's prologue and reduction in one kernel, x - mean as a second result") {
  const Module m = fused(R"(
def @main(%x: Tensor[(3, 16), float32], %two: Tensor[(1), float32], %eps: Tensor[(1), float32]) {
  %0 = mean(%x, axes=[1], keepdims=true);
  %1 = subtract(%x, %0);
  %2 = power(%1, %two);
  %3 = mean(%2, axes=[1], keepdims=true);
  %4 = add(%3, %eps);
  %5 = sqrt(%4);
  %6 = divide(%1, %5);
  %6
})", 3);
  CHECK(m.result_types(function_with(m, "fused_subtract_power_mean_add_sqrt")) ==
        std::vector<TensorType>{{{3, 16}, DType::float32}, {{3, 1}, DType::float32}});
  CHECK(test::check_primitives_against_reference(m, kRtol, kAtol, 13) == 3);
}

TEST_CASE("a reduction that two results of different shapes read is computed once, and returned values are read back") {
  // Written by hand: FuseOps never puts a reduction under results of two
  // shapes, but any primitive function must lower. %0 is inlined into neither
  // output; %1 is a result that %3 reads back from its output buffer.
  const Module m = parse_module(R"(
def @shared(%x: Tensor[(4, 8), float32]) -> (Tensor[(4, 8), float32], Tensor[(4, 1), float32], Tensor[(4, 8), float32], Tensor[(4, 8), float32]) primitive {
  %0 = mean(%x, axes=[1], keepdims=true) : Tensor[(4, 1), float32];
  %1 = subtract(%x, %0) : Tensor[(4, 8), float32];
  %2 = multiply(%0, %0) : Tensor[(4, 1), float32];
  %3 = exp(%1) : Tensor[(4, 8), float32];
  (%1, %2, %3, %x)
}

def @main(%x: Tensor[(4, 8), float32]) -> Tensor[(4, 8), float32] {
  %0 = @shared(%x) : (Tensor[(4, 8), float32], Tensor[(4, 1), float32], Tensor[(4, 8), float32], Tensor[(4, 8), float32]);
  %0.2
}
)", "shared.ir");
  CHECK(test::check_primitives_against_reference(m, kRtol, kAtol, 14) == 1);
}

TEST_CASE("results of one shape and different dtypes share one loop nest") {
  const Module m = fused(R"(
def @main(%a: Tensor[(3, 17), float32], %b: Tensor[(3, 17), float32]) {
  %0 = subtract(%a, %b);
  %1 = greater(%0, %b);
  %2 = cast(%1, dtype=int32);
  %3 = where(%1, %0, %b);
  (%1, %2, %3)
})", 2);
  CHECK(m.functions.size() == 2);
  CHECK(m.result_types(m.functions.front()).size() == 3);
  CHECK(test::check_primitives_against_reference(m, 0, 0, 15) == 1);
}
