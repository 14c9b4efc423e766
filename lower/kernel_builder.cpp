// Builds the Halide pipeline of one primitive function and compiles it, ahead
// of time to an object file, or with the JIT for tests.
#include <Halide.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "lang/text.h"
#include "lower/kernel_names.h"
#include "lower/llvm_object.h"
#include "lower/lowering.h"
#include "lower/ops/qnn.h"
#include "lower/ops/qnn_conv2d.h"
#include "lower/schedules/gpu.h"
#include "lower/tensor_func.h"
#include "support/diagnostic.h"
#include "support/sha256.h"

namespace modelc::lower {
namespace {

// The pipeline of one primitive function. Its output buffers, in order (the
// elements of a Tuple-valued output Func one after the other), are the
// function's results: a kernel takes its parameters, then its results.
struct KernelPipeline {
  std::vector<Halide::ImageParam> params;
  std::vector<Halide::Func> outputs;
  std::vector<lang::TensorType> result_types;
};

// Halide needs a dimension: a scalar is a one-element buffer.
lang::TensorType buffer_type(const lang::TensorType& type) {
  return type.rank() == 0 ? lang::TensorType{{1}, type.dtype} : type;
}

// The value of `t` at the output position `vars` (IR order, rank max(1, t's rank)).
Halide::Expr value_at(const TensorFunc& t, const std::vector<Halide::Var>& vars) {
  if (t.type.rank() == 0) return t.func(Halide::Expr(0));
  return t.func(halide_order(vars));
}

// `values` stored by one pure Func (a Tuple when there are several), all of buffer shape `shape`.
Halide::Func store(const std::string& name, const std::vector<TensorFunc>& values, const std::vector<Halide::Var>& vars) {
  Halide::Func f(name);
  std::vector<Halide::Expr> exprs;
  for (const TensorFunc& v : values) exprs.push_back(value_at(v, vars));
  if (exprs.size() == 1) f(halide_order(vars)) = exprs[0];
  else f(halide_order(vars)) = Halide::Tuple(exprs);
  return f;
}

// Fixes bounds and strides of a buffer. Halide ties the bounds of a Tuple's
// later output buffers to the first one's and refuses constraints on them, so
// for those (`bounds` false) only the strides are set.
void set_static_shape(Halide::OutputImageParam p, const lang::TensorType& type, bool bounds = true) {
  const auto strides = lang::contiguous_strides(type.shape);
  const size_t rank = type.rank();
  if (rank == 0) {
    if (bounds) p.dim(0).set_bounds(0, 1);
    p.dim(0).set_stride(1);
    return;
  }
  for (size_t d = 0; d < rank; ++d) {
    const size_t ir = rank - 1 - d;  // Halide dim d is IR axis rank-1-d
    if (bounds) p.dim(static_cast<int>(d)).set_bounds(0, static_cast<int>(type.shape[ir]));
    p.dim(static_cast<int>(d)).set_stride(static_cast<int>(strides[ir]));
  }
}

// Halide 14 calls any CPU with AVX512-BF16 and VNNI a Sapphire Rapids (AMD
// Zen 4 and 5 included) and compiles for LLVM's "sapphirerapids", whose
// AVX512-FP16 and AVX-VNNI such CPUs lack. Artifact kernels keep the feature
// (vpdpbusd) and are compiled without those extensions (lower/llvm_object.h);
// the JIT cannot be, and drops the feature on such a CPU.
Halide::Target host_target(bool jit) {
  Halide::Target t = Halide::get_host_target();
  if (jit && t.has_feature(Halide::Target::AVX512_SapphireRapids) && !missing_sapphirerapids_features().empty())
    t = t.without_feature(Halide::Target::AVX512_SapphireRapids);
  return t;
}

// The LLVM features an artifact kernel for `t` is compiled without: this
// machine's missing Sapphire Rapids extensions, where Halide compiles for
// that CPU ("" when nothing needs to be switched off).
std::string switched_off_features(const Halide::Target& t) {
  if (t.arch != Halide::Target::X86 || !t.has_feature(Halide::Target::AVX512_SapphireRapids)) return "";
  return missing_sapphirerapids_features();
}

// Artifact kernels for CPUs are compiled without Halide's run-time checks
// (no_asserts): they validate each buffer's type, shape and strides, every
// allocation's size and result, on every call, and that checking code was
// half of the time LLVM spent on a kernel (DenseNet-121 cold: 19 s with it,
// 9.3 s without). The executor builds every buffer from the plan the
// kernels were compiled for and checks the caller's (runtime/
// modelc_executor.c, mc_bind), the artifact builder refuses a tensor that
// Halide's 32-bit buffers cannot address (targets/artifact.cpp), Halide
// refuses a constant-size scratch allocation over 2^31 bytes at compile
// time, and the executor's allocator stops the program with a message when
// the heap is exhausted. GPU and DSP kernels keep the checks (they report
// device API failures), and so does the JIT (tests, reference runs).
Halide::Target parse_target(const std::string& text, bool jit) {
  Halide::Target t = text == "host" ? host_target(jit) : Halide::Target(text);
  if (jit) return t;
  t = t.with_feature(Halide::Target::NoRuntime);
  const bool cpu = t.arch == Halide::Target::X86 || t.arch == Halide::Target::ARM ||
                   t.arch == Halide::Target::RISCV || t.arch == Halide::Target::WebAssembly;
  if (cpu && !t.has_gpu_feature()) t = t.with_feature(Halide::Target::NoAsserts);
  return t;
}

// How the results of a function become output Funcs: all in one (a Tuple)
// when they share one shape, so that any schedule, an anchor's included,
// computes every result in one loop nest; otherwise one output Func per
// result (FuseOps gives such kernels no anchor, see lang/passes/fuse_ops.cpp).
struct OutputLayout {
  bool one_func = true;
  std::vector<int> result_of;  // per binding: the first result it is, or -1
  std::vector<bool> rooted;    // per binding: computed at root, being shared by several output Funcs
};

OutputLayout layout_outputs(const lang::Function& fn, const std::vector<lang::TensorType>& result_types) {
  OutputLayout layout;
  for (const lang::TensorType& t : result_types)
    layout.one_func = layout.one_func && buffer_type(t).shape == buffer_type(result_types.front()).shape;
  layout.result_of.assign(fn.body.size(), -1);
  layout.rooted.assign(fn.body.size(), false);
  for (size_t k = fn.results.size(); k-- > 0;)
    if (fn.results[k].is_binding()) layout.result_of[fn.results[k].index] = static_cast<int>(k);
  if (layout.one_func) return layout;

  // Output Funcs that compute each binding's value: a result is computed by
  // its own (consumers read it back from there); other values are inlined
  // into every output Func that reaches them. A reduction inlined into two
  // output Funcs would be computed twice, so it is computed at root once.
  const size_t n = fn.body.size();
  std::vector<std::set<size_t>> reach(n);
  for (size_t i = n; i-- > 0;) {
    if (layout.result_of[i] >= 0) {
      reach[i] = {static_cast<size_t>(layout.result_of[i])};
      continue;
    }
    for (size_t j = i + 1; j < n; ++j) {
      bool reads = false;
      for (const lang::ValueRef& a : fn.body[j].args) reads = reads || (a.is_binding() && a.index == i);
      if (!reads) continue;
      if (layout.result_of[j] >= 0) reach[i].insert(static_cast<size_t>(layout.result_of[j]));
      else if (layout.rooted[j]) reach[i].insert(fn.results.size() + j);
      else reach[i].insert(reach[j].begin(), reach[j].end());
    }
    const lang::Binding& b = fn.body[i];
    layout.rooted[i] = reach[i].size() > 1 && b.op && b.op->pattern >= lang::OpPattern::reduction;
  }
  return layout;
}

// A pure output Func storing `value`, over fresh vars.
struct StoredValue {
  Halide::Func func;
  std::vector<Halide::Var> vars;
};

StoredValue stored(const std::string& name, const TensorFunc& value) {
  StoredValue s{{}, make_vars(std::max<size_t>(1, value.type.rank()), name + "_")};
  s.func = store(name, {value}, s.vars);
  return s;
}

// Builds the pipeline of one function: parameters, then each binding through
// its op's compute rule, then the output Funcs with their schedules.
//
// Every Func is named "<prefix>_<local name>" with the kernel's symbol as the
// prefix. Halide makes a Func's name unique within the process by appending
// "$n" to a name seen before, and those names reach the object code (closure
// symbols, error messages); with names unique to the kernel, its object is
// the same whichever kernels the process compiled before it.
class PipelineBuilder {
 public:
  PipelineBuilder(const lang::Module& module, const lang::Function& fn, const Halide::Target& target, std::string prefix,
                  const ScheduleKnobs& knobs, std::optional<TileRequest>* tile_request, bool amx, bool bf16_dot)
      : fn_(fn),
        target_(target),
        amx_(amx),
        bf16_dot_(bf16_dot),
        knobs_(knobs),
        tile_request_(tile_request),
        lanes_(target.natural_vector_size<float>()),
        gpu_(target.has_gpu_feature()),
        prefix_(std::move(prefix)) {
    if (fn.results.empty()) throw Error("@" + fn.name + ": a kernel needs at least one result");
    kp_.result_types = module.result_types(fn);
    layout_ = layout_outputs(fn, kp_.result_types);
    separate_.resize(fn.results.size());
    // With two anchors (FuseOps' producer fusion), the first is computed inside the second.
    std::vector<size_t> anchors;
    for (size_t i = 0; i < fn.body.size(); ++i)
      if (fn.body[i].op && fn.body[i].op->pattern == lang::OpPattern::out_elemwise_fusable) anchors.push_back(i);
    if (anchors.size() == 2) producer_binding_ = anchors.front();
  }

  KernelPipeline build() {
    lower_params();
    for (size_t i = 0; i < fn_.body.size(); ++i) values_.push_back(lower_binding(i));
    for (Halide::Func& f : needs_root_) f.compute_root();
    if (layout_.one_func) store_in_one_func();
    else store_separately();
    // A GPU target gets no CPU schedule (anchor or injective): one schedule for the whole pipeline.
    if (gpu_) schedule_for_gpu(kp_.outputs, needs_root_, target_);
    return std::move(kp_);
  }

 private:
  void lower_params() {
    for (size_t i = 0; i < fn_.params.size(); ++i) {
      const lang::TensorType& type = fn_.params[i].type;
      Halide::ImageParam p(halide_type(type.dtype), std::max<int>(1, static_cast<int>(type.rank())), "p" + std::to_string(i));
      set_static_shape(p, type);
      kp_.params.push_back(p);
      // A pure wrapper keeps rules independent of whether an argument is an ImageParam.
      params_.push_back(define(prefix_ + "_in" + std::to_string(i), type, [&](const std::vector<Halide::Var>& v) {
        std::vector<Halide::Expr> idx(v.begin(), v.end());
        return idx.empty() ? p(0) : p(halide_order(idx));
      }));
    }
  }

  // The value of binding `i` as later bindings read it. With one output Func
  // per result, a result is stored by its output Func right away, and later
  // bindings read it back from there.
  TensorFunc lower_binding(size_t i) {
    const lang::Binding& b = fn_.body[i];
    if (!b.op) throw Error("@" + fn_.name + ": nested function calls cannot be lowered");
    const ComputeRule* rule = LoweringRegistry::global().find(b.op->name);
    if (!rule) throw Error("operator " + b.op->name + " has no lowering (in @" + fn_.name + ")");
    std::vector<TensorFunc> args;
    std::vector<lang::TensorType> arg_types;
    std::vector<bool> computed;
    for (const lang::ValueRef& a : b.args) {
      if (a.is_param()) args.push_back(params_.at(a.index));
      else if (a.is_binding()) args.push_back(values_.at(a.index));
      else throw Error("@" + fn_.name + ": constants must be parameters of primitive functions");
      arg_types.push_back(args.back().type);
      computed.push_back(a.is_binding());
    }
    LoweredOp lowered =
        (*rule)(args, LowerContext{b, arg_types, prefix_ + "_v" + std::to_string(i), target_, amx_, bf16_dot_, std::move(computed),
                                   i == producer_binding_});
    if (lowered.schedule) add_anchor(lowered);
    if (lowered.injective_schedule) result_schedules_[i] = lowered.injective_schedule;
    for (Halide::Func& f : lowered.needs_root) needs_root_.push_back(f);
    const TensorFunc& value = lowered.value;
    if (!layout_.one_func && layout_.result_of[i] >= 0) {
      const auto k = static_cast<size_t>(layout_.result_of[i]);
      separate_[k] = stored(prefix_ + "_out" + std::to_string(k), value);
      return TensorFunc{separate_[k].func, value.type};
    }
    if (layout_.rooted[i]) {
      StoredValue root = stored(prefix_ + "_v" + std::to_string(i) + "_root", value);
      root.func.compute_root();
      if (gpu_) needs_root_.push_back(root.func);
      else schedule_injective(ScheduleContext{root.func, root.vars, buffer_type(value.type), target_, lanes_});
      return TensorFunc{root.func, value.type};
    }
    return value;
  }

  // A kernel has one anchor, or two when FuseOps fused a producer into its
  // consumer: the last one schedules the kernel and computes the first.
  void add_anchor(const LoweredOp& lowered) {
    if (!anchor_schedule_) {
      anchor_schedule_ = lowered.schedule;
      anchor_optional_ = lowered.schedule_optional;
      producer_ = lowered.stage;
      return;
    }
    if (producer_used_ || !producer_.apply || !lowered.takes_producer)
      throw Error("@" + fn_.name + ": a kernel with two anchors whose second cannot compute the first inside its loops");
    anchor_schedule_ = lowered.schedule;
    anchor_optional_ = false;
    producer_used_ = true;
  }

  const TensorFunc& result_value(size_t k) const {
    const lang::ValueRef& r = fn_.results[k];
    return r.is_param() ? params_.at(r.index) : values_.at(r.index);
  }

  // One output Func of the results' common shape, a Tuple when there are
  // several, scheduled by the anchor (or as an injective kernel).
  void store_in_one_func() {
    const lang::TensorType shape = buffer_type(kp_.result_types.back());
    const std::vector<Halide::Var> vars = make_vars(shape.rank(), "o");
    std::vector<TensorFunc> results;
    for (size_t k = 0; k < fn_.results.size(); ++k) results.push_back(result_value(k));
    Halide::Func out = store(prefix_ + "_out", results, vars);
    for (size_t k = 0; k < results.size(); ++k)
      set_static_shape(results.size() == 1 ? out.output_buffer() : out.output_buffers()[k],
                       buffer_type(kp_.result_types[k]), k == 0);
    const ScheduleContext ctx{out, vars, shape, target_, lanes_, knobs_, tile_request_, ops_per_element(),
                              producer_used_ ? &producer_ : nullptr};
    const ScheduleHook* own = results.size() == 1 ? result_schedule(0) : nullptr;
    if (!gpu_ && anchor_schedule_) anchor_schedule_(ctx);
    else if (!gpu_ && own) (*own)(ctx);
    else if (!gpu_) schedule_injective(ctx);
    kp_.outputs.push_back(out);
  }

  // One output Func per result, each scheduled as an injective kernel.
  void store_separately() {
    if (anchor_schedule_ && !anchor_optional_)
      throw Error("@" + fn_.name + ": results of different shapes in a kernel with an anchor schedule (" +
                  kp_.result_types.front().str() + ", " + kp_.result_types.back().str() + ")");
    for (size_t k = 0; k < fn_.results.size(); ++k) {
      const lang::ValueRef& r = fn_.results[k];
      if (!r.is_binding() || layout_.result_of[r.index] != static_cast<int>(k))  // a parameter, or a value returned twice
        separate_[k] = stored(prefix_ + "_out" + std::to_string(k), result_value(k));
      const lang::TensorType type = buffer_type(kp_.result_types[k]);
      set_static_shape(separate_[k].func.output_buffer(), type);
      const ScheduleContext ctx{separate_[k].func, separate_[k].vars, type, target_, lanes_, {}, nullptr, ops_per_element()};
      const ScheduleHook* own = result_schedule(k);
      if (!gpu_ && own) (*own)(ctx);
      else if (!gpu_) schedule_injective(ctx);
      kp_.outputs.push_back(separate_[k].func);
    }
  }

  // The injective schedule of the op whose value is result k (LoweredOp::
  // injective_schedule: a transpose's register tiles), if it has one.
  const ScheduleHook* result_schedule(size_t k) const {
    const lang::ValueRef& r = fn_.results[k];
    if (!r.is_binding()) return nullptr;
    const auto it = result_schedules_.find(r.index);
    return it == result_schedules_.end() ? nullptr : &it->second;
  }

  // Simple ops count one; the ones Halide expands into polynomials count
  // about the vector instructions they take, so that an elementwise kernel
  // whose time is an erf per element runs in parallel (the transformer's
  // GELU, 65 K elements: 0.11 ms on one core, counted as 8 ops it was not).
  int64_t ops_per_element() const {
    int64_t ops = 0;
    for (const lang::Binding& b : fn_.body) ops += element_cost(b.callee_name());
    return ops;
  }
  static int64_t element_cost(const std::string& op) {
    static const std::map<std::string, int64_t> costs{
        {"erf", 20},  {"exp", 20},  {"sigmoid", 24}, {"nn.silu", 24}, {"nn.gelu", 18}, {"tanh", 20}, {"log", 20},   {"nn.softplus", 40},
        {"nn.elu", 24}, {"nn.selu", 24}, {"power", 40}, {"divide", 4}, {"sqrt", 4}, {"nn.softmax", 24}};
    const auto it = costs.find(op);
    return it == costs.end() ? 1 : it->second;
  }

  const lang::Function& fn_;
  const Halide::Target& target_;
  const bool amx_;                             // KernelTarget::amx
  const bool bf16_dot_;                        // KernelTarget::bf16_dot
  const ScheduleKnobs knobs_;                  // for the anchor schedule
  std::optional<TileRequest>* tile_request_;  // schedule_candidates' probe
  const int lanes_;
  const bool gpu_;  // CUDA or OpenCL: lower/schedules/gpu.h schedules the pipeline
  KernelPipeline kp_;
  OutputLayout layout_;
  std::vector<TensorFunc> params_, values_;
  std::vector<StoredValue> separate_;  // per result, when stored separately
  ScheduleHook anchor_schedule_;       // the last anchor's
  bool anchor_optional_ = false;       // LoweredOp::schedule_optional of that anchor
  std::map<size_t, ScheduleHook> result_schedules_;  // LoweredOp::injective_schedule by binding
  ProducerStage producer_;             // the first anchor's stage, when there are two
  size_t producer_binding_ = SIZE_MAX;  // that anchor's binding
  bool producer_used_ = false;
  std::vector<Halide::Func> needs_root_;
  const std::string prefix_;
};

KernelPipeline build_pipeline(const lang::Module& module, const lang::Function& fn, const Halide::Target& target,
                              const std::string& prefix, const ScheduleKnobs& knobs = {},
                              std::optional<TileRequest>* tile_request = nullptr, bool amx = false, bool bf16_dot = false) {
  return PipelineBuilder(module, fn, target, prefix, knobs, tile_request, amx, bf16_dot).build();
}

std::vector<Halide::Argument> arguments(const KernelPipeline& kp) {
  std::vector<Halide::Argument> args;
  for (const Halide::ImageParam& p : kp.params) args.push_back(p);
  return args;
}

}  // namespace

bool has_lowering(std::string_view op_name) { return LoweringRegistry::global().find(op_name) != nullptr; }

std::vector<std::string> ops_without_lowering() {
  std::vector<std::string> missing;
  for (const lang::OpDef* op : lang::OpRegistry::global().all())
    if (!has_lowering(op->name)) missing.push_back(op->name);
  return missing;
}

namespace {

// Whether a kernel has a matrix product with a bfloat16 weight
// (lower_matmul): KernelTarget::amx and bf16_dot change its code.
bool has_bfloat16_matmul(const lang::Module& module, const lang::Function& fn) {
  for (const lang::Binding& b : fn.body)
    if ((b.is_op("nn.batch_matmul") || b.is_op("nn.packed_matmul")) && b.args.size() >= 2 &&
        module.type_of(fn, b.args[1]).dtype == lang::DType::bfloat16)
      return true;
  return false;
}

// Whether KernelTarget::amx changes a kernel's code: it has a matrix product
// with a bfloat16 weight or a qnn.conv2d or qnn.dense that the tiles compute
// (qnn_conv2d_on_amx, qnn_dense_on_amx). Other kernels hash alike with and
// without AMX (their tuning log entries apply to both).
bool amx_matters(const lang::Module& module, const lang::Function& fn) {
  if (has_bfloat16_matmul(module, fn)) return true;
  for (const lang::Binding& b : fn.body) {
    if (b.args.size() < 2) continue;
    if (b.is_op("qnn.conv2d") && qnn_conv2d_on_amx(lang::attrs_as<lang::QnnConv2DAttrs>(*b.attrs), module.type_of(fn, b.args[0]),
                                                   module.type_of(fn, b.args[1])))
      return true;
    if (b.is_op("qnn.dense") && !b.types.empty() &&
        qnn_dense_on_amx(lang::attrs_as<lang::QnnMatmulAttrs>(*b.attrs), module.type_of(fn, b.args[0]),
                         module.type_of(fn, b.args[1]), b.types[0]))
      return true;
  }
  return false;
}

}  // namespace

std::string kernel_hash(const lang::Module& module, const lang::Function& primitive, const KernelTarget& target) {
  lang::Function anonymous = primitive;
  anonymous.name = "kernel";
  std::string text = lang::print_function(module, anonymous) + "\ntarget=" + target.halide_target;
  if (!target.knobs.empty()) text += "\nknobs=" + target.knobs.str();
  if (target.amx && amx_matters(module, primitive)) text += "\namx";
  if (target.bf16_dot && has_bfloat16_matmul(module, primitive)) text += "\nbf16-dot";
  const std::string off = switched_off_features(parse_target(target.halide_target, false));
  if (!off.empty()) text += "\nllvm-features=" + off;
  return sha256_hex(text);
}

std::string ScheduleKnobs::str() const {
  if (empty()) return "template";
  return "tile " + std::to_string(tile_blocks) + "x" + std::to_string(tile_pixels);
}

std::vector<ScheduleKnobs> schedule_candidates(const lang::Module& module, const lang::Function& primitive,
                                               const KernelTarget& target, size_t limit) {
  std::optional<TileRequest> request;
  build_pipeline(module, primitive, parse_target(target.halide_target, false), "probe", {}, &request, target.amx, target.bf16_dot);
  std::vector<ScheduleKnobs> out;
  if (!request) return out;
  for (const RegisterTile& t : register_tile_candidates(request->registers, request->block_lanes, request->channel_blocks,
                                                       request->pixels, request->reserved)) {
    if (out.size() >= limit) break;
    out.push_back({t.blocks, t.pixels});
  }
  return out;
}

std::string kernel_cache_key(std::string_view kernel_hash) {
  return sha256_hex(std::string(kernel_hash) + "\n" + kernel_code_identity());
}

void compile_kernel_object(const lang::Module& module, const lang::Function& primitive, const std::string& symbol,
                           const KernelTarget& target, const std::filesystem::path& object_path,
                           const std::filesystem::path* stmt_path) {
  // Every name the kernel's pipeline gets, from its Funcs to its closures,
  // depends on this kernel alone (lower/kernel_names.h).
  const KernelNameScope names;
  const Halide::Target t = parse_target(target.halide_target, false);
  KernelPipeline kp = build_pipeline(module, primitive, t, symbol, target.knobs, nullptr, target.amx, target.bf16_dot);
  const std::string off = switched_off_features(t);
  const std::filesystem::path bitcode_path = object_path.string() + ".bc";
  std::map<Halide::OutputFileType, std::string> outputs;
  if (off.empty()) outputs[Halide::OutputFileType::object] = object_path.string();
  else outputs[Halide::OutputFileType::bitcode] = bitcode_path.string();
  if (stmt_path) outputs[Halide::OutputFileType::stmt] = stmt_path->string();
  try {
    Halide::Pipeline(kp.outputs).compile_to(outputs, arguments(kp), symbol, t);
  } catch (const Halide::CompileError& e) {
    throw Error("Halide failed to compile kernel " + symbol + " for " + t.to_string() + ": " + e.what());
  }
  if (off.empty()) return;
  emit_object_from_bitcode(bitcode_path, object_path, off);
  std::error_code ignored;
  std::filesystem::remove(bitcode_path, ignored);
}

struct JitKernel::Compiled {
  KernelPipeline kernel;
  Halide::Pipeline pipeline;
  Halide::Target target;
};

namespace {

// The JIT's heap allocations (a kernel's scratch buffers) carry 64 guard
// bytes after their end, checked when Halide frees them: a schedule that
// writes past a scratch buffer fails the kernel's run instead of corrupting
// the heap silently (tests and conformance runners run kernels this way).
constexpr size_t kGuardBytes = 64;
constexpr unsigned char kGuard = 0xa5;
std::atomic<uint64_t> damaged_allocations{0};

void* guarded_malloc(Halide::JITUserContext*, size_t size) {
  const size_t body = (size + 63) / 64 * 64;
  auto* base = static_cast<unsigned char*>(std::aligned_alloc(64, 64 + body + kGuardBytes));
  if (!base) return nullptr;
  std::memcpy(base, &size, sizeof size);
  std::memset(base + 64 + size, kGuard, body - size + kGuardBytes);
  return base + 64;
}

void guarded_free(Halide::JITUserContext*, void* p) {
  if (!p) return;
  unsigned char* base = static_cast<unsigned char*>(p) - 64;
  size_t size = 0;
  std::memcpy(&size, base, sizeof size);
  const size_t body = (size + 63) / 64 * 64;
  for (size_t i = 64 + size; i < 64 + body + kGuardBytes; ++i)
    if (base[i] != kGuard) {
      damaged_allocations.fetch_add(1);
      break;
    }
  std::free(base);
}

}  // namespace

JitKernel compile_kernel_jit(const lang::Module& module, const lang::Function& primitive, bool bf16_dot,
                             const std::string& target) {
  const Halide::Target t = parse_target(target, true);
  KernelPipeline kp = build_pipeline(module, primitive, t, "jit", {}, nullptr, false, bf16_dot);
  Halide::Pipeline pipeline(kp.outputs);
  pipeline.jit_handlers().custom_malloc = guarded_malloc;
  pipeline.jit_handlers().custom_free = guarded_free;
  pipeline.compile_jit(t);
  JitKernel kernel;
  kernel.compiled_ = std::make_shared<JitKernel::Compiled>(JitKernel::Compiled{std::move(kp), std::move(pipeline), t});
  return kernel;
}

namespace {

Halide::Buffer<> halide_buffer(const lang::TensorType& type) {
  std::vector<int> sizes;
  for (size_t d = type.rank(); d-- > 0;) sizes.push_back(static_cast<int>(type.shape[d]));
  if (sizes.empty()) sizes.push_back(1);
  return Halide::Buffer<>(halide_type(type.dtype), sizes);
}

}  // namespace

std::vector<lang::Tensor> JitKernel::run(std::span<const lang::Tensor> args) const {
  const KernelPipeline& kp = compiled_->kernel;
  if (args.size() != kp.params.size())
    throw Error("the kernel takes " + std::to_string(kp.params.size()) + " arguments, given " + std::to_string(args.size()));
  std::vector<Halide::Buffer<>> inputs;
  Halide::ParamMap params;
  for (size_t i = 0; i < args.size(); ++i) {
    Halide::Buffer<> b = halide_buffer(args[i].type());
    std::memcpy(b.data(), args[i].bytes().data(), args[i].bytes().size());
    inputs.push_back(b);
    params.set(kp.params[i], inputs.back());
  }
  std::vector<Halide::Buffer<>> buffers;
  for (const lang::TensorType& type : kp.result_types) buffers.push_back(halide_buffer(type));
  Halide::Realization results(buffers);
  const uint64_t damaged_before = damaged_allocations.load();
  compiled_->pipeline.realize(results, compiled_->target, params);
  if (damaged_allocations.load() != damaged_before)
    throw Error("the kernel wrote past the end of one of its scratch buffers (a schedule bug)");
  std::vector<lang::Tensor> outs;
  for (size_t k = 0; k < kp.result_types.size(); ++k) {
    lang::Tensor out(kp.result_types[k]);
    std::memcpy(out.mutable_bytes().data(), buffers[k].data(), out.bytes().size());
    outs.push_back(std::move(out));
  }
  return outs;
}

std::vector<lang::Tensor> run_kernel_jit(const lang::Module& module, const lang::Function& primitive,
                                         std::span<const lang::Tensor> args, bool bf16_dot, const std::string& target) {
  return compile_kernel_jit(module, primitive, bf16_dot, target).run(args);
}

std::string host_halide_target() { return host_target(false).to_string(); }

bool amx_for_host() {
#if defined(__x86_64__) && defined(__linux__)
  static const bool usable = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    if (!(edx & (1u << 24)) || !(edx & (1u << 22)) || !(edx & (1u << 25))) return false;  // AMX-TILE, -BF16, -INT8
    // ARCH_GET_XCOMP_SUPP (0x1021): the kernel manages the tile data state (XTILEDATA, 18).
    uint64_t features = 0;
    return syscall(SYS_arch_prctl, 0x1021, &features) == 0 && (features & (uint64_t{1} << 18));
  }();
  const char* env = std::getenv("MODELC_AMX");
  if (env && std::string_view(env) == "0") return false;
  if (env && std::string_view(env) == "1") return true;
  return usable;
#else
  return false;
#endif
}

bool bf16_dot_for_host() {
  const char* env = std::getenv("MODELC_BF16_DOT");
  if (env && std::string_view(env) == "0") return false;
  if (env && std::string_view(env) == "1") return true;
#if defined(__x86_64__)
  static const bool fast = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return false;
    const bool amd = ebx == 0x68747541 && edx == 0x69746e65 && ecx == 0x444d4163;  // "AuthenticAMD"
    if (!amd || !__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
    const unsigned family = ((eax >> 8) & 0xf) + ((eax >> 20) & 0xff);
    // Zen 4 (0x19, its 512-bit instructions on 256-bit units) as Zen 5: BERT's
    // bf16 build 1.73x its float32 one with the pairs, 0.96x without.
    if (family < 0x19 || !__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) || !(eax & (1u << 5))) return false;  // AVX512-BF16
    // Halide emits vdpbf16ps for its Sapphire Rapids feature only.
    return host_target(false).has_feature(Halide::Target::AVX512_SapphireRapids);
  }();
  return fast;
#else
  return false;
#endif
}

bool has_int8_dot_product(const KernelTarget& target) {
  return target.amx || qconv::QuadDot(parse_target(target.halide_target, false)).available;
}

bool has_int8_byte_pairs(const KernelTarget& target) {
  return qconv::QuadDot(parse_target(target.halide_target, false), 7).byte_pairs;
}

int float_lanes(const std::string& halide_target) {
  return parse_target(halide_target, true).natural_vector_size<float>();
}

}  // namespace modelc::lower
