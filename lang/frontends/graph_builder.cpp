#include "lang/frontends/graph_builder.h"

#include "support/checked_math.h"
#include "support/diagnostic.h"

namespace modelc::lang::frontends {

void GraphBuilder::check_size(const TensorType& type, std::string_view what) const {
  check_tensor_size(type, limits_, what);
}

void GraphBuilder::check_node_count(int64_t more, std::string_view what) const {
  const std::optional<int64_t> total = checked_add(nodes_, more);
  if (more < 0 || !total || *total > limits_.max_graph_nodes)
    throw Error(Diagnostic{Severity::error, {}, {},
                           std::string(what) + " takes the model past " + std::to_string(limits_.max_graph_nodes) +
                               " op calls and constants (model.limits.max_graph_nodes); loops, scans, recurrent "
                               "layers and sequences are unrolled at import",
                           "if the model really needs it, raise model.limits.max_graph_nodes in the recipe"});
}

ValueRef GraphBuilder::add_param(const std::string& name, TensorType type) {
  check_size(type, "input '" + name + "'");
  main_.params.push_back(Param{name, std::move(type)});
  return ValueRef::param(static_cast<uint32_t>(main_.params.size() - 1));
}

ValueRef GraphBuilder::add_constant(const std::string& hint, Tensor value) {
  check_node_count(1, "the constant '" + hint + "'");
  ++nodes_;
  constant_bytes_.add(value.type(), "the constant '" + hint + "'");
  // Module::add_constant tries hint, hint_1, hint_2... in turn; an unrolled
  // loop adds thousands of constants under one hint, so the builder starts
  // the search where the last one ended (the same names, in linear time).
  const std::string base = hint.empty() ? "const" : hint;
  const int used = hint_uses_[base]++;
  return ValueRef::constant_named(module_.add_constant(used == 0 ? base : base + "_" + std::to_string(used), std::move(value)));
}

ValueRef GraphBuilder::call(std::string_view op, std::vector<ValueRef> args, AttrsPtr attrs, const std::string& origin,
                            const std::string& fold_hint) {
  check_node_count(1, "a call of " + std::string(op));
  ++nodes_;
  Binding b = make_op_call(op, std::move(args), std::move(attrs), origin);
  const int n = static_cast<int>(b.args.size());
  if (n < b.op->min_args || (b.op->max_args >= 0 && n > b.op->max_args))
    throw Error(b.op->name + " takes " + std::to_string(b.op->min_args) + " to " + std::to_string(b.op->max_args) +
                " arguments, given " + std::to_string(n));
  std::vector<TensorType> arg_types;
  bool all_constant = true;
  for (const ValueRef& a : b.args) {
    arg_types.push_back(type_of(a));
    all_constant = all_constant && a.is_constant();
  }
  // The type rules of the weighted ops accept float16/bfloat16 weights beside
  // a float32 input: ReducePrecision's storage, made after every pass that
  // computes on weights. A model gives both one type (ONNX's T).
  if ((b.is_op("nn.conv2d") || b.is_op("nn.dense") || b.is_op("nn.batch_matmul")) && arg_types.size() >= 2 &&
      arg_types[1].dtype != arg_types[0].dtype)
    throw Error("the weight " + arg_types[1].str() + " and the input " + arg_types[0].str() +
                " have different types; the model must give both one type");
  b.types = b.op->infer_type(arg_types, *b.attrs);
  for (size_t o = 0; o < b.types.size(); ++o)
    check_size(b.types[o], b.types.size() == 1 ? "the result of " + b.op->name
                                                : "result " + std::to_string(o) + " of " + b.op->name);
  if (fold_ && all_constant && !b.args.empty() && b.types.size() == 1 && b.op->reference) {
    std::vector<Tensor> operands;
    for (const ValueRef& a : b.args) operands.push_back(module_.constant(a.constant));
    return add_constant(fold_hint, std::move(b.op->reference(operands, *b.attrs, b.types).front()));
  }
  return ValueRef::binding(main_.add(std::move(b)));
}

TensorType GraphBuilder::type_of(const ValueRef& value) const { return module_.type_of(main_, value); }

std::optional<Tensor> GraphBuilder::constant_value(const ValueRef& value) const {
  if (!value.is_constant()) return std::nullopt;
  return module_.constant(value.constant);
}

Module GraphBuilder::finish(std::vector<ValueRef> results, std::vector<std::string> result_names) {
  main_.results = std::move(results);
  main_.result_names = std::move(result_names);
  Module out = std::move(module_);
  out.functions.push_back(std::move(main_));
  return out;
}

}  // namespace modelc::lang::frontends
