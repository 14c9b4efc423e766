// FoldConstant: evaluates, with the reference kernels, every op call whose
// arguments are all constants, and replaces it by a new module constant.
// Shape computations traced into ONNX models (Shape -> Gather -> Concat ->
// Reshape) and weight transformations disappear this way before lowering.
#include <set>

#include "lang/pass.h"
#include "lang/passes/function_builder.h"
#include "lang/size_limits.h"
#include "support/diagnostic.h"

namespace modelc::lang {

namespace {

// The bytes of the constants some function uses: what the model holds now
// (constants that earlier folds left unused are DeadCodeElimination's).
int64_t used_constant_bytes(const Module& module) {
  std::set<std::string> used;
  for (const Function& fn : module.functions) {
    for (const Binding& b : fn.body)
      for (const ValueRef& a : b.args)
        if (a.is_constant()) used.insert(a.constant);
    for (const ValueRef& r : fn.results)
      if (r.is_constant()) used.insert(r.constant);
  }
  int64_t bytes = 0;
  for (const std::string& name : used) bytes += static_cast<int64_t>(module.constant(name).type().bytes());
  return bytes;
}

}  // namespace

Module fold_constant(const Module& module, const PassContext& context) {
  Module out = module;
  ConstantBytes constant_bytes(context.limits, used_constant_bytes(module));
  for (Function& fn : out.functions) {
    FunctionBuilder builder(fn);
    for (uint32_t i = 0; i < fn.body.size(); ++i) {
      const Binding& b = fn.body[i];
      const std::vector<ValueRef> args = builder.map_all(b.args);
      bool foldable = b.op && b.op->reference && !b.args.empty();
      for (const ValueRef& a : args) foldable = foldable && a.is_constant();
      if (!foldable) {
        builder.keep(i);
        continue;
      }
      std::vector<Tensor> values;
      try {
        // The result types passed InferType's limits; the model's total is checked here, before the kernel runs.
        for (const TensorType& t : b.types) constant_bytes.add(t, "folding " + b.op->name + " makes a constant");
        std::vector<Tensor> operands;
        for (const ValueRef& a : args) operands.push_back(out.constant(a.constant));
        values = b.op->reference(operands, *b.attrs, b.types);
      } catch (const Error& e) {
        std::vector<Diagnostic> located = e.diagnostics();
        for (Diagnostic& d : located)
          if (!b.origin.empty()) d.message = b.origin + ": " + d.message;
        throw Error(std::move(located));
      }
      const std::string base = fn.name == "main" ? "folded_" + std::to_string(i) : fn.name + "_folded_" + std::to_string(i);
      for (uint32_t o = 0; o < values.size(); ++o) {
        const std::string name = out.add_constant(values.size() == 1 ? base : base + "_" + std::to_string(o), std::move(values[o]));
        builder.replace(i, o, ValueRef::constant_named(name));
      }
    }
    fn = builder.finish();
  }
  return out;
}

}  // namespace modelc::lang
