// Shared models compiled through lower/: imported from ONNX, optimized with
// the default pipeline, every fused function JIT-compiled with Halide and run
// on this machine, compared with PyTorch's output.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "lang/frontends/onnx.h"
#include "lang/pass.h"
#include "lower/jit_module.h"
#include "support/npy.h"
#include "tests/prerequisites.h"

using namespace modelc;
using namespace modelc::lang;

namespace {

Tensor float_npy(const std::filesystem::path& path) {
  NpyArray array = read_npy(path);
  REQUIRE(array.descr == "<f4");
  return Tensor(TensorType{array.shape, DType::float32}, std::move(array.data));
}

}  // namespace

// Tolerance: rtol 1e-3 plus atol 1e-4 for outputs of order 1 (layer-normed):
// the kernels reassociate float32 sums and use a polynomial erf, PyTorch
// accumulates in another order.
TEST_CASE("transformer_enc2_d128: every fused function lowers, and the JIT-compiled model matches PyTorch" *
          doctest::skip(test::skip_without_shared_models())) {
  const std::filesystem::path dir = test::require_shared_models();
  const Module imported = import_onnx(dir / "transformer_enc2_d128.onnx");
  PassContext context;
  context.opt_level = 2;
  context.enabled.insert("FuseOps");
  const Module fused = run_passes(imported, default_pipeline(), context);
  int primitives = 0;
  for (const Function& f : fused.functions) primitives += f.primitive;
  CHECK(primitives > 0);
  for (const Binding& b : fused.main().body) CHECK_MESSAGE(b.op == nullptr, "op left unfused in @main: " << b.callee_name());

  lower::JitModuleRunner runner;
  const Tensor input = float_npy(dir / "transformer_enc2_d128.input.npy");
  const Tensor expected = float_npy(dir / "transformer_enc2_d128.output.npy");
  const std::vector<Tensor> outputs = runner.run_main(fused, std::span<const Tensor>(&input, 1));
  REQUIRE(outputs.size() == 1);
  REQUIRE(outputs[0].type() == expected.type());
  double worst = 0;
  size_t outside = 0;
  for (size_t i = 0; i < static_cast<size_t>(expected.type().element_count()); ++i) {
    const double g = outputs[0].element_as_double(i), e = expected.element_as_double(i);
    const double d = std::fabs(g - e);
    worst = std::max(worst, std::isnan(d) ? INFINITY : d);
    if (!(d <= 1e-4 + 1e-3 * std::fabs(e))) ++outside;
  }
  MESSAGE("transformer: " << runner.compiled_kernels() << " kernels, max abs error " << worst << " against PyTorch");
  CHECK(outside == 0);
}
