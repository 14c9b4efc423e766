// FoldConstant: evaluates, with the reference kernels, every op call whose
// arguments are all constants, and replaces it by a new module constant.
// Shape computations traced into ONNX models (Shape -> Gather -> Concat ->
// Reshape) and weight transformations disappear this way before lowering.
#include "lang/pass.h"
#include "lang/passes/function_builder.h"
#include "support/diagnostic.h"

namespace modelc::lang {

Module fold_constant(const Module& module, const PassContext&) {
  Module out = module;
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
      std::vector<Tensor> operands;
      for (const ValueRef& a : args) operands.push_back(out.constant(a.constant));
      std::vector<Tensor> values = b.op->reference(operands, *b.attrs, b.types);
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
