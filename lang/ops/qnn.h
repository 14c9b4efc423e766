// The qnn.* operators (lang/ops/qnn.cpp): integer arithmetic on quantized
// tensors, in the manner of Relay's QNN dialect.
//
// A quantized tensor q stands for the real values scale * (q - zero_point).
// Scales and zero points are attributes (one value, or one per index along
// `axis`): they are known when a model is compiled, and a kernel built for
// them folds them into its code. The arithmetic, shared by the reference
// kernels and the lowerings (lower/ops/qnn*.cpp) so that both are bit-exact:
//
//  - qnn.quantize: q = clamp(round_half_even(x / scale) + zero_point), the
//    division in float32, as ONNX QuantizeLinear specifies.
//  - qnn.dequantize: x = float32(q - zero_point) * float32(scale).
//  - qnn.conv2d / qnn.dense / qnn.batch_matmul: int32 accumulation of
//    (x - x_zero_point) * (w - w_zero_point) plus an optional int32 bias. The
//    accumulation must fit in int32 (it does for 8-bit operands up to 33 025
//    products per output); past it the reference wraps.
//  - qnn.requantize and qnn.add: fixed point. The real multiplier
//    m = input_scale / output_scale is written as M * 2^-n with a 24-bit
//    integer M (fixed_point_multiplier): float32's precision, which ONNX's
//    scales have and in which ONNX Runtime requantizes, and so a float32
//    that a kernel multiplies by exactly (one fused multiply-add per output,
//    lower/ops/qnn.cpp). The product (q - zp) * M is exact in int64 and is
//    shifted right by n rounding half to even (ONNX's rounding for
//    QuantizeLinear and QLinear* ops), then the output zero point is added
//    and the result saturated to [out_min, out_max] within the output dtype.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "lang/attrs.h"

namespace modelc::lang {

struct QuantizeAttrs : AttrsOf<QuantizeAttrs> {
  std::vector<double> scale{1.0};     // one, or one per index along `axis`
  std::vector<int64_t> zero_point{0}; // as many as `scale`
  int64_t axis = 1;                   // used when there are several scales
  DType out_dtype = DType::uint8;     // int8, uint8 or int32
  template <typename V> void fields(V& v) {
    v("scale", scale);
    v("zero_point", zero_point);
    v("axis", axis);
    v("out_dtype", out_dtype);
  }
};

struct DequantizeAttrs : AttrsOf<DequantizeAttrs> {
  std::vector<double> scale{1.0};
  std::vector<int64_t> zero_point{0};
  int64_t axis = 1;
  template <typename V> void fields(V& v) {
    v("scale", scale);
    v("zero_point", zero_point);
    v("axis", axis);
  }
};

// Default bounds of requantize/add: the output dtype's own.
inline constexpr int64_t kNoQuantBound = std::numeric_limits<int32_t>::max();

struct RequantizeAttrs : AttrsOf<RequantizeAttrs> {
  std::vector<double> input_scale{1.0};  // one, or one per index along `axis`
  int64_t input_zero_point = 0;
  double output_scale = 1.0;
  int64_t output_zero_point = 0;
  int64_t axis = 1;
  DType out_dtype = DType::uint8;
  // A fused ReLU or Clip: the result is also clamped to [out_min, out_max].
  int64_t out_min = -kNoQuantBound;
  int64_t out_max = kNoQuantBound;
  template <typename V> void fields(V& v) {
    v("input_scale", input_scale);
    v("input_zero_point", input_zero_point);
    v("output_scale", output_scale);
    v("output_zero_point", output_zero_point);
    v("axis", axis);
    v("out_dtype", out_dtype);
    v("out_min", out_min);
    v("out_max", out_max);
  }
};

// qnn.add: both operands per-tensor; broadcasting as `add`.
struct QnnAddAttrs : AttrsOf<QnnAddAttrs> {
  double lhs_scale = 1.0;
  int64_t lhs_zero_point = 0;
  double rhs_scale = 1.0;
  int64_t rhs_zero_point = 0;
  double output_scale = 1.0;
  int64_t output_zero_point = 0;
  DType out_dtype = DType::uint8;
  int64_t out_min = -kNoQuantBound;
  int64_t out_max = kNoQuantBound;
  template <typename V> void fields(V& v) {
    v("lhs_scale", lhs_scale);
    v("lhs_zero_point", lhs_zero_point);
    v("rhs_scale", rhs_scale);
    v("rhs_zero_point", rhs_zero_point);
    v("output_scale", output_scale);
    v("output_zero_point", output_zero_point);
    v("out_dtype", out_dtype);
    v("out_min", out_min);
    v("out_max", out_max);
  }
};

// The weight layout of qnn.conv2d that AlterOpLayout packs at compile time
// for convolutions whose input channels (per group) fill quads: [C/4, R, S, K,
// 4], four consecutive input channels of one output channel adjacent, so a
// 64-byte vector holds 16 output channels' quads (what vpdpbusd multiplies
// with a broadcast quad of the input; lower/ops/qnn_conv2d.cpp).
inline constexpr const char* kQnnQuadWeightLayout = "IHWO4i";

// The same quads in blocks of 16 output channels, [K/16, C/4, R, S, 16, 4],
// which AlterOpLayout packs instead for convolutions whose output rows are
// narrower than a vector (the VNNI kernel then vectorizes output channels):
// a task's block of channels reads its weights as one stream, where in
// kQnnQuadWeightLayout each step of the reduction read 64 bytes of a
// K * 4-byte row (ResNet-18's 7x7 layers: 2 KB apart, fetched from L3 at
// 55 % of the int8 peak). With 8 lanes of sums (AVX2's byte pairs) the
// blocks hold 8 channels, [K/8, C/4, R, S, 8, 4] (OIHW8o4i): a vector of
// sums then reads one block's lanes, which Halide can prove contiguous.
inline constexpr const char* kQnnBlockedQuadWeightLayout = "OIHW16o4i";
inline constexpr int64_t kQnnQuadWeightBlock = 16;  // its output channels per block
// The blocked quad layout of `block` (8 or 16) output channels, and the
// block of a kernel_layout (0 where it is not a blocked quad layout).
std::string blocked_quad_weight_layout(int64_t block);
int64_t blocked_quad_weight_block(const std::string& kernel_layout);

// 8-bit weights in pairs of input channels, blocks of 8 output channels,
// [K/8, C/2, R, S, 8, 2]: what AVX2 without VNNI multiplies (int16 pairs,
// vpmaddwd; lower/ops/qnn_conv2d.cpp), a step's 16 bytes, sign-extended,
// one vector of 8 channels' pairs. AlterOpLayout packs them at compile time,
// where the kernel had repacked every weight to int16 on each call.
inline constexpr const char* kQnnBlockedPairWeightLayout = "OIHW8o2i";
inline constexpr int64_t kQnnPairWeightBlock = 8;

// qnn.conv2d: NCHW input, OIHW (or kQnnQuadWeightLayout) weights, NCHW int32
// result; padding reads the input zero point (a real zero).
// kernel_bits of qnn.conv2d and qnn.dense: 7 where every weight lies in
// [-64, 63], which AlterOpLayout finds in a constant int8 weight (and sets 8
// for any other): two products of such a weight and a uint8 input then sum
// exactly in int16, so x86 CPUs without VNNI can multiply bytes in pairs
// (vpmaddubsw, lower/ops/qnn_conv2d.h QuadDot). The reference
// implementations check that the weights fit.
bool kernel_fits_bits(std::span<const int64_t> values, int64_t bits);

struct QnnConv2DAttrs : AttrsOf<QnnConv2DAttrs> {
  std::vector<int64_t> strides{1, 1};
  std::vector<int64_t> padding{0, 0, 0, 0};  // top, left, bottom, right
  std::vector<int64_t> dilation{1, 1};
  int64_t groups = 1;
  int64_t input_zero_point = 0;
  std::vector<int64_t> kernel_zero_point{0};  // one, or one per output channel
  std::string kernel_layout = "OIHW";         // or kQnnQuadWeightLayout, kQnnBlockedQuadWeightLayout, kQnnBlockedPairWeightLayout (groups 1)
  int64_t kernel_bits = 8;                    // 7 or 8: kernel_fits_bits
  template <typename V> void fields(V& v) {
    v("strides", strides);
    v("padding", padding);
    v("dilation", dilation);
    v("groups", groups);
    v("input_zero_point", input_zero_point);
    v("kernel_zero_point", kernel_zero_point);
    v("kernel_layout", kernel_layout);
    v("kernel_bits", kernel_bits);
  }
};

// The weight layout of qnn.dense that AlterOpLayout packs at compile time
// for products over four rows or more whose K fills quads: [K/4, N, 4], four
// consecutive k of one column adjacent, what AMX's tiles and VNNI multiply
// (lower/ops/qnn_matmul.cpp) where the [N, K] weight was repacked per call.
inline constexpr const char* kQnnDenseQuadLayout = "KN4k";
// The same in pairs of k, [K/2, N, 2], for 8-bit weights without an 8-bit
// dot product (AVX2): int16 pairs' vpmaddwd multiplies a vector of 8
// columns' pairs, 16 bytes sign-extended, where it repacked them per call.
inline constexpr const char* kQnnDensePairLayout = "KN2k";

// qnn.dense (x[M, K] . w[N, K]^T, or w in kQnnDenseQuadLayout) and
// qnn.batch_matmul (x[..., M, K] . y[..., K, N]).
struct QnnMatmulAttrs : AttrsOf<QnnMatmulAttrs> {
  int64_t input_zero_point = 0;
  std::vector<int64_t> kernel_zero_point{0};  // one, or one per output column (N)
  std::string kernel_layout = "NK";           // qnn.dense: or kQnnDenseQuadLayout, kQnnDensePairLayout
  int64_t kernel_bits = 8;                    // 7 or 8: kernel_fits_bits
  template <typename V> void fields(V& v) {
    v("input_zero_point", input_zero_point);
    v("kernel_zero_point", kernel_zero_point);
    v("kernel_layout", kernel_layout);
    v("kernel_bits", kernel_bits);
  }
};

// The [N, K] type of a qnn.dense weight of type `w` in the attrs'
// kernel_layout; throws a type error for any other layout or a weight that
// does not fit it.
TensorType qnn_dense_nk_weight(const TensorType& w, const QnnMatmulAttrs& a);

// The OIHW type of a qnn.conv2d weight of type `w` in the attrs'
// kernel_layout (OIHW itself, kQnnQuadWeightLayout or
// kQnnBlockedQuadWeightLayout); throws a type error
// for any other layout or a weight that does not fit it.
TensorType qnn_conv2d_oihw_weight(const TensorType& w, const QnnConv2DAttrs& a);

// m = multiplier * 2^-shift, multiplier in [2^23, 2^24) (or 0 for m == 0),
// shift in [1, 62]; for m in [2^23, 2^30) shift 1 and a multiplier below
// 2^31. Throws modelc::Error for a negative, non-finite or larger m.
inline constexpr int kFixedPointBits = 24;
struct FixedPointMultiplier {
  int64_t multiplier = 0;
  int shift = 31;
};
FixedPointMultiplier fixed_point_multiplier(double m);

// value / 2^shift rounded half to even (shift >= 1).
int64_t rounding_shift_right_even(int64_t value, int shift);

// round_half_even(value * m) with m as fixed_point_multiplier gives it;
// |value| must stay below 2^32.
int64_t fixed_point_scale(int64_t value, const FixedPointMultiplier& m);

// The bounds of an integer dtype (int8, uint8, int32).
int64_t dtype_min(DType dtype);
int64_t dtype_max(DType dtype);

// float32 round(x / scale) + zero_point saturated to `dtype` (qnn.quantize's arithmetic).
int64_t quantize_value(float x, float scale, int64_t zero_point, DType dtype);

}  // namespace modelc::lang
