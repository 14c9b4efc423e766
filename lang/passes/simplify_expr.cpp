// SimplifyExpr: local algebraic clean-ups of the dataflow graph.
//
//   reshape(reshape(x))                 -> reshape(x)        (one reshape to the final shape), or x
//   reshape(x) to x's own shape         -> x
//   transpose(transpose(x, a), b)       -> transpose(x, a o b), or x when that is the identity
//   transpose(x, identity)              -> x
//   transpose(x) that keeps the order of the axes that are not 1 -> reshape(x)
//   layout_transform(layout_transform(x, A->B), B->C) -> layout_transform(x, A->C), or x when A == C
//   layout_transform(x, A->A)           -> x
//   add(x, 0), subtract(x, 0), multiply(x, 1), divide(x, 1) (0 and 1 constants) -> x
//   power(x, 1) -> x;  power(x, 2) -> multiply(x, x);  power(x, -1) -> reciprocal(x)
//   (a constant exponent; exact, unlike power(x, 0.5) -> sqrt(x), which differs at -inf
//   and -0);  power(x, 3) -> multiply(multiply(x, x), x)  (two roundings: within 2 ulp)
//   multiply(conv2d|dense(x, W) [+ bias_add(b)], scalar s) -> conv2d|dense(x, W * s) [+ bias_add(b * s)]
//   multiply(x, sigmoid(x)), multiply(sigmoid(x), x) -> nn.silu(x)  (float; the sigmoid stays while
//   another op reads it)
//   x * 0.5 * (1 + erf(x / sqrt 2)), its factors in any order and grouping, x / sqrt 2 also as
//   x * (1 / sqrt 2) -> nn.gelu(x)  (float; scalar constants within float32's rounding)
//   (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps), means over the same trailing axes
//   -> nn.layer_norm(x, 1, 0, axis, eps)  (float32);  multiply / add of a layer norm that nothing
//   else reads by a constant over its normalized axes -> the norm with that scale / shift
//   f(reshape(x), constant c) -> reshape(f(x, c'))  where the reshape only removes or inserts
//   size-1 axes and f is elementwise (or bias_add, its axis moved with it); c' is c over x's axes
//
// Why: importers and other passes leave these behind (ONNX Flatten after
// Reshape, transpose pairs around attention, layout transforms at the edges of
// converted regions, identity scales); each one left is a kernel launch and a
// round trip through memory. SiLU (swish), which ONNX spells Mul(x,
// Sigmoid(x)), is one op so that its kernel divides x by 1 + e^-x where it
// multiplied x by a sigmoid with its own NaN select (lower/tensor_func.h).
// ONNX's 1-D convolutions and poolings import as 2-D ones between reshapes
// (N, C, W -> N, C, 1, W and back), with the bias, batch norm and activation
// between them on the 3-D value: sunk below them, the reshape pairs cancel and
// the batch norm folds into the convolution, the activation into its kernel
// (a 1-D audio classifier: a quarter of its time went to a separate kernel of
// layout transform, reshape, bias, scale and ReLU after each convolution).
// GELU as one op computes x (1/2 + x P(x^2) / Q(x^2)) with the scales folded
// into the polynomials (lower/tensor_func.h gelu_rational): 18 vector ops per
// element where erf's select, the scale, add and two multiplies made 22, in
// the epilogue of the matrix product before it (BERT's feed-forward kernel
// 85-87 -> 88 % of the fp32 peak; the product without GELU runs at 95 %).
// A decomposed layer norm squares with power(x, 2), GELU's tanh form cubes
// with power(x, 3): a kernel would otherwise compute each as a call to libm's
// pow per element.
//
// Assumes typed IR. An op is dropped only when its input has exactly its
// result's type (no broadcasting), and never when that would make a function
// return one of its parameters or a constant (the executor returns bindings).
#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <set>

#include "lang/op.h"
#include "lang/ops/layout.h"
#include "lang/ops/nn.h"
#include "lang/ops/op_helpers.h"
#include "lang/ops/normalization.h"
#include "lang/ops/reduce.h"
#include "lang/ops/transform.h"
#include "lang/pass.h"
#include "lang/passes/function_builder.h"
#include "lang/passes/scale_folding.h"

namespace modelc::lang {
namespace {

bool all_equal_to(const Tensor& t, double value) {
  if (!t.has_data() || !is_float(t.type().dtype)) return false;
  for (size_t i = 0; i < static_cast<size_t>(t.type().element_count()); ++i)
    if (t.element_as_double(i) != value) return false;
  return true;
}

std::vector<int64_t> transpose_axes_of(const Binding& b, size_t rank) {
  std::vector<int64_t> axes = attrs_as<TransposeAttrs>(*b.attrs).axes;
  if (axes.empty())
    for (size_t i = 0; i < rank; ++i) axes.push_back(static_cast<int64_t>(rank - 1 - i));
  for (int64_t& a : axes)
    if (a < 0) a += static_cast<int64_t>(rank);
  return axes;
}

bool is_identity_permutation(const std::vector<int64_t>& axes) {
  for (size_t i = 0; i < axes.size(); ++i)
    if (axes[i] != static_cast<int64_t>(i)) return false;
  return true;
}

// Whether a transpose keeps the order of the axes that are not 1 (a batch-
// first model's [1, T, C] <-> [T, 1, C]): the same bytes, a reshape.
bool moves_only_unit_axes(const std::vector<int64_t>& axes, const std::vector<int64_t>& shape) {
  int64_t last = -1;
  for (int64_t a : axes) {
    if (shape[static_cast<size_t>(a)] == 1) continue;
    if (a < last) return false;
    last = a;
  }
  return true;
}

std::vector<int64_t> squeezed(const std::vector<int64_t>& shape) {
  std::vector<int64_t> out;
  for (int64_t d : shape)
    if (d != 1) out.push_back(d);
  return out;
}

// Positions of the axes that are not 1, in order.
std::vector<size_t> non_unit_axes(const std::vector<int64_t>& shape) {
  std::vector<size_t> out;
  for (size_t k = 0; k < shape.size(); ++k)
    if (shape[k] != 1) out.push_back(k);
  return out;
}

// Where axis `axis` of `from` lies in `to`, which holds the same axes that are
// not 1 in the same order; none when that axis is 1.
std::optional<int64_t> moved_axis(const std::vector<int64_t>& from, const std::vector<int64_t>& to, int64_t axis) {
  const std::vector<size_t> f = non_unit_axes(from), t = non_unit_axes(to);
  for (size_t k = 0; k < f.size(); ++k)
    if (static_cast<int64_t>(f[k]) == axis) return static_cast<int64_t>(t[k]);
  return std::nullopt;
}

// The shape of a constant `c` that broadcasts against `from` without growing
// it, over `to` instead (the same axes that are not 1); none when it would
// grow it.
std::optional<std::vector<int64_t>> broadcast_shape_over(const std::vector<int64_t>& c, const std::vector<int64_t>& from,
                                                         const std::vector<int64_t>& to) {
  if (squeezed(c).empty() && c.size() <= to.size()) return c;  // one value: broadcasts over `to` alike
  if (c.size() > from.size()) return std::nullopt;
  std::vector<int64_t> full(from.size() - c.size(), 1);
  full.insert(full.end(), c.begin(), c.end());
  const std::vector<size_t> f = non_unit_axes(from), t = non_unit_axes(to);
  std::vector<int64_t> out(to.size(), 1);
  for (size_t k = 0; k < full.size(); ++k) {
    if (full[k] == 1) continue;
    if (full[k] != from[k]) return std::nullopt;
    const auto at = std::find(f.begin(), f.end(), k);
    out[t[static_cast<size_t>(at - f.begin())]] = full[k];
  }
  return out;
}

class Simplifier {
 public:
  Simplifier(Module& m, const Function& fn) : m_(m), fn_(fn), builder_(fn), uses_(count_uses(fn)) {
    for (const ValueRef& r : fn.results)
      if (r.is_binding()) results_.insert(r.index);
  }

  Function run() {
    for (uint32_t i = 0; i < fn_.body.size(); ++i) {
      const Binding& b = fn_.body[i];
      if (b.op && b.types.size() == 1 && simplify(i, b)) continue;
      builder_.keep(i);
    }
    return builder_.finish();
  }

 private:
  TensorType type_of(const ValueRef& fresh) const {
    if (fresh.is_binding()) return builder_.emitted(fresh).types.at(fresh.output);
    if (fresh.is_constant()) return m_.constant(fresh.constant).type();
    return fn_.params.at(fresh.index).type;
  }

  // The op binding that produced a new value, or null.
  const Binding* producer(const ValueRef& fresh) const {
    return fresh.is_binding() ? &builder_.emitted(fresh) : nullptr;
  }

  // Maps old binding i to `value` unless i is a result and value is not a binding.
  bool forward(uint32_t i, const ValueRef& value) {
    if (!value.is_binding() && results_.count(i)) return false;
    builder_.replace(i, 0, value);
    return true;
  }

  bool emit_like(uint32_t i, const Binding& b, std::vector<ValueRef> args, AttrsPtr attrs) {
    Binding out = b;
    out.args = std::move(args);
    out.attrs = std::move(attrs);
    builder_.replace(i, 0, builder_.emit(std::move(out)));
    return true;
  }

  bool simplify(uint32_t i, const Binding& b) {
    const std::vector<ValueRef> args = builder_.map_all(b.args);
    const TensorType& result = b.types[0];
    if (b.is_op("reshape")) {
      if (type_of(args[0]) == result) return forward(i, args[0]);
      if (const Binding* p = producer(args[0]); p && p->is_op("reshape")) {
        if (type_of(p->args[0]) == result) return forward(i, p->args[0]);
        auto attrs = std::make_shared<ReshapeAttrs>();
        attrs->newshape = result.shape;
        return emit_like(i, b, {p->args[0]}, attrs);
      }
      return false;
    }
    if (b.is_op("transpose")) {
      const std::vector<int64_t> axes = transpose_axes_of(b, result.rank());
      if (is_identity_permutation(axes)) return forward(i, args[0]);
      if (moves_only_unit_axes(axes, type_of(args[0]).shape)) {
        ValueRef source = args[0];
        if (const Binding* p = producer(source); p && p->is_op("reshape")) source = p->args[0];
        if (type_of(source) == result) return forward(i, source);
        builder_.replace(i, 0, reshaped(source, result, b.origin));
        return true;
      }
      if (const Binding* p = producer(args[0]); p && p->is_op("transpose")) {
        const std::vector<int64_t> inner = transpose_axes_of(*p, result.rank());
        std::vector<int64_t> composed;
        for (int64_t a : axes) composed.push_back(inner[static_cast<size_t>(a)]);
        if (is_identity_permutation(composed)) return forward(i, p->args[0]);
        auto attrs = std::make_shared<TransposeAttrs>();
        attrs->axes = composed;
        return emit_like(i, b, {p->args[0]}, attrs);
      }
      return false;
    }
    if (b.is_op("layout_transform")) {
      const auto& a = attrs_as<LayoutTransformAttrs>(*b.attrs);
      if (a.src_layout == a.dst_layout) return forward(i, args[0]);
      if (const Binding* p = producer(args[0]); p && p->is_op("layout_transform")) {
        const auto& inner = attrs_as<LayoutTransformAttrs>(*p->attrs);
        if (inner.dst_layout != a.src_layout) return false;
        if (inner.src_layout == a.dst_layout) return forward(i, p->args[0]);
        auto attrs = std::make_shared<LayoutTransformAttrs>();
        attrs->src_layout = inner.src_layout;
        attrs->dst_layout = a.dst_layout;
        return emit_like(i, b, {p->args[0]}, attrs);
      }
      return false;
    }
    if (b.is_op("power")) return simplify_power(i, b, args);
    if (b.is_op("nn.layer_norm") && args.size() == 3) {
      const auto& a = attrs_as<LayerNormAttrs>(*b.attrs);
      const auto rank = static_cast<int64_t>(result.rank());
      const int64_t axis = a.axis < 0 ? a.axis + rank : a.axis;
      return axis >= 2 && emit_layer_norm(i, b, args[0], args[1], args[2], axis, a.epsilon);
    }
    if (b.is_op("multiply") && args.size() == 2 && is_float(result.dtype)) {
      for (size_t c : {size_t{1}, size_t{0}}) {
        const Binding* s = producer(args[c]);
        if (s && s->is_op("sigmoid") && s->args.size() == 1 && s->args[0] == args[1 - c] && type_of(args[1 - c]) == result)
          return emit_op(i, b, "nn.silu", {args[1 - c]});
      }
    }
    if (b.is_op("multiply") && args.size() == 2 && is_float(result.dtype))
      if (const std::optional<ValueRef> x = gelu_input(args); x && type_of(*x) == result) return emit_op(i, b, "nn.gelu", {*x});
    if (b.is_op("divide") && args.size() == 2 && result.dtype == DType::float32 && layer_norm(i, b, args)) return true;
    if ((b.is_op("multiply") || b.is_op("add")) && args.size() == 2 && absorb_into_layer_norm(i, b, args)) return true;
    if (drop_identity_arithmetic(i, b, args)) return true;
    return sink_unit_reshape(i, b, args);
  }

  // The first axis of a mean with keepdims over the trailing axes of its
  // operand (from that axis to the last, each once), or none.
  std::optional<int64_t> trailing_mean_axis(const Binding* mean, const ValueRef& of) const {
    if (!mean || !mean->is_op("mean") || mean->args.size() != 1 || !(mean->args[0] == of)) return std::nullopt;
    const auto& a = attrs_as<ReduceAttrs>(*mean->attrs);
    const auto rank = static_cast<int64_t>(type_of(of).rank());
    if (!a.keepdims || a.axes.empty() || rank == 0) return std::nullopt;
    std::vector<int64_t> axes;
    for (int64_t x : a.axes) axes.push_back(x < 0 ? x + rank : x);
    std::sort(axes.begin(), axes.end());
    for (size_t k = 0; k < axes.size(); ++k)
      if (axes[k] != rank - static_cast<int64_t>(axes.size() - k)) return std::nullopt;
    return axes.front();
  }

  // d / sqrt(mean(d * d) + epsilon) with d = x - mean(x), both means over the
  // same trailing axes: layer normalization as exporters decompose it (ONNX
  // before LayerNormalization, opset 17) -> nn.layer_norm(x, 1, 0). One
  // kernel that reads each row twice from cache, where the pieces took four
  // (BERT: 0.020 ms a layer norm of 128 x 256 against 0.007).
  bool layer_norm(uint32_t i, const Binding& b, const std::vector<ValueRef>& args) {
    const ValueRef& d = args[0];
    const Binding* sub = producer(d);
    if (!sub || !sub->is_op("subtract") || sub->args.size() != 2) return false;
    const ValueRef x = sub->args[0];
    if (type_of(x) != b.types[0]) return false;
    const std::optional<int64_t> axis = trailing_mean_axis(producer(sub->args[1]), x);
    const Binding* root = producer(args[1]);
    if (!axis || !root || !root->is_op("sqrt")) return false;
    const Binding* plus = producer(root->args[0]);
    if (!plus || !plus->is_op("add") || plus->args.size() != 2) return false;
    for (size_t c : {size_t{1}, size_t{0}}) {
      const std::optional<double> epsilon = scalar_constant(plus->args[c]);
      if (!epsilon || !(*epsilon >= 0)) continue;
      const Binding* var = producer(plus->args[1 - c]);
      if (!var || var->args.size() != 1) continue;
      const Binding* square = producer(var->args[0]);
      if (!square || !square->is_op("multiply") || square->args.size() != 2 || !(square->args[0] == d) ||
          !(square->args[1] == d) || trailing_mean_axis(var, var->args[0]) != axis)
        continue;
      const std::vector<int64_t>& shape = b.types[0].shape;
      const std::vector<int64_t> affine(shape.begin() + *axis, shape.end());
      size_t count = 1;
      for (int64_t n : affine) count *= static_cast<size_t>(n);
      return emit_layer_norm(i, b, x, float_constant("layer_norm_gamma", affine, std::vector<float>(count, 1.f)),
                             float_constant("layer_norm_beta", affine, std::vector<float>(count, 0.f)), *axis, *epsilon);
    }
    return false;
  }

  // multiply(layer_norm(x, g, b), c) -> layer_norm(x, g c, b c) and
  // add(layer_norm(x, g, b), c) -> layer_norm(x, g, b + c), either order, when
  // nothing else reads the norm and g, b and c are float32 constants that vary
  // along the normalized axes only: a trained model's affine scale and shift
  // join the norm instead of taking an elementwise kernel of their own (the
  // norm fuses nothing after it).
  bool absorb_into_layer_norm(uint32_t i, const Binding& b, const std::vector<ValueRef>& args) {
    for (size_t c : {size_t{1}, size_t{0}}) {
      const Binding* norm = producer(args[1 - c]);
      const ValueRef& old = b.args[1 - c];
      if (!norm || !norm->is_op("nn.layer_norm") || !old.is_binding() || uses_.at(old.index) != 1 ||
          !args[c].is_constant() || !norm->args[1].is_constant() || !norm->args[2].is_constant())
        continue;
      const std::vector<int64_t>& shape = b.types[0].shape;
      if (norm->types[0] != b.types[0]) continue;
      const auto axis = static_cast<size_t>(ops::normalize_axis(attrs_as<LayerNormAttrs>(*norm->attrs).axis, shape.size()));
      const std::vector<int64_t> trailing(shape.begin() + static_cast<int64_t>(axis), shape.end());
      // Each constant over the normalized axes as float32, or none.
      auto over_trailing = [&](const ValueRef& v) -> std::optional<std::vector<double>> {
        const Tensor& t = m_.constant(v.constant);
        if (!t.has_data() || t.type().dtype != DType::float32) return std::nullopt;
        std::vector<int64_t> dims = t.type().shape;
        while (dims.size() > trailing.size() && dims.front() == 1) dims.erase(dims.begin());
        if (dims.size() > trailing.size()) return std::nullopt;
        for (size_t k = 0; k < dims.size(); ++k)
          if (dims[k] != 1 && dims[k] != trailing[trailing.size() - dims.size() + k]) return std::nullopt;
        std::vector<double> out;
        for (int64_t at : ops::broadcast_index_map(dims, trailing)) out.push_back(t.element_as_double(static_cast<size_t>(at)));
        return out;
      };
      const auto k = over_trailing(args[c]), g = over_trailing(norm->args[1]), beta = over_trailing(norm->args[2]);
      if (!k || !g || !beta) continue;
      const bool scale = b.is_op("multiply");
      std::vector<float> new_g, new_b;
      for (size_t e = 0; e < k->size(); ++e) {
        new_g.push_back(static_cast<float>(scale ? (*g)[e] * (*k)[e] : (*g)[e]));
        new_b.push_back(static_cast<float>(scale ? (*beta)[e] * (*k)[e] : (*beta)[e] + (*k)[e]));
      }
      Binding out = *norm;
      out.args = {norm->args[0], float_constant("layer_norm_gamma", trailing, new_g),
                  float_constant("layer_norm_beta", trailing, new_b)};
      out.origin = b.origin;
      builder_.replace(i, 0, builder_.emit(std::move(out)));
      return true;
    }
    return false;
  }

  // nn.layer_norm over axes [axis, rank) of x as old binding i, of x's type.
  // With more than one axis before `axis` ([1, T, C] from a batch-first
  // model), the rows flatten into one: reshape(layer_norm(reshape(x, [R,
  // ...]))). Products and residual adds around it are 2-D in transformers,
  // and the reshapes then cancel or sink into elementwise kernels instead of
  // leaving a copy of the normalized tensor behind the (unfusable) norm.
  // gamma and beta must broadcast over the normalized axes alone.
  bool emit_layer_norm(uint32_t i, const Binding& b, const ValueRef& x, const ValueRef& gamma, const ValueRef& beta,
                       int64_t axis, double epsilon) {
    const std::vector<int64_t>& shape = b.types[0].shape;
    auto attrs = std::make_shared<LayerNormAttrs>();
    attrs->epsilon = epsilon;
    auto call = [&](std::vector<ValueRef> args, const TensorType& type) {
      Binding out = make_op_call("nn.layer_norm", std::move(args), attrs, b.origin);
      out.types = {type};
      return builder_.emit(std::move(out));
    };
    const auto within_trailing = [&](const ValueRef& v) {
      return type_of(v).rank() <= shape.size() - static_cast<size_t>(axis);
    };
    if (axis < 2 || !within_trailing(gamma) || !within_trailing(beta)) {
      attrs->axis = axis;
      builder_.replace(i, 0, call({x, gamma, beta}, b.types[0]));
      return true;
    }
    TensorType rows{{1}, b.types[0].dtype};
    for (int64_t d = 0; d < axis; ++d) rows.shape[0] *= shape[static_cast<size_t>(d)];
    rows.shape.insert(rows.shape.end(), shape.begin() + axis, shape.end());
    attrs->axis = 1;
    builder_.replace(i, 0, reshaped(call({reshaped(x, rows, b.origin), gamma, beta}, rows), b.types[0], b.origin));
    return true;
  }

  // A scalar float constant within float32's rounding of `value`.
  bool is_scalar_near(const ValueRef& v, double value) const {
    const std::optional<double> c = scalar_constant(v);
    return c && std::abs(*c - value) <= 1e-6 * std::abs(value);
  }

  // x when `v` is 1 + erf(x / sqrt 2) (or erf(x * (1 / sqrt 2)), either order).
  std::optional<ValueRef> one_plus_erf_input(const ValueRef& v) const {
    const Binding* add = producer(v);
    if (!add || !add->is_op("add") || add->args.size() != 2) return std::nullopt;
    for (size_t c : {size_t{1}, size_t{0}}) {
      const Binding* erf = producer(add->args[1 - c]);
      if (!is_scalar_near(add->args[c], 1.0) || !erf || !erf->is_op("erf")) continue;
      const Binding* scale = producer(erf->args[0]);
      if (!scale || scale->args.size() != 2) return std::nullopt;
      if (scale->is_op("divide") && is_scalar_near(scale->args[1], std::sqrt(2.0))) return scale->args[0];
      if (!scale->is_op("multiply")) return std::nullopt;
      for (size_t k : {size_t{1}, size_t{0}})
        if (is_scalar_near(scale->args[k], std::sqrt(0.5))) return scale->args[1 - k];
      return std::nullopt;
    }
    return std::nullopt;
  }

  // x when multiply(args) is x * 0.5 * (1 + erf(x / sqrt 2)), GELU as ONNX
  // exporters spell it, with its three factors in any order and grouping.
  std::optional<ValueRef> gelu_input(const std::vector<ValueRef>& args) const {
    for (size_t c : {size_t{1}, size_t{0}}) {
      const Binding* inner = producer(args[1 - c]);
      if (!inner || !inner->is_op("multiply") || inner->args.size() != 2) continue;
      const std::array<ValueRef, 3> f{inner->args[0], inner->args[1], args[c]};
      for (size_t g = 0; g < 3; ++g) {
        const std::optional<ValueRef> x = one_plus_erf_input(f[g]);
        if (!x) continue;
        const ValueRef &a = f[(g + 1) % 3], &b = f[(g + 2) % 3];
        if ((a == *x && is_scalar_near(b, 0.5)) || (b == *x && is_scalar_near(a, 0.5))) return x;
      }
    }
    return std::nullopt;
  }

  // f(reshape(x), ...) -> reshape(f(x, ...)) when the reshape only removes or
  // inserts size-1 axes, f is elementwise (or nn.bias_add) with a result of
  // the reshape's shape, and every other operand is a constant or a reshape
  // of a value of x's type in the same way. Constants get x's rank: the
  // reshape keeps the order of the axes that are not 1, so their bytes stay.
  bool sink_unit_reshape(uint32_t i, const Binding& b, const std::vector<ValueRef>& args) {
    if (b.op->pattern != OpPattern::elemwise && b.op->pattern != OpPattern::broadcast) return false;
    const bool bias_add = b.is_op("nn.bias_add");
    if (b.op->name.starts_with("qnn.") || b.is_op("broadcast_to") || b.is_op("nn.batch_norm")) return false;
    const TensorType& result = b.types[0];
    std::optional<TensorType> source;  // x's type
    std::vector<ValueRef> sunk;
    for (const ValueRef& a : args) {
      const Binding* p = producer(a);
      if (!p || !p->is_op("reshape")) continue;
      const TensorType from = type_of(p->args[0]);
      if (type_of(a).shape != result.shape || squeezed(from.shape) != squeezed(result.shape)) return false;
      if (source && from.shape != source->shape) return false;
      source = from;
    }
    if (!source || source->shape == result.shape) return false;
    const std::vector<int64_t>& to = source->shape;
    for (size_t k = 0; k < args.size(); ++k) {
      const ValueRef& a = args[k];
      if (const Binding* p = producer(a); p && p->is_op("reshape")) {
        sunk.push_back(p->args[0]);
        continue;
      }
      if (!a.is_constant()) return false;
      const Tensor& c = m_.constant(a.constant);
      if (!c.has_data()) return false;  // elided in text: no bytes to give the new shape
      if (bias_add && k == 1) {
        sunk.push_back(a);
        continue;
      }
      const std::optional<std::vector<int64_t>> shape = broadcast_shape_over(c.type().shape, result.shape, to);
      if (!shape) return false;
      if (*shape == c.type().shape) {
        sunk.push_back(a);
        continue;
      }
      TensorType t = c.type();
      t.shape = *shape;
      const auto bytes = c.bytes();
      sunk.push_back(ValueRef::constant_named(
          m_.add_constant(a.constant, Tensor(t, std::vector<std::byte>(bytes.begin(), bytes.end())))));
    }
    AttrsPtr attrs = b.attrs;
    if (bias_add) {
      const int64_t rank = static_cast<int64_t>(result.rank());
      int64_t axis = attrs_as<AxisAttrs>(*b.attrs).axis;
      if (axis < 0) axis += rank;
      const std::optional<int64_t> moved = moved_axis(result.shape, to, axis);
      if (!moved) return false;
      auto a = std::make_shared<AxisAttrs>();
      a->axis = *moved;
      attrs = a;
    }
    Binding op = b;
    op.args = std::move(sunk);
    op.attrs = attrs;
    op.types = {TensorType{to, result.dtype}};
    const ValueRef value = builder_.emit(std::move(op));
    builder_.replace(i, 0, reshaped(value, b.types[0], b.origin));
    return true;
  }

  // A new reshape of `v` to `type`.
  ValueRef reshaped(const ValueRef& v, const TensorType& type, const std::string& origin) {
    auto attrs = std::make_shared<ReshapeAttrs>();
    attrs->newshape = type.shape;
    Binding r = make_op_call("reshape", {v}, attrs, origin);
    r.types = {type};
    return builder_.emit(std::move(r));
  }

  // A new float32 constant of `shape` holding `values`.
  ValueRef float_constant(const char* hint, const std::vector<int64_t>& shape, const std::vector<float>& values) {
    return ValueRef::constant_named(m_.add_constant(hint, Tensor::from_floats(shape, values)));
  }

  // The value of a scalar float constant with its bytes, or none.
  std::optional<double> scalar_constant(const ValueRef& v) const {
    if (!v.is_constant()) return std::nullopt;
    const Tensor& t = m_.constant(v.constant);
    if (!t.has_data() || !is_float(t.type().dtype) || t.type().element_count() != 1) return std::nullopt;
    return t.element_as_double(0);
  }

  bool simplify_power(uint32_t i, const Binding& b, const std::vector<ValueRef>& args) {
    const ValueRef& x = args[0];
    const ValueRef& k = args[1];
    if (!k.is_constant() || type_of(x) != b.types[0] || !is_float(b.types[0].dtype)) return false;
    const Tensor& exponent = m_.constant(k.constant);
    if (all_equal_to(exponent, 1.0)) return forward(i, x);
    if (all_equal_to(exponent, 2.0)) return emit_op(i, b, "multiply", {x, x});
    if (all_equal_to(exponent, 3.0)) {  // GELU's tanh form: x + 0.044715 x^3
      Binding square = make_op_call("multiply", {x, x}, nullptr, b.origin);
      square.types = b.types;
      return emit_op(i, b, "multiply", {builder_.emit(std::move(square)), x});
    }
    if (all_equal_to(exponent, -1.0)) return emit_op(i, b, "reciprocal", {x});
    return false;
  }

  // Replaces old binding i (of the same type) by a call of `op` on `args`.
  bool emit_op(uint32_t i, const Binding& b, std::string_view op, std::vector<ValueRef> args) {
    Binding out = make_op_call(op, std::move(args), nullptr, b.origin);
    out.types = b.types;
    builder_.replace(i, 0, builder_.emit(std::move(out)));
    return true;
  }

  bool drop_identity_arithmetic(uint32_t i, const Binding& b, const std::vector<ValueRef>& args) {
    if (args.size() != 2) return false;
    const bool add = b.is_op("add"), sub = b.is_op("subtract"), mul = b.is_op("multiply"), div = b.is_op("divide");
    if (!(add || sub || mul || div)) return false;
    const double neutral = add || sub ? 0.0 : 1.0;
    const bool commutative = add || mul;
    for (size_t c : {size_t{1}, size_t{0}}) {
      if (c == 0 && !commutative) break;
      const ValueRef& k = args[c];
      const ValueRef& x = args[1 - c];
      if (!k.is_constant() || !all_equal_to(m_.constant(k.constant), neutral)) continue;
      if (type_of(x) != b.types[0]) continue;
      return forward(i, x);
    }
    return false;
  }

  Module& m_;
  const Function& fn_;
  FunctionBuilder builder_;
  const std::vector<int> uses_;  // of the old bindings
  std::set<uint32_t> results_;
};

}  // namespace

Module simplify_expr(const Module& module, const PassContext& context) {
  Module out = module;
  for (Function& fn : out.functions) {
    if (fn.primitive) continue;
    // Scalar multiplies after conv2d/dense first: they read the old bindings' use counts.
    const auto folds = find_output_scale_folds(out, fn, [](const TensorType& scale, const TensorType&) {
      return scale.element_count() == 1;
    });
    fn = apply_output_scale_folds(out, fn, folds);
    fn = Simplifier(out, fn).run();
  }
  return infer_type(dead_code_elimination(out, context), context);
}

}  // namespace modelc::lang
