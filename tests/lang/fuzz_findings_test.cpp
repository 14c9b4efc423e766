// What the ONNX fuzzer (tests/fuzz/onnx_fuzzer.cpp) found, one case each,
// reduced to the smallest input that shows it. Most are undefined behaviour
// that only the sanitizer run (scripts/sanitize.sh) sees fail; the checks here
// state the outcome the fix gives.
#include <doctest/doctest.h>

#include "lang/interpreter.h"
#include "lang/pass.h"
#include "support/diagnostic.h"
#include "tests/lang/onnx_test_model.h"
#include "tests/lang/test_util.h"

namespace modelc::lang {
namespace {

using namespace testing;

// libonnx-testdata's test_layer_normalization_2d_axis0_expanded folds a
// concatenation with an empty operand: memcpy from its null data().
TEST_CASE("fuzz: concatenate and take with an empty operand copy nothing") {
  const Module m = infer_type(parse(R"(const @a : Tensor[(0), int64] = []
const @b : Tensor[(2), int64] = [3, 4]

def @main(%x: Tensor[(2), int64]) {
  %0 = concatenate(@a, @b, axis=0);
  %1 = add(%x, %0);
  %1
}
)"), {});
  const std::vector<Tensor> out = evaluate_main(m, std::vector<Tensor>{Tensor::from_ints({2}, std::vector<int64_t>{1, 1})});
  CHECK(out.at(0).values<int64_t>()[0] == 4);
  CHECK(out.at(0).values<int64_t>()[1] == 5);
}

// A GatherElements whose indices were wider than the data off the axis:
// gather_elements' kernel read past the data (heap-buffer-overflow).
TEST_CASE("fuzz: gather_elements refuses indices larger than the data off the axis") {
  const Module m = parse(R"(def @main(%x: Tensor[(2, 2), float32], %i: Tensor[(2, 3), int64]) {
  %0 = gather_elements(%x, %i, axis=0);
  %0
}
)");
  try {
    (void)infer_type(m, {});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.diagnostics().at(0).message.find("indices Tensor[(2, 3), int64] are larger than the data Tensor[(2, 2), float32] along axis 1") !=
          std::string::npos);
  }
  const Module empty_axis = parse(R"(def @main(%x: Tensor[(0, 2), float32], %i: Tensor[(1, 2), int64]) {
  %0 = gather_elements(%x, %i, axis=0);
  %0
}
)");
  CHECK_THROWS_AS((void)infer_type(empty_axis, {}), Error);
}

// A Gemm whose weight the mutator made int8: nn.dense's kernel read the
// 1-byte weight as float32, past its end. The ops whose kernels read float32
// now say so in their type rules, for every operand.
TEST_CASE("fuzz: dense, bias_add, batch_norm, layer_norm and convolutions refuse non-float32 operands") {
  const Module m = parse(R"(def @main(%x: Tensor[(1, 4), float32], %w: Tensor[(2, 4), int8]) {
  %0 = nn.dense(%x, %w);
  %0
}
)");
  try {
    (void)infer_type(m, {});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.diagnostics().at(0).message.find("expects weight of type float32 (or float16/bfloat16 storage), found Tensor[(2, 4), int8]") !=
          std::string::npos);
  }
  const Module bias = parse(R"(def @main(%x: Tensor[(1, 4), float32], %b: Tensor[(4), float16]) {
  %0 = nn.bias_add(%x, %b, axis=1);
  %0
}
)");
  CHECK_THROWS_AS((void)infer_type(bias, {}), Error);
}

// A Gather from an axis the mutator made empty: take's kernel clamped the
// index into [0, -1] (std::clamp's precondition; an assertion with
// _GLIBCXX_ASSERTIONS, a read before the data otherwise). Edge padding and
// resizing of an empty axis had the same clamp.
TEST_CASE("fuzz: take, edge padding and resize refuse to read from an empty axis") {
  auto rejects = [](const std::string& body, const std::string& params) {
    const Module m = parse("def @main(" + params + ") {\n  %0 = " + body + ";\n  %0\n}\n");
    CHECK_THROWS_AS((void)infer_type(m, {}), Error);
  };
  rejects("take(%x, %i, axis=0)", "%x: Tensor[(0, 2), float32], %i: Tensor[(1), int64]");
  rejects("nn.pad(%x, pad_width=[1, 0, 0, 0], mode=\"edge\")", "%x: Tensor[(0, 2), float32]");
  rejects("nn.pad(%x, pad_width=[4611686018427387905, 0, 0, 0])", "%x: Tensor[(2, 2), float32]");
  // An empty index list still takes nothing from an empty axis.
  const Module empty = parse(R"(def @main(%x: Tensor[(0, 2), float32], %i: Tensor[(0), int64]) {
  %0 = take(%x, %i, axis=0);
  %0
}
)");
  CHECK(infer_type(empty, {}).main().body.at(0).types.at(0).str() == "Tensor[(0, 2), float32]");
}

// SoftmaxCrossEntropyLoss over a [3, 0, 2] input: softmax's reference
// walked the lines of an empty tensor, offsetting its null data pointer.
TEST_CASE("fuzz: softmax and log_softmax over an empty tensor touch nothing") {
  const Module m = infer_type(parse(R"(def @main(%x: Tensor[(3, 0, 2), float32]) {
  %0 = nn.softmax(%x, axis=1);
  %1 = nn.log_softmax(%x, axis=1);
  (%0, %1)
}
)"), {});
  const std::vector<Tensor> out = evaluate_main(m, std::vector<Tensor>{Tensor(TensorType{{3, 0, 2}, DType::float32})});
  REQUIRE(out.size() == 2);
  CHECK(out[0].type().element_count() == 0);
  CHECK(out[1].type().element_count() == 0);
}

// An initializer of 0 elements (dims [0, 100000, 7]) with empty raw data:
// its bytes were copied with memcpy from the empty tensor's null pointer
// (undefined, seen by the sanitizer run only). It imports as an empty tensor.
TEST_CASE("fuzz: an empty initializer with empty raw data imports as an empty tensor") {
  TempDir tmp;
  onnx::ModelProto m = empty_model({1});
  onnx::TensorProto* w = m.mutable_graph()->add_initializer();
  w->set_name("W");
  w->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : {0, 100000, 7}) w->add_dims(d);
  w->set_raw_data("");
  add_node(m.mutable_graph(), "Shape", "shape", {"W"}, "S");
  add_node(m.mutable_graph(), "Identity", "keep", {"X"}, "Y");
  add_tensor_value(m.mutable_graph()->mutable_output(), "Y", {1});
  add_tensor_value(m.mutable_graph()->mutable_output(), "S", {3}, "", onnx::TensorProto::INT64);
  const Module imported = import_onnx(save(m, tmp.path() / "empty_initializer.onnx"));
  const std::vector<float> x{2.5f};
  const std::vector<Tensor> out = evaluate_main(imported, std::vector<Tensor>{Tensor::from_floats({1}, x)});
  REQUIRE(out.size() == 2);
  CHECK(out[0].values<float>()[0] == 2.5f);
  CHECK(out[1].values<int64_t>()[1] == 100000);
}

}  // namespace
}  // namespace modelc::lang
