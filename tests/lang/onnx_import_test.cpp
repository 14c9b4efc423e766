// ONNX import of the shared models: each imports, survives the default
// pipeline, and the reference interpreter reproduces PyTorch's output.
#include <doctest/doctest.h>

#include <chrono>

#include "lang/frontends/onnx.h"
#include "lang/interpreter.h"
#include "lang/pass.h"
#include "lang/text.h"
#include "support/diagnostic.h"
#include "tests/lang/test_util.h"
#include "tests/prerequisites.h"

namespace modelc::lang {
namespace {


// Test cases that use it are skipped (counted as such) without the shared models.
std::filesystem::path model_path(const std::string& name) { return test::require_shared_models() / (name + ".onnx"); }

int count_op(const Function& fn, std::string_view op) {
  int n = 0;
  for (const Binding& b : fn.body) n += b.is_op(op);
  return n;
}

Module optimize(const Module& m) {
  PassContext context;
  context.opt_level = 2;
  return run_passes(m, default_pipeline(), context);
}

// PyTorch's output against our reference kernels: float32 accumulation order
// differs (the reference accumulates conv in float, dense in double), hence a
// relative tolerance of 1e-3 and an absolute one of 1e-4 for outputs of order 1.
void check_against_reference_output(const std::string& name, const Module& optimized) {
  const std::filesystem::path dir = test::require_shared_models();
  const Tensor input = testing::tensor_from_npy(dir / (name + ".input.npy"));
  const Tensor expected = testing::tensor_from_npy(dir / (name + ".output.npy"));
  const auto start = std::chrono::steady_clock::now();
  const std::vector<Tensor> outputs = evaluate_main(optimized, std::span<const Tensor>(&input, 1));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(outputs.size() == 1);
  const testing::Closeness c = testing::compare(outputs[0], expected, 1e-3, 1e-4);
  MESSAGE(name << ": max abs error " << c.max_abs << " against PyTorch (reference interpreter, " << seconds << " s)");
  CHECK(c.within);
}

Module import_checked(const std::filesystem::path& path) {
  try {
    return import_onnx(path);
  } catch (const Error& e) {
    FAIL("import failed: " << std::string(e.what()));
  }
  return {};
}

TEST_CASE("mlp_784_512_512_10: Gemm and Relu import as dense + bias_add + relu and match PyTorch" *
          doctest::skip(test::skip_without_shared_models())) {
  const auto path = model_path("mlp_784_512_512_10");
  const Module m = import_checked(path);
  CHECK(count_op(m.main(), "nn.dense") == 3);
  CHECK(count_op(m.main(), "nn.bias_add") == 3);
  CHECK(count_op(m.main(), "nn.relu") == 2);
  CHECK(m.main().params.at(0).type == TensorType{{1, 784}, DType::float32});
  check_against_reference_output("mlp_784_512_512_10", optimize(m));
}

TEST_CASE("resnet18 matches PyTorch, and FuseOps gives one kernel call per conv group" *
          doctest::skip(test::skip_without_shared_models())) {
  const auto path = model_path("resnet18");
  const Module m = import_checked(path);
  CHECK(count_op(m.main(), "nn.conv2d") == 20);
  CHECK(count_op(m.main(), "nn.max_pool2d") == 1);
  const Module optimized = optimize(m);
  // Every binding of @main calls a primitive function; each conv sits alone in its group.
  int conv_groups = 0;
  for (const Binding& b : optimized.main().body) {
    REQUIRE_FALSE(b.is_op_call());
    const Function* callee = optimized.find_function(b.function);
    REQUIRE(callee);
    CHECK(callee->primitive);
    const int convs = count_op(*callee, "nn.conv2d");
    CHECK(convs <= 1);
    conv_groups += convs;
  }
  CHECK(conv_groups == 20);
  check_against_reference_output("resnet18", optimized);
}

TEST_CASE("mobilenet_v2: Clip with constant bounds, depthwise convolutions, matches PyTorch" *
          doctest::skip(test::skip_without_shared_models())) {
  const auto path = model_path("mobilenet_v2");
  const Module m = import_checked(path);
  CHECK(count_op(m.main(), "nn.conv2d") == 52);
  CHECK(count_op(m.main(), "clip") == 35);
  for (const Binding& b : m.main().body)
    if (b.is_op("clip")) CHECK(print_attrs(*b.attrs) == "a_min=0.0, a_max=6.0");
  check_against_reference_output("mobilenet_v2", optimize(m));
}

TEST_CASE("transformer_enc2_d128: shape chains fold at import, attention uses batch_matmul, matches PyTorch" *
          doctest::skip(test::skip_without_shared_models())) {
  const auto path = model_path("transformer_enc2_d128");
  const Module m = import_checked(path);
  CHECK(count_op(m.main(), "nn.batch_matmul") == 4);  // scores and weighted values, two layers
  CHECK(count_op(m.main(), "strided_slice") == 6);    // q, k, v out of the packed projection
  check_against_reference_output("transformer_enc2_d128", optimize(m));
}

TEST_CASE("imported shared models print, parse and print the same text" *
          doctest::skip(test::skip_without_shared_models())) {
  for (const char* name : {"mlp_784_512_512_10", "resnet18", "mobilenet_v2", "transformer_enc2_d128"}) {
    CAPTURE(name);
    const Module m = import_checked(model_path(name));
    for (const Module& stage : {m, optimize(m)}) {
      const std::string text = print_module(stage);
      CHECK(print_module(parse_module(text, name)) == text);
    }
  }
}

}  // namespace
}  // namespace modelc::lang
