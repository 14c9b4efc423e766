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
// qnn.conv2d with a constant int8 weight whose input channels (per group)
// fill quads gets it in kQnnQuadWeightLayout ([C/4, R, S, K, 4]): the VNNI
// kernel reads it as it is (16 output channels' quads per vector), where it
// otherwise repacked the OIHW weight on every call (2.4 M bytes for each of
// ResNet-18's last 3x3 layers). Where the kernel will vectorize output
// channels (narrow output rows: quad_layout) and K fills blocks of 16, it gets
// kQnnBlockedQuadWeightLayout ([K/16, C/4, R, S, 16, 4]; with 8 lanes of sums,
// blocks of 8: OIHW8o4i) instead, so that a block of channels reads its
// weights as one stream (PassContext::quad_weight_block; not where AMX tiles
// read them). With 8 lanes and a weight of 8 bits (AVX2 without VNNI, whose
// kernel multiplies int16 pairs) it gets kQnnBlockedPairWeightLayout ([K/8,
// C/2, R, S, 8, 2]) whatever its rows: the kernel had repacked every weight
// into int16 on each call (11 % of int8 ResNet-18's time on a Zen 3 core).
//
// qnn.dense over four rows or more with a constant int8 weight whose K fills
// quads gets it as [K/4, N, 4] (kQnnDenseQuadLayout): AMX's tiles read it in
// place, the paired form through its index, where it was repacked per call;
// with 8-bit weights on AVX2 (8 lanes, no 8-bit dot product) as [K/2, N, 2]
// (kQnnDensePairLayout), which its int16 pairs read as they are.
// Both fold an input zero point into their bias where that is exact (no
// padding): the kernels then add no weight sums per call. Every qnn.conv2d
// and qnn.dense gets kernel_bits from its weight (7 where a constant int8
// weight fits [-64, 63]: what AVX2's byte pairs need, lower/ops/qnn_conv2d.h).
//
// Assumes typed IR, before FuseOps (batch_matmul fuses its epilogue as dense
// does). Weights shared by several dense ops are transposed once.
#include <climits>
#include <map>
#include <type_traits>

#include "lang/interpreter.h"
#include "lang/ops/layout.h"
#include "lang/ops/qnn.h"
#include "lang/ops/transform.h"
#include "lang/pass.h"
#include "lang/passes/function_builder.h"

namespace modelc::lang {
namespace {

constexpr int64_t kMinRows = 4;
constexpr int64_t kBlockedMinSums = 512;

bool packs_quads(const Module& m, const Binding& d) {
  if (!d.is_op("qnn.conv2d") || !d.args[1].is_constant() || !m.constant(d.args[1].constant).has_data()) return false;
  const auto& a = attrs_as<QnnConv2DAttrs>(*d.attrs);
  const TensorType& w = m.constant(d.args[1].constant).type();
  return a.kernel_layout == "OIHW" && w.dtype == DType::int8 && w.rank() == 4 && w.shape[1] % 4 == 0;
}

// The quad layout packs_quads' convolution gets. Blocks of 16 output
// channels where the VNNI kernel will vectorize output channels, which it
// does for such weights (lower/ops/qnn_conv2d.cpp): rows narrower than its
// vector of 16 int32; and rows of 16-31 pixels (which fill one vector and
// part of a second) where each output sums at least kBlockedMinSums products,
// so that storing outputs byte by byte, as channel vectors do, costs little
// beside them. ResNet-18's 28 x 28 3x3 layers (1152 products) 0.42 -> 0.36 ms;
// MobileNetV2's 28 x 28 1x1 layers (32-192) were 1.7x slower so.
int64_t weight_bits(const Module& m, const Binding& d);

std::string quad_layout(const Module& m, const Binding& d, const PassContext& context) {
  const TensorType& w = m.constant(d.args[1].constant).type();  // OIHW
  const int64_t block = context.quad_weight_block;
  if (block == 0 || attrs_as<QnnConv2DAttrs>(*d.attrs).groups != 1 || w.shape[0] % block != 0 || d.types.empty() || d.types[0].rank() != 4)
    return kQnnQuadWeightLayout;
  // 8 lanes without VNNI (AVX2) multiply 8-bit weights in int16 pairs, which
  // always vectorize output channels: the weights in blocks of pairs (with
  // 7 bits, byte pairs read quads, below).
  if (block == 8 && weight_bits(m, d) > 7) return kQnnBlockedPairWeightLayout;
  const int64_t width = d.types[0].shape[3], sums = w.shape[1] * w.shape[2] * w.shape[3];
  const bool channels = width < block || (width < 2 * block && sums >= kBlockedMinSums);
  return channels ? blocked_quad_weight_layout(block) : kQnnQuadWeightLayout;
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

// qnn.dense over fewer than four rows (a classifier at batch 1) with a
// constant int8 [N, K] weight keeps it as it is (its kernel streams the rows)
// and gets its input zero point folded into its bias (below): on VNNI its
// row dot products are then uint8 x int8 quads (lower/ops/qnn_matmul.cpp).
bool folds_dense_rows(const Module& m, const Binding& d) {
  if (!d.is_op("qnn.dense") || !d.args[1].is_constant() || !m.constant(d.args[1].constant).has_data() || d.types.empty())
    return false;
  const auto& a = attrs_as<QnnMatmulAttrs>(*d.attrs);
  const TensorType& w = m.constant(d.args[1].constant).type();
  return a.kernel_layout == "NK" && a.input_zero_point != 0 && w.dtype == DType::int8 && w.rank() == 2 &&
         d.types[0].rank() == 2 && d.types[0].shape[0] < kMinRows;
}

// With an input zero point zx and weights w of zero point 0, the product is
// sum(x * w) - zx * sum(w) + bias: the second term is a constant per output
// channel, folded here into a new bias (the input zero point becomes 0), so
// that kernels do not sum every weight on every call (as long as the products
// themselves on MobileNetV2's 7x7 layers). Exact only where every tap reads
// the input: no padding (whose taps add nothing with the zero point, but
// would subtract zx * w here). Returns false, changing nothing, when the
// bias is not a constant or the new one would not fit in int32.
template <typename A>
bool fold_input_zero_point(Module& m, const Binding& d, A& attrs, std::vector<ValueRef>& args) {
  if (attrs.input_zero_point == 0) return false;
  for (int64_t zp : attrs.kernel_zero_point)
    if (zp != 0) return false;
  if constexpr (std::is_same_v<A, QnnConv2DAttrs>)
    for (int64_t p : attrs.padding)
      if (p != 0) return false;
  if (d.args.size() > 2 && !(d.args[2].is_constant() && m.constant(d.args[2].constant).has_data())) return false;
  const Tensor& w = m.constant(d.args[1].constant);  // [outputs, ...] (OIHW or NK)
  const int64_t outputs = w.type().shape[0];
  const int64_t per_output = w.type().element_count() / outputs;
  Tensor bias(TensorType{{outputs}, DType::int32});
  for (int64_t k = 0; k < outputs; ++k) {
    int64_t sum = 0;
    for (int64_t e = 0; e < per_output; ++e) sum += w.element_as_int(static_cast<size_t>(k * per_output + e));
    const int64_t b = d.args.size() > 2 ? m.constant(d.args[2].constant).element_as_int(static_cast<size_t>(k)) : 0;
    const int64_t folded = b - attrs.input_zero_point * sum;
    if (folded < INT32_MIN || folded > INT32_MAX) return false;
    bias.set_element(static_cast<size_t>(k), static_cast<double>(folded));
  }
  const std::string name = m.add_constant(d.args[1].constant + "_bias", std::move(bias));
  if (args.size() > 2) args[2] = ValueRef::constant_named(name);
  else args.push_back(ValueRef::constant_named(name));
  attrs.input_zero_point = 0;
  return true;
}

// kernel_bits (lang/ops/qnn.h) as binding `d`'s weight shows it: 7 where it
// is a constant int8 weight in [-64, 63], else 8 (also where a graph
// claimed 7 of a weight that is not a constant).
int64_t weight_bits(const Module& m, const Binding& d) {
  if (d.args.size() < 2 || !d.args[1].is_constant() || !m.constant(d.args[1].constant).has_data()) return 8;
  const Tensor& w = m.constant(d.args[1].constant);
  if (w.type().dtype != DType::int8) return 8;
  for (int8_t v : w.values<int8_t>())
    if (v < -64 || v > 63) return 8;
  return 7;
}

// Re-emits binding i, `d` (a qnn.conv2d or qnn.dense), with kernel_bits as
// its weight shows it, if its attributes said otherwise; false if they did not.
template <typename A>
bool set_kernel_bits(const Module& m, FunctionBuilder& b, uint32_t i, const Binding& d) {
  const int64_t bits = weight_bits(m, d);
  if (attrs_as<A>(*d.attrs).kernel_bits == bits) return false;
  auto attrs = std::make_shared<A>(attrs_as<A>(*d.attrs));
  attrs->kernel_bits = bits;
  std::vector<ValueRef> args;
  for (const ValueRef& v : d.args) args.push_back(b.map(v));
  b.replace(i, 0, b.emit(make_op_call(d.op->name, std::move(args), attrs, d.origin)));
  return true;
}

// Re-emits binding i, `d` (a qnn.conv2d or qnn.dense with attrs A), with
// its constant weight in `layout` (transformed from `from` once per weight,
// shared through `packed`; nullptr: the weight as it is) and that
// kernel_layout and kernel_bits in its attributes, and its input zero point
// folded into its bias where it can be.
template <typename A>
void repack_weight(Module& m, FunctionBuilder& b, uint32_t i, const Binding& d, const char* from, const char* layout,
                   std::map<std::string, std::string>& packed /* weight and layout -> packed */) {
  auto attrs = std::make_shared<A>(attrs_as<A>(*d.attrs));
  attrs->kernel_bits = weight_bits(m, d);
  std::vector<ValueRef> args;
  for (const ValueRef& v : d.args) args.push_back(b.map(v));
  fold_input_zero_point(m, d, *attrs, args);
  if (layout != nullptr) {
    const std::string key = d.args[1].constant + " " + layout;
    auto found = packed.find(key);
    if (found == packed.end()) {
      const Tensor w = transform_layout(m.constant(d.args[1].constant), Layout::parse(from), Layout::parse(layout));
      const bool pairs = std::string(layout) == kQnnBlockedPairWeightLayout || std::string(layout) == kQnnDensePairLayout;
      found = packed.emplace(key, m.add_constant(d.args[1].constant + (pairs ? "_pairs" : "_quads"), w)).first;
    }
    attrs->kernel_layout = layout;
    args[1] = ValueRef::constant_named(found->second);
  }
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
    std::map<std::string, std::string> packed;      // int8 OIHW weight and its layout -> the packed weight
    std::map<std::string, std::string> dense_packed;  // int8 [N, K] weight -> [K/4, N, 4]
    for (uint32_t i = 0; i < fn.body.size(); ++i) {
      const Binding& d = fn.body[i];
      if (packs_dense_quads(out, d)) {
        // 8-bit weights on AVX2 (8 lanes, no 8-bit dot product): int16 pairs.
        const bool pairs = context.quad_weight_block == 8 && weight_bits(out, d) > 7;
        repack_weight<QnnMatmulAttrs>(out, b, i, d, "NK", pairs ? kQnnDensePairLayout : kQnnDenseQuadLayout, dense_packed);
        continue;
      }
      if (folds_dense_rows(out, d)) {
        repack_weight<QnnMatmulAttrs>(out, b, i, d, "NK", nullptr, dense_packed);
        continue;
      }
      if (packs_quads(out, d)) {
        repack_weight<QnnConv2DAttrs>(out, b, i, d, "OIHW", quad_layout(out, d, context).c_str(), packed);
        continue;
      }
      if (d.is_op("qnn.conv2d") && set_kernel_bits<QnnConv2DAttrs>(out, b, i, d)) continue;
      if (d.is_op("qnn.dense") && set_kernel_bits<QnnMatmulAttrs>(out, b, i, d)) continue;
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
