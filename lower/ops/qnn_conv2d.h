// Internal to lower/ops: what the forms of qnn.conv2d share, the pairs and
// quads forms (lower/ops/qnn_conv2d.cpp, groups 1 and groups of whole quads),
// the AMX tiles' (lower/ops/qnn_conv2d_amx.cpp) and the depthwise and other
// grouped ones (lower/ops/qnn_depthwise.cpp).
#pragma once

#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "lang/ops/qnn.h"
#include "lower/tensor_func.h"

namespace modelc::lower::qconv {

struct Geometry {
  int sw, sh, dw, dh, pl, pt;
  explicit Geometry(const lang::QnnConv2DAttrs& a)
      : sw(static_cast<int>(a.strides[1])), sh(static_cast<int>(a.strides[0])), dw(static_cast<int>(a.dilation[1])),
        dh(static_cast<int>(a.dilation[0])), pl(static_cast<int>(a.padding[1])), pt(static_cast<int>(a.padding[0])) {}
  Halide::Expr ix(Halide::Expr x, Halide::Expr s) const { return x * sw + s * dw - pl; }
  Halide::Expr iy(Halide::Expr y, Halide::Expr r) const { return y * sh + r * dh - pt; }
};

// The kernel zero point of output channel k.
Halide::Expr kernel_zero_point(const lang::QnnConv2DAttrs& a, const Halide::Expr& k, const std::string& name);

// The weight of quad member cg of quad cp, output channel k, tap (r, s), in
// either quad layout AlterOpLayout packs ([C/4, R, S, K, 4], or that in blocks
// of 16 output channels: [K/16, C/4, R, S, 16, 4]).
Halide::Expr quad_weight_at(const TensorFunc& w, const lang::QnnConv2DAttrs& a, const Halide::Expr& cg, const Halide::Expr& k,
                            const Halide::Expr& s, const Halide::Expr& r, const Halide::Expr& cp);

// The weight of output channel k, input channel c, tap (r, s), in any
// kernel layout (OIHW, or a quad layout).
Halide::Expr weight_at(const TensorFunc& w, const lang::QnnConv2DAttrs& a, const Halide::Expr& s, const Halide::Expr& r,
                       const Halide::Expr& c, const Halide::Expr& k);

Halide::Expr bias_of(std::span<const TensorFunc> args, const Halide::Expr& k);

// The 8-bit dot product of four products per 32-bit lane that the quads
// forms rest on, if the target has one: VNNI's vpdpbusd (Halide 14 calls the
// feature avx512_sapphirerapids) multiplies uint8 by int8; Arm's sdot (the
// dot-product extension, arm_dot_prod) int8 by int8, and Halide emits it only
// for that pair (for uint8 x int8 it widened to int16 and multiplied pairs).
// So on Arm the quads hold the uint8 input as int8 x - 128 (its top bit
// flipped), and the input's zero point moves with it (zx - 128): the
// accumulator's start, bias - zero point * sum(weights), then takes off both.
//
// On x86 with AVX2 but no VNNI, weights of 7 bits (kernel_bits, which
// AlterOpLayout finds in the constant weight) make byte pairs exact: each
// quad is two pairs of uint8 x int8 products summed into int16 (vpmaddubsw,
// 32 products per instruction; 2 * 255 * 64 < 2^15, so it never saturates),
// the two pairs into int32 by vpmaddwd with ones, then added: three
// instructions per 32 products where int16 pairs (the form without a dot
// product) take one per 16 and repack the input to twice its size.
struct QuadDot {
  bool available = false;
  bool signed_input = false;  // Arm's sdot: the input as int8
  bool byte_pairs = false;    // AVX2 with 7-bit weights: vpmaddubsw, then vpmaddwd
  explicit QuadDot(const Halide::Target& t, int64_t kernel_bits = 8);
  // The extent of the reduction over a quad's members: 4 (one dot product),
  // or 2 byte pairs (add_quad_products).
  int steps() const { return byte_pairs ? 2 : 4; }
  // Vector registers a register tile leaves to byte pairs: the ones and
  // each product's pairs before they are added (vpdpbusd adds in place).
  int pair_registers() const { return byte_pairs ? 2 : 0; }
  // A uint8 input value as the quads hold it.
  Halide::Expr input(const Halide::Expr& x) const;
  // The input's zero point as the quads hold it: the fill outside the image,
  // and (as an int32) what accumulator_start takes off.
  int32_t zero_point(int64_t x_zero_point) const;
  Halide::Expr fill(int64_t x_zero_point) const;
};

bool has_vnni(const Halide::Target& t);

// The uint8 input and int8 weight that a quads form multiplies as quad
// member `member` (0-3) at `step` of its reduction (the values of its
// reduction's other dimensions: taps, rows, packs).
using QuadOperands = std::function<std::pair<Halide::Expr, Halide::Expr>(const Halide::Expr& member,
                                                                         const std::vector<Halide::Expr>& step)>;

// Byte pairs' two stages, which schedule_tile_sums places (undefined Funcs
// where the dot product takes a quad at once).
struct QuadSums {
  Halide::Func pairs, ones;
  Halide::RDom members;  // a pair's two members (pairs' update)
};

// Adds to acc(vars) the products of a quad at each step of `rd` (x: the
// quad's members in dot.steps(); its other dimensions: the steps): with a
// dot product, acc += x * w over the members (vpdpbusd, sdot); with byte
// pairs, acc += pairs(member pair) * 1, the pairs summed in int16 per step.
QuadSums add_quad_products(Halide::Func acc, const std::vector<Halide::Var>& vars, const Halide::RDom& rd,
                           const QuadDot& dot, const QuadOperands& operands, const std::string& name);

// Byte pairs' stages (nothing without them), computed at `at` of acc's
// update: a vector of pairs per vector of `lanes` sums along `along`.
void schedule_pairs(const QuadSums& sums, const Halide::Func& acc, const Halide::Var& at, const Halide::Var& along, int lanes);

// A register tile of sums: `along` in vectors of `lanes` (their blocks
// unrolled) by `unrolled`, each step of the reduction (rd: the quad's or
// pair's members, taps s and r, packs) one dot product per vector.
void schedule_tile_sums(Halide::Func acc, const Halide::RDom& rd, const Halide::Var& along, const Halide::Var& unrolled,
                        int lanes, Halide::TailStrategy tail, const QuadSums& sums = {});

// uint8 input times int8 weights with zero points 0 (`kernel_zero_point` of
// qnn.conv2d's or qnn.dense's attributes): what vpdpbusd multiplies.
bool u8_times_symmetric_s8(std::span<const int64_t> kernel_zero_point, std::span<const TensorFunc> args);

// Where the sums of kernels that multiply the input as it is (zero point
// included: the quads, the tiles) start, per output channel: the bias,
// less the input's zero point as `dot`'s kernels hold it (QuadDot::zero_point)
// times the sum of the channel's weights, vectorized over channels when
// scheduled (as a scalar loop the weight sums of a 7x7 layer took as long as
// its products).
Halide::Func accumulator_start(std::span<const TensorFunc> args, const lang::QnnConv2DAttrs& a, const QuadDot& dot, int C,
                               int R, int S, const std::string& name);

// The most vectors of `lanes` pixels, at most `blocks`, whose tiles cover a
// row of `width` pixels (the last tile shifted in) computing the fewest.
int least_covering_blocks(int64_t width, int lanes, int blocks);

// qnn.conv2d, groups 1 (or grouped quads), with the reduction over packs of
// `group` input channels: 4 (quads: VNNI, sdot, AVX2's byte pairs) or 2
// (int16 pairs), output channels or pixels vectorized (lower/ops/qnn_conv2d.cpp).
LoweredOp lower_packed(std::span<const TensorFunc> args, const LowerContext& ctx, int group);

// The forms that lay the input's rows out anew (lower/ops/qnn_conv2d_rows.cpp):
// a kernel row's taps packed with few input channels in groups of `group`
// (4: quads, 2: int16 pairs), where that saves a tenth of the products; and
// stride-1 rows laid end to end with their padding, where that computes
// fewer wasted positions than tiles over each row.
bool taps_packed_apply(const lang::QnnConv2DAttrs& a, const lang::TensorType& input, const lang::TensorType& weight,
                       const lang::TensorType& out, int lanes, int group);
LoweredOp lower_taps_in_quads(std::span<const TensorFunc> args, const LowerContext& ctx, int group);
bool flat_applies(const lang::QnnConv2DAttrs& a, const lang::TensorType& input, const lang::TensorType& weight,
                  const lang::TensorType& out, int lanes);
LoweredOp lower_flat(std::span<const TensorFunc> args, const LowerContext& ctx);

// qnn.conv2d with groups > 1 (depthwise and grouped), in the form the target
// and shape take (lower/ops/qnn_depthwise.cpp).
LoweredOp lower_grouped(std::span<const TensorFunc> args, const LowerContext& ctx);

// qnn.conv2d on AMX tiles (lower/ops/qnn_conv2d_amx.cpp), where
// qnn_conv2d_on_amx (lower/ops/qnn.h) says they apply: inputs of whole blocks
// of 64 channels, or (row_taps_apply) a stem's few channels with a kernel
// row's taps in one tile row.
bool row_taps_apply(const lang::QnnConv2DAttrs& a, const lang::TensorType& input, const lang::TensorType& weight);
LoweredOp lower_quads_amx(std::span<const TensorFunc> args, const LowerContext& ctx);
LoweredOp lower_row_taps_amx(std::span<const TensorFunc> args, const LowerContext& ctx);

}  // namespace modelc::lower::qconv
