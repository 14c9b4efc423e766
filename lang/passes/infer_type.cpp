// InferType: computes the type of every binding from its op's type rule (or
// its callee's result types), function by function in definition order.
// Errors name the binding, the op, where it came from (ONNX node, YAML layer)
// and what the rule expected. Every type is checked against the model's
// limits (PassContext::limits), so that no later pass or kernel allocates a
// tensor a hostile model asked for.
#include "lang/pass.h"
#include "lang/size_limits.h"
#include "support/diagnostic.h"

namespace modelc::lang {
namespace {

std::string describe(const Function& fn, size_t index, const Binding& b) {
  std::string where = "@" + fn.name + " %" + std::to_string(index) + " = " + b.callee_name();
  if (!b.origin.empty()) where += " (" + b.origin + ")";
  return where;
}

std::vector<TensorType> call_type(const Module& module, const Binding& b, const std::vector<TensorType>& args) {
  const Function* callee = module.find_function(b.function);
  if (!callee) throw Error("calls unknown function @" + b.function);
  if (args.size() != callee->params.size())
    throw Error("passes " + std::to_string(args.size()) + " arguments, @" + b.function + " takes " +
                std::to_string(callee->params.size()));
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i] != callee->params[i].type)
      throw Error("argument " + std::to_string(i) + " is " + args[i].str() + ", @" + b.function + " expects " +
                  callee->params[i].type.str());
  return module.result_types(*callee);
}

}  // namespace

Module infer_type(const Module& module, const PassContext& context) {
  Module out = module;
  for (Function& fn : out.functions) {
    for (size_t i = 0; i < fn.body.size(); ++i) {
      Binding& b = fn.body[i];
      try {
        std::vector<TensorType> args;
        for (const ValueRef& a : b.args) args.push_back(out.type_of(fn, a));
        if (b.op) {
          const int n = static_cast<int>(args.size());
          if (n < b.op->min_args || (b.op->max_args >= 0 && n > b.op->max_args))
            throw Error("takes " + std::to_string(b.op->min_args) +
                        (b.op->max_args == b.op->min_args ? "" : "..." + (b.op->max_args < 0 ? std::string("n") : std::to_string(b.op->max_args))) +
                        " arguments, given " + std::to_string(n));
          b.types = b.op->infer_type(args, *b.attrs);
        } else {
          b.types = call_type(out, b, args);
        }
        for (size_t o = 0; o < b.types.size(); ++o)
          check_tensor_size(b.types[o], context.limits, b.types.size() == 1 ? "the result" : "result " + std::to_string(o));
      } catch (const Error& e) {
        Diagnostic d = e.diagnostics().front();
        d.message = describe(fn, i, b) + ": " + d.message;
        throw Error(d);
      }
    }
  }
  return out;
}

}  // namespace modelc::lang
