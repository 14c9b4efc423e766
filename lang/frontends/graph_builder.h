// Builds @main of a new module one op call at a time, as the frontends read a
// model. Each call gets its type from the op's registered type rule at once, so
// a frontend can ask for the shape of any value it has built (ONNX auto_pad,
// Flatten, the `same` padding of a YAML layer) without a shape rule of its own,
// and a rule's complaint surfaces at the node or layer that caused it.
//
// Calls whose arguments are all constants are evaluated with the reference
// kernels and become module constants (when folding is on): shape arithmetic
// traced into ONNX files must be known at import, because the IR's attributes
// (a reshape's newshape, a clip's bounds) are static.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lang/module.h"
#include "lang/size_limits.h"

namespace modelc::lang::frontends {

//
// Every type the builder meets is checked against the model's limits
// (lang/size_limits.h) before anything of its size is allocated: a call's
// result types before it is folded, a parameter's type, and the module's
// constants, counted as they are added. A frontend that allocates a tensor
// itself (an initializer, a ConstantOfShape) checks its type first with
// check_size().
class GraphBuilder {
 public:
  explicit GraphBuilder(bool fold_constant_calls, const spec::ModelLimits& limits = {})
      : fold_(fold_constant_calls), limits_(limits), constant_bytes_(limits) {
    main_.name = "main";
  }

  const spec::ModelLimits& limits() const { return limits_; }
  // check_tensor_size with this builder's limits; `what` names the tensor.
  void check_size(const TensorType& type, std::string_view what) const;

  // Throws modelc::Error when `more` nodes (op calls and constants) would take
  // the model past limits.max_graph_nodes; `what` says what asks for them.
  // call() and add_constant() count themselves; a frontend that is about to
  // unroll or split into many nodes asks first.
  void check_node_count(int64_t more, std::string_view what) const;

  ValueRef add_param(const std::string& name, TensorType type);
  // Adds a module constant named `hint` (or a fresh variant of it); throws
  // modelc::Error when the model's constants would exceed max_model_bytes.
  ValueRef add_constant(const std::string& hint, Tensor value);

  // Emits `op(args) {attrs}`; throws modelc::Error with the type rule's message
  // (the caller adds where), or when a result type is over the model's limits.
  // `fold_hint` names the constant a folded call becomes.
  ValueRef call(std::string_view op, std::vector<ValueRef> args, AttrsPtr attrs, const std::string& origin,
                const std::string& fold_hint = "folded");

  TensorType type_of(const ValueRef& value) const;
  // The value's data when it is a module constant.
  std::optional<Tensor> constant_value(const ValueRef& value) const;

  const Module& module() const { return module_; }
  // @main as built so far (its params, before finish()).
  const Function& main() const { return main_; }
  // Completes @main with its results and their names as the model's outputs.
  Module finish(std::vector<ValueRef> results, std::vector<std::string> result_names);

 private:
  bool fold_;
  spec::ModelLimits limits_;
  ConstantBytes constant_bytes_;
  int64_t nodes_ = 0;
  std::map<std::string, int> hint_uses_;  // constants added per name hint
  Module module_;
  Function main_;
};

template <typename A>
AttrsPtr make_attrs(A attrs) {
  return std::make_shared<const A>(std::move(attrs));
}

}  // namespace modelc::lang::frontends
