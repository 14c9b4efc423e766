// Passes and the pass manager.
//
// A pass is a named function Module -> Module with an opt level and the
// passes it requires. The manager, not the pass, decides order, skips passes
// above the opt level or disabled by the recipe, re-runs InferType where a
// pass requires it, times passes and hands each intermediate module to an
// observer (for `--emit ir`). Passes do not print; they return.
#pragma once

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "lang/module.h"

namespace modelc::lang {

struct PassContext {
  int opt_level = 2;
  std::set<std::string> disabled;  // pass names
  std::set<std::string> enabled;   // run even above opt_level
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

// Runs `pipeline` over `module`. Unknown pass names in the context are errors.
Module run_passes(const Module& module, const std::vector<std::string>& pipeline, const PassContext& context,
                  std::vector<PassTiming>* timings = nullptr);

// The passes (lang/passes/*.cpp).
Module infer_type(const Module& module, const PassContext& context);
Module simplify_inference(const Module& module, const PassContext& context);
Module fold_constant(const Module& module, const PassContext& context);
Module dead_code_elimination(const Module& module, const PassContext& context);
Module fuse_ops(const Module& module, const PassContext& context);

}  // namespace modelc::lang
