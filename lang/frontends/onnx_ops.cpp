// ONNX node converters: each maps one ONNX op type onto IR ops, reading the
// node's attributes and asking the builder for shapes (never computing an op's
// output shape itself).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "lang/frontends/onnx_node.h"
#include "lang/ops/elementwise.h"
#include "lang/ops/nn.h"
#include "lang/ops/op_helpers.h"
#include "lang/ops/normalization.h"
#include "lang/ops/reduce.h"
#include "lang/ops/transform.h"
#include "lang/ops/window.h"
#include "support/checked_math.h"
#include "support/diagnostic.h"

namespace modelc::lang::frontends {

namespace {

using Outputs = std::vector<ValueRef>;

int64_t product(const std::vector<int64_t>& dims, size_t begin, size_t end) {
  return std::accumulate(dims.begin() + static_cast<std::ptrdiff_t>(begin), dims.begin() + static_cast<std::ptrdiff_t>(end),
                         int64_t{1}, std::multiplies<>());
}

using ops::normalize_axis;

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
    const double bound = c.constant_number(i, "a bound");
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

// A 1-D slope of one value per channel (axis 1), which older exporters
// write for PRelu, is laid along that axis; otherwise it broadcasts.
Outputs convert_prelu(NodeContext& c) {
  const TensorType xt = c.type(c.input(0)), st = c.type(c.input(1));
  ValueRef slope = c.input(1);
  const bool per_channel = st.rank() == 1 && xt.rank() > 2 && st.shape[0] == xt.shape[1] && st.shape[0] != xt.shape.back();
  if (per_channel) {
    std::vector<int64_t> shape(xt.rank() - 1, 1);
    shape[0] = st.shape[0];
    slope = c.call("reshape", {slope}, reshape_to(shape));
  }
  return {c.call("nn.prelu", {c.input(0), slope})};
}

Outputs convert_cast(NodeContext& c) {
  const std::optional<DType> to = dtype_of_onnx(static_cast<int32_t>(c.attr_int("to", 0)));
  if (!to) throw Error("casting to ONNX element type " + std::to_string(c.attr_int("to", 0)) + " is not supported");
  if (std::optional<ValueRef> folded = cast_strings(c, *to)) return {*folded};
  CastAttrs a;
  a.dtype = *to;
  if (c.type(c.input(0)).dtype == a.dtype) return {c.input(0)};
  return {c.call("cast", {c.input(0)}, make_attrs(a))};
}

Outputs convert_cast_like(NodeContext& c) {
  if (std::optional<ValueRef> folded = cast_strings(c, c.type(c.input(1)).dtype)) return {*folded};
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
  for (int64_t a : axes) {
    const auto axis = static_cast<size_t>(normalize_axis(a, rank));
    // A repeated axis would leave fewer inserted axes than axes, and the
    // shape below would read past the input's (found by the ONNX fuzzer).
    if (inserted[axis]) throw Error("Unsqueeze: axis " + std::to_string(a) + " appears more than once in axes");
    inserted[axis] = true;
  }
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

Outputs convert_log_softmax(NodeContext& c) {
  const ValueRef x = c.input(0);
  const TensorType t = c.type(x);
  const int64_t axis = normalize_axis(c.attr_int("axis", c.opset() < 13 ? 1 : -1), t.rank());
  if (c.opset() >= 13 || axis == static_cast<int64_t>(t.rank()) - 1) return {c.call("nn.log_softmax", {x}, along_axis(axis))};
  // Before opset 13, over all axes from `axis` on, as one flattened axis.
  const auto split = static_cast<size_t>(axis);
  const ValueRef flat = c.call("reshape", {x}, reshape_to({product(t.shape, 0, split), product(t.shape, split, t.rank())}));
  return {c.call("reshape", {c.call("nn.log_softmax", {flat}, along_axis(1))}, reshape_to(t.shape))};
}

// base^beta for LRN. When the base cannot be negative (alpha and bias >= 0:
// a sum of squares scaled and shifted up, or NaN) and beta is a multiple of
// 1/4 up to 4 (0.75, the default, everywhere seen), as products of base,
// sqrt(base) and sqrt(sqrt(base)): Halide's pow of a variable exponent (a
// constant tensor is one to the kernel) made GoogLeNet's first LRN kernel
// take 6.5 ns per element, 2.5 with the square roots. Within 2 ulp of pow;
// equal at 0, +inf and NaN.
ValueRef base_power(NodeContext& c, const ValueRef& base, double beta, bool base_nonnegative) {
  const double quarters = beta * 4;
  if (!base_nonnegative || quarters != std::floor(quarters) || quarters < 1 || quarters > 16)
    return c.call("power", {base, c.scalar(static_cast<float>(beta))});
  const auto q = static_cast<int>(quarters);
  std::optional<ValueRef> result;
  auto times = [&](const ValueRef& v) { result = result ? c.call("multiply", {*result, v}) : v; };
  for (int i = 0; i < q / 4; ++i) times(base);
  if (q % 4 >= 2 || q % 2 == 1) {
    const ValueRef root = c.call("sqrt", {base});
    if (q % 4 >= 2) times(root);
    if (q % 2 == 1) times(c.call("sqrt", {root}));
  }
  return *result;
}

// LRN: x / (bias + alpha / size * (sum of x^2 over a window of channels))^beta;
// the window sum is an average pool over channels that counts the padding.
Outputs convert_lrn(NodeContext& c) {
  const ValueRef x = c.input(0);
  const TensorType t = c.type(x);
  if (t.rank() < 3) throw Error("expects an input of rank >= 3, found " + t.str());
  const int64_t size = c.attr_int("size", 1), channels = t.shape[1];
  if (size < 1) throw Error("size " + std::to_string(size) + " is not positive");
  const ValueRef squares = c.call("multiply", {x, x});
  const ValueRef planes = c.call("reshape", {squares}, reshape_to({t.shape[0], 1, channels, product(t.shape, 2, t.rank())}));
  // A window of 2C - 1 centred on a channel already covers all C channels,
  // so a wider one (size is any int64 in the file) sums the same squares.
  const int64_t window = channels > 0 ? std::min(size, 2 * channels - 1) : size;
  Pool2DAttrs p;
  p.pool_size = {window, 1};
  p.padding = {window < size ? channels - 1 : (size - 1) / 2, 0, window < size ? channels - 1 : size / 2, 0};
  p.count_include_pad = true;
  const ValueRef mean = c.call("reshape", {c.call("nn.avg_pool2d", {planes}, make_attrs(p))}, reshape_to(t.shape));
  // The pool divides by the window; LRN divides the sum by size.
  const double alpha = c.attr_float("alpha", 1e-4) * static_cast<double>(window) / static_cast<double>(size);
  const ValueRef scaled = c.call("multiply", {mean, c.scalar(static_cast<float>(alpha))});
  const double bias = c.attr_float("bias", 1.0), beta = c.attr_float("beta", 0.75);
  const ValueRef base = c.call("add", {scaled, c.scalar(static_cast<float>(bias))});
  return {c.call("divide", {x, base_power(c, base, beta, alpha >= 0 && bias >= 0)})};
}

Outputs convert_identity(NodeContext& c) { return {c.input(0)}; }

// Inference: the identity, and a mask of all true. Training mode (opset 12+:
// input 2 true) drops random elements, which a deterministic compiled model
// does not do.
Outputs convert_dropout(NodeContext& c) {
  const bool training = c.opset() >= 12 && c.has_input(2) && c.constant_int(2, "training_mode") != 0;
  const bool drops = !c.has_input(1) || c.constant_number(1, "the ratio") != 0.0;
  if (training && drops) throw Error("training_mode=1 is not supported (inference only)");
  Tensor mask = c.make_tensor(TensorType{c.type(c.input(0)).shape, DType::boolean});
  for (size_t i = 0; i < static_cast<size_t>(mask.type().element_count()); ++i) mask.set_element(i, 1);
  return {c.input(0), c.add_constant(std::move(mask))};
}

Outputs convert_constant(NodeContext& c) {
  const onnx::AttributeProto* a = nullptr;
  for (const char* name : {"value", "value_float", "value_floats", "value_int", "value_ints"})
    if ((a = c.find_attr(name))) break;
  if (!a) throw Error("only tensor, float(s) and int(s) constants are supported");
  if (a->name() == "value") return {c.add_constant(tensor_from_onnx(a->t(), "the value", c.limits()))};
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

// Gather with constant scalar or 1-D indices: one slice per index, joined
// (slices fuse with their neighbours); other indices: take.
Outputs convert_gather(NodeContext& c) {
  const ValueRef data = c.input(0);
  const TensorType t = c.type(data);
  const int64_t axis = normalize_axis(c.attr_int("axis", 0), t.rank());
  if (!c.is_constant(c.input(1)) || c.type(c.input(1)).rank() > 1 || c.type(c.input(1)).element_count() > 16) {
    TakeAttrs a;
    a.axis = axis;
    return {c.call("take", {data, c.input(1)}, make_attrs(a))};
  }
  const Tensor indices = c.constant_input(1, "the indices");
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

Outputs convert_gather_elements(NodeContext& c) {
  TakeAttrs a;
  a.axis = normalize_axis(c.attr_int("axis", 0), c.type(c.input(0)).rank());
  return {c.call("gather_elements", {c.input(0), c.input(1)}, make_attrs(a))};
}

Outputs convert_expand(NodeContext& c) {
  BroadcastToAttrs a;
  a.shape = c.constant_ints(1, "the shape");
  return {c.call("broadcast_to", {c.input(0)}, make_attrs(a))};
}

Outputs convert_tile(NodeContext& c) {
  TileAttrs a;
  a.reps = c.constant_ints(1, "the repeats");
  return {c.call("tile", {c.input(0)}, make_attrs(a))};
}

Outputs convert_pad(NodeContext& c) {
  PadAttrs a;
  a.mode = c.attr_string("mode", "constant");
  if (a.mode != "constant" && a.mode != "reflect" && a.mode != "edge") throw Error("mode '" + a.mode + "' is not supported");
  if (c.opset() < 11) {
    a.pad_width = c.attr_ints(c.opset() < 2 ? "paddings" : "pads", {});
    a.pad_value = c.attr_float("value", 0.0);
  } else {
    a.pad_width = c.constant_ints(1, "the pads");
    if (c.has_input(2)) a.pad_value = c.constant_number(2, "the constant value");
    if (c.has_input(3)) throw Error("the axes input is not supported");
  }
  return {c.call("nn.pad", {c.input(0)}, make_attrs(a))};
}

Outputs convert_trilu(NodeContext& c) {
  TriluAttrs a;
  a.upper = c.attr_int("upper", 1) != 0;
  if (c.has_input(1)) a.k = c.constant_int(1, "k");
  return {c.call("trilu", {c.input(0)}, make_attrs(a))};
}

// Resize (opsets 10-13) and Upsample (7-9): scales or sizes, static.
Outputs convert_resize(NodeContext& c) {
  const TensorType t = c.type(c.input(0));
  const bool upsample = c.node().op_type() == "Upsample";
  ResizeAttrs a;
  a.mode = c.attr_string("mode", "nearest");
  if (a.mode == "bilinear") a.mode = "linear";  // Upsample opset 7 spelling
  a.nearest_mode = c.attr_string("nearest_mode", "round_prefer_floor");
  a.cubic_coeff_a = c.attr_float("cubic_coeff_a", -0.75);
  a.exclude_outside = c.attr_int("exclude_outside", 0) != 0;
  // Before opset 11 both ops map coordinates asymmetrically and round nearest down.
  const bool legacy = upsample || c.opset() < 11;
  a.coordinate_transformation_mode = legacy ? "asymmetric" : c.attr_string("coordinate_transformation_mode", "half_pixel");
  if (legacy) a.nearest_mode = "floor";
  if (a.coordinate_transformation_mode == "tf_crop_and_resize") throw Error("coordinate_transformation_mode tf_crop_and_resize is not supported");
  std::vector<double> scales;
  std::vector<int64_t> sizes;
  if (upsample && c.opset() < 9) {
    for (float f : c.find_attr("scales") ? c.find_attr("scales")->floats() : google::protobuf::RepeatedField<float>()) scales.push_back(f);
  } else {
    const size_t scales_input = legacy ? 1 : 2;
    if (c.has_input(scales_input) && c.type(c.input(scales_input)).element_count() > 0) {
      const Tensor s = c.constant_input(scales_input, "the scales");
      for (size_t i = 0; i < static_cast<size_t>(s.type().element_count()); ++i) scales.push_back(s.element_as_double(i));
    }
    if (!legacy && c.has_input(3) && c.type(c.input(3)).element_count() > 0) sizes = c.constant_ints(3, "the sizes");
  }
  if (!sizes.empty()) {
    if (sizes.size() != t.rank()) throw Error("sizes has " + std::to_string(sizes.size()) + " values for " + t.str());
    a.size = sizes;
    a.scales.assign(t.rank(), 0.0);
  } else {
    if (scales.size() != t.rank()) throw Error("scales has " + std::to_string(scales.size()) + " values for " + t.str());
    a.scales = scales;
    for (size_t d = 0; d < t.rank(); ++d) a.size.push_back(saturating_cast<int64_t>(std::floor(static_cast<double>(t.shape[d]) * scales[d])));
  }
  if (c.attr_string("keep_aspect_ratio_policy", "stretch") != "stretch") throw Error("keep_aspect_ratio_policy is not supported");
  return {c.call("image.resize", {c.input(0)}, make_attrs(a))};
}

NodeConverter arg_reduce(const char* op) {
  return [op](NodeContext& c) {
    ArgReduceAttrs a;
    a.axis = c.attr_int("axis", 0);
    a.keepdims = c.attr_int("keepdims", 1) != 0;
    a.select_last_index = c.attr_int("select_last_index", 0) != 0;
    return Outputs{c.call(op, {c.input(0)}, make_attrs(a))};
  };
}

Outputs convert_cumsum(NodeContext& c) {
  CumsumAttrs a;
  a.axis = c.constant_int(1, "the axis");
  a.exclusive = c.attr_int("exclusive", 0) != 0;
  a.reverse = c.attr_int("reverse", 0) != 0;
  return {c.call("cumsum", {c.input(0)}, make_attrs(a))};
}

Outputs convert_topk(NodeContext& c) {
  TopKAttrs a;
  a.k = c.opset() < 10 ? c.attr_int("k", 1) : c.constant_int(1, "k");
  a.axis = c.attr_int("axis", -1);
  a.largest = c.attr_int("largest", 1) != 0;
  TopKAttrs indices = a;
  indices.ret_type = "indices";
  return {c.call("topk", {c.input(0)}, make_attrs(a)), c.call("topk", {c.input(0)}, make_attrs(indices))};
}

// One strided_slice per output: the IR's calls have one result each.
Outputs convert_split(NodeContext& c) {
  const TensorType t = c.type(c.input(0));
  const int64_t axis = normalize_axis(c.attr_int("axis", 0), t.rank());
  const int64_t dim = t.shape[static_cast<size_t>(axis)];
  std::vector<int64_t> sizes;
  if (c.opset() >= 13 && c.has_input(1)) sizes = c.constant_ints(1, "the split sizes");
  else if (c.opset() < 13) sizes = c.attr_ints("split", {});
  const auto outputs = static_cast<int64_t>(c.node().output_size());
  if (sizes.empty()) {
    if (dim % outputs != 0) throw Error("axis " + std::to_string(axis) + " of " + t.str() + " does not split into " + std::to_string(outputs) + " equal parts");
    sizes.assign(static_cast<size_t>(outputs), dim / outputs);
  }
  // The sizes come from the file: one per output, each within the axis, together the axis.
  if (static_cast<int64_t>(sizes.size()) != outputs)
    throw Error("Split has " + std::to_string(outputs) + " outputs but " + std::to_string(sizes.size()) + " split sizes");
  int64_t total = 0;
  for (int64_t size : sizes) {
    if (size < 0 || size > dim) throw Error("split size " + std::to_string(size) + " is outside axis " + std::to_string(axis) + " of " + t.str());
    total = saturating_add(total, size);
  }
  if (total != dim)
    throw Error("split sizes add up to " + std::to_string(total) + ", axis " + std::to_string(axis) + " of " + t.str() + " has " + std::to_string(dim));
  Outputs parts;
  int64_t begin = 0;
  for (int64_t size : sizes) {
    parts.push_back(slice_along(c, c.input(0), axis, begin, begin + size));
    begin += size;
  }
  return parts;
}

Outputs convert_constant_of_shape(NodeContext& c) {
  const std::vector<int64_t> shape = c.constant_ints(0, "the shape");
  Tensor fill = Tensor::scalar(0.f);
  if (const onnx::AttributeProto* v = c.find_attr("value")) fill = tensor_from_onnx(v->t(), "the value", c.limits());
  if (fill.type().element_count() != 1 || fill.type().dtype == DType::string)
    throw Error("the value must be one number, found " + fill.type().str());
  Tensor out = c.make_tensor(TensorType{shape, fill.type().dtype});
  const double value = fill.element_as_double(0);
  if (value != 0.0)  // tensors start zeroed
    for (size_t i = 0; i < static_cast<size_t>(out.type().element_count()); ++i) out.set_element(i, value);
  return {c.add_constant(std::move(out))};
}

Outputs convert_range(NodeContext& c) {
  const Tensor start = c.constant_input(0, "start"), limit = c.constant_input(1, "limit"), delta = c.constant_input(2, "delta");
  const double s = start.element_as_double(0), l = limit.element_as_double(0), d = delta.element_as_double(0);
  // The count is computed in double and checked before it becomes an
  // int64: a zero delta, a NaN or a count beyond int64 must not be cast.
  const double count = std::ceil((l - s) / d);
  if (!(count <= static_cast<double>(c.limits().max_tensor_elements)))
    throw Error(Diagnostic{Severity::error, {}, {},
                           "the range from " + std::to_string(s) + " to " + std::to_string(l) + " by " +
                               std::to_string(d) + " has " +
                               (std::isnan(count) ? std::string("no defined number of") : (std::ostringstream() << count).str()) +
                               " elements, over the limit of " + std::to_string(c.limits().max_tensor_elements) +
                               " (model.limits.max_tensor_elements)",
                           "if the model really needs it, raise model.limits.max_tensor_elements in the recipe"});
  const auto n = static_cast<int64_t>(std::max(0.0, count));
  Tensor out = c.make_tensor(TensorType{{n}, start.type().dtype});
  for (int64_t i = 0; i < n; ++i) out.set_element(static_cast<size_t>(i), s + static_cast<double>(i) * d);
  return {c.add_constant(std::move(out))};
}

Outputs convert_eye_like(NodeContext& c) {
  const TensorType t = c.type(c.input(0));
  if (t.rank() != 2) throw Error("expects a 2-D input, found " + t.str());
  std::optional<DType> dtype = t.dtype;
  if (c.has_attr("dtype")) dtype = dtype_of_onnx(static_cast<int32_t>(c.attr_int("dtype", 1)));
  if (!dtype) throw Error("the dtype is not supported");
  const int64_t k = c.attr_int("k", 0);
  Tensor out = c.make_tensor(TensorType{t.shape, *dtype});
  for (int64_t i = 0; i < t.shape[0]; ++i)
    if (k >= -i && k < t.shape[1] - i) out.set_element(static_cast<size_t>(i * t.shape[1] + i + k), 1.0);
  return {c.add_constant(std::move(out))};
}

Outputs convert_size(NodeContext& c) {
  const int64_t n = c.type(c.input(0)).element_count();
  return {c.add_constant(Tensor::from_ints({}, std::span<const int64_t>(&n, 1)))};
}

// A constant 0, 1, ..., n - 1 laid along `axis` of a rank-`rank` tensor.
ValueRef iota_along(NodeContext& c, int64_t n, size_t axis, size_t rank) {
  std::vector<int64_t> shape(rank, 1);
  shape[axis] = n;
  Tensor t = c.make_tensor(TensorType{shape, DType::int64});  // OneHot's depth comes from the file
  const std::span<int64_t> values = t.mutable_values<int64_t>();
  std::iota(values.begin(), values.end(), int64_t{0});
  return c.add_constant(std::move(t));
}

// One-hot of the argmax along an axis; before opset 13 over the flattened
// axes from `axis` on, as Softmax.
Outputs convert_hardmax(NodeContext& c) {
  ValueRef x = c.input(0);
  const TensorType t = c.type(x);
  int64_t axis = normalize_axis(c.attr_int("axis", c.opset() < 13 ? 1 : -1), t.rank());
  if (c.opset() < 13) {
    const auto split = static_cast<size_t>(axis);
    x = c.call("reshape", {x}, reshape_to({product(t.shape, 0, split), product(t.shape, split, t.rank())}));
    axis = 1;
  }
  const TensorType xt = c.type(x);
  ArgReduceAttrs a;
  a.axis = axis;
  const ValueRef index = c.call("argmax", {x}, make_attrs(a));
  const ValueRef hit = c.call("equal", {index, iota_along(c, xt.shape[static_cast<size_t>(axis)], static_cast<size_t>(axis), xt.rank())});
  CastAttrs cast;
  cast.dtype = xt.dtype;
  const ValueRef y = c.call("cast", {hit}, make_attrs(cast));
  return {c.opset() < 13 ? c.call("reshape", {y}, reshape_to(t.shape)) : y};
}

Outputs convert_one_hot(NodeContext& c) {
  const ValueRef indices = c.input(0);
  const TensorType it = c.type(indices);
  const int64_t depth = c.constant_int(1, "the depth");
  if (depth < 1) throw Error("the depth is " + std::to_string(depth) + ", expected at least 1");
  const Tensor values = c.constant_input(2, "the values");
  if (values.type().element_count() != 2 || values.type().dtype == DType::string)
    throw Error("the values are " + values.type().str() + ", expected [off value, on value]");
  const auto rank = it.rank() + 1;
  const auto axis = static_cast<size_t>(normalize_axis(c.attr_int("axis", -1), rank));
  std::vector<int64_t> shape = it.shape;
  shape.insert(shape.begin() + static_cast<std::ptrdiff_t>(axis), 1);
  CastAttrs to_int;
  to_int.dtype = DType::int64;
  ValueRef index = c.call("reshape", {c.call("cast", {indices}, make_attrs(to_int))}, reshape_to(shape));
  // Negative indices count from the end.
  const int64_t zero = 0;
  const ValueRef negative = c.call("less", {index, c.add_constant(Tensor::from_ints({}, std::span<const int64_t>(&zero, 1)))});
  const ValueRef wrapped = c.call("add", {index, c.add_constant(Tensor::from_ints({}, std::span<const int64_t>(&depth, 1)))});
  index = c.call("where", {negative, wrapped, index});
  const ValueRef hit = c.call("equal", {index, iota_along(c, depth, axis, rank)});
  Tensor off(TensorType{{}, values.type().dtype}), on(TensorType{{}, values.type().dtype});
  off.set_element(0, values.element_as_double(0));
  on.set_element(0, values.element_as_double(1));
  return {c.call("where", {hit, c.add_constant(on), c.add_constant(off)})};
}

// DepthToSpace (DCR or CRD) and SpaceToDepth as reshape, transpose, reshape.
// The reshapes check that the sizes divide.
int64_t block_size(const NodeContext& c) {
  const int64_t b = c.attr_int("blocksize", 1);
  if (b < 1 || b > 65536) throw Error("blocksize " + std::to_string(b) + " is not in [1, 65536]");
  return b;
}

Outputs convert_depth_to_space(NodeContext& c) {
  const TensorType t = c.type(c.input(0));
  if (t.rank() != 4) throw Error("expects a 4-D input, found " + t.str());
  const int64_t b = block_size(c), n = t.shape[0], ch = t.shape[1], h = t.shape[2], w = t.shape[3];
  const bool crd = c.attr_string("mode", "DCR") == "CRD";
  const ValueRef x = crd ? c.call("reshape", {c.input(0)}, reshape_to({n, ch / (b * b), b, b, h, w}))
                         : c.call("reshape", {c.input(0)}, reshape_to({n, b, b, ch / (b * b), h, w}));
  const ValueRef y = c.call("transpose", {x}, transpose_by(crd ? std::vector<int64_t>{0, 1, 4, 2, 5, 3} : std::vector<int64_t>{0, 3, 4, 1, 5, 2}));
  return {c.call("reshape", {y}, reshape_to({n, ch / (b * b), h * b, w * b}))};
}

Outputs convert_space_to_depth(NodeContext& c) {
  const TensorType t = c.type(c.input(0));
  if (t.rank() != 4) throw Error("expects a 4-D input, found " + t.str());
  const int64_t b = block_size(c), n = t.shape[0], ch = t.shape[1], h = t.shape[2], w = t.shape[3];
  const ValueRef x = c.call("reshape", {c.input(0)}, reshape_to({n, ch, h / b, b, w / b, b}));
  const ValueRef y = c.call("transpose", {x}, transpose_by({0, 3, 5, 1, 2, 4}));
  return {c.call("reshape", {y}, reshape_to({n, ch * b * b, h / b, w / b}))};
}

// ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp, ReduceSumSquare as
// elementwise ops around a sum (axes an attribute until opset 18).
NodeConverter composite_reduce(std::string kind) {
  return [kind](NodeContext& c) {
    ReduceAttrs a;
    a.axes = c.opset() >= 18 ? (c.has_input(1) ? c.constant_ints(1, "axes") : std::vector<int64_t>{}) : c.attr_ints("axes", {});
    a.keepdims = c.attr_int("keepdims", 1) != 0;
    ValueRef x = c.input(0);
    if (a.axes.empty() && c.attr_int("noop_with_empty_axes", 0) != 0) return Outputs{x};
    if (kind == "LogSumExp") {
      // log(sum(exp(x - max))) + max, stable for large x.
      ReduceAttrs keep = a;
      keep.keepdims = true;
      const ValueRef m = c.call("max", {x}, make_attrs(keep));
      const ValueRef s = c.call("sum", {c.call("exp", {c.call("subtract", {x, m})})}, make_attrs(a));
      const ValueRef mr = a.keepdims ? m : c.call("reshape", {m}, reshape_to(c.type(s).shape));
      return Outputs{c.call("add", {c.call("log", {s}), mr})};
    }
    if (kind == "L1") x = c.call("abs", {x});
    if (kind == "L2" || kind == "SumSquare") x = c.call("multiply", {x, x});
    ValueRef y = c.call("sum", {x}, make_attrs(a));
    if (kind == "L2") y = c.call("sqrt", {y});
    if (kind == "LogSum") y = c.call("log", {y});
    return Outputs{y};
  };
}

}  // namespace

const std::map<std::string, NodeConverter, std::less<>>& onnx_converters() {
  static const std::map<std::string, NodeConverter, std::less<>> table = [] {
    std::map<std::string, NodeConverter, std::less<>> converters = {
      {"Conv", convert_conv},
      {"MaxPool", [](NodeContext& c) { return convert_pool(c, true); }},
      {"AveragePool", [](NodeContext& c) { return convert_pool(c, false); }},
      {"GlobalAveragePool", global_pool(false)},
      {"GlobalMaxPool", global_pool(true)},
      {"ConvTranspose", convert_conv_transpose},
      {"LogSoftmax", convert_log_softmax},
      {"NegativeLogLikelihoodLoss", convert_nll_loss},
      {"StringNormalizer", convert_string_normalizer},
      {"Einsum", convert_einsum},
      {"Compress", convert_compress},
      {"HannWindow", window_function("HannWindow")},
      {"HammingWindow", window_function("HammingWindow")},
      {"BlackmanWindow", window_function("BlackmanWindow")},
      {"RNN", recurrent("RNN")},
      {"GRU", recurrent("GRU")},
      {"LSTM", recurrent("LSTM")},
      {"SoftmaxCrossEntropyLoss", convert_softmax_cross_entropy},
      {"LRN", convert_lrn},
      {"Gemm", convert_gemm},
      {"MatMul", convert_matmul},
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
      {"PRelu", convert_prelu},
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
      {"GatherElements", convert_gather_elements},
      {"GatherND", convert_gather_nd},
      {"ScatterND", convert_scatter_nd},
      {"ScatterElements", convert_scatter_elements},
      {"Scatter", convert_scatter_elements},
      {"Expand", convert_expand},
      {"Tile", convert_tile},
      {"Pad", convert_pad},
      {"Trilu", convert_trilu},
      {"Resize", convert_resize},
      {"Upsample", convert_resize},
      {"ArgMax", arg_reduce("argmax")},
      {"ArgMin", arg_reduce("argmin")},
      {"CumSum", convert_cumsum},
      {"TopK", convert_topk},
      {"Split", convert_split},
      {"ConstantOfShape", convert_constant_of_shape},
      {"Range", convert_range},
      {"EyeLike", convert_eye_like},
      {"Size", convert_size},
      {"Hardmax", convert_hardmax},
      {"OneHot", convert_one_hot},
      {"DepthToSpace", convert_depth_to_space},
      {"SpaceToDepth", convert_space_to_depth},
      {"ReduceL1", composite_reduce("L1")},
      {"ReduceL2", composite_reduce("L2")},
      {"ReduceLogSum", composite_reduce("LogSum")},
      {"ReduceLogSumExp", composite_reduce("LogSumExp")},
      {"ReduceSumSquare", composite_reduce("SumSquare")},
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
    add_onnx_qnn_converters(converters);
    add_onnx_normalization_converters(converters);
    return converters;
  }();
  return table;
}

}  // namespace modelc::lang::frontends
