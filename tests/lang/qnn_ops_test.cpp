// The integer reference of the qnn.* ops (lang/ops/qnn.h): fixed-point
// multipliers, rounding half to even, saturation, and the type rules' refusals.
#include <doctest/doctest.h>

#include <cmath>

#include "lang/interpreter.h"
#include "lang/ops/qnn.h"
#include "lang/passes/quantize.h"
#include "lang/pass.h"
#include "lang/text.h"
#include "support/diagnostic.h"

using namespace modelc;
using namespace modelc::lang;

namespace {

Tensor int_tensor(DType dtype, const std::vector<int64_t>& values) {
  Tensor t(TensorType{{static_cast<int64_t>(values.size())}, dtype});
  for (size_t i = 0; i < values.size(); ++i) t.set_element(i, static_cast<double>(values[i]));
  return t;
}

}  // namespace

TEST_CASE("fixed-point multipliers represent the real multiplier to 24 bits, as a float32 holds it") {
  for (double m : {1.0, 0.5, 0.75, 1e-3, 0.123456789, 3.5, 1e-9, 0.99999999}) {
    const FixedPointMultiplier f = fixed_point_multiplier(m);
    CAPTURE(m);
    CHECK(f.multiplier >= (int64_t{1} << 23));
    CHECK(f.multiplier < (int64_t{1} << 24));
    const double value = std::ldexp(static_cast<double>(f.multiplier), -f.shift);
    CHECK(std::fabs(value - m) <= m * std::ldexp(1.0, -24));
    CHECK(static_cast<double>(static_cast<float>(value)) == value);
  }
  CHECK(fixed_point_multiplier(0).multiplier == 0);
  CHECK(fixed_point_multiplier(1e-12).multiplier == 0);  // below 2^-39: rounds every 32-bit value to 0
  CHECK_THROWS_AS(fixed_point_multiplier(-1), Error);
  CHECK(fixed_point_multiplier(std::ldexp(1.0, 22)).shift == 1);
  // Past 2^23: shift 1 and a wider multiplier, up to 2^30 (as with 31 bits).
  const FixedPointMultiplier wide = fixed_point_multiplier(std::ldexp(1.0, 29) + 0.5);
  CHECK(wide.shift == 1);
  CHECK(wide.multiplier == (int64_t{1} << 30) + 1);
  CHECK(fixed_point_scale(3, wide) == 3 * ((int64_t{1} << 29)) + 2);  // 3 * (2^29 + 0.5) = 3 * 2^29 + 1.5 -> even
  CHECK_THROWS_AS(fixed_point_multiplier(std::ldexp(1.0, 30)), Error);
}

TEST_CASE("rounding shifts round half to even, also for negative values") {
  CHECK(rounding_shift_right_even(5, 1) == 2);    // 2.5 -> 2
  CHECK(rounding_shift_right_even(7, 1) == 4);    // 3.5 -> 4
  CHECK(rounding_shift_right_even(-5, 1) == -2);  // -2.5 -> -2
  CHECK(rounding_shift_right_even(-7, 1) == -4);  // -3.5 -> -4
  CHECK(rounding_shift_right_even(13, 2) == 3);   // 3.25 -> 3
  CHECK(rounding_shift_right_even(-13, 2) == -3);
  CHECK(rounding_shift_right_even(15, 2) == 4);   // 3.75 -> 4
  // value * 0.5 through the fixed-point path: the ties of x / 2.
  const FixedPointMultiplier half = fixed_point_multiplier(0.5);
  CHECK(fixed_point_scale(3, half) == 2);
  CHECK(fixed_point_scale(5, half) == 2);
  CHECK(fixed_point_scale(-3, half) == -2);
}

TEST_CASE("quantize rounds half to even and saturates, as ONNX QuantizeLinear") {
  CHECK(quantize_value(2.5f, 1.f, 0, DType::uint8) == 2);
  CHECK(quantize_value(3.5f, 1.f, 0, DType::uint8) == 4);
  CHECK(quantize_value(-2.5f, 1.f, 0, DType::int8) == -2);
  CHECK(quantize_value(1000.f, 1.f, 0, DType::uint8) == 255);
  CHECK(quantize_value(-1000.f, 1.f, 10, DType::int8) == -128);
  CHECK(quantize_value(-1.f, 1.f, 0, DType::uint8) == 0);
}

TEST_CASE("requantize and add through the interpreter") {
  Module m = parse_module(R"(
def @main(%x: Tensor[(4), int32], %a: Tensor[(2), uint8], %b: Tensor[(2), uint8]) {
  %0 = qnn.requantize(%x, input_scale=[0.5], input_zero_point=0, output_scale=1.0, output_zero_point=10, axis=0, out_dtype=uint8, out_min=11, out_max=255);
  %1 = qnn.add(%a, %b, lhs_scale=1.0, lhs_zero_point=0, rhs_scale=0.5, rhs_zero_point=0, output_scale=1.0, output_zero_point=0, out_dtype=uint8);
  (%0, %1)
})", "case.ir");
  m = run_passes(m, {"InferType"}, PassContext{});
  const std::vector<Tensor> out =
      evaluate_main(m, std::vector<Tensor>{int_tensor(DType::int32, {5, -30, 1000, 2}), int_tensor(DType::uint8, {250, 3}),
                                           int_tensor(DType::uint8, {100, 3})});
  // 5 * 0.5 = 2.5 -> 2, + 10 = 12; -30 -> -15 + 10 = -5 -> clamped to out_min 11; 1000 -> 510 -> 255; 2 -> 1 + 10 = 11.
  CHECK(out[0].element_as_int(0) == 12);
  CHECK(out[0].element_as_int(1) == 11);
  CHECK(out[0].element_as_int(2) == 255);
  CHECK(out[0].element_as_int(3) == 11);
  // 250 + 50 saturates at 255; 3 + round_even(1.5) = 3 + 2 = 5.
  CHECK(out[1].element_as_int(0) == 255);
  CHECK(out[1].element_as_int(1) == 5);
}

TEST_CASE("the qnn type rules refuse mismatched parameters") {
  auto type_check = [](const std::string& body) {
    Module m = parse_module("def @main(%x: Tensor[(1, 3, 4, 4), float32], %q: Tensor[(1, 3, 4, 4), uint8], %w: Tensor[(2, 3, 1, 1), int8]) {\n" + body + "\n}", "case.ir");
    return run_passes(m, {"InferType"}, PassContext{});
  };
  CHECK_THROWS_AS(type_check("%0 = qnn.quantize(%x, scale=[0.1, 0.2], zero_point=[0, 0], axis=1, out_dtype=uint8);\n%0"), Error);
  CHECK_THROWS_AS(type_check("%0 = qnn.quantize(%x, scale=[0.1], zero_point=[300], axis=1, out_dtype=uint8);\n%0"), Error);
  CHECK_THROWS_AS(type_check("%0 = qnn.quantize(%x, scale=[-1.0], zero_point=[0], axis=1, out_dtype=uint8);\n%0"), Error);
  CHECK_THROWS_AS(type_check("%0 = qnn.dequantize(%x, scale=[0.1], zero_point=[0], axis=1);\n%0"), Error);
  CHECK_THROWS_AS(type_check("%0 = qnn.conv2d(%x, %w, input_zero_point=0, kernel_zero_point=[0]);\n%0"), Error);
  CHECK_THROWS_AS(type_check("%0 = qnn.conv2d(%q, %w, input_zero_point=0, kernel_zero_point=[0, 0, 0]);\n%0"), Error);
  CHECK_NOTHROW(type_check("%0 = qnn.conv2d(%q, %w, input_zero_point=0, kernel_zero_point=[0, 0]);\n%0"));
  // Max pooling takes quantized values (their maximum is exact); averaging does not.
  CHECK_NOTHROW(type_check("%0 = nn.max_pool2d(%q, pool_size=[2, 2], strides=[2, 2], padding=[0, 0, 0, 0], dilation=[1, 1]);\n%0"));
  CHECK_THROWS_AS(type_check("%0 = nn.avg_pool2d(%q, pool_size=[2, 2], strides=[2, 2], padding=[0, 0, 0, 0], dilation=[1, 1]);\n%0"), Error);
}

// kernel_bits (lang/ops/qnn.h): AlterOpLayout records 7 for a constant int8
// weight within [-64, 63] and 8 for one past it or a weight that is not a
// constant (also where the text claimed 7); the type rule takes 7 or 8; the
// reference refuses a weight the claim does not hold for.
TEST_CASE("kernel_bits: found by AlterOpLayout in the constant weight, checked by the type rule and the reference") {
  const auto bits_after = [](const std::string& conv_weight, const std::string& dense_weight) {
    Module m = parse_module("const @w : Tensor[(2, 4, 1, 1), int8] = [" + conv_weight + "]\n" +
                                "const @d : Tensor[(2, 4), int8] = [" + dense_weight + "]\n" + R"(
def @main(%q: Tensor[(1, 4, 3, 3), uint8], %r: Tensor[(1, 4), uint8], %v: Tensor[(2, 4, 1, 1), int8]) {
  %0 = qnn.conv2d(%q, @w, input_zero_point=0, kernel_zero_point=[0], kernel_bits=7);
  %1 = qnn.dense(%r, @d, input_zero_point=3, kernel_zero_point=[0]);
  %2 = qnn.conv2d(%q, %v, input_zero_point=0, kernel_zero_point=[0], kernel_bits=7);
  (%0, %1, %2)
})", "case.ir");
    m = run_passes(m, {"InferType", "AlterOpLayout"}, PassContext{});
    std::vector<int64_t> bits;
    for (const Binding& b : m.main().body) {
      if (b.is_op("qnn.conv2d")) bits.push_back(attrs_as<QnnConv2DAttrs>(*b.attrs).kernel_bits);
      if (b.is_op("qnn.dense")) bits.push_back(attrs_as<QnnMatmulAttrs>(*b.attrs).kernel_bits);
    }
    return bits;
  };
  CHECK(bits_after("-64, 63, 0, 1, -1, 5, 63, -64", "1, 2, 3, -64, 63, 0, 0, 7") == std::vector<int64_t>{7, 7, 8});
  CHECK(bits_after("-64, 63, 0, 1, -1, 5, 64, -64", "1, 2, 3, -65, 63, 0, 0, 7") == std::vector<int64_t>{8, 8, 8});

  const auto typed = [](const std::string& attrs) {
    Module m = parse_module("def @main(%q: Tensor[(1, 4, 3, 3), uint8], %v: Tensor[(2, 4, 1, 1), int8]) {\n"
                            "  %0 = qnn.conv2d(%q, %v, input_zero_point=0, kernel_zero_point=[0]" + attrs + ");\n  %0\n}",
                            "case.ir");
    return run_passes(m, {"InferType"}, PassContext{});
  };
  CHECK_THROWS_AS(typed(", kernel_bits=6"), Error);
  CHECK_THROWS_AS(typed(", kernel_bits=9"), Error);
  const Module seven = typed(", kernel_bits=7");
  Tensor q(TensorType{{1, 4, 3, 3}, DType::uint8});
  Tensor w(TensorType{{2, 4, 1, 1}, DType::int8});
  const int64_t fits[] = {1, -64, 63, 0, 2, 3, 4, 5};
  for (size_t i = 0; i < 8; ++i) w.set_element(i, static_cast<double>(fits[i]));
  CHECK_NOTHROW(evaluate_main(seven, std::vector<Tensor>{q, w}));
  w.set_element(5, 64);
  CHECK_THROWS_WITH_AS(evaluate_main(seven, std::vector<Tensor>{q, w}), doctest::Contains("kernel_bits=7"), Error);
}

TEST_CASE("quantize_weights: 8 bits in [-127, 127], 7 bits in [-63, 63], one scale per channel") {
  Tensor w(TensorType{{2, 3}, DType::float32});
  const float values[] = {1.0f, -0.5f, 0.25f, -2.0f, 0.0f, 1.0f};
  for (size_t i = 0; i < 6; ++i) w.set_element(i, values[i]);
  for (int bits : {8, 7}) {
    CAPTURE(bits);
    const int64_t qmax = bits == 8 ? 127 : 63;
    std::vector<double> scales;
    const Tensor q = quantize_weights(w, true, 0, scales, bits);
    REQUIRE(scales.size() == 2);
    CHECK(scales[0] == doctest::Approx(1.0 / static_cast<double>(qmax)));
    CHECK(scales[1] == doctest::Approx(2.0 / static_cast<double>(qmax)));
    CHECK(q.element_as_int(0) == qmax);
    CHECK(q.element_as_int(3) == -qmax);
    CHECK(q.element_as_int(5) == (qmax + 1) / 2);  // 1.0 / (2 / qmax), half to the nearest
  }
  std::vector<double> scales;
  CHECK_THROWS_AS(quantize_weights(w, true, 0, scales, 6), Error);
}
