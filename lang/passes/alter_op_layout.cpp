// AlterOpLayout: gives an op's constant weights the layout its kernel wants,
// transforming them at compile time.
//
// nn.dense(x [M, K], W [N, K]) with M >= 4 rows becomes
// nn.batch_matmul(x, W^T [K, N]) with W^T a new constant: with K-major
// weights the kernel vectorizes along N and keeps a block of rows in
// registers, each weight vector loaded once per block of rows, instead of
// one horizontal dot product per output element (the dense kernel's form,
// which suits a single row: a matrix-vector product). A transformer's
// projections (rows = tokens) take this form; a classifier's dense at batch
// 1 keeps its own.
//
// Assumes typed IR, before FuseOps (batch_matmul fuses its epilogue as dense
// does). Weights shared by several dense ops are transposed once.
#include <map>

#include "lang/interpreter.h"
#include "lang/ops/transform.h"
#include "lang/pass.h"
#include "lang/passes/function_builder.h"

namespace modelc::lang {
namespace {

constexpr int64_t kMinRows = 4;

}  // namespace

Module alter_op_layout(const Module& module, const PassContext& context) {
  Module out = module;
  const OpDef& transpose = OpRegistry::global().get("transpose");
  TransposeAttrs swap;
  swap.axes = {1, 0};
  for (Function& fn : out.functions) {
    if (fn.primitive) continue;
    FunctionBuilder b(fn);
    std::map<std::string, std::string> transposed;  // weight constant -> its [K, N] copy
    for (uint32_t i = 0; i < fn.body.size(); ++i) {
      const Binding& d = fn.body[i];
      const bool rows = d.is_op("nn.dense") && !d.types.empty() && d.types[0].rank() == 2 && d.types[0].shape[0] >= kMinRows;
      if (!rows || !d.args[1].is_constant() || !out.constant(d.args[1].constant).has_data()) {
        b.keep(i);
        continue;
      }
      auto found = transposed.find(d.args[1].constant);
      if (found == transposed.end()) {
        const Tensor& w = out.constant(d.args[1].constant);
        const TensorType t{{w.type().shape[1], w.type().shape[0]}, w.type().dtype};
        const Tensor wt = transpose.reference(std::vector<Tensor>{w}, swap, std::vector<TensorType>{t}).at(0);
        found = transposed.emplace(d.args[1].constant, out.add_constant(d.args[1].constant + "_kn", wt)).first;
      }
      Binding matmul = make_op_call("nn.batch_matmul", {b.map(d.args[0]), ValueRef::constant_named(found->second)},
                                    nullptr, d.origin);
      b.replace(i, 0, b.emit(std::move(matmul)));
    }
    fn = b.finish();
  }
  return infer_type(dead_code_elimination(out, context), context);
}

}  // namespace modelc::lang
