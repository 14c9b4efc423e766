// ONNX's quantization operators onto the qnn.* ops (lang/ops/qnn.h):
// QuantizeLinear and DequantizeLinear (the QDQ form), QLinearConv and
// QLinearMatMul (integer anchors followed by a requantization), ConvInteger
// and MatMulInteger (int32 results). Scales and zero points become
// attributes, so they must be known at import time (initializers or
// constants), as they are in every exported quantized model.
#include <cmath>

#include "lang/frontends/onnx_node.h"
#include "lang/ops/qnn.h"
#include "lang/ops/transform.h"
#include "support/diagnostic.h"

namespace modelc::lang::frontends {

namespace {

using Outputs = std::vector<ValueRef>;

std::vector<double> constant_reals(const NodeContext& c, size_t i, const char* what) {
  const Tensor t = c.constant_input(i, what);
  if (t.type().rank() > 1) throw Error(std::string(what) + " must be a scalar or 1-D, found " + t.type().str());
  std::vector<double> out;
  for (size_t k = 0; k < static_cast<size_t>(t.type().element_count()); ++k) out.push_back(t.element_as_double(k));
  if (out.empty()) throw Error(std::string(what) + " is empty");
  return out;
}

// The zero points of input i (default: one 0 of `fallback` type) and their dtype.
struct ZeroPoints {
  std::vector<int64_t> values;
  DType dtype;
};

ZeroPoints zero_points(const NodeContext& c, size_t i, const char* what, DType fallback, size_t count) {
  if (!c.has_input(i)) return {std::vector<int64_t>(count, 0), fallback};
  const Tensor t = c.constant_input(i, what);
  if (t.type().rank() > 1) throw Error(std::string(what) + " must be a scalar or 1-D, found " + t.type().str());
  const DType d = t.type().dtype;
  if (d != DType::uint8 && d != DType::int8 && d != DType::int32)
    throw Error(std::string(what) + " of type " + std::string(dtype_name(d)) + " is not supported (int8, uint8 or int32)");
  std::vector<int64_t> values;
  for (size_t k = 0; k < static_cast<size_t>(t.type().element_count()); ++k) values.push_back(t.element_as_int(k));
  if (values.empty()) values.assign(count, 0);
  return {values, d};
}

// A per-tensor parameter given as a 1-D tensor of one element is still per-tensor.
int64_t only_value(const std::vector<int64_t>& v, const char* what) {
  if (v.size() != 1) throw Error(std::string(what) + " with one value per row is not supported");
  return v[0];
}

void refuse_blocked(const NodeContext& c) {
  if (c.attr_int("block_size", 0) != 0) throw Error("blocked quantization (block_size) is not supported");
}

Outputs convert_quantize_linear(NodeContext& c) {
  refuse_blocked(c);
  const TensorType xt = c.type(c.input(0));
  if (xt.dtype != DType::float32) throw Error("quantizing " + xt.str() + " is not supported (float32 only)");
  QuantizeAttrs a;
  a.scale = constant_reals(c, 1, "the scale");
  const ZeroPoints zp = zero_points(c, 2, "the zero point", DType::uint8, a.scale.size());
  if (zp.dtype == DType::int32) throw Error("quantizing to int32 is not supported by QuantizeLinear");
  a.zero_point = zp.values;
  a.out_dtype = zp.dtype;
  a.axis = c.attr_int("axis", 1);
  return {c.call("qnn.quantize", {c.input(0)}, make_attrs(a))};
}

Outputs convert_dequantize_linear(NodeContext& c) {
  refuse_blocked(c);
  const TensorType xt = c.type(c.input(0));
  DequantizeAttrs a;
  a.scale = constant_reals(c, 1, "the scale");
  a.zero_point = zero_points(c, 2, "the zero point", xt.dtype, a.scale.size()).values;
  a.axis = c.attr_int("axis", 1);
  return {c.call("qnn.dequantize", {c.input(0)}, make_attrs(a))};
}

// Conv attributes of a 2-D ConvInteger / QLinearConv (x at input `x`, w at input `w`).
QnnConv2DAttrs conv_attrs(const NodeContext& c, size_t x, size_t w) {
  const TensorType xt = c.type(c.input(x)), wt = c.type(c.input(w));
  if (xt.rank() != 4 || wt.rank() != 4)
    throw Error("only 2-D quantized convolutions (4-D input and weight) are supported, found " + xt.str() + " and " + wt.str());
  const ConvGeometry g = conv_geometry(c, xt, wt);
  QnnConv2DAttrs a;
  a.strides = g.strides;
  a.dilation = g.dilations;
  a.padding = g.pads;
  a.groups = c.attr_int("group", 1);
  return a;
}

// ConvInteger: int32 result.
Outputs convert_conv_integer(NodeContext& c) {
  QnnConv2DAttrs a = conv_attrs(c, 0, 1);
  a.input_zero_point = only_value(zero_points(c, 2, "x_zero_point", c.type(c.input(0)).dtype, 1).values, "x_zero_point");
  a.kernel_zero_point = zero_points(c, 3, "w_zero_point", c.type(c.input(1)).dtype, 1).values;
  return {c.call("qnn.conv2d", {c.input(0), c.input(1)}, make_attrs(a))};
}

// The real scale of an int32 accumulator: input scale times each weight scale.
std::vector<double> product_scales(double input_scale, const std::vector<double>& weight_scales) {
  std::vector<double> out;
  // ONNX's reference multiplies the float32 scales in float32.
  for (double w : weight_scales) out.push_back(static_cast<double>(static_cast<float>(input_scale) * static_cast<float>(w)));
  return out;
}

ValueRef requantize(NodeContext& c, const ValueRef& acc, std::vector<double> input_scales, size_t y_scale, size_t y_zp, int64_t axis) {
  RequantizeAttrs r;
  r.input_scale = std::move(input_scales);
  const std::vector<double> out_scale = constant_reals(c, y_scale, "y_scale");
  if (out_scale.size() != 1) throw Error("y_scale must be one value, found " + std::to_string(out_scale.size()));
  r.output_scale = out_scale[0];
  const ZeroPoints zp = zero_points(c, y_zp, "y_zero_point", DType::uint8, 1);
  r.output_zero_point = only_value(zp.values, "y_zero_point");
  r.out_dtype = zp.dtype;
  r.axis = axis;
  return c.call("qnn.requantize", {acc}, make_attrs(r));
}

// QLinearConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B).
Outputs convert_qlinear_conv(NodeContext& c) {
  QnnConv2DAttrs a = conv_attrs(c, 0, 3);
  const std::vector<double> x_scale = constant_reals(c, 1, "x_scale");
  if (x_scale.size() != 1) throw Error("x_scale must be one value");
  a.input_zero_point = only_value(zero_points(c, 2, "x_zero_point", c.type(c.input(0)).dtype, 1).values, "x_zero_point");
  a.kernel_zero_point = zero_points(c, 5, "w_zero_point", c.type(c.input(3)).dtype, 1).values;
  std::vector<ValueRef> args{c.input(0), c.input(3)};
  if (c.has_input(8)) args.push_back(c.input(8));
  const ValueRef acc = c.call("qnn.conv2d", args, make_attrs(a));
  return {requantize(c, acc, product_scales(x_scale[0], constant_reals(c, 4, "w_scale")), 6, 7, 1)};
}

// a . b with int32 accumulation: qnn.dense when b is 2-D (as MatMul imports), else qnn.batch_matmul.
ValueRef integer_matmul(NodeContext& c, const ValueRef& a, const ValueRef& b, int64_t a_zp, std::vector<int64_t> b_zp) {
  const TensorType at = c.type(a), bt = c.type(b);
  QnnMatmulAttrs attrs;
  attrs.input_zero_point = a_zp;
  attrs.kernel_zero_point = std::move(b_zp);
  if (at.rank() < 2 || bt.rank() < 2) throw Error("an integer MatMul of " + at.str() + " and " + bt.str() + " (1-D operands) is not supported");
  if (bt.rank() > 2) return c.call("qnn.batch_matmul", {a, b}, make_attrs(attrs));
  const ValueRef w = c.call("transpose", {b}, transpose_by({1, 0}));
  if (at.rank() == 2) return c.call("qnn.dense", {a, w}, make_attrs(attrs));
  const int64_t k = at.shape.back();
  const ValueRef rows = c.call("reshape", {a}, reshape_to({-1, k}));
  std::vector<int64_t> out_shape = at.shape;
  out_shape.back() = bt.shape[1];
  return c.call("reshape", {c.call("qnn.dense", {rows, w}, make_attrs(attrs))}, reshape_to(out_shape));
}

Outputs convert_matmul_integer(NodeContext& c) {
  const int64_t a_zp = only_value(zero_points(c, 2, "a_zero_point", c.type(c.input(0)).dtype, 1).values, "a_zero_point");
  return {integer_matmul(c, c.input(0), c.input(1), a_zp, zero_points(c, 3, "b_zero_point", c.type(c.input(1)).dtype, 1).values)};
}

// QLinearMatMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp).
Outputs convert_qlinear_matmul(NodeContext& c) {
  const std::vector<double> a_scale = constant_reals(c, 1, "a_scale");
  if (a_scale.size() != 1) throw Error("a_scale with one value per row is not supported");
  const int64_t a_zp = only_value(zero_points(c, 2, "a_zero_point", c.type(c.input(0)).dtype, 1).values, "a_zero_point");
  const ValueRef acc = integer_matmul(c, c.input(0), c.input(3), a_zp, zero_points(c, 5, "b_zero_point", c.type(c.input(3)).dtype, 1).values);
  return {requantize(c, acc, product_scales(a_scale[0], constant_reals(c, 4, "b_scale")), 6, 7, -1)};
}

}  // namespace

void add_onnx_qnn_converters(std::map<std::string, NodeConverter, std::less<>>& table) {
  table.emplace("QuantizeLinear", convert_quantize_linear);
  table.emplace("DequantizeLinear", convert_dequantize_linear);
  table.emplace("QLinearConv", convert_qlinear_conv);
  table.emplace("QLinearMatMul", convert_qlinear_matmul);
  table.emplace("ConvInteger", convert_conv_integer);
  table.emplace("MatMulInteger", convert_matmul_integer);
}

}  // namespace modelc::lang::frontends
