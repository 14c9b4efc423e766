// SimplifyExpr: local algebraic clean-ups of the dataflow graph.
//
//   reshape(reshape(x))                 -> reshape(x)        (one reshape to the final shape)
//   reshape(x) to x's own shape         -> x
//   transpose(transpose(x, a), b)       -> transpose(x, a o b), or x when that is the identity
//   transpose(x, identity)              -> x
//   layout_transform(layout_transform(x, A->B), B->C) -> layout_transform(x, A->C), or x when A == C
//   layout_transform(x, A->A)           -> x
//   add(x, 0), subtract(x, 0), multiply(x, 1), divide(x, 1) (0 and 1 constants) -> x
//   power(x, 1) -> x;  power(x, 2) -> multiply(x, x);  power(x, -1) -> reciprocal(x)
//   (a constant exponent; exact, unlike power(x, 0.5) -> sqrt(x), which differs at -inf
//   and -0);  power(x, 3) -> multiply(multiply(x, x), x)  (two roundings: within 2 ulp)
//   multiply(conv2d|dense(x, W) [+ bias_add(b)], scalar s) -> conv2d|dense(x, W * s) [+ bias_add(b * s)]
//   multiply(x, sigmoid(x)), multiply(sigmoid(x), x) -> nn.silu(x)  (float; the sigmoid stays while
//   another op reads it)
//
// Why: importers and other passes leave these behind (ONNX Flatten after
// Reshape, transpose pairs around attention, layout transforms at the edges of
// converted regions, identity scales); each one left is a kernel launch and a
// round trip through memory. SiLU (swish), which ONNX spells Mul(x,
// Sigmoid(x)), is one op so that its kernel divides x by 1 + e^-x where it
// multiplied x by a sigmoid with its own NaN select (lower/tensor_func.h).
// A decomposed layer norm squares with power(x, 2), GELU's tanh form cubes
// with power(x, 3): a kernel would otherwise compute each as a call to libm's
// pow per element.
//
// Assumes typed IR. An op is dropped only when its input has exactly its
// result's type (no broadcasting), and never when that would make a function
// return one of its parameters or a constant (the executor returns bindings).
#include <algorithm>
#include <set>

#include "lang/ops/layout.h"
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

class Simplifier {
 public:
  Simplifier(Module& m, const Function& fn) : m_(m), fn_(fn), builder_(fn) {
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
        auto attrs = std::make_shared<ReshapeAttrs>();
        attrs->newshape = result.shape;
        return emit_like(i, b, {p->args[0]}, attrs);
      }
      return false;
    }
    if (b.is_op("transpose")) {
      const std::vector<int64_t> axes = transpose_axes_of(b, result.rank());
      if (is_identity_permutation(axes)) return forward(i, args[0]);
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
    if (b.is_op("multiply") && args.size() == 2 && is_float(result.dtype)) {
      for (size_t c : {size_t{1}, size_t{0}}) {
        const Binding* s = producer(args[c]);
        if (s && s->is_op("sigmoid") && s->args.size() == 1 && s->args[0] == args[1 - c] && type_of(args[1 - c]) == result)
          return emit_op(i, b, "nn.silu", {args[1 - c]});
      }
    }
    return drop_identity_arithmetic(i, b, args);
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
