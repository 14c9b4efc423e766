#include <algorithm>

#include "lang/pass.h"
#include "support/diagnostic.h"
#include "support/spelling.h"

namespace modelc::lang {

const PassRegistry& PassRegistry::global() {
  static const PassRegistry registry = [] {
    PassRegistry r;
    r.add({"InferType", 0, {}, "infers the type of every binding from the op type rules", infer_type});
    r.add({"SimplifyInference", 0, {"InferType"},
           "folds batch normalisation into the preceding convolution, or into a multiply-add", simplify_inference});
    r.add({"FoldConstant", 1, {"InferType"}, "evaluates bindings whose arguments are all constants", fold_constant});
    r.add({"DeadCodeElimination", 1, {}, "removes unused bindings, constants and functions", dead_code_elimination});
    r.add({"FuseOps", 1, {"InferType"},
           "groups each anchor op (conv2d, dense, pooling) with its elementwise consumers, and elementwise/injective "
           "regions, into primitive functions that return every value used outside them",
           fuse_ops});
    r.add({"SimplifyExpr", 1, {"InferType"},
           "merges reshapes, cancels transpose and layout_transform pairs, drops identity ops, folds scalar scales "
           "into conv/dense weights, makes swish one nn.silu, GELU one nn.gelu and a decomposed layer norm one nn.layer_norm, sinks reshapes of size-1 axes below elementwise ops",
           simplify_expr});
    r.add({"FoldScaleAxis", 2, {"InferType"}, "folds per-channel scales before or after a convolution into its weights",
           fold_scale_axis});
    r.add({"CommonSubexpressionElimination", 2, {}, "computes repeated calls with equal arguments and attributes once",
           common_subexpression_elimination});
    r.add({"Quantize", 0, {"InferType"},
           "int8 post-training quantization of conv2d and dense (with bias, ReLU/Clip, residual adds): calibrates "
           "activation ranges on the recipe's samples; does nothing unless quantization.mode is int8",
           quantize});
    r.add({"PadChannels", 2, {"InferType"},
           "widens convolutions whose output channels fill no whole vector block (ShuffleNet's 58, 116) to the next "
           "multiple with zero weights, sliced back where a use needs the model's channels",
           pad_channels});
    r.add({"ConvertLayout", 0, {"InferType"},
           "stores activations in the recipe's layout (NHWC, NCHW<k>c), weights transformed at compile time",
           convert_layout});
    r.add({"AlterOpLayout", 2, {"InferType"},
           "gives constant weights the layout their kernel wants: dense with >= 4 rows becomes batch_matmul with "
           "[K, N] weights, transposed at compile time",
           alter_op_layout});
    r.add({"WinogradConv2D", 2, {"InferType"},
           "computes blocked stride-1 3x3 and 5x5 convolutions with Winograd F(4x4 or 2x2, 3x3) and F(2x2, 5x5), "
           "1 x r / r x 1 ones (r = 3, 5, 7) with F(m, r) along their long axis; weights transformed at compile time",
           winograd_conv2d});
    r.add({"ReducePrecision", 0, {"InferType"},
           "bf16/fp16: stores the constant weights of conv2d, dense and batch_matmul in bfloat16 or float16 (read "
           "as float32 by the kernels); does nothing unless quantization.mode is bf16 or fp16",
           reduce_precision});
    r.add({"PackMatmulWeights", 2, {"InferType"},
           "stores the float32 constant weight [K, N] of a matrix product in panels of one vector's columns "
           "[N/c, K, c] (nn.packed_matmul), a bfloat16 one in panels of row pairs [N/c, K/2, c, 2], packed at "
           "compile time; nothing for an unblocked activation layout",
           pack_matmul_weights});
    return r;
  }();
  return registry;
}

void PassRegistry::add(PassInfo info) { passes_.push_back(std::move(info)); }

const PassInfo* PassRegistry::find(std::string_view name) const {
  for (const PassInfo& p : passes_)
    if (p.name == name) return &p;
  return nullptr;
}

const PassInfo& PassRegistry::get(std::string_view name) const {
  if (const PassInfo* p = find(name)) return *p;
  std::vector<std::string> names;
  for (const PassInfo& p : passes_) names.push_back(p.name);
  const std::string guess = closest_spelling(name, names);
  throw Error(Diagnostic{Severity::error, {}, {}, "unknown pass '" + std::string(name) + "'",
                         guess.empty() ? "" : "did you mean '" + guess + "'?"});
}

std::vector<std::string> default_pipeline() {
  return {"InferType",     "SimplifyInference", "FoldConstant",       "SimplifyExpr",
          "FoldScaleAxis", "CommonSubexpressionElimination", "Quantize",  "PadChannels", "ConvertLayout",
          "AlterOpLayout", "WinogradConv2D", "FoldConstant",  "SimplifyExpr",      "ReducePrecision", "PackMatmulWeights", "DeadCodeElimination", "FuseOps",
          "InferType"};
}

std::vector<std::string> pipeline_at_level(int opt_level) {
  std::vector<std::string> out;
  for (const std::string& name : default_pipeline())
    if (PassRegistry::global().get(name).opt_level <= opt_level) out.push_back(name);
  return out;
}

Module run_passes(const Module& module, const std::vector<std::string>& pipeline, const PassContext& context,
                  std::vector<PassTiming>* timings) {
  const PassRegistry& registry = PassRegistry::global();
  for (const std::string& name : context.disabled) registry.get(name);
  for (const std::string& name : context.enabled) registry.get(name);

  Module current = module;
  for (const std::string& name : pipeline) {
    const PassInfo& pass = registry.get(name);
    PassTiming timing{name, 0, false, {}};
    if (context.disabled.count(name) && name != "InferType") {
      timing.skipped_because = "disabled by the recipe";
    } else if (pass.opt_level > context.opt_level && !context.enabled.count(name)) {
      timing.skipped_because = "needs opt level " + std::to_string(pass.opt_level);
    } else {
      const auto start = std::chrono::steady_clock::now();
      // Every pass but InferType may assume (and must leave behind) typed IR.
      if (name != "InferType" && std::find(pass.required.begin(), pass.required.end(), "InferType") != pass.required.end())
        current = infer_type(current, context);
      current = pass.run(current, context);
      timing.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      timing.ran = true;
      if (context.after_pass) context.after_pass(name, current);
    }
    if (timings) timings->push_back(timing);
  }
  return current;
}

}  // namespace modelc::lang
