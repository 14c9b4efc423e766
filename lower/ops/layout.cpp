// Compute rule of layout_transform: each element of the result reads one
// element of the input, at the index lang/ops/layout.h computes.
#include "lang/ops/layout.h"

#include "lower/tensor_func.h"

namespace modelc::lower {
namespace {

using Halide::Expr;
using Halide::Var;

LoweredOp lower_layout_transform(std::span<const TensorFunc> args, const LowerContext& ctx) {
  const auto& a = lang::attrs_as<lang::LayoutTransformAttrs>(*ctx.binding.attrs);
  const lang::Layout from = lang::Layout::parse(a.src_layout), to = lang::Layout::parse(a.dst_layout);
  return {define(ctx.name, ctx.binding.types.at(0),
                 [&](const std::vector<Var>& v) {
                   return args[0].at(lang::source_index(from, to, std::vector<Expr>(v.begin(), v.end())));
                 }),
          {}, {}};
}

}  // namespace

void register_layout_lowerings(LoweringRegistry& r) { r.add("layout_transform", lower_layout_transform); }

}  // namespace modelc::lower
