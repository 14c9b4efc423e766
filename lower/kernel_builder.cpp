// Builds the Halide pipeline of one primitive function and compiles it, ahead
// of time to an object file, or with the JIT for tests.
#include <Halide.h>
#include <llvm/Config/llvm-config.h>

#include <cstring>

#include "lang/text.h"
#include "modelc_config.h"
#include "lower/lowering.h"
#include "lower/tensor_func.h"
#include "support/diagnostic.h"
#include "support/sha256.h"

namespace modelc::lower {
namespace {

struct KernelPipeline {
  std::vector<Halide::ImageParam> params;
  Halide::Func output;
  lang::TensorType output_type;
};

void set_static_shape(Halide::OutputImageParam p, const lang::TensorType& type) {
  const auto strides = lang::contiguous_strides(type.shape);
  const size_t rank = type.rank();
  if (rank == 0) {
    p.dim(0).set_bounds(0, 1).set_stride(1);
    return;
  }
  for (size_t d = 0; d < rank; ++d) {
    const size_t ir = rank - 1 - d;  // Halide dim d is IR axis rank-1-d
    p.dim(static_cast<int>(d)).set_bounds(0, static_cast<int>(type.shape[ir])).set_stride(static_cast<int>(strides[ir]));
  }
}

// Halide 14 calls any CPU with AVX512-BF16 and VNNI a Sapphire Rapids, AMD
// Zen 4 included, and may then emit AVX512-FP16 / AVX-VNNI instructions that
// such CPUs lack (uint8 kernels die with SIGILL). Keep the feature only where
// the CPU has AVX512-FP16, which only Intel's Sapphire Rapids line has.
Halide::Target host_target() {
  Halide::Target t = Halide::get_host_target();
  if (t.has_feature(Halide::Target::AVX512_SapphireRapids) && !__builtin_cpu_supports("avx512fp16"))
    t = t.without_feature(Halide::Target::AVX512_SapphireRapids);
  return t;
}

Halide::Target parse_target(const std::string& text, bool jit) {
  Halide::Target t = text == "host" ? host_target() : Halide::Target(text);
  if (!jit) t = t.with_feature(Halide::Target::NoRuntime);
  return t;
}

KernelPipeline build_pipeline(const lang::Module& module, const lang::Function& fn, const Halide::Target& target) {
  if (fn.results.size() != 1) throw Error("@" + fn.name + ": kernels with several results are not supported yet");
  KernelPipeline kp;
  std::vector<TensorFunc> params;
  for (size_t i = 0; i < fn.params.size(); ++i) {
    const lang::TensorType& type = fn.params[i].type;
    Halide::ImageParam p(halide_type(type.dtype), std::max<int>(1, static_cast<int>(type.rank())), "p" + std::to_string(i));
    set_static_shape(p, type);
    kp.params.push_back(p);
    // A pure wrapper keeps rules independent of whether an argument is an ImageParam.
    params.push_back(define("in" + std::to_string(i), type, [&](const std::vector<Halide::Var>& v) {
      std::vector<Halide::Expr> idx(v.begin(), v.end());
      return idx.empty() ? p(0) : p(halide_order(idx));
    }));
  }

  std::vector<TensorFunc> values;
  ScheduleHook anchor_schedule;
  std::vector<Halide::Func> needs_root;
  for (size_t i = 0; i < fn.body.size(); ++i) {
    const lang::Binding& b = fn.body[i];
    if (!b.op) throw Error("@" + fn.name + ": nested function calls cannot be lowered");
    const ComputeRule* rule = LoweringRegistry::global().find(b.op->name);
    if (!rule) throw Error("operator " + b.op->name + " has no lowering (in @" + fn.name + ")");
    std::vector<TensorFunc> args;
    std::vector<lang::TensorType> arg_types;
    for (const lang::ValueRef& a : b.args) {
      if (a.is_param()) args.push_back(params.at(a.index));
      else if (a.is_binding()) args.push_back(values.at(a.index));
      else throw Error("@" + fn.name + ": constants must be parameters of primitive functions");
      arg_types.push_back(args.back().type);
    }
    LoweredOp lowered = (*rule)(args, LowerContext{b, arg_types, "v" + std::to_string(i)});
    if (lowered.schedule && !anchor_schedule) anchor_schedule = lowered.schedule;
    for (Halide::Func& f : lowered.needs_root) needs_root.push_back(f);
    values.push_back(lowered.value);
  }

  const lang::ValueRef& result = fn.results[0];
  const TensorFunc& last = result.is_param() ? params.at(result.index) : values.at(result.index);
  kp.output_type = last.type;
  const std::vector<Halide::Var> vars = make_vars(std::max<size_t>(1, last.type.rank()), "o");
  kp.output = Halide::Func("out");
  if (last.type.rank() == 0) kp.output(vars) = last.func(Halide::Expr(0));
  else kp.output(halide_order(vars)) = last.func(halide_order(vars));
  set_static_shape(kp.output.output_buffer(), last.type.rank() == 0 ? lang::TensorType{{1}, last.type.dtype} : last.type);

  ScheduleContext ctx{kp.output, vars, last.type.rank() == 0 ? lang::TensorType{{1}, last.type.dtype} : last.type,
                      target, target.natural_vector_size<float>()};
  for (Halide::Func& f : needs_root) f.compute_root();
  if (anchor_schedule) anchor_schedule(ctx);
  else schedule_injective(ctx);
  return kp;
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

std::string kernel_hash(const lang::Module& module, const lang::Function& primitive, const KernelTarget& target) {
  lang::Function anonymous = primitive;
  anonymous.name = "kernel";
  const std::string text = lang::print_function(module, anonymous) + "\ntarget=" + target.halide_target +
                           "\nlowering=" + std::to_string(KernelTarget::kLoweringVersion) + "\nhalide=" + halide_version();
  return sha256_hex(text);
}

void compile_kernel_object(const lang::Module& module, const lang::Function& primitive, const std::string& symbol,
                           const KernelTarget& target, const std::filesystem::path& object_path,
                           const std::filesystem::path* stmt_path) {
  const Halide::Target t = parse_target(target.halide_target, false);
  KernelPipeline kp = build_pipeline(module, primitive, t);
  std::map<Halide::OutputFileType, std::string> outputs{{Halide::OutputFileType::object, object_path.string()}};
  if (stmt_path) outputs[Halide::OutputFileType::stmt] = stmt_path->string();
  try {
    Halide::Pipeline(kp.output).compile_to(outputs, arguments(kp), symbol, t);
  } catch (const Halide::CompileError& e) {
    throw Error("Halide failed to compile kernel " + symbol + " for " + t.to_string() + ": " + e.what());
  }
}

struct JitKernel::Compiled {
  KernelPipeline kernel;
  Halide::Pipeline pipeline;
  Halide::Target target;
};

JitKernel compile_kernel_jit(const lang::Module& module, const lang::Function& primitive) {
  const Halide::Target t = parse_target("host", true);
  KernelPipeline kp = build_pipeline(module, primitive, t);
  Halide::Pipeline pipeline(kp.output);
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
  lang::Tensor out(kp.output_type);
  Halide::Buffer<> result = halide_buffer(kp.output_type);
  compiled_->pipeline.realize(result, compiled_->target, params);
  std::memcpy(out.mutable_bytes().data(), result.data(), out.bytes().size());
  std::vector<lang::Tensor> outs;
  outs.push_back(std::move(out));
  return outs;
}

std::vector<lang::Tensor> run_kernel_jit(const lang::Module& module, const lang::Function& primitive,
                                         std::span<const lang::Tensor> args) {
  return compile_kernel_jit(module, primitive).run(args);
}

std::string host_halide_target() { return host_target().to_string(); }

std::string halide_version() {
  return MODELC_HALIDE_VERSION;
}

std::string llvm_version() { return LLVM_VERSION_STRING; }

}  // namespace modelc::lower
