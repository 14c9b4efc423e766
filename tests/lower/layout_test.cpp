// Lowerings of the layout work (layout_transform; conv2d and pooling in NHWC
// and blocked NCHW{k}c layouts, with their transformed weights; fused groups
// as ConvertLayout + FuseOps leave them): each primitive function compiled
// with Halide's JIT and compared with the reference interpreter.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "lang/interpreter.h"
#include "lang/ops/nn.h"
#include "lang/pass.h"
#include "lang/text.h"
#include "lower/lowering.h"
#include "lower/register_tile.h"
#include "lower/tensor_func.h"
#include "tests/lower/jit_check.h"

using namespace modelc;
using namespace modelc::lang;

namespace {

// Tolerance: the kernels reassociate the convolution sums (vector lanes,
// unrolled channel blocks), so 1e-4 relative plus 1e-5 absolute per element;
// pure data movement is checked tighter by its caller.
int check_primitives(const Module& m, double rtol = 1e-4, double atol = 1e-5) {
  return test::check_primitives_against_reference(m, rtol, atol, 7);
}

Module fused(const std::string& text, const std::string& layout = "NCHW") {
  PassContext context;
  context.opt_level = 2;
  context.activation_layout = layout;
  return run_passes(parse_module(text, "case.ir"), {"InferType", "ConvertLayout", "FuseOps", "InferType"}, context);
}

TEST_CASE("layout_transform between NCHW, NHWC, blocked layouts and blocked weight layouts") {
  const Module m = fused(R"(def @main(%x: Tensor[(2, 16, 3, 5), float32], %w: Tensor[(16, 8, 3, 3), float32]) {
  %0 = layout_transform(%x, src_layout="NCHW", dst_layout="NCHW8c");
  %1 = exp(%x);
  %2 = layout_transform(%1, src_layout="NCHW", dst_layout="NHWC");
  %3 = negative(%x);
  %4 = layout_transform(%3, src_layout="NCHW", dst_layout="NCHW4c");
  %5 = nn.relu(%4);
  %6 = layout_transform(%5, src_layout="NCHW4c", dst_layout="NCHW16c");
  %7 = sqrt(%w);
  %8 = layout_transform(%7, src_layout="OIHW", dst_layout="OIHW4i8o");
  (%0, %2, %6, %8)
}
)");
  // The three transforms of %x read only %x: one kernel with three results (FuseOps' horizontal fusion).
  CHECK(check_primitives(m, 1e-6, 1e-7) == 2);  // moves are exact; Halide's exp and sqrt differ from libm by an ulp
}

// A transform out of a blocked layout into the plain one, alone in its
// kernel, moves F x F tiles through registers (lower/ops/layout.cpp): out of
// NCHW16c at a width that is a multiple of 16 and one that is not (the last
// tile recomputed), out of NCHW4c (F = 4); the transforms into blocked
// layouts around them gather. Equal to the reference element for element.
TEST_CASE("layout_transform in tiles of a block's width") {
  const Module m = fused(R"(def @main(%x: Tensor[(2, 32, 3, 32), float32], %y: Tensor[(1, 16, 2, 20), float32], %z: Tensor[(1, 8, 3, 12), float32]) {
  %0 = layout_transform(%x, src_layout="NCHW", dst_layout="NCHW16c");
  %1 = nn.relu(%0);
  %2 = layout_transform(%1, src_layout="NCHW16c", dst_layout="NCHW");
  %3 = negative(%y);
  %4 = layout_transform(%3, src_layout="NCHW", dst_layout="NCHW16c");
  %5 = nn.relu(%4);
  %6 = layout_transform(%5, src_layout="NCHW16c", dst_layout="NCHW");
  %7 = layout_transform(%z, src_layout="NCHW", dst_layout="NCHW8c");
  %8 = layout_transform(%7, src_layout="NCHW8c", dst_layout="NCHW4c");
  %9 = nn.relu(%8);
  %10 = layout_transform(%9, src_layout="NCHW4c", dst_layout="NCHW");
  (%2, %6, %10)
}
)");
  CHECK(check_primitives(m, 0, 0) == 3);  // one kernel per chain, ending in its transform; moves are exact
}

// Compiles `block` with ConvertLayout to each layout and FuseOps, runs it
// kernel by kernel with the JIT and compares every result with the reference
// interpreter on the unconverted module (rtol 1e-4, atol 1e-4: the kernels
// reassociate sums). Returns the converted modules for further checks.
std::vector<Module> check_whole_model(const std::string& block, const std::vector<std::string>& layouts,
                                      const std::vector<std::string>& extra_passes = {}, double scale_atol = 0,
                                      const std::vector<std::string>& before_layout = {}) {
  Module shapes = parse_module(block, "case.ir");
  Module data;
  std::mt19937 rng(3);
  for (const auto& [name, value] : shapes.constants) data.constants.emplace(name, test::random_tensor(value.type(), rng));
  std::vector<Module> converted;
  for (const std::string& layout : layouts) {
    CAPTURE(layout);
    PassContext context;
    context.opt_level = 2;
    context.activation_layout = layout;
    std::vector<std::string> passes{"InferType"};
    passes.insert(passes.end(), before_layout.begin(), before_layout.end());
    passes.push_back("ConvertLayout");
    passes.insert(passes.end(), extra_passes.begin(), extra_passes.end());
    passes.insert(passes.end(), {"FuseOps", "InferType"});
    const Module m = run_passes(parse_module(block, "case.ir", &data), passes, context);
    const Module plain = run_passes(parse_module(block, "case.ir", &data), {"InferType"}, {});
    std::vector<Tensor> input{test::random_tensor(plain.main().params[0].type, rng)};
    const std::vector<Tensor> want = evaluate_main(plain, input);
    std::map<uint32_t, std::vector<Tensor>> values;  // the results of each call
    const Function& main = m.main();
    auto lookup = [&](const ValueRef& r) { return r.is_param() ? input[r.index] : r.is_constant() ? m.constant(r.constant) : values.at(r.index).at(r.output); };
    for (uint32_t i = 0; i < main.body.size(); ++i) {
      std::vector<Tensor> args;
      for (const ValueRef& a : main.body[i].args) args.push_back(lookup(a));
      values[i] = lower::run_kernel_jit(m, *m.find_function(main.body[i].function), args);
    }
    for (size_t r = 0; r < want.size(); ++r) {
      const Tensor& got = lookup(main.results[r]);
      REQUIRE(got.type() == want[r].type());
      double scale = 0, worst = 0;
      for (size_t i = 0; i < static_cast<size_t>(got.type().element_count()); ++i)
        scale = std::max(scale, std::fabs(want[r].element_as_double(i)));
      const double atol = 1e-4 + scale_atol * scale;
      for (size_t i = 0; i < static_cast<size_t>(got.type().element_count()); ++i)
        worst = std::max(worst, std::fabs(got.element_as_double(i) - want[r].element_as_double(i)) /
                                    (atol + 1e-4 * std::fabs(want[r].element_as_double(i))));
      INFO("result " << r << ": worst error / tolerance = " << worst);
      CHECK(worst <= 1.0);
    }
    converted.push_back(m);
  }
  return converted;
}

// The bindings of any of `ops` in every function of the module.
std::vector<const Binding*> ops_in(const Module& m, std::initializer_list<std::string_view> ops) {
  std::vector<const Binding*> out;
  for (const Function& fn : m.functions)
    for (const Binding& b : fn.body)
      for (std::string_view op : ops)
        if (b.is_op(op)) out.push_back(&b);
  return out;
}

// Calls in @main of the op (looking inside the primitive functions).
int count_op(const Module& m, const std::string& op) {
  int n = 0;
  for (const Binding& call : m.main().body)
    if (const Function* fn = m.find_function(call.function))
      for (const Binding& b : fn->body) n += b.is_op(op);
  return n;
}

TEST_CASE("conv2d in NHWC and NCHW{k}c, dense and depthwise, padded and strided, with fused epilogues") {
  const std::string block = R"(const @w1 : Tensor[(16, 3, 3, 3), float32] = elided("0")
const @b1 : Tensor[(16), float32] = elided("0")
const @dw : Tensor[(16, 1, 3, 3), float32] = elided("0")
const @w2 : Tensor[(24, 16, 1, 1), float32] = elided("0")
const @s : Tensor[(24, 1, 1), float32] = elided("0")

def @main(%x: Tensor[(1, 3, 11, 13), float32]) {
  %0 = nn.conv2d(%x, @w1, strides=[2, 2], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %1 = nn.bias_add(%0, @b1, axis=1);
  %2 = nn.relu(%1);
  %3 = nn.conv2d(%2, @dw, strides=[1, 1], padding=[2, 2, 2, 2], dilation=[2, 2], groups=16);
  %4 = clip(%3, a_min=0.0, a_max=6.0);
  %5 = nn.conv2d(%4, @w2, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %6 = multiply(%5, @s);
  %7 = nn.max_pool2d(%6, pool_size=[3, 3], strides=[2, 2], padding=[1, 1, 1, 1], dilation=[1, 1], ceil_mode=true, count_include_pad=false);
  %8 = nn.avg_pool2d(%6, pool_size=[2, 2], strides=[1, 1], padding=[0, 0, 1, 1], dilation=[1, 1], ceil_mode=false, count_include_pad=true);
  (%7, %8)
}
)";
  for (const Module& m : check_whole_model(block, {"NHWC", "NCHW8c", "NCHW16c", "NCHW4c"})) {
    int convs_in_layout = 0;
    for (const Binding* b : ops_in(m, {"nn.conv2d"}))
      convs_in_layout += print_attrs(*b->attrs).find("out_layout=\"NCHW\"") == std::string::npos;
    CHECK(convs_in_layout == 3);
    CHECK(check_primitives(m) >= 6);
  }
}

// ONNX's InstanceNormalization as its importer decomposes it: means over H
// and W that keep them, the normalization elementwise. The means stay in
// the blocked layout (their results the blocked form of [N, C, 1, 1]), so
// only the model's output changes layout; a mean over other axes stays
// NCHW.
TEST_CASE("means over H and W in blocked layouts (instance norm)") {
  const std::string block = R"(const @w : Tensor[(32, 3, 3, 3), float32] = elided("0")
const @gamma : Tensor[(32, 1, 1), float32] = elided("0")
const @beta : Tensor[(32, 1, 1), float32] = elided("0")
const @eps : Tensor[(), float32] = elided("0")

def @main(%x: Tensor[(1, 3, 20, 23), float32]) {
  %0 = nn.conv2d(%x, @w, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %1 = mean(%0, axes=[2, 3], keepdims=true);
  %2 = subtract(%0, %1);
  %3 = multiply(%2, %2);
  %4 = mean(%3, axes=[-1, -2], keepdims=true);
  %5 = add(%4, @eps);
  %6 = sqrt(%5);
  %7 = divide(%2, %6);
  %8 = multiply(%7, @gamma);
  %9 = add(%8, @beta);
  %10 = nn.relu(%9);
  %11 = max(%10, axes=[2, 3], keepdims=true);
  %12 = multiply(%10, %11);
  %13 = mean(%12, axes=[1, 2], keepdims=true);
  (%12, %13)
}
)";
  for (const Module& m : check_whole_model(block, {"NCHW16c", "NCHW8c"})) {
    // One transform: %12 back to NCHW, which the NCHW mean %13 also reads (the
    // 3-channel input is read as it is by the convolution).
    CHECK(count_op(m, "layout_transform") == 1);
    CHECK(count_op(m, "mean") == 3);
    CHECK(check_primitives(m) >= 5);
  }
}

// One row and few channel tiles (1-D convolutions, as ONNX's import them):
// the parallel tasks are strips of the row's pixel tiles, of widths the
// strips and tiles do not divide (a stem over an NCHW input, then a blocked
// layer).
TEST_CASE("conv2d of one row in strips of pixel tiles") {
  const std::string rows = R"(const @w1 : Tensor[(32, 1, 1, 9), float32] = elided("0")
const @w2 : Tensor[(48, 32, 1, 3), float32] = elided("0")
const @b2 : Tensor[(48), float32] = elided("0")

def @main(%x: Tensor[(1, 1, 1, 1001), float32]) {
  %0 = nn.conv2d(%x, @w1, strides=[1, 2], padding=[0, 4, 0, 4], dilation=[1, 1], groups=1);
  %1 = nn.relu(%0);
  %2 = nn.conv2d(%1, @w2, strides=[1, 1], padding=[0, 1, 0, 1], dilation=[1, 1], groups=1);
  %3 = nn.bias_add(%2, @b2, axis=1);
  %3
}
)";
  for (const Module& m : check_whole_model(rows, {"NCHW16c", "NCHW8c"})) CHECK(check_primitives(m) >= 2);
}

// FuseOps' producer fusion: a pointwise convolution and its epilogue computed
// inside the depthwise convolution that alone reads it, a few rows of the
// producer's register tile of channel blocks at a time (stride 1 and 2, 3x3
// and 5x5, dilation 2, rows narrower than a register tile, channel blocks
// that the tile does not divide; a swish epilogue reads the convolution
// twice). A pointwise convolution whose value something else also reads (%13
// feeds the depthwise %15 through %14, and the add %16), a padded one (%17)
// and a depthwise convolution of the input (%0) stay as they are.
TEST_CASE("a pointwise convolution fused into the depthwise convolution that reads it") {
  const std::string block = R"(const @e1 : Tensor[(96, 16, 1, 1), float32] = elided("0")
const @b1 : Tensor[(96), float32] = elided("0")
const @d1 : Tensor[(96, 1, 3, 3), float32] = elided("0")
const @e2 : Tensor[(80, 96, 1, 1), float32] = elided("0")
const @d2 : Tensor[(80, 1, 5, 5), float32] = elided("0")
const @b2 : Tensor[(80), float32] = elided("0")
const @e3 : Tensor[(48, 80, 1, 1), float32] = elided("0")
const @d3 : Tensor[(48, 1, 3, 3), float32] = elided("0")
const @e4 : Tensor[(48, 48, 1, 1), float32] = elided("0")
const @d4 : Tensor[(48, 1, 3, 3), float32] = elided("0")
const @e5 : Tensor[(48, 48, 1, 1), float32] = elided("0")
const @d0 : Tensor[(16, 1, 3, 3), float32] = elided("0")

def @main(%x: Tensor[(1, 16, 19, 21), float32]) {
  %0 = nn.conv2d(%x, @d0, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=16);
  %1 = nn.conv2d(%0, @e1, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %2 = nn.bias_add(%1, @b1, axis=1);
  %3 = clip(%2, a_min=0.0, a_max=6.0);
  %4 = nn.conv2d(%3, @d1, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=96);
  %5 = nn.relu(%4);
  %6 = nn.conv2d(%5, @e2, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %7 = sigmoid(%6);
  %8 = multiply(%6, %7);
  %9 = nn.conv2d(%8, @d2, strides=[2, 2], padding=[2, 2, 2, 2], dilation=[1, 1], groups=80);
  %10 = nn.bias_add(%9, @b2, axis=1);
  %11 = nn.conv2d(%10, @e3, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %12 = nn.conv2d(%11, @d3, strides=[2, 2], padding=[2, 2, 2, 2], dilation=[2, 2], groups=48);
  %13 = nn.conv2d(%12, @e4, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %14 = nn.relu(%13);
  %15 = nn.conv2d(%14, @d4, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=48);
  %16 = add(%15, %13);
  %17 = nn.conv2d(%16, @e5, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %18 = nn.conv2d(%17, @d4, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=48);
  %18
}
)";
  // Twelve layers of random weights: errors grow with the values (the same
  // without the fusion; the fused kernels match their reference exactly).
  for (const Module& m : check_whole_model(block, {"NCHW8c", "NCHW16c"}, {}, 1e-5)) {
    int fused = 0, convs = 0;
    for (const Function& fn : m.functions) {
      int in_fn = 0;
      for (const Binding& b : fn.body) in_fn += b.is_op("nn.conv2d");
      fused += in_fn == 2;
      convs += fn.name == "main" ? 0 : in_fn;
      CHECK(in_fn <= 2);
    }
    CHECK(fused == 3);  // %1-%5, %6-%10, %11-%12
    CHECK(convs == 11);
    CHECK(check_primitives(m) >= 6);
  }
}

// FuseOps' prologue fusion: a squeeze-and-excitation block's scale,
// multiply(s, x), computed row by row inside the pointwise convolution that
// alone reads it (rows narrower and wider than a register tile, a residual
// add after it, a scale on either side of the multiply). A scaled value that
// something else also reads (%19, which %21 adds; its scale comes from
// before %11, so it joins %11's kernel as an epilogue) and one a padded
// convolution reads (%22, a kernel of its own) are not prologues.
TEST_CASE("a squeeze-and-excitation scale fused into the pointwise convolution that reads it") {
  const std::string block = R"(const @d1 : Tensor[(32, 1, 3, 3), float32] = elided("0")
const @r1 : Tensor[(8, 32, 1, 1), float32] = elided("0")
const @x1 : Tensor[(32, 8, 1, 1), float32] = elided("0")
const @p1 : Tensor[(32, 32, 1, 1), float32] = elided("0")
const @b1 : Tensor[(32), float32] = elided("0")
const @p2 : Tensor[(48, 32, 1, 1), float32] = elided("0")
const @k3 : Tensor[(16, 32, 3, 3), float32] = elided("0")

def @main(%x: Tensor[(1, 32, 9, 23), float32]) {
  %0 = nn.conv2d(%x, @d1, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=32);
  %1 = sigmoid(%0);
  %2 = multiply(%0, %1);
  %3 = nn.global_avg_pool2d(%2);
  %4 = nn.conv2d(%3, @r1, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %5 = nn.relu(%4);
  %6 = nn.conv2d(%5, @x1, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %7 = sigmoid(%6);
  %8 = multiply(%2, %7);
  %9 = nn.conv2d(%8, @p1, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %10 = nn.bias_add(%9, @b1, axis=1);
  %11 = add(%10, %x);
  %12 = nn.global_avg_pool2d(%11);
  %13 = nn.conv2d(%12, @r1, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %14 = nn.relu(%13);
  %15 = nn.conv2d(%14, @x1, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %16 = sigmoid(%15);
  %17 = multiply(%16, %11);
  %18 = nn.conv2d(%17, @p2, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %19 = multiply(%11, %7);
  %20 = nn.conv2d(%19, @p1, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %21 = add(%20, %19);
  %22 = multiply(%2, %16);
  %23 = nn.conv2d(%22, @k3, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  (%18, %21, %23)
}
)";
  for (const Module& m : check_whole_model(block, {"NCHW8c", "NCHW16c"}, {}, 1e-5)) {
    int prologues = 0, multiplies_alone = 0;
    for (const Function& fn : m.functions) {
      int multiplies = 0, convs = 0;
      for (const Binding& b : fn.body) {
        multiplies += b.is_op("multiply");
        convs += b.is_op("nn.conv2d");
      }
      const bool pointwise_first = !fn.body.empty() && fn.body.front().is_op("multiply") && convs == 1;
      prologues += pointwise_first && fn.body.size() > 1 && fn.body[1].is_op("nn.conv2d");
      multiplies_alone += multiplies == 1 && fn.body.size() == 1;
    }
    CHECK(prologues == 2);         // %8 into %9, %17 into %18
    CHECK(multiplies_alone == 1);  // %22
    CHECK(check_primitives(m) >= 8);
  }
}

}  // namespace

// A convolution from a blocked input to a channel count no block divides (an
// image-to-image network's RGB output, a segmentation head's 21 classes)
// reads its input in NCHW too (the NCHW kernel loads whole vectors along the
// width); pooling its result keeps NCHW. (Such a layer once reached the
// any-layout rule with an NCHW result, whose schedule split the width twice:
// an internal error on every such model.)
TEST_CASE("conv2d from a blocked input to an unblockable channel count") {
  const std::string block = R"(const @w1 : Tensor[(16, 3, 3, 3), float32] = elided("0")
const @w2 : Tensor[(3, 16, 3, 3), float32] = elided("0")
const @w3 : Tensor[(21, 16, 1, 1), float32] = elided("0")
const @b3 : Tensor[(21), float32] = elided("0")

def @main(%x: Tensor[(1, 3, 11, 13), float32]) {
  %0 = nn.conv2d(%x, @w1, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %1 = nn.relu(%0);
  %2 = nn.conv2d(%1, @w2, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %3 = nn.conv2d(%1, @w3, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %4 = nn.bias_add(%3, @b3, axis=1);
  %5 = nn.max_pool2d(%4, pool_size=[2, 2], strides=[2, 2], padding=[0, 0, 0, 0], dilation=[1, 1], ceil_mode=false, count_include_pad=false);
  (%2, %5)
}
)";
  for (const Module& m : check_whole_model(block, {"NCHW8c", "NCHW16c"})) {
    CHECK(check_primitives(m) >= 3);
    int nchw_convs = 0;
    for (const Binding* b : ops_in(m, {"nn.conv2d"}))
      if (b->types.at(0).shape.size() == 4) {
        CHECK(print_attrs(*b->attrs).find("data_layout=\"NCHW\"") != std::string::npos);
        ++nchw_convs;
      }
    CHECK(nchw_convs == 2);
  }
}

// PadChannels: 58 channels (block 2) become 64 with zero weights and stay
// padded through bias, activations, per-channel scales, a division by a
// constant, a residual add and a depthwise convolution; convolutions absorb
// the padding through zero input weights; an op outside that set (exp),
// a division by a padded value, a concatenation and a result read the first
// 58 channels through strided_slice. Three output channels would be padded
// to eight: too much added work, left as they are.
TEST_CASE("PadChannels widens narrow-block convolutions and slices where it must") {
  const std::string block = R"(const @w1 : Tensor[(58, 16, 1, 1), float32] = elided("0")
const @b1 : Tensor[(58), float32] = elided("0")
const @dw : Tensor[(58, 1, 3, 3), float32] = elided("0")
const @s : Tensor[(58, 1, 1), float32] = elided("0")
const @d : Tensor[(1, 58, 1, 1), float32] = elided("0")
const @w2 : Tensor[(58, 58, 1, 1), float32] = elided("0")
const @w3 : Tensor[(16, 58, 3, 3), float32] = elided("0")
const @w4 : Tensor[(3, 16, 1, 1), float32] = elided("0")

def @main(%x: Tensor[(1, 16, 9, 10), float32]) {
  %0 = nn.conv2d(%x, @w1, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %1 = nn.bias_add(%0, @b1, axis=1);
  %2 = nn.relu(%1);
  %3 = nn.conv2d(%2, @dw, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=58);
  %4 = multiply(%3, @s);
  %5 = divide(%4, @d);
  %6 = sigmoid(%5);
  %7 = add(%6, %2);
  %8 = nn.conv2d(%7, @w2, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %9 = exp(%8);
  %10 = nn.conv2d(%7, @w3, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %11 = concatenate(%8, %10, axis=1);
  %12 = divide(@d, %6);
  %13 = nn.conv2d(%x, @w4, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  (%9, %11, %2, %12, %13)
}
)";
  for (const Module& m : check_whole_model(block, {"NCHW8c", "NCHW16c"}, {}, 0, {"PadChannels"})) {
    std::vector<int64_t> conv_outputs;
    for (const Binding* b : ops_in(m, {"nn.conv2d", "nn.conv2d_winograd"})) {
      const auto& s = b->types.at(0).shape;
      conv_outputs.push_back(s.size() == 5 ? s[1] * s[4] : s[1]);
    }
    const size_t slices = ops_in(m, {"strided_slice"}).size();
    std::sort(conv_outputs.begin(), conv_outputs.end());
    CHECK(conv_outputs == std::vector<int64_t>{3, 16, 64, 64, 64});
    CHECK(slices >= 3);  // %8 (read by exp and the concatenation), %2, %6
  }
}

// A global pool over a million elements in a blocked layout runs parallel
// over the channel blocks of its one image.
TEST_CASE("global pooling of one large image in blocked layouts") {
  const std::string block = R"(def @main(%x: Tensor[(1, 16, 256, 260), float32]) {
  %0 = nn.global_avg_pool2d(%x);
  %0
}
)";
  for (const Module& m : check_whole_model(block, {"NCHW8c", "NCHW4c"})) CHECK(check_primitives(m) >= 1);
}

// A SqueezeNet fire module (a 1x1 squeeze, 1x1 and 3x3 expands joined along
// channels) and an EfficientNet squeeze-and-excitation (global pool, two 1x1
// convolutions, sigmoid gate): in a blocked layout the join and the pool stay
// blocked, so no layout_transform is left between the convolutions.
TEST_CASE("concatenate along channels and global pooling in blocked layouts") {
  const std::string block = R"(const @sq : Tensor[(8, 16, 1, 1), float32] = elided("0")
const @e1 : Tensor[(16, 8, 1, 1), float32] = elided("0")
const @e3 : Tensor[(24, 8, 3, 3), float32] = elided("0")
const @se1 : Tensor[(8, 40, 1, 1), float32] = elided("0")
const @se2 : Tensor[(40, 8, 1, 1), float32] = elided("0")

def @main(%x: Tensor[(1, 16, 9, 7), float32]) {
  %0 = nn.conv2d(%x, @sq, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %1 = nn.relu(%0);
  %2 = nn.conv2d(%1, @e1, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %3 = nn.conv2d(%1, @e3, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %4 = concatenate(%2, %3, axis=1);
  %5 = nn.global_avg_pool2d(%4);
  %6 = nn.conv2d(%5, @se1, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %7 = sigmoid(%6);
  %8 = nn.conv2d(%7, @se2, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %9 = sigmoid(%8);
  %10 = multiply(%4, %9);
  %10
}
)";
  const std::vector<Module> converted = check_whole_model(block, {"NHWC", "NCHW8c", "NCHW4c"});
  for (size_t i = 0; i < converted.size(); ++i) {
    CAPTURE(i);
    // Only the model's input and output change layout.
    CHECK(count_op(converted[i], "layout_transform") == 2);
  }
}

// Grouped convolutions (not depthwise) in blocked layouts: groups that fill
// whole channel blocks run on the blocked kernel as they are (16 channels per
// group at NCHW8c and NCHW4c, one input block of 8 or four of 4 per group;
// several output blocks per group); groups narrower than a block with as many
// outputs as inputs lie side by side in its vectors (OHWI{k}o: 4 and 2
// channels per group at NCHW8c, 2 at NCHW4c); narrower groups of other widths
// are joined two at a time with zero weights between them (4 inputs and 8
// outputs per group at NCHW8c) and stay exact. Strided, padded, dilated,
// and a group of 24 output channels (three blocks of 8) beside 16 input
// channels.
TEST_CASE("grouped convolutions in blocked layouts: as they are, side by side, or joined two at a time") {
  const std::string block = R"(const @g16 : Tensor[(32, 16, 3, 3), float32] = elided("0")
const @g4 : Tensor[(32, 4, 3, 3), float32] = elided("0")
const @g2 : Tensor[(32, 2, 3, 3), float32] = elided("0")
const @g48 : Tensor[(64, 4, 3, 3), float32] = elided("0")
const @wide : Tensor[(48, 16, 1, 1), float32] = elided("0")

def @main(%x: Tensor[(1, 32, 9, 10), float32]) {
  %0 = nn.conv2d(%x, @g16, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=2);
  %1 = nn.relu(%0);
  %2 = nn.conv2d(%1, @g4, strides=[2, 2], padding=[1, 0, 1, 2], dilation=[1, 1], groups=8);
  %3 = nn.conv2d(%2, @g2, strides=[1, 1], padding=[2, 2, 2, 2], dilation=[2, 2], groups=16);
  %4 = nn.conv2d(%3, @wide, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=2);
  %5 = nn.conv2d(%3, @g48, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=8);
  (%4, %5)
}
)";
  const std::vector<Module> converted = check_whole_model(block, {"NCHW8c", "NCHW4c"});
  auto conv_forms = [](const Module& m) {
    std::vector<std::string> forms;  // groups and kernel layout of each convolution, in order
    for (const Binding& call : m.main().body)
      if (const Function* fn = m.find_function(call.function))
        for (const Binding& b : fn->body)
          if (b.is_op("nn.conv2d")) {
            const auto& a = attrs_as<Conv2DAttrs>(*b.attrs);
            forms.push_back(std::to_string(a.groups) + " " + a.kernel_layout);
          }
    return forms;
  };
  CHECK(conv_forms(converted[0]) ==
        std::vector<std::string>{"2 OIHW8i8o", "8 OHWI8o", "16 OHWI8o", "2 OIHW8i8o", "4 OIHW8i8o"});
  CHECK(conv_forms(converted[1]) ==
        std::vector<std::string>{"2 OIHW4i4o", "8 OIHW4i4o", "16 OHWI4o", "2 OIHW4i4o", "8 OIHW4i4o"});
  for (const Module& m : converted) CHECK(check_primitives(m) == 8);  // and the three layout transforms
  // At 16 lanes: four and eight groups side by side in a vector.
  for (const Module& m : check_whole_model(block, {"NCHW16c"})) CHECK(check_primitives(m) >= 6);
  // Unpadded (1x1 and 3x3 valid) narrow groups read the input directly.
  const std::string unpadded = R"(const @p : Tensor[(32, 4, 1, 1), float32] = elided("0")
const @v : Tensor[(32, 2, 3, 3), float32] = elided("0")

def @main(%x: Tensor[(1, 32, 9, 10), float32]) {
  %0 = nn.conv2d(%x, @p, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=8);
  %1 = nn.relu(%0);
  %2 = nn.conv2d(%1, @v, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=16);
  %2
}
)";
  for (const Module& m : check_whole_model(unpadded, {"NCHW16c", "NCHW8c"})) CHECK(check_primitives(m) >= 2);
}

// bf16 and fp16 weights (ReducePrecision), widened to float32 as the kernels
// load them: every conv2d form (blocked, NCHW, depthwise, grouped, Winograd),
// dense (one row) and batch_matmul (a dense over rows), each kernel against the
// reference interpreter on the same IR, whose references widen the same way.
TEST_CASE("half-precision weights in every conv2d form, dense and batch_matmul kernels") {
  const std::string block = R"(const @w1 : Tensor[(16, 3, 3, 3), float32] = elided("0")
const @w2 : Tensor[(16, 16, 3, 3), float32] = elided("0")
const @dw : Tensor[(16, 1, 3, 3), float32] = elided("0")
const @g : Tensor[(16, 8, 1, 1), float32] = elided("0")
const @fc : Tensor[(10, 16), float32] = elided("0")
const @proj : Tensor[(12, 16), float32] = elided("0")

def @main(%x: Tensor[(1, 3, 12, 12), float32]) {
  %0 = nn.conv2d(%x, @w1, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %1 = nn.relu(%0);
  %2 = nn.conv2d(%1, @w2, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %3 = nn.conv2d(%2, @dw, strides=[2, 2], padding=[1, 1, 1, 1], dilation=[1, 1], groups=16);
  %4 = nn.conv2d(%3, @g, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=2);
  %5 = nn.global_avg_pool2d(%4);
  %6 = reshape(%5, newshape=[1, 16]);
  %7 = nn.dense(%6, @fc);
  %8 = reshape(%4, newshape=[16, 36]);
  %9 = transpose(%8, axes=[1, 0]);
  %10 = nn.dense(%9, @proj);
  (%7, %10)
}
)";
  Module shapes = parse_module(block, "case.ir");
  Module data;
  std::mt19937 rng(5);
  for (const auto& [name, value] : shapes.constants) data.constants.emplace(name, test::random_tensor(value.type(), rng));
  for (const std::string mode : {"bf16", "fp16"})
    for (const std::string layout : {"NCHW8c", "NCHW"}) {
      CAPTURE(mode);
      CAPTURE(layout);
      PassContext context;
      context.opt_level = 2;
      context.activation_layout = layout;
      context.quantize.mode = mode;
      const Module m = run_passes(parse_module(block, "case.ir", &data),
                                  {"InferType", "ConvertLayout", "AlterOpLayout", "WinogradConv2D", "ReducePrecision",
                                   "FuseOps", "InferType"},
                                  context);
      int reduced = 0;
      for (const auto& [name, value] : m.constants)
        reduced += value.type().dtype == (mode == "bf16" ? DType::bfloat16 : DType::float16);
      CHECK(reduced == 6);
      if (layout == "NCHW8c") CHECK(count_op(m, "nn.conv2d_winograd") == 1);
      CHECK(count_op(m, "nn.batch_matmul") == 1);
      CHECK(check_primitives(m, 1e-4, 1e-4) >= 6);
    }
}

// bfloat16 matrix products after PackMatmulWeights: a weight with K even in
// panels of row pairs ([N/c, K/2, c, 2]), one with K odd kept [K, N]. Each
// kernel against the reference, computed in pairs (KernelTarget::bf16_dot)
// and read back as [K, N] (any other target): column blocks the panels do
// not divide evenly (48 columns), rows past a whole tile, a batched input
// with a fused epilogue.
TEST_CASE("bfloat16 matrix products over weights in pairs of rows") {
  const std::string block = R"(const @w : Tensor[(64, 48), float32] = elided("0")
const @v : Tensor[(19, 16), float32] = elided("0")
const @b : Tensor[(48), float32] = elided("0")

def @main(%x: Tensor[(2, 37, 64), float32], %y: Tensor[(5, 19), float32]) {
  %0 = nn.batch_matmul(%x, @w);
  %1 = nn.bias_add(%0, @b, axis=2);
  %2 = nn.relu(%1);
  %3 = nn.batch_matmul(%y, @v);
  (%2, %3)
}
)";
  Module shapes = parse_module(block, "case.ir");
  Module data;
  std::mt19937 rng(3);
  for (const auto& [name, value] : shapes.constants) data.constants.emplace(name, test::random_tensor(value.type(), rng));
  for (const std::string layout : {"NCHW16c", "NCHW8c"}) {
    CAPTURE(layout);
    PassContext context;
    context.opt_level = 2;
    context.activation_layout = layout;
    context.quantize.mode = "bf16";
    const Module m = run_passes(parse_module(block, "case.ir", &data),
                                {"InferType", "ConvertLayout", "ReducePrecision", "PackMatmulWeights", "FuseOps", "InferType"},
                                context);
    CHECK(count_op(m, "nn.packed_matmul") == 1);
    CHECK(count_op(m, "nn.batch_matmul") == 1);
    const int64_t c = layout == "NCHW16c" ? 16 : 8;
    REQUIRE(m.constants.count("w.bf16_pairs"));
    CHECK(m.constant("w.bf16_pairs").type() == TensorType{{48 / c, 32, c, 2}, DType::bfloat16});
    Tensor rounded(TensorType{{64, 48}, DType::bfloat16});  // the weight as ReducePrecision rounds it, [K, N]
    const auto values = data.constants.at("w").values<float>();
    for (size_t i = 0; i < values.size(); ++i) rounded.set_element(i, values[i]);
    const Tensor unpacked = unpack_matmul_panels(m.constant("w.bf16_pairs"));
    REQUIRE(unpacked.type() == rounded.type());
    CHECK(std::memcmp(unpacked.bytes().data(), rounded.bytes().data(), rounded.bytes().size()) == 0);
    CHECK(test::check_primitives_against_reference(m, 1e-4, 1e-4, 7, false) == 2);
    CHECK(test::check_primitives_against_reference(m, 1e-4, 1e-4, 7, true) == 2);
  }
}

// NCHW widens a half weight once per call into a scratch buffer, in tasks of
// 2048 vectors: 40 x 104 x 3 x 3 = 37440 elements are two whole tasks and a
// partial one. Splitting tasks first and vectors inside them, Halide 14
// dropped the tail's guard when the size was a multiple of the vector and
// wrote 16 KiB past the buffer (the JIT's allocations carry guard bytes;
// this overrun went further and aborted in free).
TEST_CASE("NCHW convolution over a half weight of an odd size widens exactly the weight") {
  const std::string block = R"(const @w : Tensor[(40, 104, 3, 3), float32] = elided("0")

def @main(%x: Tensor[(1, 104, 5, 5), float32]) {
  %0 = nn.conv2d(%x, @w, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %1 = nn.relu(%0);
  %1
}
)";
  Module shapes = parse_module(block, "case.ir");
  Module data;
  std::mt19937 rng(11);
  for (const auto& [name, value] : shapes.constants) data.constants.emplace(name, test::random_tensor(value.type(), rng));
  for (const std::string mode : {"bf16", "fp16"}) {
    CAPTURE(mode);
    PassContext context;
    context.opt_level = 2;
    context.activation_layout = "NCHW";
    context.quantize.mode = mode;
    const Module m = run_passes(parse_module(block, "case.ir", &data),
                                {"InferType", "ConvertLayout", "ReducePrecision", "FuseOps", "InferType"}, context);
    CHECK(check_primitives(m, 1e-4, 1e-4) == 1);
  }
}

// float16 weights widen exactly, special values included: a dense over one
// input feature with x = 1 returns its weights as float32.
TEST_CASE("float16 weights widen exactly: zeros, denormals, the largest half, infinities and NaN") {
  const std::vector<uint16_t> halves{0x0000, 0x8000, 0x0001, 0x83ff, 0x0400, 0x3c00, 0xc000, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7e00};
  Tensor w(TensorType{{static_cast<int64_t>(halves.size()), 1}, DType::float16});
  std::memcpy(w.mutable_bytes().data(), halves.data(), halves.size() * 2);
  Module m = parse_module(R"(const @w : Tensor[(12, 1), float16] = elided("0")

def @main(%x: Tensor[(1, 1), float32]) {
  %0 = nn.dense(%x, @w);
  %0
}
)", "case.ir");
  m.constants.erase("w");
  m.constants.emplace("w", w);
  m = run_passes(m, {"InferType", "FuseOps", "InferType"}, PassContext{});
  const Binding& call = m.main().body.at(0);
  const std::vector<float> one{1.f};
  const std::vector<Tensor> args{Tensor::from_floats({1, 1}, one), w};
  const std::vector<Tensor> got = lower::run_kernel_jit(m, *m.find_function(call.function), args);
  const auto values = got.at(0).values<float>();
  REQUIRE(values.size() == halves.size());
  for (size_t i = 0; i < halves.size(); ++i) {
    CAPTURE(i);
    const double want = w.element_as_double(i);
    if (std::isnan(want)) CHECK(std::isnan(values[i]));
    else CHECK(static_cast<double>(values[i]) == want);
    CHECK(std::signbit(values[i]) == std::signbit(want));
  }
}

// Winograd F(4x4) and F(2x2) kernels with fused epilogues (bias, relu,
// residual add), on sizes that are not multiples of the tile: 14x14 (F(4x4),
// four tiles of four with a partial last one), 7x7 (F(2x2)), and an
// asymmetric padding, against the direct convolution of the reference.
// Winograd's error scales with the summands, not the result (its transforms
// add and cancel terms), so the tolerance adds 1e-5 of each output's largest
// magnitude; each kernel against its own double-precision reference gets
// atol 5e-4 on outputs of magnitude ~10 from random [-1, 1) arguments.
TEST_CASE("Winograd convolutions against the direct convolution") {
  const std::string block = R"(const @w1 : Tensor[(16, 8, 3, 3), float32] = elided("0")
const @b1 : Tensor[(16), float32] = elided("0")
const @w2 : Tensor[(16, 16, 3, 3), float32] = elided("0")
const @w3 : Tensor[(24, 16, 3, 3), float32] = elided("0")
const @w4 : Tensor[(8, 24, 3, 3), float32] = elided("0")

def @main(%x: Tensor[(1, 8, 14, 14), float32]) {
  %0 = nn.conv2d(%x, @w1, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %1 = nn.bias_add(%0, @b1, axis=1);
  %2 = nn.relu(%1);
  %3 = nn.conv2d(%2, @w2, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %4 = add(%3, %2);
  %5 = nn.relu(%4);
  %6 = nn.max_pool2d(%5, pool_size=[2, 2], strides=[2, 2], padding=[0, 0, 0, 0], dilation=[1, 1], ceil_mode=false, count_include_pad=false);
  %7 = nn.conv2d(%6, @w3, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %8 = nn.conv2d(%7, @w4, strides=[1, 1], padding=[0, 1, 2, 1], dilation=[1, 1], groups=1);
  %8
}
)";
  for (const Module& m : check_whole_model(block, {"NCHW8c", "NCHW4c", "NCHW16c"}, {"WinogradConv2D"}, 1e-5)) {
    CHECK(count_op(m, "nn.conv2d_winograd") == 4);
    CHECK(check_primitives(m, 1e-4, 5e-4) >= 4);
  }
}

// Factorized kernels (Inception's 1x7 then 7x1, 1x3 and 3x1, a 5x1): one
// axis transformed, F(2, 7), F(4, 3) and F(4, 5) along it and the identity
// along the other; and a 5x5, F(2x2, 5x5). Asymmetric padding and outputs
// not divisible by the tile (21 x 23), in two channel blocks, against the
// reference kernels.
TEST_CASE("Winograd convolutions of 5x5, 1 x r and r x 1 kernels") {
  const std::string block = R"(const @w1 : Tensor[(16, 8, 1, 7), float32] = elided("0")
const @b1 : Tensor[(16), float32] = elided("0")
const @w2 : Tensor[(16, 16, 7, 1), float32] = elided("0")
const @w3 : Tensor[(8, 16, 1, 3), float32] = elided("0")
const @w4 : Tensor[(64, 8, 3, 1), float32] = elided("0")
const @w5 : Tensor[(8, 64, 5, 1), float32] = elided("0")
const @w6 : Tensor[(16, 8, 5, 5), float32] = elided("0")

def @main(%x: Tensor[(1, 8, 21, 23), float32]) {
  %0 = nn.conv2d(%x, @w1, strides=[1, 1], padding=[0, 3, 0, 3], dilation=[1, 1], groups=1);
  %1 = nn.bias_add(%0, @b1, axis=1);
  %2 = nn.relu(%1);
  %3 = nn.conv2d(%2, @w2, strides=[1, 1], padding=[3, 0, 3, 0], dilation=[1, 1], groups=1);
  %4 = add(%3, %2);
  %5 = nn.conv2d(%4, @w3, strides=[1, 1], padding=[0, 2, 0, 0], dilation=[1, 1], groups=1);
  %6 = nn.conv2d(%5, @w4, strides=[1, 1], padding=[1, 0, 1, 0], dilation=[1, 1], groups=1);
  %7 = nn.conv2d(%6, @w5, strides=[1, 1], padding=[2, 0, 2, 0], dilation=[1, 1], groups=1);
  %8 = nn.conv2d(%7, @w6, strides=[1, 1], padding=[2, 1, 1, 2], dilation=[1, 1], groups=1);
  %8
}
)";
  for (const Module& m : check_whole_model(block, {"NCHW8c", "NCHW16c"}, {"WinogradConv2D"}, 1e-5)) {
    CHECK(count_op(m, "nn.conv2d_winograd") == 6);
    CHECK(check_primitives(m, 1e-4, 5e-4) >= 6);
  }
}

// The early-layer form (lower/ops/winograd.cpp, by tiles): each parallel task
// transforms, multiplies and stores its own rows of tiles. 72 x 72 pixels are
// 18 rows of 4 x 4 tiles, so a task takes two of them (a split whose last
// task and register tiles reach past the image's tiles); 8 channels' weights
// are smaller than the transformed tiles, which picks this form.
TEST_CASE("Winograd convolutions by tiles, in tasks of several tile rows") {
  const std::string block = R"(const @w1 : Tensor[(8, 8, 3, 3), float32] = elided("0")
const @b1 : Tensor[(8), float32] = elided("0")

def @main(%x: Tensor[(1, 8, 72, 72), float32]) {
  %0 = nn.conv2d(%x, @w1, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %1 = nn.bias_add(%0, @b1, axis=1);
  %2 = nn.relu(%1);
  %2
}
)";
  for (const Module& m : check_whole_model(block, {"NCHW8c"}, {"WinogradConv2D"}, 1e-5)) {
    CHECK(count_op(m, "nn.conv2d_winograd") == 1);
    CHECK(check_primitives(m, 1e-4, 5e-4) >= 1);
  }
}

// Register tiles over two rows (lower/register_tile.h choose_register_tile_rows):
// 40 output channels (5 blocks of 8) over 22 x 6 pixels, a width the tile's
// 4 pixels do not divide, in tiles of 2 pixels of two rows; a 1 x 1 and a
// padded 3 x 3 convolution, bias, activation and a residual add in their
// epilogues. The picked tile takes two rows on this host (AVX2's 3 x 4 and
// AVX-512's 5 x 4 alike), so the test runs that form.
TEST_CASE("blocked convolutions in register tiles over two rows") {
  const lower::RegisterFile host = lower::register_file(Halide::Target(lower::host_halide_target()));
  REQUIRE(lower::choose_register_tile_rows(host, 8, 5, 22, 6).rows == 2);
  const std::string block = R"(const @w1 : Tensor[(40, 16, 1, 1), float32] = elided("0")
const @b1 : Tensor[(40), float32] = elided("0")
const @w2 : Tensor[(40, 16, 3, 3), float32] = elided("0")

def @main(%x: Tensor[(1, 16, 6, 22), float32]) {
  %0 = nn.conv2d(%x, @w1, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1);
  %1 = nn.bias_add(%0, @b1, axis=1);
  %2 = nn.relu(%1);
  %3 = nn.conv2d(%x, @w2, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %4 = add(%3, %2);
  (%4)
}
)";
  for (const Module& m : check_whole_model(block, {"NCHW8c"})) CHECK(check_primitives(m) >= 2);
}
