// ONNX node converters: each maps one ONNX op type onto IR ops, reading the
// node's attributes and asking the builder for shapes (never computing an op's
// output shape itself).
#include <algorithm>
#include <limits>
#include <numeric>

#include "lang/frontends/onnx_node.h"
#include "lang/ops/elementwise.h"
#include "lang/ops/nn.h"
#include "lang/ops/reduce.h"
#include "lang/ops/transform.h"
#include "support/diagnostic.h"

namespace modelc::lang::frontends {

// ---- NodeContext ----

NodeContext::NodeContext(GraphBuilder& builder, const onnx::NodeProto& node, int opset,
                         std::vector<std::optional<ValueRef>> inputs)
    : builder_(builder), node_(node), opset_(opset), inputs_(std::move(inputs)) {
  origin_ = "ONNX node '" + node.name() + "' (" + node.op_type() + ")";
}

ValueRef NodeContext::input(size_t i) const {
  if (!has_input(i)) throw Error("input " + std::to_string(i) + " is missing");
  return *inputs_[i];
}

Tensor NodeContext::constant_input(size_t i, const char* what) const {
  std::optional<Tensor> value = builder_.constant_value(input(i));
  if (!value)
    throw Error(std::string(what) + " (input " + std::to_string(i) + ", '" + node_.input(static_cast<int>(i)) +
                "') must be known at import time, but it is computed from the model's inputs");
  return *value;
}

std::vector<int64_t> NodeContext::constant_ints(size_t i, const char* what) const {
  const Tensor t = constant_input(i, what);
  std::vector<int64_t> out;
  for (size_t k = 0; k < static_cast<size_t>(t.type().element_count()); ++k) out.push_back(t.element_as_int(k));
  return out;
}

const onnx::AttributeProto* NodeContext::find_attr(const std::string& name) const {
  for (const onnx::AttributeProto& a : node_.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

int64_t NodeContext::attr_int(const std::string& name, int64_t fallback) const {
  const onnx::AttributeProto* a = find_attr(name);
  return a ? a->i() : fallback;
}

double NodeContext::attr_float(const std::string& name, double fallback) const {
  const onnx::AttributeProto* a = find_attr(name);
  return a ? static_cast<double>(a->f()) : fallback;
}

std::string NodeContext::attr_string(const std::string& name, const std::string& fallback) const {
  const onnx::AttributeProto* a = find_attr(name);
  return a ? a->s() : fallback;
}

std::vector<int64_t> NodeContext::attr_ints(const std::string& name, std::vector<int64_t> fallback) const {
  const onnx::AttributeProto* a = find_attr(name);
  if (!a) return fallback;
  return {a->ints().begin(), a->ints().end()};
}

ValueRef NodeContext::call(std::string_view op, std::vector<ValueRef> args, AttrsPtr attrs) {
  const std::string hint = node_.output_size() > 0 ? node_.output(0) : node_.name();
  return builder_.call(op, std::move(args), std::move(attrs), origin_, hint);
}

ValueRef NodeContext::add_constant(Tensor value) {
  return builder_.add_constant(node_.output_size() > 0 ? node_.output(0) : node_.name(), std::move(value));
}

ValueRef NodeContext::scalar(float value) { return builder_.add_constant(node_.name() + ".scalar", Tensor::scalar(value)); }

namespace {

using Outputs = std::vector<ValueRef>;

int64_t product(const std::vector<int64_t>& dims, size_t begin, size_t end) {
  return std::accumulate(dims.begin() + static_cast<std::ptrdiff_t>(begin), dims.begin() + static_cast<std::ptrdiff_t>(end),
                         int64_t{1}, std::multiplies<>());
}

int64_t normalize_axis(int64_t axis, size_t rank) {
  const auto r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r)
    throw Error("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + r : axis;
}

AttrsPtr reshape_to(std::vector<int64_t> shape) {
  ReshapeAttrs a;
  a.newshape = std::move(shape);
  return make_attrs(a);
}

AttrsPtr transpose_by(std::vector<int64_t> axes) {
  TransposeAttrs a;
  a.axes = std::move(axes);
  return make_attrs(a);
}

AttrsPtr along_axis(int64_t axis) {
  AxisAttrs a;
  a.axis = axis;
  return make_attrs(a);
}

// The explicit [top, left, bottom, right] padding of a 2-D window op, from
// `pads` or from `auto_pad` and the static input size.
std::vector<int64_t> window_padding(const NodeContext& c, const std::vector<int64_t>& input_hw,
                                    const std::vector<int64_t>& kernel, const std::vector<int64_t>& strides,
                                    const std::vector<int64_t>& dilations) {
  const std::string auto_pad = c.attr_string("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") {
    std::vector<int64_t> pads = c.attr_ints("pads", {0, 0, 0, 0});
    if (pads.size() != 4) throw Error("pads has " + std::to_string(pads.size()) + " values, 4 expected for a 2-D window");
    return pads;  // ONNX order x1_begin, x2_begin, x1_end, x2_end is the IR's top, left, bottom, right
  }
  if (auto_pad == "VALID") return {0, 0, 0, 0};
  if (auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER")
    throw Error("auto_pad '" + auto_pad + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
  std::vector<int64_t> pads(4);
  for (size_t d = 0; d < 2; ++d) {
    const int64_t out = (input_hw[d] + strides[d] - 1) / strides[d];
    const int64_t total = std::max<int64_t>(0, (out - 1) * strides[d] + (kernel[d] - 1) * dilations[d] + 1 - input_hw[d]);
    const int64_t smaller = total / 2;
    pads[d] = auto_pad == "SAME_UPPER" ? smaller : total - smaller;
    pads[d + 2] = total - pads[d];
  }
  return pads;
}

std::vector<int64_t> spatial(const TensorType& t) { return {t.shape[2], t.shape[3]}; }

void expect_2d_window(const NodeContext& c, const TensorType& x) {
  if (x.rank() != 4)
    throw Error("only 2-D windows (4-D NCHW input) are supported, the input is " + x.str());
  (void)c;
}

Outputs convert_conv(NodeContext& c) {
  const ValueRef x = c.input(0), w = c.input(1);
  const TensorType xt = c.type(x), wt = c.type(w);
  expect_2d_window(c, xt);
  if (wt.rank() != 4) throw Error("weight " + wt.str() + " is not OIHW");
  Conv2DAttrs a;
  a.strides = c.attr_ints("strides", {1, 1});
  a.dilation = c.attr_ints("dilations", {1, 1});
  a.groups = c.attr_int("group", 1);
  a.padding = window_padding(c, spatial(xt), {wt.shape[2], wt.shape[3]}, a.strides, a.dilation);
  ValueRef y = c.call("nn.conv2d", {x, w}, make_attrs(a));
  if (c.has_input(2)) y = c.call("nn.bias_add", {y, c.input(2)}, along_axis(1));
  return {y};
}

Outputs convert_pool(NodeContext& c, const char* op) {
  const ValueRef x = c.input(0);
  const TensorType xt = c.type(x);
  expect_2d_window(c, xt);
  if (c.node().output_size() > 1 && !c.node().output(1).empty())
    throw Error("the Indices output is not supported");
  Pool2DAttrs a;
  a.pool_size = c.attr_ints("kernel_shape", {});
  if (a.pool_size.size() != 2) throw Error("kernel_shape must have 2 values for a 2-D pool");
  a.strides = c.attr_ints("strides", {1, 1});
  a.dilation = c.attr_ints("dilations", {1, 1});
  a.ceil_mode = c.attr_int("ceil_mode", 0) != 0;
  a.count_include_pad = c.attr_int("count_include_pad", 0) != 0;
  a.padding = window_padding(c, spatial(xt), a.pool_size, a.strides, a.dilation);
  return {c.call(op, {x}, make_attrs(a))};
}

Outputs convert_gemm(NodeContext& c) {
  ValueRef a = c.input(0);
  if (c.attr_int("transA", 0)) a = c.call("transpose", {a}, transpose_by({1, 0}));
  ValueRef w = c.input(1);  // nn.dense wants [N, K]; ONNX B is [K, N] unless transB
  if (!c.attr_int("transB", 0)) w = c.call("transpose", {w}, transpose_by({1, 0}));
  ValueRef y = c.call("nn.dense", {a, w});
  const double alpha = c.attr_float("alpha", 1.0), beta = c.attr_float("beta", 1.0);
  if (alpha != 1.0) y = c.call("multiply", {y, c.scalar(static_cast<float>(alpha))});
  if (!c.has_input(2) || beta == 0.0) return {y};
  ValueRef bias = c.input(2);
  if (beta != 1.0) bias = c.call("multiply", {bias, c.scalar(static_cast<float>(beta))});
  const TensorType bt = c.type(bias), yt = c.type(y);
  if (bt.rank() == 1 && bt.shape[0] == yt.shape[1]) return {c.call("nn.bias_add", {y, bias}, along_axis(1))};
  return {c.call("add", {y, bias})};
}

Outputs convert_matmul(NodeContext& c) {
  const ValueRef a = c.input(0), b = c.input(1);
  const TensorType at = c.type(a), bt = c.type(b);
  if (at.rank() >= 3 && bt.rank() >= 3) return {c.call("nn.batch_matmul", {a, b})};
  if (bt.rank() != 2 || at.rank() < 2)
    throw Error("MatMul of " + at.str() + " and " + bt.str() + " is not supported (1-D operands, or a batched "
                "right operand with a 2-D left one)");
  const ValueRef w = c.call("transpose", {b}, transpose_by({1, 0}));
  if (at.rank() == 2) return {c.call("nn.dense", {a, w})};
  // [..., K] x [K, N]: flatten the leading axes into rows, then restore them.
  const int64_t k = at.shape.back();
  const ValueRef rows = c.call("reshape", {a}, reshape_to({-1, k}));
  std::vector<int64_t> out_shape = at.shape;
  out_shape.back() = bt.shape[1];
  return {c.call("reshape", {c.call("nn.dense", {rows, w})}, reshape_to(out_shape))};
}

NodeConverter binary_op(const char* op) {
  return [op](NodeContext& c) { return Outputs{c.call(op, {c.input(0), c.input(1)})}; };
}

NodeConverter unary(const char* op) {
  return [op](NodeContext& c) { return Outputs{c.call(op, {c.input(0)})}; };
}

// Max/Min/Sum take any number of inputs in ONNX; the IR's ops are binary.
NodeConverter binary(const char* op) {
  return [op](NodeContext& c) {
    ValueRef acc = c.input(0);
    for (size_t i = 1; i < c.input_count(); ++i) acc = c.call(op, {acc, c.input(i)});
    return Outputs{acc};
  };
}

// Bounds that are constants become clip's attributes; bounds computed at run
// time (or of integer tensors) become maximum / minimum.
Outputs convert_clip(NodeContext& c) {
  ValueRef x = c.input(0);
  if (c.opset() < 11) {
    ClipAttrs a;
    a.a_min = c.attr_float("min", a.a_min);
    a.a_max = c.attr_float("max", a.a_max);
    return {c.call("clip", {x}, make_attrs(a))};
  }
  ClipAttrs a;
  std::vector<std::pair<size_t, const char*>> computed;
  for (auto [i, op] : {std::pair<size_t, const char*>{1, "maximum"}, {2, "minimum"}}) {
    if (!c.has_input(i)) continue;
    if (!c.is_constant(c.input(i))) {
      computed.emplace_back(i, op);
      continue;
    }
    const double bound = c.constant_input(i, "a bound").element_as_double(0);
    (i == 1 ? a.a_min : a.a_max) = bound;
  }
  x = c.call("clip", {x}, make_attrs(a));
  for (auto [i, op] : computed) x = c.call(op, {x, c.input(i)});
  return {x};
}

template <typename A>
NodeConverter with_attrs(const char* op, std::function<A(const NodeContext&)> read) {
  return [op, read](NodeContext& c) { return Outputs{c.call(op, {c.input(0)}, make_attrs(read(c)))}; };
}

ActivationAttrs activation(double alpha, double beta) {
  ActivationAttrs a;
  a.alpha = alpha;
  a.beta = beta;
  return a;
}

Outputs convert_cast(NodeContext& c) {
  const std::optional<DType> to = dtype_of_onnx(static_cast<int32_t>(c.attr_int("to", 0)));
  if (!to) throw Error("casting to ONNX element type " + std::to_string(c.attr_int("to", 0)) + " is not supported");
  CastAttrs a;
  a.dtype = *to;
  if (c.type(c.input(0)).dtype == a.dtype) return {c.input(0)};
  return {c.call("cast", {c.input(0)}, make_attrs(a))};
}

Outputs convert_cast_like(NodeContext& c) {
  CastAttrs a;
  a.dtype = c.type(c.input(1)).dtype;
  if (c.type(c.input(0)).dtype == a.dtype) return {c.input(0)};
  return {c.call("cast", {c.input(0)}, make_attrs(a))};
}

Outputs convert_mod(NodeContext& c) {
  return {c.call(c.attr_int("fmod", 0) ? "trunc_mod" : "floor_mod", {c.input(0), c.input(1)})};
}

Outputs convert_bit_shift(NodeContext& c) {
  const std::string direction = c.attr_string("direction", "");
  if (direction != "LEFT" && direction != "RIGHT") throw Error("direction '" + direction + "' is not LEFT or RIGHT");
  return {c.call(direction == "LEFT" ? "left_shift" : "right_shift", {c.input(0), c.input(1)})};
}

Outputs convert_mean(NodeContext& c) {
  ValueRef acc = c.input(0);
  for (size_t i = 1; i < c.input_count(); ++i) acc = c.call("add", {acc, c.input(i)});
  if (c.input_count() == 1) return {acc};
  return {c.call("divide", {acc, c.scalar(static_cast<float>(c.input_count()))})};
}

Outputs convert_is_inf(NodeContext& c) {
  IsInfAttrs a;
  a.detect_positive = c.attr_int("detect_positive", 1) != 0;
  a.detect_negative = c.attr_int("detect_negative", 1) != 0;
  return {c.call("isinf", {c.input(0)}, make_attrs(a))};
}

Outputs convert_leaky_relu(NodeContext& c) {
  LeakyReluAttrs a;
  a.alpha = c.attr_float("alpha", 0.01);
  return {c.call("nn.leaky_relu", {c.input(0)}, make_attrs(a))};
}

Outputs convert_flatten(NodeContext& c) {
  const TensorType t = c.type(c.input(0));
  const auto axis = static_cast<size_t>(c.attr_int("axis", 1) < 0 ? c.attr_int("axis", 1) + static_cast<int64_t>(t.rank())
                                                                  : c.attr_int("axis", 1));
  if (axis > t.rank()) throw Error("axis " + std::to_string(axis) + " is out of range for " + t.str());
  return {c.call("reshape", {c.input(0)}, reshape_to({product(t.shape, 0, axis), product(t.shape, axis, t.rank())}))};
}

Outputs convert_reshape(NodeContext& c) {
  const TensorType t = c.type(c.input(0));
  std::vector<int64_t> shape = c.opset() < 5 ? c.attr_ints("shape", {}) : c.constant_ints(1, "the target shape");
  const bool allow_zero = c.attr_int("allowzero", 0) != 0;
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] == 0 && !allow_zero) {
      if (i >= t.rank()) throw Error("shape entry " + std::to_string(i) + " is 0 but the input " + t.str() + " has no such dimension");
      shape[i] = t.shape[i];
    }
  return {c.call("reshape", {c.input(0)}, reshape_to(shape))};
}

std::vector<int64_t> axes_of(const NodeContext& c, size_t input_index, int input_since_opset) {
  if (c.opset() >= input_since_opset)
    return c.has_input(input_index) ? c.constant_ints(input_index, "axes") : std::vector<int64_t>{};
  return c.attr_ints("axes", {});
}

Outputs convert_squeeze(NodeContext& c) {
  const TensorType t = c.type(c.input(0));
  std::vector<int64_t> axes = axes_of(c, 1, 13);
  std::vector<bool> drop(t.rank(), false);
  for (int64_t a : axes) drop[static_cast<size_t>(normalize_axis(a, t.rank()))] = true;
  std::vector<int64_t> shape;
  for (size_t d = 0; d < t.rank(); ++d) {
    const bool squeezed = axes.empty() ? t.shape[d] == 1 : drop[d];
    if (squeezed && t.shape[d] != 1) throw Error("cannot squeeze axis " + std::to_string(d) + " of " + t.str());
    if (!squeezed) shape.push_back(t.shape[d]);
  }
  return {c.call("reshape", {c.input(0)}, reshape_to(shape))};
}

Outputs convert_unsqueeze(NodeContext& c) {
  const TensorType t = c.type(c.input(0));
  const std::vector<int64_t> axes = axes_of(c, 1, 13);
  const size_t rank = t.rank() + axes.size();
  std::vector<bool> inserted(rank, false);
  for (int64_t a : axes) inserted[static_cast<size_t>(normalize_axis(a, rank))] = true;
  std::vector<int64_t> shape;
  size_t next = 0;
  for (size_t d = 0; d < rank; ++d) shape.push_back(inserted[d] ? 1 : t.shape[next++]);
  return {c.call("reshape", {c.input(0)}, reshape_to(shape))};
}

Outputs convert_transpose(NodeContext& c) {
  return {c.call("transpose", {c.input(0)}, transpose_by(c.attr_ints("perm", {})))};
}

Outputs convert_concat(NodeContext& c) {
  ConcatenateAttrs a;
  a.axis = c.attr_int("axis", 0);
  std::vector<ValueRef> parts;
  for (size_t i = 0; i < c.input_count(); ++i) parts.push_back(c.input(i));
  return {c.call("concatenate", parts, make_attrs(a))};
}

Outputs convert_softmax(NodeContext& c) {
  const ValueRef x = c.input(0);
  const TensorType t = c.type(x);
  const int64_t axis = normalize_axis(c.attr_int("axis", c.opset() < 13 ? 1 : -1), t.rank());
  if (c.opset() >= 13 || axis == static_cast<int64_t>(t.rank()) - 1) return {c.call("nn.softmax", {x}, along_axis(axis))};
  // Before opset 13, softmax normalises over all axes from `axis` on, as one flattened axis.
  const auto split = static_cast<size_t>(axis);
  const ValueRef flat = c.call("reshape", {x}, reshape_to({product(t.shape, 0, split), product(t.shape, split, t.rank())}));
  return {c.call("reshape", {c.call("nn.softmax", {flat}, along_axis(1))}, reshape_to(t.shape))};
}

Outputs convert_batch_norm(NodeContext& c) {
  if (c.attr_int("training_mode", 0) != 0) throw Error("training_mode=1 is not supported (inference only)");
  for (int i = 1; i < c.node().output_size(); ++i)
    if (!c.node().output(i).empty()) throw Error("the running statistics outputs are not supported (inference only)");
  BatchNormAttrs a;
  a.axis = 1;
  a.epsilon = c.attr_float("epsilon", 1e-5);
  return {c.call("nn.batch_norm", {c.input(0), c.input(1), c.input(2), c.input(3), c.input(4)}, make_attrs(a))};
}

Outputs convert_identity(NodeContext& c) { return {c.input(0)}; }

Outputs convert_dropout(NodeContext& c) {
  if (c.node().output_size() > 1 && !c.node().output(1).empty()) throw Error("the mask output is not supported (inference only)");
  return {c.input(0)};
}

Outputs convert_constant(NodeContext& c) {
  const onnx::AttributeProto* a = nullptr;
  for (const char* name : {"value", "value_float", "value_floats", "value_int", "value_ints"})
    if ((a = c.find_attr(name))) break;
  if (!a) throw Error("only tensor, float(s) and int(s) constants are supported");
  if (a->name() == "value") return {c.add_constant(tensor_from_onnx(a->t(), "the value of " + c.origin()))};
  if (a->name() == "value_float") return {c.add_constant(Tensor::scalar(a->f()))};
  if (a->name() == "value_floats") {
    const std::vector<float> v(a->floats().begin(), a->floats().end());
    return {c.add_constant(Tensor::from_floats({static_cast<int64_t>(v.size())}, v))};
  }
  if (a->name() == "value_int") {
    const int64_t v = a->i();
    return {c.add_constant(Tensor::from_ints({}, std::span<const int64_t>(&v, 1)))};
  }
  const std::vector<int64_t> v(a->ints().begin(), a->ints().end());
  return {c.add_constant(Tensor::from_ints({static_cast<int64_t>(v.size())}, v))};
}

NodeConverter reduce(const char* op) {
  return [op](NodeContext& c) {
    const bool axes_input = c.opset() >= (std::string_view(op) == "sum" ? 13 : 18);
    ReduceAttrs a;
    a.axes = axes_input ? (c.has_input(1) ? c.constant_ints(1, "axes") : std::vector<int64_t>{}) : c.attr_ints("axes", {});
    a.keepdims = c.attr_int("keepdims", 1) != 0;
    if (a.axes.empty() && c.attr_int("noop_with_empty_axes", 0) != 0) return Outputs{c.input(0)};
    return Outputs{c.call(op, {c.input(0)}, make_attrs(a))};
  };
}

Outputs convert_slice(NodeContext& c) {
  StridedSliceAttrs a;
  if (c.opset() < 10) {
    a.begin = c.attr_ints("starts", {});
    a.end = c.attr_ints("ends", {});
    a.axes = c.attr_ints("axes", {});
  } else {
    a.begin = c.constant_ints(1, "starts");
    a.end = c.constant_ints(2, "ends");
    if (c.has_input(3)) a.axes = c.constant_ints(3, "axes");
    if (c.has_input(4)) a.strides = c.constant_ints(4, "steps");
  }
  // ONNX writes INT64_MAX / INT64_MIN for "to the end". Bounds beyond
  // [-dim - 1, dim] mean the same as those limits; clamping keeps the
  // attributes readable and exactly representable in the IR text.
  const TensorType t = c.type(c.input(0));
  for (size_t i = 0; i < a.begin.size() && i < a.end.size(); ++i) {
    const int64_t axis = a.axes.empty() ? static_cast<int64_t>(i) : a.axes[i];
    const int64_t dim = t.shape.at(static_cast<size_t>(normalize_axis(axis, t.rank())));
    a.begin[i] = std::clamp(a.begin[i], -dim - 1, dim);
    a.end[i] = std::clamp(a.end[i], -dim - 1, dim);
  }
  return {c.call("strided_slice", {c.input(0)}, make_attrs(a))};
}

// Gather with constant scalar or 1-D indices: one slice per index, joined.
Outputs convert_gather(NodeContext& c) {
  const ValueRef data = c.input(0);
  const TensorType t = c.type(data);
  const Tensor indices = c.constant_input(1, "the indices");
  if (indices.type().rank() > 1) throw Error("only scalar or 1-D constant indices are supported, found " + indices.type().str());
  const int64_t axis = normalize_axis(c.attr_int("axis", 0), t.rank());
  const int64_t dim = t.shape[static_cast<size_t>(axis)];
  std::vector<ValueRef> parts;
  for (size_t i = 0; i < static_cast<size_t>(indices.type().element_count()); ++i) {
    const int64_t raw = indices.element_as_int(i);
    const int64_t index = raw < 0 ? raw + dim : raw;
    if (index < 0 || index >= dim)
      throw Error("index " + std::to_string(raw) + " is out of range for axis " + std::to_string(axis) + " of " + t.str());
    StridedSliceAttrs a;
    a.begin = {index};
    a.end = {index + 1};
    a.axes = {axis};
    parts.push_back(c.call("strided_slice", {data}, make_attrs(a)));
  }
  if (indices.type().rank() == 0) {
    std::vector<int64_t> shape = t.shape;
    shape.erase(shape.begin() + axis);
    return {c.call("reshape", {parts.at(0)}, reshape_to(shape))};
  }
  if (parts.size() == 1) return parts;
  ConcatenateAttrs a;
  a.axis = axis;
  return {c.call("concatenate", parts, make_attrs(a))};
}

// The static shape of a value, as an int64 constant (opset 15 adds start/end).
Outputs convert_shape(NodeContext& c) {
  const std::vector<int64_t> dims = c.type(c.input(0)).shape;
  const auto rank = static_cast<int64_t>(dims.size());
  auto clamp = [rank](int64_t i) { return std::clamp(i < 0 ? i + rank : i, int64_t{0}, rank); };
  const int64_t start = clamp(c.attr_int("start", 0)), end = clamp(c.attr_int("end", rank));
  std::vector<int64_t> v;
  for (int64_t i = start; i < end; ++i) v.push_back(dims[static_cast<size_t>(i)]);
  return {c.add_constant(Tensor::from_ints({static_cast<int64_t>(v.size())}, v))};
}

}  // namespace

const std::map<std::string, NodeConverter, std::less<>>& onnx_converters() {
  static const std::map<std::string, NodeConverter, std::less<>> table = {
      {"Conv", convert_conv},
      {"MaxPool", [](NodeContext& c) { return convert_pool(c, "nn.max_pool2d"); }},
      {"AveragePool", [](NodeContext& c) { return convert_pool(c, "nn.avg_pool2d"); }},
      {"GlobalAveragePool", unary("nn.global_avg_pool2d")},
      {"Gemm", convert_gemm},
      {"MatMul", convert_matmul},
      {"BatchNormalization", convert_batch_norm},
      {"Relu", unary("nn.relu")},
      {"LeakyRelu", convert_leaky_relu},
      {"Clip", convert_clip},
      {"Sigmoid", unary("sigmoid")},
      {"Tanh", unary("tanh")},
      {"Exp", unary("exp")},
      {"Log", unary("log")},
      {"Sqrt", unary("sqrt")},
      {"Neg", unary("negative")},
      {"Abs", unary("abs")},
      {"Erf", unary("erf")},
      {"Floor", unary("floor")},
      {"Ceil", unary("ceil")},
      {"Round", unary("round")},
      {"Reciprocal", unary("reciprocal")},
      {"Sin", unary("sin")},
      {"Cos", unary("cos")},
      {"Tan", unary("tan")},
      {"Asin", unary("asin")},
      {"Acos", unary("acos")},
      {"Atan", unary("atan")},
      {"Sinh", unary("sinh")},
      {"Cosh", unary("cosh")},
      {"Asinh", unary("asinh")},
      {"Acosh", unary("acosh")},
      {"Atanh", unary("atanh")},
      {"Softplus", unary("nn.softplus")},
      {"Softsign", unary("nn.softsign")},
      {"HardSwish", unary("nn.hard_swish")},
      {"Sign", unary("sign")},
      {"Not", unary("logical_not")},
      {"IsNaN", unary("isnan")},
      {"IsInf", convert_is_inf},
      {"Elu", with_attrs<ActivationAttrs>("nn.elu", [](const NodeContext& c) { return activation(c.attr_float("alpha", 1.0), 0); })},
      {"Celu", with_attrs<ActivationAttrs>("nn.celu", [](const NodeContext& c) { return activation(c.attr_float("alpha", 1.0), 0); })},
      {"Selu", with_attrs<ActivationAttrs>("nn.selu", [](const NodeContext& c) {
         return activation(c.attr_float("alpha", 1.67326319217681884765625), c.attr_float("gamma", 1.05070102214813232421875));
       })},
      {"HardSigmoid", with_attrs<ActivationAttrs>("nn.hard_sigmoid", [](const NodeContext& c) {
         return activation(c.attr_float("alpha", 0.2), c.attr_float("beta", 0.5));
       })},
      {"ThresholdedRelu", with_attrs<ActivationAttrs>("nn.thresholded_relu", [](const NodeContext& c) {
         return activation(c.attr_float("alpha", 1.0), 0);
       })},
      {"Shrink", with_attrs<ActivationAttrs>("nn.shrink", [](const NodeContext& c) {
         return activation(c.attr_float("lambd", 0.5), c.attr_float("bias", 0.0));
       })},
      {"PRelu", binary_op("nn.prelu")},
      {"Mod", convert_mod},
      {"BitShift", convert_bit_shift},
      {"Equal", binary_op("equal")},
      {"Less", binary_op("less")},
      {"LessOrEqual", binary_op("less_equal")},
      {"Greater", binary_op("greater")},
      {"GreaterOrEqual", binary_op("greater_equal")},
      {"And", binary_op("logical_and")},
      {"Or", binary_op("logical_or")},
      {"Xor", binary_op("logical_xor")},
      {"Where", [](NodeContext& c) { return Outputs{c.call("where", {c.input(0), c.input(1), c.input(2)})}; }},
      {"Cast", convert_cast},
      {"CastLike", convert_cast_like},
      {"Mean", convert_mean},
      {"Add", binary("add")},
      {"Sub", binary("subtract")},
      {"Mul", binary("multiply")},
      {"Div", binary("divide")},
      {"Pow", binary("power")},
      {"Max", binary("maximum")},
      {"Min", binary("minimum")},
      {"Sum", binary("add")},
      {"Softmax", convert_softmax},
      {"Flatten", convert_flatten},
      {"Reshape", convert_reshape},
      {"Squeeze", convert_squeeze},
      {"Unsqueeze", convert_unsqueeze},
      {"Transpose", convert_transpose},
      {"Concat", convert_concat},
      {"Identity", convert_identity},
      {"Dropout", convert_dropout},
      {"Constant", convert_constant},
      {"Shape", convert_shape},
      {"Slice", convert_slice},
      {"Gather", convert_gather},
      {"ReduceMean", reduce("mean")},
      {"ReduceSum", reduce("sum")},
      {"ReduceMax", reduce("max")},
      {"ReduceMin", reduce("min")},
      {"ReduceProd", reduce("prod")},
  };
  return table;
}

}  // namespace modelc::lang::frontends
