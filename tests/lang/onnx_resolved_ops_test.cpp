// ONNX ops the importer resolves into plain IR ops: sequences (lists of
// tensors kept by the importer), Gradient (differentiated at import time),
// the NLL and softmax cross-entropy losses (decomposed), and Dropout, whose
// training mode is refused. Each model is hand-built and its outputs checked
// against values computed here.
#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include "lang/interpreter.h"
#include "lang/pass.h"
#include "tests/lang/onnx_test_model.h"
#include "tests/lang/test_util.h"

namespace modelc::lang {
namespace {

using namespace testing;

std::vector<Tensor> run(const std::filesystem::path& file, const std::vector<Tensor>& inputs) {
  const Module m = run_passes(import_onnx(file), {"InferType"}, PassContext{});
  return evaluate_main(m, inputs);
}

Tensor iota(const std::vector<int64_t>& shape, float scale = 1.f, float offset = 0.f) {
  Tensor t(TensorType{shape, DType::float32});
  for (size_t i = 0; i < static_cast<size_t>(t.type().element_count()); ++i)
    t.set_element(i, static_cast<double>(static_cast<float>(i) * scale + offset));
  return t;
}

void add_sequence_output(onnx::GraphProto* g, const std::string& name) {
  onnx::ValueInfoProto* v = g->add_output();
  v->set_name(name);
  v->mutable_type()->mutable_sequence_type()->mutable_elem_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
}

// X [4, 3] split into rows, the last erased, R = [7, 8, 9] inserted first,
// then stacked, counted and indexed.
onnx::ModelProto sequence_model(int64_t at) {
  onnx::ModelProto m = empty_model({4, 3});
  onnx::GraphProto* g = m.mutable_graph();
  add_float_initializer(g, "R", {3}, {7, 8, 9});
  add_int_initializer(g, "last", {}, {-1});
  add_int_initializer(g, "front", {}, {0});
  add_int_initializer(g, "at", {}, {at});
  set_attr(add_node(g, "SplitToSequence", "split", {"X"}, "rows"), "keepdims", int64_t{0});
  add_node(g, "SequenceErase", "erase", {"rows", "last"}, "three");
  add_node(g, "SequenceInsert", "insert", {"three", "R", "front"}, "four");
  onnx::NodeProto* concat = add_node(g, "ConcatFromSequence", "stack", {"four"}, "Y");
  set_attr(concat, "axis", int64_t{0});
  set_attr(concat, "new_axis", int64_t{1});
  add_node(g, "SequenceLength", "length", {"four"}, "L");
  add_node(g, "SequenceAt", "pick", {"four", "at"}, "A");
  add_tensor_value(g->mutable_output(), "Y", {4, 3});
  add_tensor_value(g->mutable_output(), "L", {}, "", onnx::TensorProto::INT64);
  add_tensor_value(g->mutable_output(), "A", {3});
  return m;
}

TEST_CASE("sequence ops resolve at import: split, erase, insert, stack, length, at") {
  TempDir dir;
  const std::vector<Tensor> out = run(save(sequence_model(-2), dir.path() / "seq.onnx"), {iota({4, 3})});
  REQUIRE(out.size() == 3);
  CHECK(out[0].type() == TensorType{{4, 3}, DType::float32});
  const std::vector<double> stacked = {7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8};
  for (size_t i = 0; i < stacked.size(); ++i) CHECK(out[0].element_as_double(i) == stacked[i]);
  CHECK(out[1].element_as_int(0) == 4);
  CHECK(out[2].type() == TensorType{{3}, DType::float32});
  CHECK(out[2].element_as_double(0) == 3.0);  // element -2 of [R, X0, X1, X2] is X1
}

TEST_CASE("sequence mistakes are located errors") {
  TempDir dir;
  SUBCASE("position out of range") {
    const Error e = import_error(save(sequence_model(4), dir.path() / "range.onnx"));
    CHECK(e.diagnostics().at(0).message ==
          "ONNX node 'pick' (SequenceAt): position 4 is out of range for a sequence of 4 elements");
  }
  SUBCASE("a sequence as graph output") {
    onnx::ModelProto m = empty_model({4, 3});
    onnx::GraphProto* g = m.mutable_graph();
    add_node(g, "SplitToSequence", "split", {"X"}, "S");
    add_sequence_output(g, "S");
    const Error e = import_error(save(m, dir.path() / "out.onnx"));
    CHECK(e.diagnostics().at(0).message == "graph output 'S' is a sequence; modelc compiles models whose outputs are tensors");
  }
  SUBCASE("a sequence as graph input") {
    onnx::ModelProto m = empty_model({4, 3});
    onnx::GraphProto* g = m.mutable_graph();
    onnx::ValueInfoProto* in = g->add_input();
    in->set_name("S");
    in->mutable_type()->mutable_sequence_type()->mutable_elem_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    add_node(g, "ConcatFromSequence", "concat", {"S"}, "Y");
    set_attr(g->mutable_node(0), "axis", int64_t{0});
    add_tensor_value(g->mutable_output(), "Y", {-1, 3}, "n");
    const Error e = import_error(save(m, dir.path() / "in.onnx"));
    CHECK(e.diagnostics().at(0).message == "input 'S' is a sequence, which is not supported: compiled models take tensors");
  }
}

TEST_CASE("Gradient differentiates Mul and Add at import, summing broadcast operands back") {
  TempDir dir;
  onnx::ModelProto m = empty_model({2, 3});
  auto* training = m.add_opset_import();
  training->set_domain("ai.onnx.preview.training");
  training->set_version(1);
  onnx::GraphProto* g = m.mutable_graph();
  add_tensor_value(g->mutable_input(), "B", {3});
  add_node(g, "Mul", "mul", {"X", "B"}, "C");
  add_node(g, "Add", "add", {"C", "X"}, "D");
  onnx::NodeProto* grad = add_node(g, "Gradient", "grad", {"X", "B"}, std::vector<std::string>{"dX", "dB"});
  grad->set_domain("ai.onnx.preview.training");
  set_attr(grad, "xs", std::vector<std::string>{"X", "B"});
  set_attr(grad, "y", std::string("D"));
  add_tensor_value(g->mutable_output(), "D", {2, 3});
  add_tensor_value(g->mutable_output(), "dX", {2, 3});
  add_tensor_value(g->mutable_output(), "dB", {3});
  const Tensor x = iota({2, 3}), b = iota({3}, 0.5f, -1.f);
  const std::vector<Tensor> out = run(save(m, dir.path() / "grad.onnx"), {x, b});
  REQUIRE(out.size() == 3);
  // d(sum(x * b + x))/dx = b + 1 on every row; /db = the column sums of x.
  for (size_t i = 0; i < 6; ++i) CHECK(out[1].element_as_double(i) == doctest::Approx(b.element_as_double(i % 3) + 1));
  REQUIRE(out[2].type() == TensorType{{3}, DType::float32});
  for (size_t j = 0; j < 3; ++j) CHECK(out[2].element_as_double(j) == doctest::Approx(x.element_as_double(j) + x.element_as_double(j + 3)));

  SUBCASE("an op without a rule is named") {
    g->mutable_node(1)->set_op_type("Max");
    const Error e = import_error(save(m, dir.path() / "max.onnx"));
    CHECK(e.diagnostics().at(0).message.find("cannot differentiate through ONNX Max at node 'add'") != std::string::npos);
  }
}

// NLL over [N=2, C=3, d=2] log-probabilities with class weights and
// ignore_index 1, checked against the definition.
TEST_CASE("NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss match their definitions") {
  TempDir dir;
  const std::vector<int64_t> target = {0, 2, 1, 2};  // [N, d]; the 1 is ignored
  const std::vector<float> weight = {0.5f, 2.f, 1.5f};
  const Tensor input = iota({2, 3, 2}, -0.25f, 0.1f);
  auto at = [&](int64_t n, int64_t c, int64_t d) { return input.element_as_double(static_cast<size_t>((n * 3 + c) * 2 + d)); };
  double loss = 0, weights = 0;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t d = 0; d < 2; ++d) {
      const int64_t t = target[static_cast<size_t>(n * 2 + d)];
      if (t == 1) continue;
      loss -= at(n, t, d) * weight[static_cast<size_t>(t)];
      weights += weight[static_cast<size_t>(t)];
    }

  for (const std::string reduction : {"mean", "sum"}) {
    CAPTURE(reduction);
    onnx::ModelProto m = empty_model({2, 3, 2});
    onnx::GraphProto* g = m.mutable_graph();
    add_int_initializer(g, "T", {2, 2}, target);
    add_float_initializer(g, "W", {3}, weight);
    onnx::NodeProto* nll = add_node(g, "NegativeLogLikelihoodLoss", "nll", {"X", "T", "W"}, "L");
    set_attr(nll, "reduction", reduction);
    set_attr(nll, "ignore_index", int64_t{1});
    add_tensor_value(g->mutable_output(), "L", {});
    const std::vector<Tensor> out = run(save(m, dir.path() / "nll.onnx"), {input});
    CHECK(out.at(0).element_as_double(0) == doctest::Approx(reduction == "sum" ? loss : loss / weights));
  }

  SUBCASE("softmax cross entropy: loss per position and the log-probabilities") {
    onnx::ModelProto m = empty_model({2, 3, 2});
    onnx::GraphProto* g = m.mutable_graph();
    add_int_initializer(g, "T", {2, 2}, target);
    set_attr(add_node(g, "SoftmaxCrossEntropyLoss", "sce", {"X", "T"}, std::vector<std::string>{"L", "P"}), "reduction",
             std::string("none"));
    add_tensor_value(g->mutable_output(), "L", {2, 2});
    add_tensor_value(g->mutable_output(), "P", {2, 3, 2});
    const std::vector<Tensor> out = run(save(m, dir.path() / "sce.onnx"), {input});
    REQUIRE(out.size() == 2);
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t d = 0; d < 2; ++d) {
        double sum = 0;
        for (int64_t c = 0; c < 3; ++c) sum += std::exp(at(n, c, d));
        const int64_t t = target[static_cast<size_t>(n * 2 + d)];
        const double log_prob = at(n, t, d) - std::log(sum);
        CHECK(out[1].element_as_double(static_cast<size_t>((n * 3 + t) * 2 + d)) == doctest::Approx(log_prob));
        CHECK(out[0].element_as_double(static_cast<size_t>(n * 2 + d)) == doctest::Approx(-log_prob));
      }
  }
}

TEST_CASE("Dropout is the identity with an all-true mask for inference, and refuses training mode") {
  TempDir dir;
  for (const int64_t training : {0, 1}) {
    CAPTURE(training);
    onnx::ModelProto m = empty_model({2, 3});
    onnx::GraphProto* g = m.mutable_graph();
    add_float_initializer(g, "ratio", {}, {0.5f});
    add_int_initializer(g, "training", {}, {training}, onnx::TensorProto::BOOL);
    add_node(g, "Dropout", "drop", {"X", "ratio", "training"}, std::vector<std::string>{"Y", "mask"});
    add_tensor_value(g->mutable_output(), "Y", {2, 3});
    add_tensor_value(g->mutable_output(), "mask", {2, 3}, "", onnx::TensorProto::BOOL);
    const auto file = save(m, dir.path() / "dropout.onnx");
    if (training) {
      const Error e = import_error(file);
      CHECK(e.diagnostics().at(0).message == "ONNX node 'drop' (Dropout): training_mode=1 is not supported (inference only)");
    } else {
      const std::vector<Tensor> out = run(file, {iota({2, 3})});
      CHECK(out.at(0).element_as_double(5) == 5.0);
      for (size_t i = 0; i < 6; ++i) CHECK(out.at(1).element_as_double(i) == 1.0);  // nothing dropped
    }
  }
}

// LRN: y = x / (bias + alpha / size * sum of x^2 over `size` channels)^beta.
// With a base that cannot be negative and beta a multiple of 1/4, the power
// is products of sqrt (no pow per element); otherwise it stays a power.
TEST_CASE("LRN matches its definition; quarter exponents of a nonnegative base use sqrt") {
  TempDir dir;
  struct Case {
    float beta, bias;
    bool uses_power;
  };
  for (const Case& k : {Case{0.75f, 1.f, false}, Case{1.5f, 2.f, false}, Case{0.25f, 0.5f, false}, Case{0.6f, 1.f, true},
                        Case{0.75f, -0.5f, true}}) {
    CAPTURE(k.beta);
    CAPTURE(k.bias);
    onnx::ModelProto m = empty_model({1, 6, 2, 3});
    onnx::GraphProto* g = m.mutable_graph();
    onnx::NodeProto* n = add_node(g, "LRN", "lrn", {"X"}, "Y");
    set_attr(n, "size", int64_t{3});
    for (const auto& [name, value] : {std::pair<const char*, float>{"alpha", 0.02f}, {"beta", k.beta}, {"bias", k.bias}}) {
      onnx::AttributeProto* a = n->add_attribute();
      a->set_name(name);
      a->set_type(onnx::AttributeProto::FLOAT);
      a->set_f(value);
    }
    add_tensor_value(g->mutable_output(), "Y", {1, 6, 2, 3});
    const auto file = save(m, dir.path() / "lrn.onnx");
    const Module module = run_passes(import_onnx(file), {"InferType"}, PassContext{});
    int powers = 0;
    for (const Binding& b : module.main().body) powers += b.is_op("power");
    CHECK((powers > 0) == k.uses_power);
    const Tensor x = iota({1, 6, 2, 3}, 0.37f, -3.f);
    const Tensor y = evaluate_main(module, std::span<const Tensor>(&x, 1)).at(0);
    for (int64_t c = 0; c < 6; ++c)
      for (int64_t p = 0; p < 6; ++p) {
        double sum = 0;
        for (int64_t j = std::max<int64_t>(0, c - 1); j <= std::min<int64_t>(5, c + 1); ++j)
          sum += std::pow(x.element_as_double(static_cast<size_t>(j * 6 + p)), 2);
        const double v = x.element_as_double(static_cast<size_t>(c * 6 + p));
        const double want = v / std::pow(k.bias + 0.02 / 3 * sum, k.beta);
        const double got = y.element_as_double(static_cast<size_t>(c * 6 + p));
        if (std::isnan(want)) CHECK(std::isnan(got));  // a negative base to a fractional power
        else CHECK(got == doctest::Approx(want).epsilon(2e-6));
      }
  }
}

TEST_CASE("float16 and bfloat16 elements convert with round to nearest even") {
  Tensor h(TensorType{{3}, DType::float16});
  h.set_element(0, 0.1);
  h.set_element(1, 65504.0);
  h.set_element(2, 1.0 + 1.0 / 2048);  // halfway between 1 and the next half: rounds to even (1)
  CHECK(h.element_as_double(0) == 0.0999755859375);
  CHECK(h.element_as_double(1) == 65504.0);
  CHECK(h.element_as_double(2) == 1.0);
  Tensor b(TensorType{{2}, DType::bfloat16});
  b.set_element(0, 1.0 + 1.0 / 256);  // halfway: rounds to even (1)
  b.set_element(1, 3.0 / 256 + 1.0);  // halfway: rounds up to the even 1 + 4/256
  CHECK(b.element_as_double(0) == 1.0);
  CHECK(b.element_as_double(1) == 1.0 + 4.0 / 256);
}

TEST_CASE("16-bit and unsigned integer elements keep their values and sizes") {
  for (const DType d : {DType::int16, DType::uint16, DType::uint32, DType::uint64}) {
    CAPTURE(dtype_name(d));
    Tensor t(TensorType{{2}, d});
    const double top = d == DType::int16 ? 32767 : d == DType::uint16 ? 65535 : d == DType::uint32 ? 4294967295.0 : 9007199254740992.0;
    t.set_element(0, top);
    t.set_element(1, d == DType::int16 ? -32768 : 7);
    CHECK(t.element_as_double(0) == top);
    CHECK(t.element_as_double(1) == (d == DType::int16 ? -32768 : 7));
    CHECK(t.bytes().size() == 2 * dtype_bytes(d));
    CHECK(parse_dtype(dtype_name(d)) == d);
  }
}


void add_string_initializer(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims,
                            const std::vector<std::string>& values) {
  onnx::TensorProto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::STRING);
  for (int64_t d : dims) t->add_dims(d);
  for (const std::string& v : values) t->add_string_data(v);
}

std::vector<std::string> strings_of(const Tensor& t) { return {t.strings().begin(), t.strings().end()}; }

TEST_CASE("StringNormalizer and string casts fold at import time on known strings") {
  TempDir dir;
  onnx::ModelProto m = empty_model({2});
  onnx::GraphProto* g = m.mutable_graph();
  add_string_initializer(g, "S", {1, 5}, {"Monday", "tuesday", "MONDAY", "Wed", "1.5"});
  onnx::NodeProto* norm = add_node(g, "StringNormalizer", "norm", {"S"}, "N");
  set_attr(norm, "case_change_action", std::string("UPPER"));
  set_attr(norm, "stopwords", std::vector<std::string>{"monday"});
  add_node(g, "Cast", "to_text", {"X"}, "T");
  set_attr(g->mutable_node(1), "to", int64_t{onnx::TensorProto::STRING});
  add_string_initializer(g, "numbers", {2}, {"1.5", "-INF"});
  set_attr(add_node(g, "Cast", "to_float", {"numbers"}, "F"), "to", int64_t{onnx::TensorProto::FLOAT});
  add_tensor_value(g->mutable_output(), "N", {1, 3}, "", onnx::TensorProto::STRING);
  add_tensor_value(g->mutable_output(), "F", {2});
  const auto file = save(m, dir.path() / "strings.onnx");

  SUBCASE("a string computed from an input must be known at import time") {
    const Error e = import_error(file);
    CHECK(e.diagnostics().at(0).message ==
          "ONNX node 'to_text' (Cast): the tensor to cast to or from strings (input 0, 'X') must be known at import time, "
          "but it is computed from the model's inputs");
  }
  SUBCASE("known strings fold to constants") {
    g->mutable_node()->DeleteSubrange(1, 1);  // drop the Cast of the input
    const Module mod = import_onnx(save(m, dir.path() / "known.onnx"));
    const Function& main = mod.main();
    REQUIRE(main.results.size() == 2);
    REQUIRE(main.results[0].is_constant());
    // Case-insensitive stopwords (the default) drop both Mondays.
    CHECK(strings_of(mod.constant(main.results[0].constant)) == std::vector<std::string>{"TUESDAY", "WED", "1.5"});
    const Tensor& f = mod.constant(main.results[1].constant);
    CHECK(f.element_as_double(0) == 1.5);
    CHECK(std::isinf(f.element_as_double(1)));
  }
}

TEST_CASE("string tensors: every string a stopword gives one empty string; digests tell splits apart") {
  TempDir dir;
  onnx::ModelProto m = empty_model({2});
  onnx::GraphProto* g = m.mutable_graph();
  add_string_initializer(g, "S", {2}, {"a", "A"});
  onnx::NodeProto* norm = add_node(g, "StringNormalizer", "norm", {"S"}, "N");
  set_attr(norm, "stopwords", std::vector<std::string>{"a"});
  add_tensor_value(g->mutable_output(), "N", {1}, "", onnx::TensorProto::STRING);
  const Module mod = import_onnx(save(m, dir.path() / "empty.onnx"));
  CHECK(strings_of(mod.constant(mod.main().results[0].constant)) == std::vector<std::string>{""});

  Tensor ab(TensorType{{2}, DType::string}), a_b(TensorType{{2}, DType::string});
  ab.set_string(0, "ab");
  ab.set_string(1, "c");
  a_b.set_string(0, "a");
  a_b.set_string(1, "bc");
  CHECK(ab.digest() != a_b.digest());
}


// Einsum by brute force: every assignment of the letters, products summed
// into the output position. `equation` is explicit (has "->"), without "...".
Tensor naive_einsum(const std::string& equation, const std::vector<Tensor>& operands) {
  const size_t arrow = equation.find("->");
  std::vector<std::string> specs;
  std::string lhs = equation.substr(0, arrow);
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    specs.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  const std::string out = equation.substr(arrow + 2);
  std::map<char, int64_t> extent;
  for (size_t i = 0; i < specs.size(); ++i)
    for (size_t k = 0; k < specs[i].size(); ++k) extent[specs[i][k]] = operands[i].type().shape[k];
  std::vector<int64_t> out_shape;
  for (char ch : out) out_shape.push_back(extent[ch]);
  Tensor result(TensorType{out_shape, DType::float32});
  std::vector<char> letters;
  for (const auto& [ch, n] : extent) letters.push_back(ch);
  std::map<char, int64_t> at;
  for (char ch : letters) at[ch] = 0;
  auto flat = [&](const std::string& spec, const std::vector<int64_t>& shape) {
    int64_t f = 0;
    for (size_t k = 0; k < spec.size(); ++k) f = f * shape[k] + at[spec[k]];
    return static_cast<size_t>(f);
  };
  for (;;) {
    double product = 1;
    for (size_t i = 0; i < specs.size(); ++i) product *= operands[i].element_as_double(flat(specs[i], operands[i].type().shape));
    const size_t o = flat(out, out_shape);
    result.set_element(o, result.element_as_double(o) + product);
    size_t k = 0;
    for (; k < letters.size(); ++k) {
      if (++at[letters[k]] < extent[letters[k]]) break;
      at[letters[k]] = 0;
    }
    if (k == letters.size()) break;
  }
  return result;
}

TEST_CASE("Einsum: contractions, batch letters, diagonals, sums, three operands and implicit outputs") {
  struct Case {
    std::string equation, explicit_equation;
    std::vector<std::vector<int64_t>> shapes;
  };
  const std::vector<Case> cases = {
      {"bij,bjk->bik", "bij,bjk->bik", {{2, 3, 4}, {2, 4, 5}}},
      {"ij,jk", "ij,jk->ik", {{3, 4}, {4, 2}}},
      {"ij,jk,kl->li", "ij,jk,kl->li", {{2, 3}, {3, 4}, {4, 5}}},
      {"iij,j->ij", "iij,j->ij", {{3, 3, 2}, {2}}},
      {"ijk,ik->", "ijk,ik->", {{2, 3, 4}, {2, 4}}},
      {"...ij,...jk->...ik", "aij,ajk->aik", {{2, 3, 4}, {2, 4, 3}}},
      {"ij->ji", "ij->ji", {{2, 5}}},
      {"Ab,bC->AC", "Ab,bC->AC", {{2, 3}, {3, 4}}},
      {"...ij,...jk->...ik", "abij,bjk->abik", {{2, 3, 4, 5}, {3, 5, 2}}},
  };
  for (const Case& tc : cases) {
    CAPTURE(tc.equation);
    TempDir dir;
    onnx::ModelProto m = empty_model(tc.shapes[0], 13);
    onnx::GraphProto* g = m.mutable_graph();
    std::vector<std::string> inputs = {"X"};
    std::vector<Tensor> operands;
    for (size_t i = 0; i < tc.shapes.size(); ++i) {
      operands.push_back(random_tensor(TensorType{tc.shapes[i], DType::float32}, static_cast<unsigned>(i + 1)));
      if (i > 0) {
        inputs.push_back("X" + std::to_string(i));
        add_tensor_value(g->mutable_input(), inputs.back(), tc.shapes[i]);
      }
    }
    set_attr(add_node(g, "Einsum", "einsum", inputs, "Y"), "equation", tc.equation);
    const Tensor want = naive_einsum(tc.explicit_equation, operands);
    add_tensor_value(g->mutable_output(), "Y", want.type().shape);
    const Tensor got = run(save(m, dir.path() / "einsum.onnx"), operands).at(0);
    REQUIRE(got.type() == want.type());
    for (size_t i = 0; i < static_cast<size_t>(want.type().element_count()); ++i)
      CHECK(got.element_as_double(i) == doctest::Approx(want.element_as_double(i)).epsilon(1e-5));
  }
}

}  // namespace
}  // namespace modelc::lang
