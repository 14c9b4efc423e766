// The whole default pipeline on the shared models under every layout the
// recipe offers (NCHW, NHWC, NCHW8c, NCHW16c): the reference interpreter still
// reproduces PyTorch's output, and ResNet-18 fuses into one primitive function
// per conv (+ bias + relu + residual add) group.
#include <doctest/doctest.h>

#include <set>

#include "lang/frontends/onnx.h"
#include "lang/interpreter.h"
#include "lang/pass.h"
#include "tests/lang/test_util.h"
#include "tests/prerequisites.h"

namespace modelc::lang {
namespace {

const char* const kLayouts[] = {"NCHW", "NHWC", "NCHW8c", "NCHW16c"};

Module optimize(const Module& m, const std::string& layout, int opt_level) {
  PassContext context;
  context.opt_level = opt_level;
  context.activation_layout = layout;
  context.enabled.insert("FuseOps");  // as the driver does
  return run_passes(m, default_pipeline(), context);
}

// Same tolerance as onnx_import_test.cpp: PyTorch accumulates in another
// order, so rtol 1e-3 plus atol 1e-4 for outputs of order 1. A layout only
// moves elements, so every layout must give the NCHW numbers.
double check_against_pytorch(const std::string& name, const Module& optimized) {
  const std::filesystem::path dir = test::require_shared_models();
  const Tensor input = testing::tensor_from_npy(dir / (name + ".input.npy"));
  const Tensor expected = testing::tensor_from_npy(dir / (name + ".output.npy"));
  const std::vector<Tensor> outputs = evaluate_main(optimized, std::span<const Tensor>(&input, 1));
  REQUIRE(outputs.size() == 1);
  const testing::Closeness c = testing::compare(outputs[0], expected, 1e-3, 1e-4);
  CHECK(c.within);
  return c.max_abs;
}

int count_op(const Function& fn, std::string_view op) {
  int n = 0;
  for (const Binding& b : fn.body) n += b.is_op(op);
  return n;
}

TEST_CASE("shared models match PyTorch after the pipeline under every layout" *
          doctest::skip(test::skip_without_shared_models())) {
  for (const char* name : {"mlp_784_512_512_10", "resnet18", "mobilenet_v2", "transformer_enc2_d128"}) {
    const Module imported = infer_type(import_onnx(test::require_shared_models() / (std::string(name) + ".onnx")), {});
    for (const char* layout : kLayouts)
      for (int level : {2, 3}) {
        if (level == 3 && std::string(layout) != "NCHW16c") continue;  // level 3 once: it changes only fusion
        const std::string model_name = name, layout_name = layout;
        CAPTURE(model_name);
        CAPTURE(layout_name);
        CAPTURE(level);
        const Module optimized = optimize(imported, layout, level);
        // Every call is of a primitive function, and each of its results is
        // used: FuseOps returns from a group exactly what others read.
        const Function& main = optimized.main();
        std::set<std::pair<uint32_t, uint32_t>> used;
        for (const Binding& b : main.body)
          for (const ValueRef& a : b.args)
            if (a.is_binding()) used.emplace(a.index, a.output);
        for (const ValueRef& r : main.results)
          if (r.is_binding()) used.emplace(r.index, r.output);
        for (uint32_t i = 0; i < main.body.size(); ++i) {
          const Binding& b = main.body[i];
          REQUIRE_FALSE(b.is_op_call());
          const Function* callee = optimized.find_function(b.function);
          REQUIRE(callee);
          CHECK(callee->primitive);
          CHECK(callee->results.size() == b.types.size());
          for (uint32_t k = 0; k < b.types.size(); ++k) CHECK(used.count({i, k}) == 1);
        }
        MESSAGE(std::string(name) << " " << std::string(layout) << " O" << level << ": max abs error " << check_against_pytorch(name, optimized));
      }
  }
}

TEST_CASE("ResNet-18 after fusion: one primitive function per conv (+ bias + relu + add) group, in every layout" *
          doctest::skip(test::skip_without_shared_models())) {
  const Module imported = infer_type(import_onnx(test::require_shared_models() / "resnet18.onnx"), {});
  REQUIRE(count_op(imported.main(), "nn.conv2d") == 20);
  for (const char* layout : kLayouts) {
    const std::string layout_name = layout;
    CAPTURE(layout_name);
    const Module m = optimize(imported, layout, 2);
    int conv_groups = 0, winograd_groups = 0, layout_transforms = 0;
    for (const Binding& call : m.main().body) {
      const Function& group = *m.find_function(call.function);
      const int convs = count_op(group, "nn.conv2d") + count_op(group, "nn.conv2d_winograd");
      CHECK(convs <= 1);
      if (convs == 1) {
        ++conv_groups;
        winograd_groups += count_op(group, "nn.conv2d_winograd");
        CHECK((group.body.front().is_op("nn.conv2d") || group.body.front().is_op("nn.conv2d_winograd")));
        for (const Binding& b : group.body)
          CHECK((b.is_op("nn.conv2d") || b.is_op("nn.conv2d_winograd") || b.is_op("nn.bias_add") || b.is_op("add") ||
                 b.is_op("nn.relu")));
        continue;
      }
      // Outside the conv groups: the pooling, the classifier (dense + bias) and
      // the layout edges; no bias, relu or add left over from a conv group.
      const Binding& first = group.body.front();
      CHECK_FALSE((first.is_op("nn.bias_add") || first.is_op("nn.relu") || first.is_op("add")));
      for (const Binding& b : group.body) layout_transforms += b.is_op("layout_transform");
    }
    CHECK(conv_groups == 20);
    // The 13 stride-1 3x3 convolutions run as Winograd convolutions in the blocked layouts.
    CHECK(winograd_groups == (std::string(layout).find('c') != std::string::npos ? 13 : 0));
    // NCHW: none; otherwise one into the first conv (NHWC only: the 3-channel
    // image stays NCHW for blocked layouts) and one before the global pool.
    const std::string l = layout;
    CHECK(layout_transforms == (l == "NCHW" ? 0 : l == "NHWC" ? 2 : 1));
    // Weights were transformed at compile time: no transform reads a constant.
    for (const Function& fn : m.functions)
      for (const Binding& b : fn.body)
        if (b.is_op("layout_transform")) CHECK_FALSE(b.args[0].is_constant());
  }
}

}  // namespace
}  // namespace modelc::lang
