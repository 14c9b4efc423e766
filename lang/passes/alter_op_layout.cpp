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
// qnn.conv2d (groups 1) with a constant int8 weight whose input channels
// fill quads gets it in kQnnQuadWeightLayout ([C/4, R, S, K, 4]): the VNNI
// kernel reads it as it is (16 output channels' quads per vector), where it
// otherwise repacked the OIHW weight on every call (2.4 M bytes for each of
// ResNet-18's last 3x3 layers).
//
// qnn.dense over four rows or more with a constant int8 weight whose K fills
// quads gets it as [K/4, N, 4] (kQnnDenseQuadLayout): AMX's tiles read it in
// place, the paired form through its index, where it was repacked per call.
//
// Assumes typed IR, before FuseOps (batch_matmul fuses its epilogue as dense
// does). Weights shared by several dense ops are transposed once.
#include <map>

#include "lang/interpreter.h"
#include "lang/ops/layout.h"
#include "lang/ops/qnn.h"
#include "lang/ops/transform.h"
#include "lang/pass.h"
#include "lang/passes/function_builder.h"

namespace modelc::lang {
namespace {

constexpr int64_t kMinRows = 4;

bool packs_quads(const Module& m, const Binding& d) {
  if (!d.is_op("qnn.conv2d") || !d.args[1].is_constant() || !m.constant(d.args[1].constant).has_data()) return false;
  const auto& a = attrs_as<QnnConv2DAttrs>(*d.attrs);
  const TensorType& w = m.constant(d.args[1].constant).type();
  return a.groups == 1 && a.kernel_layout == "OIHW" && w.dtype == DType::int8 && w.rank() == 4 && w.shape[1] % 4 == 0;
}

// qnn.dense over four rows or more with a constant int8 [N, K] weight whose K
// fills quads.
bool packs_dense_quads(const Module& m, const Binding& d) {
  if (!d.is_op("qnn.dense") || !d.args[1].is_constant() || !m.constant(d.args[1].constant).has_data() || d.types.empty())
    return false;
  const auto& a = attrs_as<QnnMatmulAttrs>(*d.attrs);
  const TensorType& w = m.constant(d.args[1].constant).type();
  return a.kernel_layout == "NK" && w.dtype == DType::int8 && w.rank() == 2 && w.shape[1] % 4 == 0 &&
         d.types[0].shape[0] >= kMinRows;
}

// Re-emits binding i, `d` (a qnn.conv2d or qnn.dense with attrs A), with
// its constant weight in `layout` (transformed from `from` once per weight,
// shared through `packed`) and that kernel_layout in its attributes.
template <typename A>
void repack_weight(Module& m, FunctionBuilder& b, uint32_t i, const Binding& d, const char* from, const char* layout,
                   std::map<std::string, std::string>& packed) {
  auto found = packed.find(d.args[1].constant);
  if (found == packed.end()) {
    const Tensor w = transform_layout(m.constant(d.args[1].constant), Layout::parse(from), Layout::parse(layout));
    found = packed.emplace(d.args[1].constant, m.add_constant(d.args[1].constant + "_quads", w)).first;
  }
  auto attrs = std::make_shared<A>(attrs_as<A>(*d.attrs));
  attrs->kernel_layout = layout;
  std::vector<ValueRef> args;
  for (const ValueRef& v : d.args) args.push_back(b.map(v));
  args[1] = ValueRef::constant_named(found->second);
  b.replace(i, 0, b.emit(make_op_call(d.op->name, std::move(args), attrs, d.origin)));
}

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
    std::map<std::string, std::string> packed;      // int8 OIHW weight -> its quad layout
    std::map<std::string, std::string> dense_packed;  // int8 [N, K] weight -> [K/4, N, 4]
    for (uint32_t i = 0; i < fn.body.size(); ++i) {
      const Binding& d = fn.body[i];
      if (packs_dense_quads(out, d)) {
        repack_weight<QnnMatmulAttrs>(out, b, i, d, "NK", kQnnDenseQuadLayout, dense_packed);
        continue;
      }
      if (packs_quads(out, d)) {
        repack_weight<QnnConv2DAttrs>(out, b, i, d, "OIHW", kQnnQuadWeightLayout, packed);
        continue;
      }
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
