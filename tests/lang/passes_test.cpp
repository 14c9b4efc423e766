// Each pass on a small hand-written module: the exact text it produces, and
// the same numbers before and after on random inputs through the reference
// interpreter.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "lang/interpreter.h"
#include "lang/ops/layout.h"
#include "lang/ops/winograd.h"
#include "lang/pass.h"
#include "lang/text.h"
#include "support/diagnostic.h"
#include "tests/lang/test_util.h"

namespace modelc::lang {
namespace {

Module typed(const std::string& text) { return run_passes(testing::parse(text), {"InferType"}, PassContext{}); }

Module without_dead_code(const Module& m) { return dead_code_elimination(m, PassContext{}); }

Module run_pass(const Module& m, const std::string& pass) {
  PassContext context;
  context.opt_level = 3;
  return run_passes(m, {pass, "InferType"}, context);
}

// Largest |before - after| over every output, for three random inputs.
double max_difference(const Module& before, const Module& after, double rtol, double atol) {
  double worst = 0;
  for (unsigned seed = 1; seed <= 3; ++seed) {
    const std::vector<Tensor> inputs = testing::random_inputs(before, seed * 10);
    const std::vector<Tensor> a = evaluate_main(before, inputs), b = evaluate_main(after, inputs);
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      const testing::Closeness c = testing::compare(b[i], a[i], rtol, atol);
      CHECK(c.within);
      worst = std::max(worst, c.max_abs);
    }
  }
  return worst;
}

const char* const kConvBnRelu = R"(const @b : Tensor[(2), float32] = [0.1, -0.2]
const @beta : Tensor[(2), float32] = [0.2, -0.3]
const @gamma : Tensor[(2), float32] = [1.5, 0.5]
const @mean : Tensor[(2), float32] = [0.1, 0.4]
const @var : Tensor[(2), float32] = [0.8, 1.2]
const @w : Tensor[(2, 2, 1, 1), float32] = [0.5, -1.0, 0.25, 2.0]

def @main(%x: Tensor[(1, 2, 3, 3), float32]) {
  %0 = nn.conv2d(%x, @w, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %1 = nn.bias_add(%0, @b, axis=1);
  %2 = nn.batch_norm(%1, @gamma, @beta, @mean, @var, axis=1, epsilon=1e-05);
  %3 = nn.relu(%2);
  %3
}
)";

TEST_CASE("InferType annotates every binding and the function's result") {
  const Module m = typed(kConvBnRelu);
  const std::string text = print_function(m, m.main());
  CHECK(text == R"(def @main(%x: Tensor[(1, 2, 3, 3), float32]) -> Tensor[(1, 2, 3, 3), float32] {
  %0 = nn.conv2d(%x, @w, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1, data_layout="NCHW", kernel_layout="OIHW", out_layout="NCHW") : Tensor[(1, 2, 3, 3), float32];
  %1 = nn.bias_add(%0, @b, axis=1) : Tensor[(1, 2, 3, 3), float32];
  %2 = nn.batch_norm(%1, @gamma, @beta, @mean, @var, axis=1, epsilon=1e-05) : Tensor[(1, 2, 3, 3), float32];
  %3 = nn.relu(%2) : Tensor[(1, 2, 3, 3), float32];
  %3
}
)");
}

TEST_CASE("SimplifyExpr makes multiply(x, sigmoid(x)) one nn.silu, either order, the same numbers") {
  const Module m = typed(R"(def @main(%x: Tensor[(2, 8), float32], %y: Tensor[(2, 8), float32]) {
  %0 = sigmoid(%x);
  %1 = multiply(%x, %0);
  %2 = sigmoid(%1);
  %3 = multiply(%2, %1);
  %4 = sigmoid(%y);
  %5 = multiply(%x, %4);
  %6 = add(%3, %5);
  %6
}
)");
  const Module after = without_dead_code(run_pass(m, "SimplifyExpr"));
  const std::string text = print_function(after, after.main());
  CAPTURE(text);
  // Two SiLUs; the sigmoid of another value stays a sigmoid and a multiply.
  CHECK(text.find("%0 = nn.silu(%x)") != std::string::npos);
  CHECK(text.find("%1 = nn.silu(%0)") != std::string::npos);
  CHECK(text.find("%2 = sigmoid(%y)") != std::string::npos);
  CHECK(text.find("%3 = multiply(%x, %2)") != std::string::npos);
  CHECK(max_difference(m, after, 0, 0) == 0);  // the reference's nn.silu is x * sigmoid(x)
}

// GELU as PyTorch (x * 0.5 * (1 + erf(x / sqrt 2))) and other exporters
// (0.5 first, 1 / sqrt 2 as a multiply, the other grouping) spell it; a
// product whose constants are not GELU's, or whose erf reads another value,
// stays as it was. The reference's nn.gelu computes the formula in double.
TEST_CASE("SimplifyExpr makes GELU's erf form one nn.gelu in any order and grouping, and nothing else") {
  const Module m = typed(R"(const @half : Tensor[(), float32] = [0.5]
const @one : Tensor[(), float32] = [1.0]
const @root2 : Tensor[(), float32] = [1.4142135]
const @inv_root2 : Tensor[(1), float32] = [0.70710677]
const @third : Tensor[(), float32] = [0.33]

def @main(%x: Tensor[(2, 8), float32], %y: Tensor[(2, 8), float32]) {
  %0 = divide(%x, @root2);
  %1 = erf(%0);
  %2 = add(%1, @one);
  %3 = multiply(%x, %2);
  %4 = multiply(%3, @half);
  %5 = multiply(%y, @inv_root2);
  %6 = erf(%5);
  %7 = add(@one, %6);
  %8 = multiply(@half, %y);
  %9 = multiply(%8, %7);
  %10 = multiply(%7, @half);
  %11 = multiply(%y, %10);
  %12 = multiply(%2, @third);
  %13 = multiply(%x, %12);
  %14 = multiply(%y, %2);
  %15 = multiply(%14, @half);
  (%4, %9, %11, %13, %15)
}
)");
  const Module after = without_dead_code(run_pass(m, "SimplifyExpr"));
  const std::string text = print_function(after, after.main());
  CAPTURE(text);
  CHECK(text.find("= nn.gelu(%x)") != std::string::npos);
  size_t of_y = 0;
  for (size_t at = text.find("nn.gelu(%y)"); at != std::string::npos; at = text.find("nn.gelu(%y)", at + 1)) ++of_y;
  CHECK(of_y == 2);  // %9 and %11
  CHECK(text.find("erf(%0)") != std::string::npos);  // kept for %13 and %15, which are not GELU
  CHECK(text.find("@third") != std::string::npos);
  CHECK(max_difference(m, after, 1e-6, 1e-6) < 1e-6);
}

// Layer norm as exporters before opset 17 decompose it (ReduceMean, Sub, Pow,
// ReduceMean, Add, Sqrt, Div): one nn.layer_norm; a batch-first [1, T, C]
// input normalizes as [T, C] between reshapes. Means over other axes, a
// square of another value, or a mean over a leading axis stay as they were.
TEST_CASE("SimplifyExpr makes a decomposed layer norm one nn.layer_norm over flattened rows, and nothing else") {
  const Module m = typed(R"(const @two : Tensor[(), float32] = [2.0]
const @eps : Tensor[(), float32] = [1e-05]

def @main(%x: Tensor[(1, 6, 16), float32], %y: Tensor[(3, 4, 5), float32]) {
  %0 = mean(%x, axes=[-1], keepdims=true);
  %1 = subtract(%x, %0);
  %2 = power(%1, @two);
  %3 = mean(%2, axes=[2], keepdims=true);
  %4 = add(%3, @eps);
  %5 = sqrt(%4);
  %6 = divide(%1, %5);
  %7 = mean(%y, axes=[1, 2], keepdims=true);
  %8 = subtract(%y, %7);
  %9 = multiply(%8, %8);
  %10 = mean(%9, axes=[-1, -2], keepdims=true);
  %11 = add(@eps, %10);
  %12 = sqrt(%11);
  %13 = divide(%8, %12);
  %14 = mean(%y, axes=[1], keepdims=true);
  %15 = subtract(%y, %14);
  %16 = multiply(%15, %15);
  %17 = mean(%16, axes=[1], keepdims=true);
  %18 = add(%17, @eps);
  %19 = sqrt(%18);
  %20 = divide(%15, %19);
  %21 = multiply(%8, %15);
  %22 = mean(%21, axes=[1, 2], keepdims=true);
  %23 = add(%22, @eps);
  %24 = sqrt(%23);
  %25 = divide(%8, %24);
  (%6, %13, %20, %25)
}
)");
  const Module after = without_dead_code(run_pass(m, "SimplifyExpr"));
  const std::string text = print_function(after, after.main());
  CAPTURE(text);
  CHECK(text.find("nn.layer_norm(%0, @layer_norm_gamma, @layer_norm_beta, axis=1, epsilon=") != std::string::npos);
  CHECK(text.find("%0 = reshape(%x, newshape=[6, 16])") != std::string::npos);
  CHECK(text.find("reshape(%1, newshape=[1, 6, 16])") != std::string::npos);
  CHECK(text.find("nn.layer_norm(%y, @layer_norm_gamma_1, @layer_norm_beta_1, axis=1, epsilon=") != std::string::npos);
  size_t norms = 0;
  for (size_t at = text.find("nn.layer_norm("); at != std::string::npos; at = text.find("nn.layer_norm(", at + 1)) ++norms;
  CHECK(norms == 2);  // %20 (a leading axis) and %25 (another square) stay
  CHECK(max_difference(m, after, 1e-5, 1e-5) < 1e-5);
}

// A trained model's affine scale and shift after a layer norm join it (over
// two SimplifyExpr runs, as in the pipeline: the first sinks the reshapes of
// the flattened rows below them); a scale that varies along the rows, or a
// norm that another op also reads, stays apart.
TEST_CASE("SimplifyExpr folds a layer norm's scale and shift constants into it, and nothing else") {
  const Module m = typed(R"(const @two : Tensor[(), float32] = [2.0]
const @eps : Tensor[(), float32] = [1e-05]
const @g : Tensor[(4), float32] = [0.5, -1.0, 2.0, 1.5]
const @b : Tensor[(1, 1, 4), float32] = [0.1, 0.2, -0.3, 0.0]
const @rows : Tensor[(3, 1), float32] = [1.0, 2.0, 3.0]

def @main(%x: Tensor[(1, 3, 4), float32], %y: Tensor[(3, 4), float32]) {
  %0 = mean(%x, axes=[-1], keepdims=true);
  %1 = subtract(%x, %0);
  %2 = power(%1, @two);
  %3 = mean(%2, axes=[-1], keepdims=true);
  %4 = add(%3, @eps);
  %5 = sqrt(%4);
  %6 = divide(%1, %5);
  %7 = multiply(%6, @g);
  %8 = add(@b, %7);
  %9 = nn.layer_norm(%y, @g, @g, axis=1, epsilon=1e-05);
  %10 = multiply(%9, @rows);
  %11 = nn.layer_norm(%y, @g, @g, axis=-1, epsilon=1e-03);
  %12 = multiply(%11, @g);
  %13 = add(%11, %12);
  (%8, %10, %13)
}
)");
  PassContext context;
  context.opt_level = 3;
  const Module after = without_dead_code(run_passes(m, {"SimplifyExpr", "InferType", "SimplifyExpr", "InferType"}, context));
  const std::string text = print_function(after, after.main());
  CAPTURE(text);
  size_t norms = 0, multiplies = 0;
  for (size_t at = text.find("nn.layer_norm("); at != std::string::npos; at = text.find("nn.layer_norm(", at + 1)) ++norms;
  for (size_t at = text.find("multiply("); at != std::string::npos; at = text.find("multiply(", at + 1)) ++multiplies;
  CHECK(norms == 3);
  CHECK(multiplies == 2);  // by @rows, and %12 (its norm is read twice)
  CHECK(text.find("add(@b") == std::string::npos);
  CHECK(max_difference(m, after, 1e-5, 1e-5) < 1e-5);
}

// A transpose that keeps the order of the axes that are not 1 moves no
// element: a reshape, which then merges with the reshapes around it.
TEST_CASE("SimplifyExpr makes a transpose of unit axes a reshape; a transpose that moves data stays") {
  const Module m = typed(R"(def @main(%x: Tensor[(1, 6, 4), float32]) {
  %0 = transpose(%x, axes=[1, 0, 2]);
  %1 = reshape(%0, newshape=[6, 4]);
  %2 = reshape(%x, newshape=[6, 1, 4]);
  %3 = transpose(%2, axes=[1, 0, 2]);
  %4 = exp(%3);
  %5 = transpose(%x, axes=[0, 2, 1]);
  (%1, %4, %5)
}
)");
  const Module after = without_dead_code(run_pass(m, "SimplifyExpr"));
  const std::string text = print_function(after, after.main());
  CAPTURE(text);
  CHECK(text.find("%0 = reshape(%x, newshape=[6, 4])") != std::string::npos);
  CHECK(text.find("exp(%x)") != std::string::npos);  // reshape and transpose cancel
  CHECK(text.find("transpose(%x, axes=[0, 2, 1])") != std::string::npos);
  CHECK(text.find("axes=[1, 0, 2]") == std::string::npos);
  CHECK(max_difference(m, after, 0, 0) == 0);
}

// ONNX's 1-D convolution and pooling: 2-D ones between reshapes that insert
// and remove the unit height, with the bias, scale, shift and ReLU on the
// 3-D value between them.
TEST_CASE("SimplifyExpr sinks a reshape of unit axes below elementwise ops, so that reshape pairs cancel") {
  const Module m = typed(R"(const @b : Tensor[(2), float32] = [0.1, -0.2]
const @g : Tensor[(3, 1, 1), float32] = [1.0, 2.0, 3.0]
const @s : Tensor[(2, 1), float32] = [1.5, 0.5]
const @t : Tensor[(2, 1), float32] = [0.25, -0.5]
const @w : Tensor[(2, 2, 1, 3), float32] = [0.5, -1.0, 0.25, 2.0, 1.0, -0.5, 0.75, 0.5, -0.25, 1.5, -1.5, 0.125]

def @main(%x: Tensor[(1, 2, 8), float32], %y: Tensor[(1, 2, 4), float32]) {
  %0 = reshape(%x, newshape=[1, 2, 1, 8]);
  %1 = nn.conv2d(%0, @w, strides=[1, 1], padding=[0, 1, 0, 1], dilation=[1, 1], groups=1);
  %2 = reshape(%1, newshape=[1, 2, 8]);
  %3 = nn.bias_add(%2, @b, axis=1);
  %4 = multiply(%3, @s);
  %5 = add(%4, @t);
  %6 = nn.relu(%5);
  %7 = reshape(%6, newshape=[1, 2, 1, 8]);
  %8 = nn.max_pool2d(%7, pool_size=[1, 2], strides=[1, 2], padding=[0, 0, 0, 0], dilation=[1, 1]);
  %9 = reshape(%8, newshape=[2, 4]);
  %10 = nn.bias_add(%9, @b, axis=0);
  %11 = reshape(%10, newshape=[1, 2, 4]);
  %12 = add(%11, %y);
  %13 = reshape(%8, newshape=[1, 2, 4]);
  %14 = add(%13, @g);
  (%12, %14)
}
)");
  const Module after = without_dead_code(run_pass(m, "SimplifyExpr"));
  const std::string text = print_function(after, after.main());
  CAPTURE(text);
  // The bias, scale, shift and ReLU run on the convolution's 4-D result, the
  // constants over its axes; the pooling reads it directly.
  CHECK(text.find("nn.bias_add(%1, @b, axis=1) : Tensor[(1, 2, 1, 8), float32]") != std::string::npos);
  CHECK(text.find("multiply(%2, @s_1) : Tensor[(1, 2, 1, 8), float32]") != std::string::npos);
  CHECK(text.find("add(%3, @t_1) : Tensor[(1, 2, 1, 8), float32]") != std::string::npos);
  CHECK(text.find("%6 = nn.max_pool2d(%5,") != std::string::npos);
  CHECK(print_module(after).find("const @s_1 : Tensor[(1, 2, 1, 1), float32] = [1.5, 0.5]") != std::string::npos);
  // bias_add's axis 0 of (2, 4) is axis 1 of (1, 2, 1, 4); the add of a
  // value that is no reshape stays where it is.
  CHECK(text.find("nn.bias_add(%6, @b, axis=1) : Tensor[(1, 2, 1, 4), float32]") != std::string::npos);
  CHECK(text.find("%9 = add(%8, %y) : Tensor[(1, 2, 4), float32]") != std::string::npos);
  // A constant that broadcasts the value to more elements keeps the reshape
  // before it.
  CHECK(text.find("%10 = reshape(%6, newshape=[1, 2, 4])") != std::string::npos);
  CHECK(text.find("add(%10, @g) : Tensor[(3, 2, 4), float32]") != std::string::npos);
  CHECK(text.find("reshape(%1,") == std::string::npos);
  CHECK(max_difference(m, after, 0, 0) == 0);
}

TEST_CASE("SimplifyInference folds batch norm into the convolution's weight and bias") {
  const Module before = typed(kConvBnRelu);
  const Module after = run_pass(before, "SimplifyInference");
  // Channel 0: scale = 1.5 / sqrt(0.8 + 1e-5) = 1.67704, shift = (0.1 - 0.1) * scale + 0.2;
  // channel 1: scale = 0.5 / sqrt(1.2 + 1e-5) = 0.456435, shift = (-0.2 - 0.4) * scale - 0.3.
  CHECK(print_module(without_dead_code(after)) == R"(const @w.bias.bn_folded : Tensor[(2), float32] = [0.2, -0.57386017]
const @w.bn_folded : Tensor[(2, 2, 1, 1), float32] = [0.8385202, -1.6770405, 0.11410839, 0.9128671]

def @main(%x: Tensor[(1, 2, 3, 3), float32]) -> Tensor[(1, 2, 3, 3), float32] {
  %0 = nn.conv2d(%x, @w.bn_folded, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1, data_layout="NCHW", kernel_layout="OIHW", out_layout="NCHW") : Tensor[(1, 2, 3, 3), float32];
  %1 = nn.bias_add(%0, @w.bias.bn_folded, axis=1) : Tensor[(1, 2, 3, 3), float32];
  %2 = nn.relu(%1) : Tensor[(1, 2, 3, 3), float32];
  %2
}
)");
  // Scale and shift are computed in double then rounded: float32 rounding only.
  CHECK(max_difference(before, after, 1e-5, 1e-6) < 1e-5);
}

TEST_CASE("FoldConstant evaluates calls whose arguments are all constants") {
  const Module before = typed(R"(const @a : Tensor[(2), float32] = [1.0, 2.0]
const @b : Tensor[(2), float32] = [0.5, 0.25]

def @main(%x: Tensor[(3, 2), float32]) {
  %0 = multiply(@a, @b);
  %1 = add(%0, @b);
  %2 = add(%x, %1);
  %2
}
)");
  const Module after = run_pass(before, "FoldConstant");
  CHECK(print_function(after, after.main()) == R"(def @main(%x: Tensor[(3, 2), float32]) -> Tensor[(3, 2), float32] {
  %0 = add(%x, @folded_1) : Tensor[(3, 2), float32];
  %0
}
)");
  CHECK(print_module(after).find("const @folded_1 : Tensor[(2), float32] = [1.0, 0.75]") != std::string::npos);
  // The same kernels compute the same values: bit-identical.
  CHECK(max_difference(before, after, 0, 0) == 0);
}

TEST_CASE("DeadCodeElimination drops unused bindings and constants") {
  const Module before = typed(R"(const @a : Tensor[(2), float32] = [1.0, 2.0]
const @unused : Tensor[(2), float32] = [3.0, 4.0]

def @main(%x: Tensor[(3, 2), float32]) {
  %0 = nn.relu(%x);
  %1 = exp(%x);
  %2 = multiply(%1, @unused);
  %3 = add(%0, @a);
  %3
}
)");
  const Module after = run_pass(before, "DeadCodeElimination");
  CHECK(print_module(after) == R"(const @a : Tensor[(2), float32] = [1.0, 2.0]

def @main(%x: Tensor[(3, 2), float32]) -> Tensor[(3, 2), float32] {
  %0 = nn.relu(%x) : Tensor[(3, 2), float32];
  %1 = add(%0, @a) : Tensor[(3, 2), float32];
  %1
}
)");
  CHECK(max_difference(before, after, 0, 0) == 0);
}

TEST_CASE("CommonSubexpressionElimination merges constants of equal type and bytes, then the calls on them") {
  // @w and @w_copy are the same weight (as an RNN's per-step slices folded
  // into copies); @other has the same type and other bytes, @w_wide the same
  // bytes and another type: neither merges.
  const Module before = typed(R"(const @other : Tensor[(2, 2), float32] = [1.0, 2.0, 3.0, 5.0]
const @w : Tensor[(2, 2), float32] = [1.0, 2.0, 3.0, 4.0]
const @w_copy : Tensor[(2, 2), float32] = [1.0, 2.0, 3.0, 4.0]
const @w_wide : Tensor[(1, 4), float32] = [1.0, 2.0, 3.0, 4.0]

def @main(%x: Tensor[(1, 2), float32], %y: Tensor[(1, 4), float32]) {
  %0 = nn.dense(%x, @w);
  %1 = nn.dense(%x, @w_copy);
  %2 = nn.dense(%x, @other);
  %3 = add(%0, %1);
  %4 = add(%3, %2);
  %5 = add(%y, @w_wide);
  (%4, %5)
}
)");
  const Module after = run_pass(before, "CommonSubexpressionElimination");
  CHECK(print_function(after, after.main()) == R"(def @main(%x: Tensor[(1, 2), float32], %y: Tensor[(1, 4), float32]) -> (Tensor[(1, 2), float32], Tensor[(1, 4), float32]) {
  %0 = nn.dense(%x, @w) : Tensor[(1, 2), float32];
  %1 = nn.dense(%x, @other) : Tensor[(1, 2), float32];
  %2 = add(%0, %0) : Tensor[(1, 2), float32];
  %3 = add(%2, %1) : Tensor[(1, 2), float32];
  %4 = add(%y, @w_wide) : Tensor[(1, 4), float32];
  (%3, %4)
}
)");
  CHECK(after.constants.count("w_copy") == 0);
  CHECK(after.constants.size() == 3);
  CHECK(max_difference(before, after, 0, 0) == 0);
}

TEST_CASE("FuseOps groups conv + bias_add + relu into one primitive function shared by identical groups") {
  const Module before = typed(R"(const @b : Tensor[(2), float32] = [0.1, -0.2]
const @w : Tensor[(2, 2, 1, 1), float32] = [0.5, -1.0, 0.25, 2.0]

def @main(%x: Tensor[(1, 2, 3, 3), float32]) {
  %0 = nn.conv2d(%x, @w, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %1 = nn.bias_add(%0, @b, axis=1);
  %2 = nn.relu(%1);
  %3 = nn.conv2d(%2, @w, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %4 = nn.bias_add(%3, @b, axis=1);
  %5 = nn.relu(%4);
  %6 = nn.softmax(%5, axis=1);
  %6
}
)");
  const Module after = run_pass(before, "FuseOps");
  CHECK(print_module(after) == R"(const @b : Tensor[(2), float32] = [0.1, -0.2]
const @w : Tensor[(2, 2, 1, 1), float32] = [0.5, -1.0, 0.25, 2.0]

def @fused_nn_conv2d_nn_bias_add_nn_relu(%p0: Tensor[(1, 2, 3, 3), float32], %p1: Tensor[(2, 2, 1, 1), float32], %p2: Tensor[(2), float32]) -> Tensor[(1, 2, 3, 3), float32] primitive {
  %0 = nn.conv2d(%p0, %p1, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1, data_layout="NCHW", kernel_layout="OIHW", out_layout="NCHW") : Tensor[(1, 2, 3, 3), float32];
  %1 = nn.bias_add(%0, %p2, axis=1) : Tensor[(1, 2, 3, 3), float32];
  %2 = nn.relu(%1) : Tensor[(1, 2, 3, 3), float32];
  %2
}

def @fused_nn_softmax(%p0: Tensor[(1, 2, 3, 3), float32]) -> Tensor[(1, 2, 3, 3), float32] primitive {
  %0 = nn.softmax(%p0, axis=1) : Tensor[(1, 2, 3, 3), float32];
  %0
}

def @main(%x: Tensor[(1, 2, 3, 3), float32]) -> Tensor[(1, 2, 3, 3), float32] {
  %0 = @fused_nn_conv2d_nn_bias_add_nn_relu(%x, @w, @b) : Tensor[(1, 2, 3, 3), float32];
  %1 = @fused_nn_conv2d_nn_bias_add_nn_relu(%0, @w, @b) : Tensor[(1, 2, 3, 3), float32];
  %2 = @fused_nn_softmax(%1) : Tensor[(1, 2, 3, 3), float32];
  %2
}
)");
  REQUIRE(after.main().body.size() == 3);
  const Binding& first = after.main().body[0];
  const Binding& second = after.main().body[1];
  CHECK_FALSE(first.is_op_call());
  CHECK(first.function == second.function);
  const Function* group = after.find_function(first.function);
  REQUIRE(group);
  CHECK(group->primitive);
  REQUIRE(group->body.size() == 3);
  CHECK(group->body[0].is_op("nn.conv2d"));
  CHECK(group->body[1].is_op("nn.bias_add"));
  CHECK(group->body[2].is_op("nn.relu"));
  CHECK(after.find_function(after.main().body[2].function)->body.at(0).is_op("nn.softmax"));
  CHECK(max_difference(before, after, 0, 0) == 0);
}

TEST_CASE("the default pipeline at opt level 2 keeps the numbers of a conv + batch norm block") {
  const Module before = typed(kConvBnRelu);
  PassContext context;
  context.opt_level = 2;
  const Module after = run_passes(before, default_pipeline(), context);
  CHECK(max_difference(before, after, 1e-5, 1e-6) < 1e-5);
  const std::string text = print_module(after);
  CHECK(print_module(parse_module(text, "pipeline")) == text);
}

TEST_CASE("strided_slice and batch_matmul reference kernels, checked through FoldConstant") {
  const Module m = run_pass(typed(R"(const @a : Tensor[(2, 3), float32] = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
const @x : Tensor[(2, 1, 2), float32] = [1.0, 2.0, 3.0, 4.0]
const @y : Tensor[(1, 2, 2), float32] = [1.0, 0.0, 0.5, 2.0]

def @main(%p: Tensor[(1), float32]) {
  %0 = strided_slice(@a, begin=[-1, 100], end=[-100, -100], axes=[0, 1], strides=[-1, -2]);
  %1 = nn.batch_matmul(@x, @y);
  %2 = add(%p, %p);
  (%0, %1, %2)
}
)"), "FoldConstant");
  const std::string text = print_module(m);
  // Rows reversed, columns 2 and 0 (every other one from the end).
  CHECK(text.find("const @folded_0 : Tensor[(2, 2), float32] = [5.0, 3.0, 2.0, 0.0]") != std::string::npos);
  // [1, 2] x [[1, 0], [0.5, 2]] = [2, 4]; [3, 4] x ... = [5, 8] (y broadcast over the batch).
  CHECK(text.find("const @folded_1 : Tensor[(2, 1, 2), float32] = [2.0, 4.0, 5.0, 8.0]") != std::string::npos);
}

}  // namespace
}  // namespace modelc::lang

namespace modelc::lang {
namespace {

// `m` with random weights through ConvertLayout to NCHW8c (before) and then
// WinogradConv2D (after).
std::pair<Module, Module> winograd_before_after(Module m) {
  for (auto& [name, value] : m.constants) value = testing::random_tensor(value.type(), 7);
  PassContext context;
  context.opt_level = 2;
  context.activation_layout = "NCHW8c";
  Module before = run_passes(m, {"InferType", "ConvertLayout"}, context);
  Module after = run_passes(before, {"WinogradConv2D", "InferType"}, context);
  return {std::move(before), std::move(after)};
}

// The convolutions of @main in order: "direct", or the Winograd form's kernel and tile ("3x3 F4").
std::vector<std::string> convolution_forms(const Module& m) {
  std::vector<std::string> kinds;
  for (const Binding& b : m.main().body)
    if (b.is_op("nn.conv2d_winograd")) {
      const auto& a = attrs_as<Conv2DWinogradAttrs>(*b.attrs);
      kinds.push_back(std::to_string(a.kernel[0]) + "x" + std::to_string(a.kernel[1]) + " F" + std::to_string(a.tile));
    } else if (b.is_op("nn.conv2d")) {
      kinds.push_back("direct");
    }
  return kinds;
}

// Winograd's error grows with the magnitude of the summands, not of the
// result (the transforms add and cancel terms): it is bounded relative to
// each output's scale, here 1e-5 of its largest element, plus 1e-4 relative.
void check_same_numbers(const Module& before, const Module& after) {
  for (unsigned seed = 1; seed <= 3; ++seed) {
    const std::vector<Tensor> inputs = testing::random_inputs(before, seed);
    const std::vector<Tensor> want = evaluate_main(before, inputs), got = evaluate_main(after, inputs);
    REQUIRE(got.size() == want.size());
    for (size_t r = 0; r < want.size(); ++r) {
      double scale = 0;
      for (size_t i = 0; i < static_cast<size_t>(want[r].type().element_count()); ++i)
        scale = std::max(scale, std::fabs(want[r].element_as_double(i)));
      const testing::Closeness c = testing::compare(got[r], want[r], 1e-4, 1e-5 * scale);
      INFO("result " << r << ": max abs error " << c.max_abs << ", output scale " << scale);
      CHECK(c.within);
    }
  }
}

// Stride-1 3x3 convolutions of blocked layouts become Winograd convolutions:
// F(4x4) where an image has at least 16 such tiles (14x14: 16), F(2x2) where
// only those are enough (7x7), the direct form otherwise (stride 2, 1x1).
// Same numbers through the reference kernels: the transforms reassociate the
// sums (F(4x4)'s entries reach 8 and 1/24), so 1e-4 relative plus 1e-5.
TEST_CASE("WinogradConv2D: blocked 3x3 stride-1 convolutions, weights transformed at compile time") {
  Module m = testing::parse(R"(const @w1 : Tensor[(16, 8, 3, 3), float32] = elided("0")
const @w2 : Tensor[(16, 16, 3, 3), float32] = elided("0")
const @w3 : Tensor[(8, 16, 3, 3), float32] = elided("0")
const @w4 : Tensor[(8, 8, 1, 1), float32] = elided("0")

def @main(%x: Tensor[(1, 8, 14, 14), float32]) {
  %0 = nn.conv2d(%x, @w1, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %1 = nn.relu(%0);
  %2 = nn.conv2d(%1, @w2, strides=[2, 2], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %3 = nn.conv2d(%2, @w3, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %4 = nn.conv2d(%3, @w4, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %4
}
)");
  const auto [before, after] = winograd_before_after(m);
  CHECK(convolution_forms(after) == std::vector<std::string>{"3x3 F4", "direct", "3x3 F2", "direct"});
  // The packed weight (as the pass reads it) and the OIHW one give the same
  // bits, split over threads or not (256 x 128 pairs: several chunks), for
  // square and one-axis kernels.
  for (const auto& [K, C] : {std::pair<int64_t, int64_t>{16, 24}, {256, 128}})
    for (const auto& [kh, kw] : {std::pair<int64_t, int64_t>{3, 3}, {1, 7}, {5, 1}, {5, 5}}) {
      const Tensor oihw = testing::random_tensor(TensorType{{K, C, kh, kw}, DType::float32}, 11);
      const Tensor packed = transform_layout(oihw, Layout::parse("OIHW"), Layout::parse("OIHW8i8o"));
      for (const int64_t tile : {2, 4}) {
        if (!has_winograd(tile, kh, kw)) continue;
        const Tensor a = winograd_transform_weights(oihw, tile, 8, 8), b = winograd_transform_weights(packed, tile, 8, 8);
        REQUIRE(a.type() == b.type());
        CHECK(a.type().shape[0] == (kh == 1 ? 1 : tile + kh - 1) * (kw == 1 ? 1 : tile + kw - 1));
        CHECK(std::memcmp(a.bytes().data(), b.bytes().data(), a.bytes().size()) == 0);
      }
    }
  CHECK_THROWS_WITH_AS(winograd_transform_weights(testing::random_tensor(TensorType{{2, 3, 3, 3, 8, 4}, DType::float32}, 1), 2, 8, 8),
                       doctest::Contains("or one packed OIHW8i8o"), Error);
  check_same_numbers(before, after);
}

// Every F(m, r) the kernels use computes the correlation y_i = sum_k d_(i+k) g_k
// of an a-element input d and an r-tap filter g as A^T [(G g) (.) (B^T d)]:
// Lavin's F(2, 3) and F(4, 3) and the Toom-Cook ones (F(2, 5), F(4, 5),
// F(2, 7)), whose B^T has entries of a quarter's multiples; F(6, 7) does not
// exist (too many points).
TEST_CASE("Winograd F(m, r) transforms compute a correlation") {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  for (const auto& [m, r] : std::vector<std::pair<int, int>>{{1, 1}, {2, 3}, {4, 3}, {2, 5}, {4, 5}, {2, 7}}) {
    CAPTURE(m);
    CAPTURE(r);
    REQUIRE(has_winograd_matrices(m, r));
    const WinogradMatrices& w = winograd_matrices(m, r);
    REQUIRE(w.a == m + r - 1);
    for (const double e : w.bt) CHECK(e * 4 == std::round(e * 4));
    for (int trial = 0; trial < 4; ++trial) {
      std::vector<double> d(static_cast<size_t>(w.a)), g(static_cast<size_t>(r));
      for (double& v : d) v = uniform(rng);
      for (double& v : g) v = uniform(rng);
      std::vector<double> product(static_cast<size_t>(w.a));
      for (int j = 0; j < w.a; ++j) {
        double gj = 0, dj = 0;
        for (int k = 0; k < r; ++k) gj += w.g[static_cast<size_t>(j * r + k)] * g[static_cast<size_t>(k)];
        for (int i = 0; i < w.a; ++i) dj += w.bt[static_cast<size_t>(j * w.a + i)] * d[static_cast<size_t>(i)];
        product[static_cast<size_t>(j)] = gj * dj;
      }
      for (int i = 0; i < m; ++i) {
        double got = 0, want = 0;
        for (int j = 0; j < w.a; ++j) got += w.at[static_cast<size_t>(i * w.a + j)] * product[static_cast<size_t>(j)];
        for (int k = 0; k < r; ++k) want += d[static_cast<size_t>(i + k)] * g[static_cast<size_t>(k)];
        CHECK(got == doctest::Approx(want).epsilon(1e-12));
      }
    }
  }
  CHECK_FALSE(has_winograd_matrices(6, 7));
  CHECK_THROWS_WITH_AS(winograd_matrices(6, 7), doctest::Contains("F(6, 7)"), Error);
  CHECK(has_winograd(2, 5, 5));
  CHECK_FALSE(has_winograd(4, 5, 5));
  CHECK_FALSE(has_winograd(2, 1, 1));
  CHECK_FALSE(has_winograd(2, 3, 5));
  CHECK_THROWS_WITH_AS(winograd_axes(4, 5, 5), doctest::Contains("no form with tiles of 4 for a 5x5 kernel"), Error);
}

// Factorized kernels: 1x7 and 7x1 take F(2, 7) along their long axis, 1x3
// F(4, 3) and 5x1 F(4, 5); 5x5 F(2x2, 5x5); 1x1 stays direct, as does a 1x7
// whose 4 columns leave fewer than 16 tiles. The same numbers as the direct
// form.
TEST_CASE("WinogradConv2D: 5x5, 1 x r and r x 1 kernels") {
  Module m = testing::parse(R"(const @w1 : Tensor[(8, 8, 1, 7), float32] = elided("0")
const @w2 : Tensor[(8, 8, 7, 1), float32] = elided("0")
const @w3 : Tensor[(8, 8, 1, 3), float32] = elided("0")
const @w4 : Tensor[(8, 8, 5, 1), float32] = elided("0")
const @w5 : Tensor[(8, 8, 5, 5), float32] = elided("0")
const @w6 : Tensor[(8, 8, 1, 1), float32] = elided("0")
const @w7 : Tensor[(8, 8, 1, 7), float32] = elided("0")

def @main(%x: Tensor[(1, 8, 12, 12), float32], %y: Tensor[(1, 8, 1, 4), float32]) {
  %0 = nn.conv2d(%x, @w1, strides=[1, 1], padding=[0, 3, 0, 3], dilation=[1, 1], groups=1);
  %1 = nn.conv2d(%0, @w2, strides=[1, 1], padding=[3, 0, 3, 0], dilation=[1, 1], groups=1);
  %2 = nn.conv2d(%1, @w3, strides=[1, 1], padding=[0, 1, 0, 1], dilation=[1, 1], groups=1);
  %3 = nn.conv2d(%2, @w4, strides=[1, 1], padding=[2, 0, 2, 0], dilation=[1, 1], groups=1);
  %4 = nn.conv2d(%3, @w5, strides=[1, 1], padding=[2, 2, 2, 2], dilation=[1, 1], groups=1);
  %5 = nn.conv2d(%4, @w6, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %6 = nn.conv2d(%y, @w7, strides=[1, 1], padding=[0, 3, 0, 3], dilation=[1, 1], groups=1);
  (%5, %6)
}
)");
  const auto [before, after] = winograd_before_after(m);
  CHECK(convolution_forms(after) == std::vector<std::string>{"1x7 F2", "7x1 F2", "1x3 F4", "5x1 F4", "5x5 F2", "direct", "direct"});
  check_same_numbers(before, after);
}

// ReducePrecision stores the constant weights of conv2d, dense and
// batch_matmul in bfloat16 / float16, rounded to nearest even; biases,
// activations and a matrix product of two activations stay float32, and
// quantization.skip keeps layers or op kinds in float32.
TEST_CASE("ReducePrecision: half-precision weights, rounded to nearest even, with skip") {
  const char* const text = R"(const @w : Tensor[(2, 1, 1, 2), float32] = [1.00390625, 1.01171875, -3.0, 0.1]
const @b : Tensor[(2), float32] = [0.5, -0.5]
const @d : Tensor[(3, 4), float32] = [1.0, 2.0, 3.0, 4.0, 0.5, 0.25, 0.125, 1.5, -1.0, -2.0, 0.75, 3.3]

def @main(%x: Tensor[(1, 1, 2, 2), float32], %y: Tensor[(2, 1), float32]) {
  %0 = nn.conv2d(%x, @w, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %1 = nn.bias_add(%0, @b, axis=1);
  %2 = reshape(%1, newshape=[1, 4]);
  %3 = nn.dense(%2, @d);
  %4 = nn.batch_matmul(%y, %3);
  %4
}
)";
  const Module m = typed(text);
  auto reduced = [&](const std::string& mode, std::vector<std::string> skip) {
    PassContext context;
    context.quantize.mode = mode;
    context.quantize.skip = std::move(skip);
    return run_passes(m, {"ReducePrecision"}, context);
  };
  auto weight_of = [](const Module& r, const std::string& op) -> const Tensor& {
    for (const Binding& b : r.main().body)
      if (b.is_op(op)) return r.constant(b.args[1].constant);
    FAIL("no " << op);
    return r.constants.begin()->second;
  };
  CHECK(print_module(reduced("none", {})) == print_module(m));
  CHECK(print_module(reduced("int8", {})) == print_module(m));

  const Module bf16 = reduced("bf16", {});
  const Tensor& w = weight_of(bf16, "nn.conv2d");
  REQUIRE(w.type().dtype == DType::bfloat16);
  // 8 significant bits: 1 + 2^-8 ties to 1 (even), 1 + 3 * 2^-8 to 1 + 2^-6 (even); 0.1 rounds to 0.10009765625.
  CHECK(w.element_as_double(0) == 1.0);
  CHECK(w.element_as_double(1) == 1.015625);
  CHECK(w.element_as_double(2) == -3.0);
  CHECK(w.element_as_double(3) == 0.10009765625);
  CHECK(weight_of(bf16, "nn.dense").type().dtype == DType::bfloat16);
  CHECK(bf16.constants.count("b"));
  CHECK(bf16.constant("b").type().dtype == DType::float32);
  CHECK(bf16.constants.count("w") == 0);  // the float32 original is gone
  for (const Binding& b : bf16.main().body) CHECK(b.types.at(0).dtype == DType::float32);
  // The reference interpreter widens the weights: the result is the model's with its weights rounded.
  CHECK(max_difference(m, bf16, 1e-2, 1e-2) > 0);

  const Module fp16 = reduced("fp16", {});
  CHECK(weight_of(fp16, "nn.conv2d").type().dtype == DType::float16);
  CHECK(weight_of(fp16, "nn.conv2d").element_as_double(0) == 1.00390625);  // 11 significant bits keep it
  CHECK(max_difference(m, fp16, 1e-3, 1e-3) >= 0);

  // A weight float16 cannot hold is an error naming the layer, not an infinity; bf16 keeps it.
  Module big = m;
  auto huge = big.constants.at("d").mutable_values<float>();
  huge[5] = 70000.f;
  PassContext half;
  half.quantize.mode = "fp16";
  try {
    (void)run_passes(big, {"ReducePrecision"}, half);
    FAIL("a weight beyond float16's range was accepted");
  } catch (const Error& e) {
    CHECK(e.diagnostics().at(0).message.find("reaches 70000, beyond float16's largest value (65504)") != std::string::npos);
    CHECK(e.diagnostics().at(0).pointer == "/quantization/mode");
  }
  half.quantize.skip = {"nn.dense"};
  CHECK(run_passes(big, {"ReducePrecision"}, half).constant("d").type().dtype == DType::float32);
  huge[5] = 65519.f;  // rounds to 65504
  half.quantize.skip.clear();
  CHECK(weight_of(run_passes(big, {"ReducePrecision"}, half), "nn.dense").element_as_double(5) == 65504.0);

  const Module skip_dense = reduced("bf16", {"nn.dense"});
  CHECK(weight_of(skip_dense, "nn.dense").type().dtype == DType::float32);
  CHECK(weight_of(skip_dense, "nn.conv2d").type().dtype == DType::bfloat16);
  const Module skip_conv = reduced("bf16", {"nn.conv2d"});
  CHECK(weight_of(skip_conv, "nn.conv2d").type().dtype == DType::float32);
  CHECK(weight_of(skip_conv, "nn.dense").type().dtype == DType::bfloat16);
}

}  // namespace
}  // namespace modelc::lang

namespace modelc::lang {

TEST_CASE("transform_layout moves every element where source_index says, for blocked, permuted and 2-byte layouts") {
  struct Case {
    const char* from;
    const char* to;
    std::vector<int64_t> shape;  // in `from`
    DType dtype;
  };
  const Case cases[] = {
      {"NCHW", "NCHW8c", {2, 16, 3, 5}, DType::float32},
      {"NCHW8c", "NCHW", {2, 2, 3, 5, 8}, DType::float32},
      {"NCHW", "NHWC", {1, 6, 4, 7}, DType::float32},
      {"NCHW4c", "NCHW8c", {1, 4, 2, 3, 4}, DType::float32},
      {"OIHW", "OIHW8i8o", {16, 24, 3, 3}, DType::float32},
      {"OIHW8i8o", "OIHW", {2, 3, 3, 3, 8, 8}, DType::float32},
      {"OIHW", "OIHW8o", {16, 3, 7, 7}, DType::bfloat16},
      {"OIHW", "HWIO", {5, 3, 2, 4}, DType::float16},
  };
  for (const Case& c : cases) {
    CAPTURE(c.from);
    CAPTURE(c.to);
    const Layout from = Layout::parse(c.from), to = Layout::parse(c.to);
    Tensor in(TensorType{c.shape, c.dtype});
    const size_t elem = dtype_bytes(c.dtype);
    std::span<std::byte> bytes = in.mutable_bytes();
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::byte>((i * 7 + i / 251) & 0xff);
    const Tensor out = transform_layout(in, from, to);
    REQUIRE(out.type().shape == convert_shape(c.shape, from, to));
    const auto& os = out.type().shape;
    const int64_t count = out.type().element_count();
    std::vector<int64_t> idx(os.size(), 0);
    size_t wrong = 0;
    for (int64_t flat = 0; flat < count; ++flat) {
      const std::vector<int64_t> src = source_index(from, to, idx);
      int64_t offset = 0;
      for (size_t j = 0; j < src.size(); ++j) offset = offset * c.shape[j] + src[j];
      if (std::memcmp(out.bytes().data() + flat * static_cast<int64_t>(elem), in.bytes().data() + offset * static_cast<int64_t>(elem),
                      elem) != 0)
        ++wrong;
      for (size_t d = os.size(); d-- > 0;)
        if (++idx[d] < os[d]) break;
        else idx[d] = 0;
    }
    CHECK(wrong == 0);
  }
}

}  // namespace modelc::lang
