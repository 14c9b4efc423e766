// The IR: a Module of named Functions and named constant tensors.
//
// A Function has typed parameters and a body in A-normal form: a list of
// bindings `%n = callee(args) {attrs} : type`, each naming its callee (an
// operator or another function of the module), then a list of results. After
// FuseOps, functions marked `primitive` are exactly the units that lower/
// compiles into one kernel each, and @main only calls them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lang/attrs.h"
#include "lang/op.h"
#include "lang/tensor.h"
#include "lang/type.h"

namespace modelc::lang {

// A use of a value: a parameter of the enclosing function, a constant of the
// module, or output `output` of an earlier binding.
struct ValueRef {
  enum class Kind : uint8_t { param, constant, binding };
  Kind kind = Kind::binding;
  uint32_t index = 0;    // param or binding index
  uint32_t output = 0;   // which output of a multi-output binding
  std::string constant;  // constant name (without '@')

  static ValueRef param(uint32_t i) { return {Kind::param, i, 0, {}}; }
  static ValueRef binding(uint32_t i, uint32_t out = 0) { return {Kind::binding, i, out, {}}; }
  static ValueRef constant_named(std::string name) { return {Kind::constant, 0, 0, std::move(name)}; }

  bool is_param() const { return kind == Kind::param; }
  bool is_constant() const { return kind == Kind::constant; }
  bool is_binding() const { return kind == Kind::binding; }
  bool operator==(const ValueRef&) const = default;
};

struct Param {
  std::string name;  // without '%'
  TensorType type;
};

struct Binding {
  const OpDef* op = nullptr;  // set for an operator call
  std::string function;       // set for a call of a module function (without '@')
  std::vector<ValueRef> args;
  AttrsPtr attrs;                 // the op's attributes (never null for op calls)
  std::vector<TensorType> types;  // one per output; empty until InferType
  std::string origin;             // where it came from (ONNX node name, YAML layer), for messages

  bool is_op_call() const { return op != nullptr; }
  bool is_op(std::string_view name) const { return op && op->name == name; }
  std::string callee_name() const { return op ? op->name : "@" + function; }
};

struct Function {
  std::string name;  // without '@'
  std::vector<Param> params;
  std::vector<Binding> body;
  std::vector<ValueRef> results;
  // Names of the results as the model's outputs (set by frontends on @main);
  // result_name() supplies defaults where this is shorter than `results`.
  std::vector<std::string> result_names;
  bool primitive = false;

  uint32_t add(Binding binding) {
    body.push_back(std::move(binding));
    return static_cast<uint32_t>(body.size() - 1);
  }
};

class Module {
 public:
  // Functions in definition order (callees before callers); "main" is the entry.
  std::vector<Function> functions;
  std::map<std::string, Tensor> constants;

  Function& main();
  const Function& main() const;
  Function* find_function(std::string_view name);
  const Function* find_function(std::string_view name) const;
  const Tensor& constant(const std::string& name) const;
  // Adds a constant under `hint` or a fresh variant of it; returns the name used.
  std::string add_constant(const std::string& hint, Tensor value);

  // Type of a value inside `fn` (requires InferType for bindings).
  TensorType type_of(const Function& fn, const ValueRef& ref) const;
  std::vector<TensorType> result_types(const Function& fn) const;
};

// "output", "output_1", ... unless the function names its results.
std::string result_name(const Function& fn, size_t index);

// The name a frontend gave a binding's origin: NAME of "ONNX node 'NAME'
// (Conv)" or "YAML layer 'NAME' (conv2d)", what a recipe's
// quantization.skip lists; the origin itself when it has no quoted name.
std::string origin_name(const std::string& origin);

// Convenience for building bindings.
Binding make_op_call(std::string_view op, std::vector<ValueRef> args, AttrsPtr attrs = nullptr,
                     std::string origin = {});

// Uses of each binding's outputs within `fn` (bindings and results), indexed by binding.
std::vector<int> count_uses(const Function& fn);

}  // namespace modelc::lang
