// Passes and the pass manager.
//
// A pass is a named function Module -> Module with an opt level and the
// passes it requires. The manager, not the pass, decides order, skips passes
// above the opt level or disabled by the recipe, re-runs InferType where a
// pass requires it, times passes and hands each intermediate module to an
// observer (for `--emit ir`). Passes do not print; they return.
//
// The default pipeline, in order, with the level from which each pass runs
// (the recipe's optimize.level; optimize.enable/disable switch passes by name):
//
//   InferType                        0  types of every binding
//   SimplifyInference                0  batch norm folded into conv, or a multiply-add
//   FoldConstant                     1  calls on constants evaluated
//   SimplifyExpr                     1  reshape/transpose/layout_transform pairs, identity ops, scalar scales
//   FoldScaleAxis                    2  per-channel scales folded into conv/dense weights
//   CommonSubexpressionElimination   2  repeated calls computed once
//   Quantize                         0  int8 post-training quantization (quantization.mode: int8 only)
//   PadChannels                      2  convolutions with narrow-block channel counts widened (NCHW<k>c only)
//   ConvertLayout                    0  activations in PassContext::activation_layout (no-op for NCHW)
//   FoldConstant                     1
//   SimplifyExpr                     1  cancels the transforms ConvertLayout left back to back
//   DeadCodeElimination              1
//   FuseOps                          1  primitive functions, one result per value used outside the
//                                       group (the driver runs it at every level); at level 2 it also
//                                       fuses elementwise/injective siblings that read the same tensors,
//                                       at level 3 merges multi-consumer elementwise regions and
//                                       elementwise prologues of reductions
//   InferType                        0
//
// So level 0 imports, types, folds batch norm, converts the layout and fuses;
// level 1 adds constant folding, local simplification and dead-code removal;
// level 2 (the recipe's default) adds scale folding and CSE; level 3 fuses
// more aggressively.
#pragma once

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "lang/module.h"
#include "lang/passes/quantize.h"
#include "spec/model_limits.h"

namespace modelc::lang {

struct PassContext {
  int opt_level = 2;
  std::set<std::string> disabled;  // pass names
  std::set<std::string> enabled;   // run even above opt_level
  // The layout ConvertLayout gives activations: NCHW (default), NHWC or NCHW<k>c.
  std::string activation_layout = "NCHW";
  // The recipe's model.limits: InferType checks every binding's type against
  // them, FoldConstant the constants it adds (lang/size_limits.h).
  spec::ModelLimits limits;
  // The recipe's quantization block and calibration samples (Quantize).
  QuantizeOptions quantize;
  // AlterOpLayout packs the int8 weights of convolutions with rows narrower
  // than a vector in blocks of this many output channels (16:
  // kQnnBlockedQuadWeightLayout; 8: blocked_quad_weight_layout(8)), a
  // vector of the kernel's sums. 0 where AMX tiles will read them (their
  // kernel reads kQnnQuadWeightLayout) or vectors hold 4 (the driver
  // decides from the host and the layout).
  int64_t quad_weight_block = 16;
  // Called after each pass that ran, with its name and result.
  std::function<void(const std::string& pass, const Module& module)> after_pass;
};

using PassFunction = std::function<Module(const Module&, const PassContext&)>;

struct PassInfo {
  std::string name;
  int opt_level = 0;  // runs when PassContext::opt_level >= this
  std::vector<std::string> required;  // passes that must have run before (InferType is re-run automatically)
  std::string summary;
  PassFunction run;
};

struct PassTiming {
  std::string name;
  double seconds = 0;
  bool ran = false;
  std::string skipped_because;  // when !ran
};

class PassRegistry {
 public:
  static const PassRegistry& global();
  void add(PassInfo info);
  const PassInfo* find(std::string_view name) const;
  // Throws modelc::Error with a did-you-mean for unknown names.
  const PassInfo& get(std::string_view name) const;
  const std::vector<PassInfo>& all() const { return passes_; }

 private:
  std::vector<PassInfo> passes_;
};

// The default pipeline, in order (each pass's own opt level decides whether it runs).
std::vector<std::string> default_pipeline();
// The passes of the default pipeline that run at `opt_level` with nothing enabled or disabled.
std::vector<std::string> pipeline_at_level(int opt_level);

// Runs `pipeline` over `module`. Unknown pass names in the context are errors.
Module run_passes(const Module& module, const std::vector<std::string>& pipeline, const PassContext& context,
                  std::vector<PassTiming>* timings = nullptr);

// The passes (lang/passes/*.cpp).
Module infer_type(const Module& module, const PassContext& context);
Module simplify_inference(const Module& module, const PassContext& context);
Module fold_constant(const Module& module, const PassContext& context);
Module dead_code_elimination(const Module& module, const PassContext& context);
Module fuse_ops(const Module& module, const PassContext& context);
Module simplify_expr(const Module& module, const PassContext& context);
Module fold_scale_axis(const Module& module, const PassContext& context);
Module common_subexpression_elimination(const Module& module, const PassContext& context);
Module pad_channels(const Module& module, const PassContext& context);
Module convert_layout(const Module& module, const PassContext& context);
Module alter_op_layout(const Module& module, const PassContext& context);
Module winograd_conv2d(const Module& module, const PassContext& context);
Module quantize(const Module& module, const PassContext& context);
Module reduce_precision(const Module& module, const PassContext& context);
Module pack_matmul_weights(const Module& module, const PassContext& context);

}  // namespace modelc::lang
