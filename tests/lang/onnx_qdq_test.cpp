// The QDQ form of an ONNX model (lang/frontends/onnx_qdq.h): what it
// quantizes, and that it computes what the Quantize pass's integer model
// computes (both run in the reference interpreter; the QDQ file through the
// ONNX importer's QuantizeLinear / DequantizeLinear).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <random>

#include "lang/frontends/onnx_qdq.h"
#include "lang/interpreter.h"
#include "lang/pass.h"
#include "support/file_io.h"
#include "onnx_test_model.h"
#include "test_util.h"

using namespace modelc;
using namespace modelc::lang;
using namespace modelc::lang::testing;

namespace {

std::vector<float> seeded(size_t n, unsigned seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

Tensor input_tensor(unsigned seed) {
  Tensor t(TensorType{{1, 4, 8, 8}, DType::float32});
  const std::vector<float> v = seeded(256, seed, 1.f);
  std::copy(v.begin(), v.end(), t.mutable_values<float>().begin());
  return t;
}

// X -> Conv 3x3 -> Relu -> Conv 1x1 -> Add(., relu) -> Relu -> MaxPool -> Flatten -> Gemm (transB) -> Y,
// and a Conv whose weight is an input (not an initializer: stays float).
onnx::ModelProto residual_model() {
  onnx::ModelProto m = empty_model({1, 4, 8, 8});
  onnx::GraphProto* g = m.mutable_graph();
  add_float_initializer(g, "w1", {8, 4, 3, 3}, seeded(288, 1, 0.3f));
  add_float_initializer(g, "b1", {8}, seeded(8, 2, 0.1f));
  add_float_initializer(g, "w2", {8, 8, 1, 1}, seeded(64, 3, 0.3f));
  add_float_initializer(g, "b2", {8}, seeded(8, 4, 0.1f));
  add_float_initializer(g, "w3", {10, 128}, seeded(1280, 5, 0.1f));
  add_float_initializer(g, "b3", {10}, seeded(10, 6, 0.1f));
  onnx::NodeProto* c1 = add_node(g, "Conv", "conv1", {"X", "w1", "b1"}, "c1");
  onnx::AttributeProto* pads = c1->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int k = 0; k < 4; ++k) pads->add_ints(1);
  add_node(g, "Relu", "relu1", {"c1"}, "r1");
  add_node(g, "Conv", "conv2", {"r1", "w2", "b2"}, "c2");
  add_node(g, "Add", "add", {"c2", "r1"}, "s");
  add_node(g, "Relu", "relu2", {"s"}, "r2");
  onnx::NodeProto* pool = add_node(g, "MaxPool", "pool", {"r2"}, "p");
  onnx::AttributeProto* kernel = pool->add_attribute();
  kernel->set_name("kernel_shape");
  kernel->set_type(onnx::AttributeProto::INTS);
  kernel->add_ints(2);
  kernel->add_ints(2);
  onnx::AttributeProto* strides = pool->add_attribute();
  strides->set_name("strides");
  strides->set_type(onnx::AttributeProto::INTS);
  strides->add_ints(2);
  strides->add_ints(2);
  add_node(g, "Flatten", "flatten", {"p"}, "f");
  onnx::NodeProto* gemm = add_node(g, "Gemm", "fc", {"f", "w3", "b3"}, "Y");
  set_attr(gemm, "transB", int64_t{1});
  add_tensor_value(g->mutable_output(), "Y", {1, 10});
  return m;
}

QuantizeOptions options() {
  QuantizeOptions o;
  o.mode = "int8";
  o.method = "minmax";
  for (unsigned s = 0; s < 6; ++s) o.calibration.push_back({input_tensor(100 + s)});
  return o;
}

std::map<std::string, int> op_counts(const onnx::ModelProto& m) {
  std::map<std::string, int> n;
  for (const onnx::NodeProto& node : m.graph().node()) ++n[node.op_type()];
  return n;
}

const onnx::TensorProto* initializer(const onnx::ModelProto& m, const std::string& name) {
  for (const onnx::TensorProto& t : m.graph().initializer())
    if (t.name() == name) return &t;
  return nullptr;
}

std::vector<float> floats(const onnx::TensorProto* t) {
  REQUIRE(t);
  REQUIRE(t->raw_data().size() % 4 == 0);
  std::vector<float> v(t->raw_data().size() / 4);
  std::memcpy(v.data(), t->raw_data().data(), t->raw_data().size());
  return v;
}

}  // namespace

TEST_CASE("QDQ form: int8 weights, int32 biases, pairs on the activations the Quantize pass keeps in 8 bits") {
  TempDir dir;
  const auto file = save(residual_model(), dir.path() / "model.onnx");
  const OnnxImport imported = import_onnx_values(file);
  const QuantizeOptions o = options();
  const auto out = dir.path() / "model.qdq.onnx";
  const QdqSummary s = write_qdq_onnx(file, imported, o, out);
  CHECK(s.layers == 3);
  CHECK(s.float_layers == 0);
  // X, r1 (conv1's chain end, conv2's input and the add's), c2, r2 (the add's chain end), p (the pool), f (the Gemm's
  // input); not Y, which no quantized op reads.
  CHECK(s.activations == 6);

  onnx::ModelProto q;
  REQUIRE(q.ParseFromString(read_text_file(out)));
  const auto ops = op_counts(q);
  CHECK(ops.at("QuantizeLinear") == 6);
  CHECK(ops.at("DequantizeLinear") == 6 + 3 + 3);  // activations, weights, biases
  // the float weights and biases are gone, their int8 and int32 forms are there
  for (const char* name : {"w1", "b1", "w2", "b2", "w3", "b3"}) CHECK(initializer(q, name) == nullptr);
  REQUIRE(initializer(q, "w1_quantized"));
  CHECK(initializer(q, "w1_quantized")->data_type() == onnx::TensorProto::INT8);
  CHECK(initializer(q, "w1_scale")->dims(0) == 8);  // per output channel
  CHECK(initializer(q, "w3_scale")->dims(0) == 10);  // Gemm with transB: per row of the weight
  CHECK(initializer(q, "b1_quantized")->data_type() == onnx::TensorProto::INT32);
  // ONNX Runtime adds int32 biases to the accumulators as they are: their scale must be input scale x weight scale
  const float x_scale = floats(initializer(q, "X_scale")).at(0);
  const std::vector<float> w1_scale = floats(initializer(q, "w1_scale")), b1_scale = floats(initializer(q, "b1_scale"));
  REQUIRE(b1_scale.size() == 8);
  for (size_t c = 0; c < 8; ++c) CHECK(b1_scale[c] == doctest::Approx(x_scale * w1_scale[c]).epsilon(1e-6));
  // the pool's output keeps its input's scale (ONNX Runtime pools the integers)
  CHECK(initializer(q, "p_scale")->raw_data() == initializer(q, "r2_scale")->raw_data());
  // ReLU stays in the graph (ONNX Runtime folds it into the quantization's clamp)
  CHECK(ops.at("Relu") == 2);

  // The QDQ model computes what the integer model of the Quantize pass does, on held-out inputs.
  PassContext context;
  context.quantize = o;
  const Module int8 = run_passes(imported.module, {"InferType", "SimplifyInference", "FoldConstant", "Quantize", "InferType"}, context);
  const Module qdq = import_onnx(out);
  double worst = 0, worst_float = 0, range = 0, int8_float = 0;
  for (unsigned seed = 500; seed < 508; ++seed) {
    const Tensor x = input_tensor(seed);
    const Tensor a = evaluate_main(qdq, std::vector<Tensor>{x}).at(0);
    const Tensor b = evaluate_main(int8, std::vector<Tensor>{x}).at(0);
    const Tensor f = evaluate_main(imported.module, std::vector<Tensor>{x}).at(0);
    for (size_t i = 0; i < 10; ++i) {
      worst = std::max(worst, std::fabs(static_cast<double>(a.values<float>()[i] - b.values<float>()[i])));
      int8_float = std::max(int8_float, std::fabs(static_cast<double>(b.values<float>()[i] - f.values<float>()[i])));
      worst_float = std::max(worst_float, std::fabs(static_cast<double>(a.values<float>()[i] - f.values<float>()[i])));
      range = std::max(range, std::fabs(static_cast<double>(f.values<float>()[i])));
    }
  }
  CAPTURE(worst);
  CAPTURE(worst_float);
  CAPTURE(range);
  CAPTURE(int8_float);
  CHECK(worst <= 0.01 * range);        // the same quantization, up to a rounding step
  CHECK(worst_float <= 0.1 * range);   // and still the model
}

TEST_CASE("QDQ form: skipped layers and weights that are not initializers stay float; old opsets are refused") {
  TempDir dir;
  onnx::ModelProto m = residual_model();
  // conv2 reads its weight from a second input: no int8 form for it.
  m.mutable_graph()->mutable_node(2)->set_input(1, "W2in");
  add_tensor_value(m.mutable_graph()->mutable_input(), "W2in", {8, 8, 1, 1});
  const auto file = save(m, dir.path() / "model.onnx");
  const OnnxImport imported = import_onnx_values(file);
  QuantizeOptions o = options();
  for (auto& sample : o.calibration) sample.push_back(Tensor(TensorType{{8, 8, 1, 1}, DType::float32}));
  o.skip = {"fc"};
  const QdqSummary s = write_qdq_onnx(file, imported, o, dir.path() / "q.onnx");
  CHECK(s.layers == 1);
  CHECK(s.float_layers == 1);  // fc, skipped; conv2 has no weight initializer to quantize

  onnx::ModelProto old = residual_model();
  old.mutable_opset_import(0)->set_version(9);
  const auto old_file = save(old, dir.path() / "old.onnx");
  CHECK_THROWS_WITH_AS(write_qdq_onnx(old_file, import_onnx_values(old_file), options(), dir.path() / "o.onnx"),
                       doctest::Contains("opset 9"), Error);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "o.onnx"));
}
