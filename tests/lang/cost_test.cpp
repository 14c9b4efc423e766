// lang/cost.h: the multiply-adds and bytes a function costs, which the
// manifest records per kernel and `modelc bench --kernels` turns into GFLOP/s.
#include <doctest/doctest.h>

#include "lang/cost.h"
#include "lang/pass.h"
#include "tests/lang/test_util.h"

using namespace modelc::lang;

namespace {

Module typed(const std::string& text) { return run_passes(testing::parse(text), {"InferType"}, PassContext{}); }

int64_t multiply_adds(const Module& m) { return function_cost(m, m.main()).multiply_adds; }

}  // namespace

TEST_CASE("convolutions and matrix products count their multiply-adds; other ops count none") {
  const Module m = typed(R"(
def @main(%x: Tensor[(1, 3, 8, 8), float32], %w: Tensor[(4, 3, 3, 3), float32], %a: Tensor[(2, 16), float32], %b: Tensor[(5, 16), float32], %p: Tensor[(2, 6, 7), float32], %q: Tensor[(2, 7, 3), float32]) {
  %0 = nn.conv2d(%x, %w, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %1 = nn.relu(%0);
  %2 = nn.dense(%a, %b);
  %3 = nn.batch_matmul(%p, %q);
  (%1, %2, %3)
}
)");
  // conv: 8 x 8 outputs x 4 channels x (3 x 3 x 3); dense: 2 x 5 x 16; batch_matmul: 2 x 6 x 3 x 7.
  CHECK(multiply_adds(m) == 8 * 8 * 4 * 27 + 2 * 5 * 16 + 2 * 6 * 3 * 7);
  const int64_t params = 4 * (3 * 64 + 4 * 27 + 32 + 80 + 84 + 42);
  const int64_t results = 4 * (4 * 64 + 10 + 36);
  CHECK(function_cost(m, m.main()).bytes == params + results);
}

TEST_CASE("grouped and strided convolutions count what they compute") {
  const Module m = typed(R"(
def @main(%x: Tensor[(1, 8, 9, 9), float32], %w: Tensor[(8, 1, 3, 3), float32], %v: Tensor[(6, 4, 1, 1), float32]) {
  %0 = nn.conv2d(%x, %w, strides=[2, 2], padding=[1, 1, 1, 1], dilation=[1, 1], groups=8);
  %1 = nn.conv2d(%0, %v, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=2);
  %1
}
)");
  // depthwise, stride 2: 5 x 5 outputs x 8 channels x 9; grouped 1x1: 5 x 5 x 6 x 4.
  CHECK(multiply_adds(m) == 25 * 8 * 9 + 25 * 6 * 4);
}

TEST_CASE("a Winograd convolution counts the direct convolution it replaces") {
  const std::string text = R"(
def @main(%x: Tensor[(1, 1, 8, 8, 4), float32], %w: Tensor[(1, 1, 3, 3, 4, 4), float32]) {
  %0 = nn.conv2d(%x, %w, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1, data_layout="NCHW4c", kernel_layout="OIHW4i4o", out_layout="NCHW4c");
  %0
}
)";
  const Module direct = typed(text);
  const int64_t expected = 8 * 8 * 4 * (4 * 9);
  CHECK(multiply_adds(direct) == expected);
  std::string zeros;
  for (int i = 0; i < 144; ++i) zeros += i ? ", 0" : "0";
  Module constant = typed("const @w : Tensor[(1, 1, 3, 3, 4, 4), float32] = [" + zeros + "]\n" + R"(
def @main(%x: Tensor[(1, 1, 8, 8, 4), float32]) {
  %0 = nn.conv2d(%x, @w, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1, data_layout="NCHW4c", kernel_layout="OIHW4i4o", out_layout="NCHW4c");
  %0
}
)");
  PassContext context;
  context.opt_level = 2;
  const Module winograd = run_passes(constant, {"WinogradConv2D", "InferType"}, context);
  REQUIRE(winograd.main().body.at(0).is_op("nn.conv2d_winograd"));
  CHECK(multiply_adds(winograd) == expected);
}

TEST_CASE("integer convolutions and matrix products count apart from float ones") {
  const Module m = typed(R"(
def @main(%q: Tensor[(1, 3, 4, 4), uint8], %w: Tensor[(2, 3, 1, 1), int8], %a: Tensor[(3, 8), uint8], %b: Tensor[(5, 8), int8], %x: Tensor[(2, 8), float32], %v: Tensor[(4, 8), float32]) {
  %0 = qnn.conv2d(%q, %w, input_zero_point=0, kernel_zero_point=[0, 0]);
  %1 = qnn.dense(%a, %b, input_zero_point=0, kernel_zero_point=[0]);
  %2 = nn.dense(%x, %v);
  (%0, %1, %2)
}
)");
  const FunctionCost cost = function_cost(m, m.main());
  // qnn.conv2d: 4 x 4 outputs x 2 channels x 3; qnn.dense: 3 x 5 x 8; nn.dense: 2 x 4 x 8.
  CHECK(cost.integer_multiply_adds == 16 * 2 * 3 + 3 * 5 * 8);
  CHECK(cost.multiply_adds == 2 * 4 * 8);
}
