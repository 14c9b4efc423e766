// PackMatmulWeights: a matrix product whose right operand is a float32
// constant [K, N] becomes nn.packed_matmul over that weight in panels of c
// columns, [N/c, K, c], packed at compile time, with c the float32 lanes of
// the activation layout's channel block (NCHW16c: 16); nothing for an
// unblocked layout. The kernel walks each panel as one contiguous stream,
// where with [K, N] it copied the K x columns slice of every column block
// into a scratch panel on every call (a sixth of the time of BERT's
// projections, measured with perf). Runs after ReducePrecision: a bfloat16
// weight with K even is packed in pairs of rows, [N/c, K/2, c, 2], which a
// target with a fast bfloat16 pair dot product (AMD Zen 5's vdpbf16ps)
// multiplies as it is and other targets read back as [K, N]
// (lower/ops/nn.cpp); a float16 weight keeps its form. Weights shared by
// several products are packed once.
#include <map>

#include "lang/ops/layout.h"
#include "lang/ops/nn.h"
#include "lang/pass.h"
#include "lang/passes/function_builder.h"

namespace modelc::lang {

Module pack_matmul_weights(const Module& module, const PassContext& context) {
  const int64_t c = Layout::parse(context.activation_layout).factor_of('C');
  if (c < 2) return module;
  Module out = module;
  for (Function& fn : out.functions) {
    if (fn.primitive) continue;
    FunctionBuilder b(fn);
    std::map<std::string, std::string> packed;  // [K, N] constant -> its panels
    for (uint32_t i = 0; i < fn.body.size(); ++i) {
      const Binding& d = fn.body[i];
      const Tensor* w = d.is_op("nn.batch_matmul") && d.args[1].is_constant() ? &out.constant(d.args[1].constant) : nullptr;
      const bool pairs = w && w->type().dtype == DType::bfloat16 && w->type().rank() == 2 && w->type().shape[0] % 2 == 0;
      if (!w || !w->has_data() || (w->type().dtype != DType::float32 && !pairs) || w->type().rank() != 2 ||
          w->type().shape[1] % c != 0) {
        b.keep(i);
        continue;
      }
      auto found = packed.find(d.args[1].constant);
      if (found == packed.end())
        found = packed
                    .emplace(d.args[1].constant,
                             out.add_constant(d.args[1].constant + (pairs ? "_pairs" : "_panels"), pack_matmul_panels(*w, c, pairs)))
                    .first;
      Binding matmul = make_op_call("nn.packed_matmul", {b.map(d.args[0]), ValueRef::constant_named(found->second)}, nullptr, d.origin);
      b.replace(i, 0, b.emit(std::move(matmul)));
    }
    fn = b.finish();
  }
  return infer_type(dead_code_elimination(out, context), context);
}

}  // namespace modelc::lang
