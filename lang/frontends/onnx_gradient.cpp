// ONNX Gradient (domain ai.onnx.preview.training): reverse-mode
// differentiation done at import time. The node names a tensor y and tensors
// xs computed before it; the result is d(sum of y)/d(x) for each x, built
// from IR ops by walking the nodes between them backwards with one rule per
// differentiable op. Broadcast operands get their gradient summed back to
// their own shape.
#include <set>

#include "lang/frontends/onnx_node.h"
#include "lang/ops/reduce.h"
#include "support/diagnostic.h"

namespace modelc::lang::frontends {

namespace {

class Differentiator {
 public:
  Differentiator(NodeContext& c, const ValueOf& value_of) : c_(c), value_of_(value_of) {}

  // d(out)/d(input) given d(out)/d(node outputs); returns one gradient per
  // input of `node` (nullopt where the input does not depend on the xs).
  void backward(const onnx::NodeProto& node, const ValueRef& g, const std::set<std::string>& dependent) {
    const std::string& op = node.op_type();
    auto in = [&](int i) { return value(node.input(i)); };
    auto needs = [&](int i) { return i < node.input_size() && dependent.count(node.input(i)) != 0; };
    auto give = [&](int i, const ValueRef& grad) {
      if (needs(i)) accumulate(node.input(i), unbroadcast(grad, c_.type(in(i)).shape));
    };
    if (op == "Add" || op == "Sum") {
      for (int i = 0; i < node.input_size(); ++i) give(i, g);
    } else if (op == "Sub") {
      give(0, g);
      if (needs(1)) give(1, call("negative", {g}));
    } else if (op == "Mul") {
      if (needs(0)) give(0, call("multiply", {g, in(1)}));
      if (needs(1)) give(1, call("multiply", {g, in(0)}));
    } else if (op == "Div") {
      if (needs(0)) give(0, call("divide", {g, in(1)}));
      if (needs(1)) {
        const ValueRef quotient = value(node.output(0));  // a / b
        give(1, call("negative", {call("divide", {call("multiply", {g, quotient}), in(1)})}));
      }
    } else if (op == "Neg") {
      give(0, call("negative", {g}));
    } else if (op == "Identity") {
      give(0, g);
    } else if (op == "Exp") {
      give(0, call("multiply", {g, value(node.output(0))}));
    } else if (op == "Log") {
      give(0, call("divide", {g, in(0)}));
    } else if (op == "Sqrt") {
      // d sqrt(x) = 1 / (2 sqrt(x))
      give(0, call("divide", {g, call("multiply", {value(node.output(0)), c_.scalar(2.f)})}));
    } else if (op == "Tanh") {
      const ValueRef y = value(node.output(0));
      give(0, call("multiply", {g, call("subtract", {c_.scalar(1.f), call("multiply", {y, y})})}));
    } else if (op == "Sigmoid") {
      const ValueRef y = value(node.output(0));
      give(0, call("multiply", {g, call("multiply", {y, call("subtract", {c_.scalar(1.f), y})})}));
    } else if (op == "Relu") {
      const ValueRef positive = call("greater", {in(0), c_.scalar(0.f)});
      give(0, call("where", {positive, g, c_.scalar(0.f)}));
    } else {
      throw Error("cannot differentiate through ONNX " + op + " at node '" +
                  (node.name().empty() ? node.output(0) : node.name()) +
                  "'; Gradient supports Add, Sub, Mul, Div, Neg, Sum, Identity, Exp, Log, Sqrt, Tanh, Sigmoid and Relu");
    }
  }

  std::optional<ValueRef> gradient(const std::string& name) const {
    auto it = grads_.find(name);
    if (it == grads_.end()) return std::nullopt;
    return it->second;
  }

  void seed(const std::string& name, ValueRef g) { grads_.emplace(name, g); }

  ValueRef ones_like(const ValueRef& v) {
    const TensorType t = c_.type(v);
    Tensor ones(t);
    for (size_t i = 0; i < static_cast<size_t>(t.element_count()); ++i) ones.set_element(i, 1.0);
    return c_.add_constant(std::move(ones));
  }

  ValueRef zeros_like(const ValueRef& v) {
    Tensor zeros(c_.type(v));  // tensors start zeroed
    return c_.add_constant(std::move(zeros));
  }

  ValueRef value(const std::string& name) const { return value_of_(name); }

 private:
  ValueRef call(std::string_view op, std::vector<ValueRef> args, AttrsPtr attrs = nullptr) {
    return c_.call(op, std::move(args), std::move(attrs));
  }

  // Sums a gradient of a broadcast result back to the operand's shape.
  ValueRef unbroadcast(const ValueRef& g, const std::vector<int64_t>& shape) {
    const std::vector<int64_t> from = c_.type(g).shape;
    if (from == shape) return g;
    const size_t lead = from.size() - shape.size();
    ReduceAttrs a;
    for (size_t d = 0; d < from.size(); ++d)
      if (d < lead || (shape[d - lead] == 1 && from[d] != 1)) a.axes.push_back(static_cast<int64_t>(d));
    a.keepdims = true;
    const ValueRef summed = a.axes.empty() ? g : call("sum", {g}, make_attrs(a));
    return call("reshape", {summed}, reshape_to(shape));
  }

  void accumulate(const std::string& name, const ValueRef& g) {
    auto it = grads_.find(name);
    if (it == grads_.end()) grads_.emplace(name, g);
    else it->second = call("add", {it->second, g});
  }

  NodeContext& c_;
  const ValueOf& value_of_;
  std::map<std::string, ValueRef> grads_;
};

}  // namespace

std::vector<ValueRef> convert_gradient(NodeContext& c, const std::vector<const onnx::NodeProto*>& before,
                                       const ValueOf& value_of) {
  const std::string y = c.attr_string("y", "");
  const onnx::AttributeProto* xs_attr = c.find_attr("xs");
  if (y.empty() || !xs_attr || xs_attr->strings_size() == 0) throw Error("needs the attributes y and xs");
  const std::vector<std::string> xs(xs_attr->strings().begin(), xs_attr->strings().end());

  // Which tensors depend on the xs, in graph order.
  std::set<std::string> dependent(xs.begin(), xs.end());
  for (const onnx::NodeProto* node : before) {
    bool depends = false;
    for (const std::string& in : node->input()) depends = depends || dependent.count(in) != 0;
    if (depends)
      for (const std::string& out : node->output()) dependent.insert(out);
  }

  Differentiator diff(c, value_of);
  diff.seed(y, diff.ones_like(value_of(y)));
  for (auto it = before.rbegin(); it != before.rend(); ++it) {
    const onnx::NodeProto& node = **it;
    if (node.output_size() == 0 || !dependent.count(node.output(0))) continue;
    std::optional<ValueRef> g = diff.gradient(node.output(0));
    if (!g) continue;
    if (node.output_size() > 1) throw Error("cannot differentiate through ONNX " + node.op_type() + ", which has several outputs");
    diff.backward(node, *g, dependent);
  }
  std::vector<ValueRef> out;
  for (const std::string& x : xs) {
    std::optional<ValueRef> g = diff.gradient(x);
    out.push_back(g ? *g : diff.zeros_like(value_of(x)));
  }
  return out;
}

}  // namespace modelc::lang::frontends
