// Internal to lower/ops: the fixed-point arithmetic of lang/ops/qnn.h as
// Halide expressions, shared by the elementwise qnn rules (lower/ops/qnn.cpp)
// and the integer anchors, whose kernels apply the requantization of a fused
// qnn.requantize to each accumulator as it is stored.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "lang/ops/qnn.h"
#include "lower/tensor_func.h"

namespace modelc::lower {

// value / 2^shift rounded half to even (int64 value, shift >= 1).
Halide::Expr rounding_shift_right_even(Halide::Expr value, Halide::Expr shift);
// round_half_even(value * m) for the int64 multiplier and shift of lang::fixed_point_multiplier.
Halide::Expr fixed_point_scale(Halide::Expr value, Halide::Expr multiplier, Halide::Expr shift);

// Multiplier and shift (int64 expressions) of each channel: constants when
// there is one, else lookups in tables compiled into the kernel.
struct PerChannelMultiplier {
  std::function<Halide::Expr(const Halide::Expr&)> multiplier;
  std::function<Halide::Expr(const Halide::Expr&)> shift;
  std::vector<lang::FixedPointMultiplier> values;  // per channel (one when per tensor)
  std::string name;                                // prefix of the kernel's tables
};
PerChannelMultiplier per_channel_multiplier(const std::vector<double>& input_scales, double output_scale,
                                            const std::string& name);

// `value` (int64) clamped to [out_min, out_max] within `dtype`'s range and cast to it.
Halide::Expr saturate_to(Halide::Expr value, lang::DType dtype, int64_t out_min, int64_t out_max);

// qnn.requantize of one accumulator of channel `channel`.
Halide::Expr requantize_expr(Halide::Expr acc, const lang::RequantizeAttrs& attrs, const PerChannelMultiplier& m,
                             Halide::Expr channel, const Halide::Target& target);

// Whether a qnn.conv2d computes on AMX tiles where its kernel's target has
// them (KernelTarget::amx): groups 1, uint8 input, int8 weights with zero
// point 0, and either input channels in whole blocks of 64 (weights packed
// in quads by AlterOpLayout) or at most 4 of them with a window of 25 taps or
// more, at most 16 per row (a stem: the row's taps take the channels' place).
bool qnn_conv2d_on_amx(const lang::QnnConv2DAttrs& a, const lang::TensorType& input, const lang::TensorType& weight);

// Whether a qnn.dense computes on AMX tiles where its kernel's target has
// them: four rows or more of uint8 x in whole blocks of 64 columns, int8
// weights with zero point 0.
bool qnn_dense_on_amx(const lang::QnnMatmulAttrs& a, const lang::TensorType& input, const lang::TensorType& weight,
                      const lang::TensorType& output);

void register_qnn_conv2d_lowerings(LoweringRegistry& registry);
void register_qnn_matmul_lowerings(LoweringRegistry& registry);

}  // namespace modelc::lower
