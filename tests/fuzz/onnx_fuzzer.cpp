// libFuzzer target: an ONNX model file, through everything modelc does with
// one before lowering.
//
// Each input is written as model.onnx into a scratch folder and imported the
// way the CLI imports a model: lang::import_onnx (the 2 GiB check, protobuf
// parsing, the ONNX checker, the converters and the
// constant folding they do at import), then InferType, then the whole default
// pass pipeline at level 3 (FuseOps included), then, for a model with small
// inputs, the reference interpreter on zero inputs. Everything runs under
// kLimits, far below the defaults, and scripts/fuzz.sh sets -malloc_limit_mb
// and -rss_limit_mb just above what those limits allow: an allocation the
// limits should have stopped is a finding.
//
// Only a modelc::Error is an acceptable outcome. Any other exception escapes,
// and libFuzzer reports it as a crash: the CLI would call it an internal error.
//
// Byte-level mutations of protobuf rarely make a model that still parses, so
// a custom mutator (tests/fuzz/onnx_mutator.h) mutates the parsed ModelProto
// instead: a dimension, attribute or tensor value swapped for a boundary
// value (0, -1, 2^31, 2^62, INT64_MAX...), an op type for another supported
// one, an input for another name of the graph, a node duplicated or dropped.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

#include "lang/cost.h"
#include "lang/frontends/onnx.h"
#include "lang/frontends/onnx_node.h"
#include "lang/interpreter.h"
#include "lang/ops/nn.h"
#include "lang/ops/window.h"
#include "lang/pass.h"
#include "support/checked_math.h"
#include "support/diagnostic.h"
#include "tests/fuzz/onnx_mutator.h"

namespace fs = std::filesystem;
using namespace modelc;

namespace {

// Well under the defaults: a 16 MiB tensor, 64 MiB of constants and 4k
// nodes keep each input fast; scripts/fuzz.sh's malloc limit is set to match.
// FuseOps checks for cycles with a walk of the group graph per binding
// (quadratic in the graph's size): a 16k-node graph (unrolled loops) took
// 40 s under the sanitizers, near the fuzzer's timeout.
spec::ModelLimits fuzz_limits() {
  spec::ModelLimits limits;
  limits.max_tensor_elements = int64_t{1} << 22;
  limits.max_model_bytes = int64_t{64} << 20;
  limits.max_graph_nodes = int64_t{1} << 12;
  return limits;
}

// The scratch folder, made once per process and removed at exit. Never
// freed: the atexit handler runs after static destructors registered later.
const fs::path& model_path() {
  static const fs::path* const path = [] {
    std::string name = (fs::temp_directory_path() / "modelc-onnx-fuzz-XXXXXX").string();
    if (::mkdtemp(name.data()) == nullptr) std::abort();
    static const fs::path* const dir = new fs::path(name);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(*dir, ec);
    });
    return new fs::path(*dir / "model.onnx");
  }();
  return *path;
}

// The recipe's model.inputs a person would write for the model: its dynamic
// dimensions set to 1 (models exported with a symbolic batch size are common
// among the seeds, and would otherwise stop at the first check).
std::vector<spec::InputSpec> static_inputs(const uint8_t* data, size_t size) {
  onnx::ModelProto model;
  if (size > static_cast<size_t>(std::numeric_limits<int>::max()) || !model.ParseFromArray(data, static_cast<int>(size))) return {};
  std::vector<spec::InputSpec> inputs;
  for (const onnx::ValueInfoProto& in : model.graph().input()) {
    if (!in.type().has_tensor_type()) continue;
    const std::optional<lang::DType> dtype = lang::frontends::dtype_of_onnx(in.type().tensor_type().elem_type());
    if (!dtype) continue;
    spec::InputSpec spec{in.name(), {}, std::string(lang::dtype_name(*dtype)), "/model/inputs"};
    bool dynamic = false;
    for (const onnx::TensorShapeProto::Dimension& d : in.type().tensor_type().shape().dim()) {
      dynamic = dynamic || !d.has_dim_value();
      spec.shape.push_back(d.has_dim_value() ? d.dim_value() : 1);
    }
    bool initializer = false;
    for (const onnx::TensorProto& init : model.graph().initializer()) initializer = initializer || init.name() == in.name();
    if (dynamic && !initializer) inputs.push_back(std::move(spec));
  }
  return inputs;
}

// Inner-loop steps the reference kernels take on @main, roughly: the
// multiply-adds of convolutions and matrix products, plus each pool's
// results times its window. ONNX allows windows of 2^30 elements; such a
// model is slow, not wrong, and would only time the fuzzer out.
int64_t reference_work(const lang::Module& module) {
  const lang::Function& fn = module.main();
  const lang::FunctionCost cost = lang::function_cost(module, fn);
  int64_t work = saturating_add(cost.multiply_adds, cost.integer_multiply_adds);
  const auto add = [&work](int64_t results, const std::vector<int64_t>& window) {
    int64_t steps = results;
    for (int64_t w : window) steps = saturating_mul(steps, w);
    work = saturating_add(work, steps);
  };
  for (const lang::Binding& b : fn.body) {
    if (!b.is_op_call() || b.types.empty()) continue;
    const int64_t results = b.types.front().element_count();
    if (const auto* p = dynamic_cast<const lang::Pool2DAttrs*>(b.attrs.get())) add(results, p->pool_size);
    if (const auto* p = dynamic_cast<const lang::Pool3DAttrs*>(b.attrs.get())) add(results, p->pool_size);
  }
  return work;
}

// The reference kernels on zero inputs, when the inputs are small and the
// work bounded: folding has run the kernels on the model's constants, this
// runs them on the rest.
void evaluate_if_small(const lang::Module& module) {
  int64_t elements = 0;
  for (const lang::Param& p : module.main().params) elements += p.type.element_count();
  // A step of the instrumented reference kernels costs ~0.3 us: 1e7 steps are a few seconds.
  if (elements > 4096 || reference_work(module) > 10'000'000) return;
  std::vector<lang::Tensor> inputs;
  for (const lang::Param& p : module.main().params) inputs.emplace_back(p.type);
  (void)lang::evaluate_main(module, inputs);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    std::ofstream out(model_path(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    const spec::ModelLimits limits = fuzz_limits();
    const lang::Module imported = lang::import_onnx(model_path(), static_inputs(data, size), limits);
    lang::PassContext context;
    context.limits = limits;
    context.opt_level = 3;
    context.enabled.insert("FuseOps");
    const lang::Module typed = lang::infer_type(imported, context);
    const lang::Module optimized = lang::run_passes(typed, lang::default_pipeline(), context);
    evaluate_if_small(typed);
    (void)optimized;
  } catch (const Error& e) {
    if (e.diagnostics().empty()) std::abort();  // an error says what is wrong
    for (const Diagnostic& d : e.diagnostics()) (void)d.format();
  }
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  return fuzz::mutate_onnx_model(data, size, max_size, seed);
}
