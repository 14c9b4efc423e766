// The GPU schedule of a kernel (see gpu.h). It works on the pipeline's
// Funcs as Halide sees them, after the compute rules built them, so that
// every op lowers for GPUs without a schedule of its own: the rules say what
// to compute, this file how a GPU computes it.
#include "lower/schedules/gpu.h"

#include <functional>
#include <map>
#include <set>
#include <string>

namespace modelc::lower {
namespace {

using Halide::Internal::Function;

// Whether every update of `f` writes the element named by its pure
// variables (f(x, y) += ...): then each element's updates are independent of
// the others', and one thread can compute an element on its own.
bool updates_write_own_element(const Function& f) {
  for (const Halide::Internal::Definition& u : f.updates()) {
    if (u.args().size() != f.args().size()) return false;
    for (size_t i = 0; i < u.args().size(); ++i) {
      const auto* v = u.args()[i].as<Halide::Internal::Variable>();
      if (!v || v->name != f.args()[i]) return false;
    }
  }
  return true;
}

// The pure variables an update writes at their own position: the dimensions
// a grid may run in parallel without two threads writing one element.
std::vector<Halide::Var> parallel_update_vars(const Function& f, const Halide::Internal::Definition& u) {
  std::vector<Halide::Var> vars;
  if (u.args().size() != f.args().size()) return vars;
  for (size_t i = 0; i < u.args().size(); ++i) {
    const auto* v = u.args()[i].as<Halide::Internal::Variable>();
    if (v && v->name == f.args()[i]) vars.emplace_back(v->name);
  }
  return vars;
}

// All `vars` (innermost first) fused into one loop, split into blocks of
// threads; returns the thread variable.
template <typename StageOrFunc>
void grid_over(StageOrFunc& s, const std::vector<Halide::Var>& vars, const Halide::Var& block, const Halide::Var& thread,
               const std::string& prefix) {
  Halide::Var fused = vars.front();
  for (size_t i = 1; i < vars.size(); ++i) {
    Halide::Var next(prefix + "_f" + std::to_string(i));
    s.fuse(fused, vars[i], next);
    fused = next;
  }
  s.gpu_tile(fused, block, thread, kGpuThreadsPerBlock, Halide::TailStrategy::GuardWithIf);
}

class GpuScheduler {
 public:
  GpuScheduler(const std::vector<Halide::Func>& outputs, const std::vector<Halide::Func>& roots) {
    std::vector<Function> out_functions;
    for (const Halide::Func& f : outputs) {
      out_functions.push_back(f.function());
      grids_.insert(f.name());
    }
    env_ = Halide::Internal::build_environment(out_functions);
    for (const Halide::Func& f : roots) grids_.insert(f.name());
    // An update reads its own Func (f(x) += ...): that is not a consumer.
    for (const auto& [name, f] : env_)
      for (const auto& [callee, _] : Halide::Internal::find_direct_calls(f))
        if (callee != name) consumers_[callee].insert(name);
    std::set<std::string> seen;
    for (const Function& f : out_functions) visit(f.name(), seen);
  }

  void run() {
    // Consumers before producers: a reduction's place depends on where its consumers are.
    for (auto it = producers_first_.rbegin(); it != producers_first_.rend(); ++it) place(*it);
    for (const std::string& name : producers_first_)
      if (grids_.count(name)) schedule_grid(env_.at(name));
  }

 private:
  void visit(const std::string& name, std::set<std::string>& seen) {
    if (!seen.insert(name).second) return;
    for (const auto& [callee, _] : Halide::Internal::find_direct_calls(env_.at(name)))
      if (callee != name) visit(callee, seen);
    producers_first_.push_back(name);
  }

  void place(const std::string& name) {
    if (grids_.count(name)) return;
    const Function& f = env_.at(name);
    if (!f.has_update_definition()) return;  // pure: inlined into its consumers
    if (!updates_write_own_element(f)) {
      grids_.insert(name);
      return;
    }
    const std::set<std::string> where = grids_consuming(name);
    if (where.size() == 1 && !env_.at(*where.begin()).has_update_definition()) {
      Halide::Func(f).compute_at(Halide::Func(env_.at(*where.begin())), thread_var(*where.begin()));
      placed_in_[name] = *where.begin();
      return;
    }
    grids_.insert(name);
  }

  // The grids whose threads compute `name` (through inlined Funcs and
  // reductions placed in a grid).
  std::set<std::string> grids_consuming(const std::string& name) {
    std::set<std::string> result;
    for (const std::string& c : consumers_[name]) {
      if (grids_.count(c)) result.insert(c);
      else if (auto it = placed_in_.find(c); it != placed_in_.end()) result.insert(it->second);
      else {
        const std::set<std::string> above = grids_consuming(c);
        result.insert(above.begin(), above.end());
      }
    }
    return result;
  }

  Halide::Var block_var(const std::string& grid) { return Halide::Var(grid + "_gpu_block"); }
  Halide::Var thread_var(const std::string& grid) { return Halide::Var(grid + "_gpu_thread"); }

  void schedule_grid(const Function& f) {
    Halide::Func func(f);
    func.compute_root();
    std::vector<Halide::Var> pure;
    for (const std::string& a : f.args()) pure.emplace_back(a);
    grid_over(func, pure, block_var(f.name()), thread_var(f.name()), f.name());
    for (int i = 0; i < static_cast<int>(f.updates().size()); ++i) {
      Halide::Stage update = func.update(i);
      const std::vector<Halide::Var> vars = parallel_update_vars(f, f.updates()[static_cast<size_t>(i)]);
      const std::string prefix = f.name() + "_u" + std::to_string(i);
      if (vars.empty()) update.gpu_single_thread();
      else grid_over(update, vars, Halide::Var(prefix + "_gpu_block"), Halide::Var(prefix + "_gpu_thread"), prefix);
    }
  }

  std::map<std::string, Function> env_;
  std::map<std::string, std::set<std::string>> consumers_;
  std::vector<std::string> producers_first_;
  std::set<std::string> grids_;                     // computed as grids of their own
  std::map<std::string, std::string> placed_in_;    // reductions computed inside a grid's threads
};

}  // namespace

void schedule_for_gpu(const std::vector<Halide::Func>& outputs, const std::vector<Halide::Func>& roots,
                      const Halide::Target&) {
  GpuScheduler(outputs, roots).run();
}

}  // namespace modelc::lower
