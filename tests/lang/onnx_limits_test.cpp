// Untrusted ONNX files: each hostile model (tests/lang/hostile_models.h) is
// refused by import_onnx with a modelc::Error naming the file, the node and
// what was too big, before anything of that size is allocated; and the limits
// themselves: checked arithmetic, the per-tensor and per-model checks, the
// passes that check types and constants.
#include <doctest/doctest.h>

#include <limits>

#include "lang/frontends/onnx.h"
#include "lang/frontends/onnx_tensor_file.h"
#include "lang/pass.h"
#include "lang/size_limits.h"
#include "support/checked_math.h"
#include "support/diagnostic.h"
#include "tests/lang/hostile_models.h"
#include "tests/lang/onnx_test_model.h"
#include "tests/lang/test_util.h"

namespace modelc::lang {
namespace {

using namespace testing;

std::string all_messages(const Error& e) {
  std::string out;
  for (const Diagnostic& d : e.diagnostics()) out += d.format() + "\n";
  return out;
}

TEST_CASE("checked arithmetic refuses what does not fit instead of wrapping") {
  CHECK_FALSE(checked_mul<int64_t>(int64_t{1} << 32, int64_t{1} << 31).has_value());  // 2^63
  CHECK_FALSE(checked_mul<int64_t>(int64_t{1} << 32, int64_t{1} << 32).has_value());
  CHECK(checked_mul<int64_t>(int64_t{1} << 31, int64_t{1} << 31) == int64_t{1} << 62);
  CHECK_FALSE(checked_add<int64_t>(std::numeric_limits<int64_t>::max(), 1).has_value());
  CHECK_FALSE(checked_sub<int64_t>(std::numeric_limits<int64_t>::min(), 1).has_value());
  const std::vector<int64_t> wraps{int64_t{1} << 32, int64_t{1} << 32};  // 2^64: 0 in int64
  CHECK_FALSE(checked_element_count(wraps).has_value());
  const std::vector<int64_t> hidden{0, int64_t{1} << 62, 4};  // no elements, yet strides overflow
  CHECK_FALSE(checked_extent(hidden).has_value());
  CHECK_FALSE(checked_element_count(hidden).has_value());
  const std::vector<int64_t> empty{3, 0, 5};
  CHECK(checked_element_count(empty) == 0);
  CHECK(checked_extent(empty) == 15);
  const std::vector<int64_t> negative{2, -1};
  CHECK_FALSE(checked_element_count(negative).has_value());
  CHECK_FALSE(checked_byte_size(int64_t{1} << 62, 8).has_value());
  CHECK(checked_byte_size(1000, 4) == 4000u);
  CHECK(saturating_cast<int64_t>(1e300) == std::numeric_limits<int64_t>::max());
  CHECK(saturating_cast<int64_t>(-1e300) == std::numeric_limits<int64_t>::min());
  CHECK(saturating_cast<int64_t>(std::numeric_limits<double>::quiet_NaN()) == 0);
  CHECK(saturating_cast<uint8_t>(-5.0) == 0);
  CHECK(saturating_cast<uint8_t>(300.0) == 255);
  CHECK(saturating_cast<int32_t>(-7.9) == -7);
}

TEST_CASE("a tensor type that does not fit in 64 bits is an error, never a wrapped size") {
  const TensorType wraps{{int64_t{1} << 32, int64_t{1} << 32}, DType::float32};
  CHECK_THROWS_AS((void)wraps.element_count(), Error);
  CHECK_THROWS_AS((void)Tensor(wraps), Error);
  const TensorType bytes_wrap{{int64_t{1} << 62}, DType::float32};  // 2^62 elements fit, 2^64 bytes do not
  CHECK(bytes_wrap.element_count() == int64_t{1} << 62);
  CHECK_THROWS_AS((void)bytes_wrap.bytes(), Error);
  CHECK_THROWS_AS((void)TensorType({{-1, 4}, DType::float32}).element_count(), Error);
}

TEST_CASE("check_tensor_size: elements, bytes, negative dimensions, hidden overflow") {
  spec::ModelLimits limits;
  limits.max_tensor_elements = 1000;
  limits.max_model_bytes = 2000;
  CHECK_NOTHROW(check_tensor_size({{10, 50}, DType::float32}, limits, "x"));
  try {
    check_tensor_size({{10, 101}, DType::int8}, limits, "the output");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.diagnostics().at(0).message ==
          "the output Tensor[(10, 101), int8] is too big: 1010 elements, over the limit of 1000 (model.limits.max_tensor_elements)");
    CHECK(e.diagnostics().at(0).hint == "if the model really needs it, raise model.limits.max_tensor_elements in the recipe");
  }
  try {
    check_tensor_size({{10, 60}, DType::float32}, limits, "x");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.diagnostics().at(0).message ==
          "x Tensor[(10, 60), float32] is too big: 2400 bytes, over the limit of 2000 (model.limits.max_model_bytes)");
  }
  CHECK_THROWS_AS(check_tensor_size({{0, int64_t{1} << 40}, DType::float32}, limits, "x"), Error);
  CHECK_THROWS_AS(check_tensor_size({{3, -1}, DType::float32}, limits, "x"), Error);

  ConstantBytes total(limits);
  total.add({{250}, DType::float32}, "a");
  total.add({{250}, DType::float32}, "b");
  CHECK(total.used() == 2000);
  CHECK_THROWS_AS(total.add({{1}, DType::int8}, "c"), Error);
}

TEST_CASE("every hostile model is refused with an error naming the file and what was too big") {
  TempDir dir;
  for (const HostileModel& model : hostile_models()) {
    CAPTURE(model.name);
    const auto file = write_hostile_model(model, dir.path());
    try {
      import_onnx(file, {}, model.limits);
      FAIL("import_onnx accepted " << model.name);
    } catch (const Error& e) {
      const std::string text = all_messages(e);
      CAPTURE(text);
      CHECK(e.diagnostics().at(0).location.file == file.string());
      for (const std::string& fragment : model.expected) CHECK(text.find(fragment) != std::string::npos);
    }
  }
}

TEST_CASE("the limits are the caller's: a model over the defaults imports under raised limits") {
  TempDir dir;
  for (const HostileModel& model : hostile_models()) {
    if (model.name != "constants_over_model_bytes") continue;
    const auto file = write_hostile_model(model, dir.path());
    CHECK_NOTHROW(import_onnx(file, {}, spec::ModelLimits{}));
  }
}

TEST_CASE("a tensor file past 2 GiB is refused before it is read") {
  TempDir dir;
  const auto file = dir.path() / "huge.pb";
  write_file(file, "x");
  std::filesystem::resize_file(file, (uint64_t{1} << 31) + 1);  // sparse
  try {
    (void)read_onnx_tensor(file);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.diagnostics().at(0).location.file == file.string());
    CHECK(e.diagnostics().at(0).message.find("protobuf reads files of at most 2147483647 bytes") != std::string::npos);
  }
}

TEST_CASE("a tensor file whose dims are too big is refused before anything is allocated") {
  TempDir dir;
  onnx::TensorProto t;
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : {1 << 20, 1 << 20, 1 << 20}) t.add_dims(d);
  const auto file = write_file(dir.path() / "t.pb", t.SerializeAsString());
  try {
    (void)read_onnx_tensor(file);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.diagnostics().at(0).location.file == file.string());
    CHECK(e.diagnostics().at(0).message.find("is too big") != std::string::npos);
  }
}

TEST_CASE("InferType checks every binding against the limits; FoldConstant the model's constants") {
  const Module m = parse(R"(def @main(%x: Tensor[(4, 4), float32]) {
  %0 = tile(%x, reps=[10, 10]);
  %0
}
)");
  PassContext small;
  small.limits.max_tensor_elements = 1000;
  try {
    (void)infer_type(m, small);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.diagnostics().at(0).message ==
          "@main %0 = tile: the result Tensor[(40, 40), float32] is too big: 1600 elements, over the limit of 1000 "
          "(model.limits.max_tensor_elements)");
  }
  CHECK_NOTHROW(infer_type(m, {}));

  const Module folded = parse(R"(const @c : Tensor[(2, 2), float32] = [1.0, 2.0, 3.0, 4.0]

def @main(%x: Tensor[(20, 20), float32]) {
  %0 = tile(@c, reps=[10, 10]);
  %1 = add(%x, %0);
  %1
}
)");
  PassContext bytes;
  bytes.limits.max_model_bytes = 1000;  // the tile makes 1600 bytes
  try {
    (void)fold_constant(infer_type(folded, {}), bytes);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.diagnostics().at(0).message.find("over the limit of 1000 (model.limits.max_model_bytes)") != std::string::npos);
  }
}

}  // namespace
}  // namespace modelc::lang
