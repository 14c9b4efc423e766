// The operator registry of the IR.
//
// Each operator is registered once, in lang/ops/<family>.cpp, with its
// attribute struct, its type rule (shapes and dtypes of the results from those
// of the arguments), its fusion pattern and a plain C++ reference kernel. The
// reference kernels are the constant folder, the numerical oracle of the tests
// and the `reference` baseline of reports. Frontends and passes ask the
// registry; they never re-derive a shape.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lang/attrs.h"
#include "lang/tensor.h"
#include "lang/type.h"

namespace modelc::lang {

// How an op may be fused with its neighbours (the order matters: a group's
// pattern is the maximum of its members').
enum class OpPattern {
  elemwise = 0,              // out[i] = f(in[i])
  broadcast = 1,             // elementwise after numpy broadcasting
  injective = 2,             // each output element reads a computable input element (reshape, transpose)
  reduction = 3,             // reduces some axes (sum, softmax)
  out_elemwise_fusable = 4,  // an anchor whose output elementwise consumers fuse in (conv2d, dense, pooling)
  opaque = 5,                // never fused
};

std::string_view pattern_name(OpPattern pattern);

// Throws modelc::Error with a message such as "expects 4-D input, found
// Tensor[(1, 3), float32]"; the caller adds the location.
using TypeRule = std::function<std::vector<TensorType>(std::span<const TensorType> args, const Attrs& attrs)>;
using ReferenceKernel = std::function<std::vector<Tensor>(std::span<const Tensor> args, const Attrs& attrs,
                                                          std::span<const TensorType> result_types)>;
// Multiply-adds one call performs, for ops whose cost is dominated by them
// (convolutions, matrix products); the roofline estimates of reports count
// 2 FLOPs each. Types are those of a typed call, in whatever layout it has.
using MultiplyAddCount = std::function<int64_t(std::span<const TensorType> args, const Attrs& attrs,
                                               std::span<const TensorType> result_types)>;

struct OpDef {
  std::string name;           // e.g. "nn.conv2d"
  std::string summary;        // one line for docs and `modelc ops`
  int min_args = 1;
  int max_args = 1;           // -1: variadic
  OpPattern pattern = OpPattern::opaque;
  std::function<std::unique_ptr<Attrs>()> make_attrs = [] { return std::make_unique<NoAttrs>(); };
  TypeRule infer_type;
  ReferenceKernel reference;
  MultiplyAddCount multiply_adds = nullptr;  // empty: the op does no multiply-adds worth counting
};

class OpRegistry {
 public:
  // The registry with every op of lang/ops registered.
  static const OpRegistry& global();

  void add(OpDef def);
  const OpDef* find(std::string_view name) const;
  // Like find, but throws modelc::Error naming the op (with a did-you-mean).
  const OpDef& get(std::string_view name) const;
  std::vector<const OpDef*> all() const;

 private:
  std::map<std::string, std::unique_ptr<OpDef>, std::less<>> ops_;
};

// Family registration functions, one per lang/ops/<family>.cpp.
void register_nn_ops(OpRegistry& registry);
void register_elementwise_ops(OpRegistry& registry);
void register_transform_ops(OpRegistry& registry);
void register_indexing_ops(OpRegistry& registry);
void register_reduce_ops(OpRegistry& registry);
void register_window_ops(OpRegistry& registry);
void register_normalization_ops(OpRegistry& registry);
void register_layout_ops(OpRegistry& registry);
void register_winograd_ops(OpRegistry& registry);
void register_qnn_ops(OpRegistry& registry);

}  // namespace modelc::lang
