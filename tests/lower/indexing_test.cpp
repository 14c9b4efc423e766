// gather_nd, scatter_nd and scatter_elements: each compiled kernel against
// the reference interpreter on the same inputs. Indices are chosen, not
// random, so that they are in range (the reference rejects others), repeat
// (a scatter applies duplicates in order: the last write wins, or every
// update accumulates) and count from the end. Shapes are large enough, in
// some cases, for the update loops to be vectorized or run in parallel.
#include <doctest/doctest.h>

#include <random>

#include "lang/interpreter.h"
#include "lang/pass.h"
#include "lang/text.h"
#include "lower/jit_module.h"
#include "support/diagnostic.h"
#include "tests/lower/jit_check.h"

using namespace modelc;
using namespace modelc::lang;

namespace {

Module passes(const std::string& text, const std::vector<std::string>& names) {
  PassContext context;
  return run_passes(parse_module(text, "case.ir"), names, context);
}

Tensor random_values(const TensorType& type, unsigned seed) {
  std::mt19937 rng(seed);
  return test::random_tensor(type, rng);
}

Tensor int_tensor(std::vector<int64_t> shape, DType dtype, const std::vector<int64_t>& values) {
  Tensor t(TensorType{std::move(shape), dtype});
  REQUIRE(values.size() == static_cast<size_t>(t.type().element_count()));
  for (size_t i = 0; i < values.size(); ++i) t.set_element(i, static_cast<double>(values[i]));
  return t;
}

// Indices 0, step, 2 * step, ... modulo `extent`, every third one negative
// (counting from the end); with step * count > extent they repeat.
std::vector<int64_t> cycling_indices(size_t count, int64_t extent, int64_t step) {
  std::vector<int64_t> v;
  for (size_t i = 0; i < count; ++i) {
    const int64_t index = static_cast<int64_t>(i) * step % extent;
    v.push_back(i % 3 == 2 ? index - extent : index);
  }
  return v;
}

// Fuses @main as the compiler does, runs every kernel with Halide's JIT and
// compares @main's results with the reference interpreter's on the unfused
// module. Exact: copies are exact, and a scatter's sums and products are
// float32 operations in the same order in both.
void check_kernels(const std::string& text, const std::vector<Tensor>& inputs) {
  CAPTURE(text);
  const Module reference = passes(text, {"InferType"});
  const Module fused = passes(text, {"InferType", "FuseOps", "InferType"});
  const std::vector<Tensor> want = evaluate_main(reference, inputs);
  lower::JitModuleRunner runner;
  const std::vector<Tensor> got = runner.run_main(fused, inputs);
  CHECK(runner.compiled_kernels() > 0);
  REQUIRE(got.size() == want.size());
  for (size_t r = 0; r < want.size(); ++r) {
    REQUIRE(got[r].type() == want[r].type());
    size_t mismatches = 0, first = 0;
    for (size_t i = 0; i < static_cast<size_t>(want[r].type().element_count()); ++i)
      if (got[r].element_as_double(i) != want[r].element_as_double(i) && mismatches++ == 0) first = i;
    INFO("result " << r << ": " << mismatches << " elements differ, the first at " << first << ": got "
                   << got[r].element_as_double(first) << ", want " << want[r].element_as_double(first));
    CHECK(mismatches == 0);
  }
}

std::string type_error(const std::string& text) {
  try {
    passes(text, {"InferType"});
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("gather_nd: index tuples of every length, batch axes, negative indices, a fused consumer") {
  const TensorType data{{4, 5, 6}, DType::float32};
  check_kernels(R"(
def @main(%d: Tensor[(4, 5, 6), float32], %i1: Tensor[(3, 2, 1), int64], %i2: Tensor[(7, 2), int64],
          %i3: Tensor[(2, 3), int64], %b: Tensor[(4, 3, 2), int32]) {
  %0 = gather_nd(%d, %i1, batch_dims=0);
  %1 = gather_nd(%d, %i2, batch_dims=0);
  %2 = gather_nd(%d, %i3, batch_dims=0);
  %3 = gather_nd(%d, %b, batch_dims=1);
  %4 = negative(%3);
  (%0, %1, %2, %4)
})",
                {random_values(data, 1), int_tensor({3, 2, 1}, DType::int64, {0, 3, -1, 2, -4, 1}),
                 int_tensor({7, 2}, DType::int64, {0, 0, 3, 4, -1, -5, 2, 1, 2, 1, 1, -2, 0, 4}),
                 int_tensor({2, 3}, DType::int64, {3, 4, 5, -4, -5, -6}),
                 int_tensor({4, 3, 2}, DType::int32, cycling_indices(24, 5, 2))});
}

TEST_CASE("gather_nd of int32 data with batch_dims 1 (ONNX's example)") {
  check_kernels(R"(
def @main(%d: Tensor[(2, 2, 2), int32], %i: Tensor[(2, 1), int64]) {
  %0 = gather_nd(%d, %i, batch_dims=1);
  %0
})",
                {int_tensor({2, 2, 2}, DType::int32, {0, 1, 2, 3, 4, 5, 6, 7}), int_tensor({2, 1}, DType::int64, {1, 0})});
}

TEST_CASE("scatter_nd: duplicate tuples, last write wins for none, every update counts for add and mul") {
  const TensorType data{{6, 3, 4}, DType::float32};
  const TensorType slices{{5, 3, 4}, DType::float32}, elements{{8}, DType::float32};
  const Tensor rows = int_tensor({5, 1}, DType::int64, {2, -1, 2, 5, -4});  // row 2 three times (-4 is 2)
  const Tensor points = int_tensor({8, 3}, DType::int64, {0, 0, 0, 1, 2, 3, 0, 0, 0, -1, -1, -1, 5, 2, 3, 1, 2, 3, 0, 0, 0, 4, 1, 2});
  for (const char* reduction : {"none", "add", "mul"}) {
    CAPTURE(reduction);
    const std::string r = std::string("reduction=\"") + reduction + "\"";
    check_kernels(R"(
def @main(%d: Tensor[(6, 3, 4), float32], %rows: Tensor[(5, 1), int64], %s: Tensor[(5, 3, 4), float32],
          %points: Tensor[(8, 3), int64], %e: Tensor[(8), float32]) {
  %0 = scatter_nd(%d, %rows, %s, )" + r + R"();
  %1 = scatter_nd(%d, %points, %e, )" + r + R"();
  %2 = nn.relu(%1);
  (%0, %2)
})",
                  {random_values(data, 2), rows, random_values(slices, 3), points, random_values(elements, 4)});
  }
}

TEST_CASE("scatter_nd with wide slices: the update loop is vectorized and parallel") {
  const TensorType data{{50, 4, 128}, DType::float32}, updates{{40, 4, 128}, DType::float32};
  for (const char* reduction : {"none", "add"}) {
    CAPTURE(reduction);
    check_kernels(R"(
def @main(%d: Tensor[(50, 4, 128), float32], %i: Tensor[(40, 1), int64], %u: Tensor[(40, 4, 128), float32]) {
  %0 = scatter_nd(%d, %i, %u, reduction=")" + std::string(reduction) + R"(");
  %0
})",
                  {random_values(data, 5), int_tensor({40, 1}, DType::int64, cycling_indices(40, 50, 7)), random_values(updates, 6)});
  }
}

TEST_CASE("scatter_elements: every axis, duplicates, negative indices, each reduction") {
  const TensorType data{{5, 6}, DType::float32}, updates{{3, 4}, DType::float32};
  const Tensor along0 = int_tensor({3, 4}, DType::int64, {1, -1, 1, 0, 1, 4, -4, 2, 3, 4, 1, 0});
  const Tensor along1 = int_tensor({3, 4}, DType::int64, {0, 0, -6, 5, 2, -1, 5, 1, 3, 3, 3, -3});
  for (const char* reduction : {"none", "add", "mul"}) {
    CAPTURE(reduction);
    const std::string r = std::string("reduction=\"") + reduction + "\"";
    check_kernels(R"(
def @main(%d: Tensor[(5, 6), float32], %i0: Tensor[(3, 4), int64], %i1: Tensor[(3, 4), int64], %u: Tensor[(3, 4), float32]) {
  %0 = scatter_elements(%d, %i0, %u, axis=0, )" + r + R"();
  %1 = scatter_elements(%d, %i1, %u, axis=1, )" + r + R"();
  %2 = scatter_elements(%d, %i1, %u, axis=-1, )" + r + R"();
  (%0, %1, %2)
})",
                  {random_values(data, 7), along0, along1, random_values(updates, 8)});
  }
}

TEST_CASE("scatter_elements of integers, and large enough to vectorize and parallelize") {
  check_kernels(R"(
def @main(%d: Tensor[(4, 3), int64], %i: Tensor[(4, 2), int32], %u: Tensor[(4, 2), int64]) {
  %0 = scatter_elements(%d, %i, %u, axis=1, reduction="add");
  %1 = scatter_elements(%d, %i, %u, axis=1, reduction="none");
  (%0, %1)
})",
                {int_tensor({4, 3}, DType::int64, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}),
                 int_tensor({4, 2}, DType::int32, {0, 0, 2, -1, 1, -3, -2, 2}),
                 int_tensor({4, 2}, DType::int64, {100, 200, 300, 400, 500, 600, 700, 800})});
  const TensorType data{{8, 40, 64}, DType::float32};
  for (const char* reduction : {"none", "add"}) {
    CAPTURE(reduction);
    check_kernels(R"(
def @main(%d: Tensor[(8, 40, 64), float32], %i: Tensor[(8, 40, 64), int64], %u: Tensor[(8, 40, 64), float32]) {
  %0 = scatter_elements(%d, %i, %u, axis=1, reduction=")" + std::string(reduction) + R"(");
  %1 = scatter_elements(%d, %i, %u, axis=2, reduction=")" + std::string(reduction) + R"(");
  (%0, %1)
})",
                  {random_values(data, 9), int_tensor(data.shape, DType::int64, cycling_indices(8 * 40 * 64, 40, 3)),
                   random_values(data, 10)});
  }
}

TEST_CASE("an index outside its axis: the reference kernel reports it, the kernel clamps it") {
  const std::string text = R"(
def @main(%d: Tensor[(4, 3), float32], %i: Tensor[(1, 1), int64], %u: Tensor[(1, 3), float32]) {
  %0 = scatter_nd(%d, %i, %u, reduction="none");
  %0
})";
  const Tensor data = random_values(TensorType{{4, 3}, DType::float32}, 11);
  const Tensor updates = random_values(TensorType{{1, 3}, DType::float32}, 12);
  const std::vector<Tensor> bad{data, int_tensor({1, 1}, DType::int64, {9}), updates};
  CHECK_THROWS_WITH_AS(evaluate_main(passes(text, {"InferType"}), bad),
                       doctest::Contains("scatter_nd: index 9 is out of range for axis 0 of data Tensor[(4, 3), float32]"),
                       Error);
  lower::JitModuleRunner runner;
  const std::vector<Tensor> got = runner.run_main(passes(text, {"InferType", "FuseOps", "InferType"}), bad);
  const std::vector<Tensor> last_row = evaluate_main(passes(text, {"InferType"}),
                                                     std::vector<Tensor>{data, int_tensor({1, 1}, DType::int64, {3}), updates});
  CHECK(got.at(0).bytes().size() == last_row.at(0).bytes().size());
  CHECK(std::equal(got[0].bytes().begin(), got[0].bytes().end(), last_row[0].bytes().begin()));
}

TEST_CASE("the type rules name both shapes of a mismatch") {
  CHECK_MESSAGE(type_error(R"(
def @main(%d: Tensor[(4, 5, 6), float32], %i: Tensor[(2, 2), int64], %u: Tensor[(2, 5), float32]) {
  %0 = scatter_nd(%d, %i, %u, reduction="none");
  %0
})").find("updates Tensor[(2, 5), float32] must have shape [2, 6]") != std::string::npos,
                "scatter_nd updates");
  const std::string elements = type_error(R"(
def @main(%d: Tensor[(4, 5), float32], %i: Tensor[(2, 2), int64], %u: Tensor[(2, 3), float32]) {
  %0 = scatter_elements(%d, %i, %u, axis=0, reduction="none");
  %0
})");
  CHECK(elements.find("updates Tensor[(2, 3), float32] must have the shape of indices Tensor[(2, 2), int64]") != std::string::npos);
  const std::string batch = type_error(R"(
def @main(%d: Tensor[(2, 3), float32], %i: Tensor[(3, 1), int64]) {
  %0 = gather_nd(%d, %i, batch_dims=1);
  %0
})");
  CHECK(batch.find("batch) axes of data Tensor[(2, 3), float32] and indices Tensor[(3, 1), int64] differ") != std::string::npos);
  CHECK(type_error(R"(
def @main(%d: Tensor[(4), float32], %i: Tensor[(2, 1), int64], %u: Tensor[(2), float32]) {
  %0 = scatter_nd(%d, %i, %u, reduction="max");
  %0
})").find("reduction 'max' is not none, add or mul") != std::string::npos);
}

TEST_CASE("scalars: gather_nd of one whole tuple, scatter_nd of one element") {
  check_kernels(R"(
def @main(%d: Tensor[(4, 5), float32], %t: Tensor[(2), int64], %s: Tensor[(), float32]) {
  %0 = gather_nd(%d, %t, batch_dims=0);
  %1 = scatter_nd(%d, %t, %s, reduction="add");
  (%0, %1)
})",
                {random_values(TensorType{{4, 5}, DType::float32}, 13), int_tensor({2}, DType::int64, {-1, 2}),
                 random_values(TensorType{{}, DType::float32}, 14)});
}
