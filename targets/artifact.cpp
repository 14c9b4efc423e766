#include "targets/artifact.h"

#include <Halide.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <random>
#include <set>

#include "lang/cost.h"
#include "lang/ops/qnn.h"
#include "lower/lowering.h"
#include "lower/memory_plan.h"
#include "modelc_config.h"
#include "support/diagnostic.h"
#include "support/embedded_file.h"
#include "support/file_io.h"
#include "support/file_names.h"
#include "support/sha256.h"
#include "support/utf8.h"
#include "targets/c_codegen.h"
#include "targets/c_names.h"
#include "targets/code_cache.h"
#include "targets/disassembly.h"
#include "targets/elf_object.h"
#include "targets/library_cache.h"
#include "targets/toolchain.h"

namespace modelc {
// runtime/modelc_runner.c and runtime/modelc_wasi_runner.mjs (runtime/meson.build).
extern const EmbeddedFile runner_sources[];
extern const size_t runner_sources_count;
}  // namespace modelc

namespace fs = std::filesystem;

namespace modelc::targets {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs independent tasks on up to `jobs` threads (this one included), each
// thread taking the next task in order. Once a task has failed no other
// starts, and the first failure is rethrown after every thread has stopped.
void run_tasks(const std::vector<std::function<void()>>& tasks, size_t jobs) {
  std::atomic<size_t> next{0};
  std::mutex lock;
  std::exception_ptr failure;
  auto work = [&] {
    for (size_t i = next++; i < tasks.size(); i = next++) {
      {
        const std::lock_guard<std::mutex> guard(lock);
        if (failure) return;
      }
      try {
        tasks[i]();
      } catch (...) {
        const std::lock_guard<std::mutex> guard(lock);
        if (!failure) failure = std::current_exception();
        return;
      }
    }
  };
  std::vector<std::thread> workers;
  for (size_t w = 1; w < std::min(jobs, tasks.size()); ++w) workers.emplace_back(work);
  work();
  for (std::thread& t : workers) t.join();
  if (failure) std::rethrow_exception(failure);
}

// Places every constant that @main passes to a kernel in one 64-byte aligned
// blob: where each goes, and then the file, written straight from the
// constants (ResNet-18's are 95 MB: never copied into a buffer first).
struct WeightLayout {
  std::map<std::string, uint64_t> offsets;
  std::vector<std::string> order;  // by offset
  uint64_t bytes = 0;
};

WeightLayout layout_weights(const lang::Module& m) {
  WeightLayout w;
  const lang::Function& main = m.main();
  auto place = [&](const std::string& name) {
    if (w.offsets.count(name)) return;
    const lang::Tensor& t = m.constant(name);
    if (!t.has_data()) throw Error("constant @" + name + " has no data (was the module parsed from text?)");
    const uint64_t offset = (w.bytes + 63) / 64 * 64;
    w.offsets[name] = offset;
    w.order.push_back(name);
    w.bytes = offset + t.bytes().size();
  };
  for (const lang::Binding& b : main.body)
    for (const lang::ValueRef& a : b.args)
      if (a.is_constant()) place(a.constant);
  for (const lang::ValueRef& r : main.results)
    if (r.is_constant()) place(r.constant);
  return w;
}

void stream_weights(const lang::Module& m, const WeightLayout& w, std::ostream& out) {
  const char zeros[64] = {};
  uint64_t at = 0;
  for (const std::string& name : w.order) {
    const std::span<const std::byte> bytes = m.constant(name).bytes();
    const uint64_t offset = w.offsets.at(name);
    out.write(zeros, static_cast<std::streamsize>(offset - at));
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    at = offset + bytes.size();
  }
}

void write_weights(const lang::Module& m, const WeightLayout& w, const fs::path& file) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  stream_weights(m, w, out);
  out.close();
  if (!out) throw Error("cannot write " + file.string() + ": " + std::strerror(errno));
}

struct KernelBuild {
  std::string symbol;
  std::string hash;
  std::string workload;         // the hash without schedule knobs: what tuning logs are keyed by
  lower::ScheduleKnobs knobs;   // from ArtifactOptions::schedule_knobs; empty: the template's
  fs::path object;
  std::vector<std::string> ops;
  lang::FunctionCost cost;  // of one call
  int results = 1;
  int calls = 0;
  bool cached = false;
};

std::string_view runner_source(std::string_view name) {
  for (size_t i = 0; i < runner_sources_count; ++i)
    if (name == runner_sources[i].name) return runner_sources[i].text;
  throw Error("modelc was built without " + std::string(name));
}

class ArtifactBuilder {
 public:
  ArtifactBuilder(const lang::Module& m, const DeviceProfile& profile, const ArtifactOptions& options)
      : m_(m), profile_(profile), options_(options), toolchain_(profile) {
    target_ = kernel_target(profile);
  }

  // int8 products on a CPU without an 8-bit dot product run as int16 pairs:
  // said, since a user who asks for int8 expects it to be faster.
  std::optional<std::string> int8_speed_warning() const {
    if (profile_.family != ScheduleFamily::x86 && profile_.family != ScheduleFamily::arm) return std::nullopt;
    if (lower::has_int8_dot_product(target_)) return std::nullopt;
    // With AVX2, convolutions and dense layers whose weights fit 7 bits take
    // byte pairs (vpmaddubsw, lower/ops/qnn_conv2d.h); products of two
    // activations (batch_matmul) keep int16 pairs, and so does a classifier
    // over one row without being worth a warning (its weights stream once
    // from memory).
    const bool byte_pairs = lower::has_int8_byte_pairs(target_);
    bool convolutions = false, dense = false, activations = false, seven_bits_help = false;
    for (const lang::Function& f : m_.functions)
      for (const lang::Binding& b : f.body) {
        if (b.is_op("qnn.conv2d")) {
          const bool pairs = !byte_pairs || lang::attrs_as<lang::QnnConv2DAttrs>(*b.attrs).kernel_bits > 7;
          convolutions = convolutions || pairs;
          seven_bits_help = seven_bits_help || (byte_pairs && pairs);
        } else if (b.is_op("qnn.dense") && !b.types.empty() && b.types[0].shape[0] >= 4) {
          const auto& a = lang::attrs_as<lang::QnnMatmulAttrs>(*b.attrs);
          const bool quads = a.kernel_layout == lang::kQnnDenseQuadLayout;  // AlterOpLayout's, for an int8 constant
          dense = dense || !byte_pairs || !quads || a.kernel_bits > 7;
          seven_bits_help = seven_bits_help || (byte_pairs && quads && a.kernel_bits > 7);
        } else if (b.is_op("qnn.batch_matmul")) {
          activations = true;
        } else if (b.is_op("qnn.dense")) {
          dense = dense || !byte_pairs;  // over few rows: worth saying only where nothing is faster
        }
      }
    std::vector<std::string> what;
    if (convolutions) what.push_back("convolutions");
    if (dense) what.push_back("dense layers");
    if (activations) what.push_back("products of two activations (batch_matmul)");
    if (what.empty()) return std::nullopt;
    std::string listed = what[0];
    for (size_t i = 1; i < what.size(); ++i) listed += (i + 1 == what.size() ? " and " : ", ") + what[i];
    return "device " + profile_.name +
           ": no 8-bit dot product (VNNI on x86-64, the dot-product extension on arm64), so int8 " + listed +
           " multiply int16 pairs, usually no faster than float32" +
           std::string(seven_bits_help ? "; quantization.weights.bits: 7 lets convolutions and dense layers multiply bytes in pairs (vpmaddubsw)" : "") +
           " (docs/quantization.md)";
  }

  ArtifactSummary build(const fs::path& out_dir) {
    ArtifactSummary summary;
    summary.prefix = c_identifier(options_.prefix.empty() ? options_.model_name : options_.prefix);
    StagingDirectory staging(out_dir, "artifact", options_.force);
    const fs::path out = staging.path();

    for (const std::optional<std::string>& w : {generic_schedule_warning(profile_), int8_speed_warning()}) {
      if (!w) continue;
      if (const auto& say = options_.warning ? options_.warning : options_.progress) say(*w);
    }
    auto start = Clock::now();
    const ExecutorPlan plan = make_plan(summary.prefix);
    summary.stage_seconds["plan"] = seconds_since(start);

    start = Clock::now();
    if (options_.emit_kernel_stmt || options_.emit_kernel_asm) fs::create_directories(out / "kernels");
    compile_kernels(out);
    summary.stage_seconds["kernels"] = seconds_since(start);

    start = Clock::now();
    const fs::path runtime = halide_runtime_object();
    summary.stage_seconds["runtime"] = seconds_since(start);

    start = Clock::now();
    link(plan, runtime, out);
    summary.stage_seconds["link"] = seconds_since(start);

    summary.arena_bytes = plan.arena_bytes;
    summary.weight_bytes = plan.weight_bytes;
    summary.library_bytes = fs::file_size(out / ("lib" + plan.prefix + ".a"));
    summary.code_bytes = summary.library_bytes - std::min<size_t>(summary.library_bytes, plan.weight_bytes);
    std::vector<std::pair<KernelCost, int>> calls;
    for (const auto& [_, k] : kernels_) calls.emplace_back(k.cost, k.calls);
    summary.cost = total_cost(calls);
    if (profile_.peak) summary.roofline = estimate_roofline(calls, *profile_.peak);
    summary.steps = static_cast<int>(plan.steps.size());
    summary.kernels = static_cast<int>(kernels_.size());
    for (const auto& [_, k] : kernels_) summary.kernels_from_cache += k.cached ? 1 : 0;
    summary.manifest = manifest(plan, out, summary);
    write_file_atomic(out / "manifest.json", summary.manifest.dump(2) + "\n");
    staging.commit();
    summary.directory = out_dir;
    return summary;
  }

 private:
  void progress(const std::string& line) const {
    if (options_.progress) options_.progress(line);
  }

  ExecutorPlan make_plan(const std::string& prefix) {
    const lang::Function& main = m_.main();
    // A GPU kernel writes its own device copy of each buffer, so operands
    // cannot be slices of another tensor there: concatenations stay copies.
    const lower::MemoryPlan memory = lower::plan_memory(m_, 64, profile_.family != ScheduleFamily::gpu);
    weights_ = layout_weights(m_);
    scratch_weights_ = scratch_.path() / "weights.bin";  // written only for the assembler (weights_object)

    ExecutorPlan plan;
    plan.model_name = options_.model_name;
    plan.prefix = prefix;
    plan.arena_bytes = memory.arena_bytes;
    plan.weight_bytes = weights_.bytes;
    plan.weights_file = scratch_weights_;
    plan.wasm_object = toolchain_.wasm();
    for (const lang::Param& p : main.params) plan.inputs.push_back({p.name, p.type});
    const std::vector<lang::TensorType> result_types = m_.result_types(main);
    for (size_t r = 0; r < main.results.size(); ++r) plan.outputs.push_back({lang::result_name(main, r), result_types[r]});
    for (const std::vector<NamedTensor>* list : {&plan.inputs, &plan.outputs})
      for (const NamedTensor& t : *list)
        if (t.name.find('\0') != std::string::npos)
          throw Error("the tensor named " + c_string_literal(t.name) +
                      " holds a NUL byte, which the C API cannot pass: it takes names as C strings");

    // Tensor table: inputs, weights, then the values of @main.
    std::map<std::string, int32_t> constant_tensor;
    for (size_t i = 0; i < main.params.size(); ++i)
      plan.tensors.push_back({PlannedTensor::Storage::input, i, main.params[i].type});
    for (const auto& [name, offset] : weights_.offsets) {
      constant_tensor[name] = static_cast<int32_t>(plan.tensors.size());
      plan.tensors.push_back({PlannedTensor::Storage::weights, offset, m_.constant(name).type()});
    }
    // Then one per output of each binding: a call of a kernel with several results writes several tensors.
    std::vector<int32_t> first_tensor(main.body.size());
    for (size_t i = 0; i < main.body.size(); ++i) {
      first_tensor[i] = static_cast<int32_t>(plan.tensors.size());
      for (size_t k = 0; k < main.body[i].types.size(); ++k) {
        const lower::TensorPlacement& p = memory.bindings[i].at(k);
        plan.tensors.push_back({p.storage == lower::TensorPlacement::Storage::output ? PlannedTensor::Storage::output
                                                                                     : PlannedTensor::Storage::arena,
                                p.offset, main.body[i].types[k]});
      }
    }
    check_addressable(plan, main);
    auto tensor_of = [&](const lang::ValueRef& ref) -> int32_t {
      if (ref.is_param()) return static_cast<int32_t>(ref.index);
      if (ref.is_constant()) return constant_tensor.at(ref.constant);
      return first_tensor[ref.index] + static_cast<int32_t>(ref.output);
    };

    for (size_t i = 0; i < main.body.size(); ++i) {
      if (memory.in_place[i]) continue;  // its operands were computed into its result
      const lang::Binding& b = main.body[i];
      const lang::Function* callee = b.op ? nullptr : m_.find_function(b.function);
      if (!callee || !callee->primitive)
        throw Error("@main calls " + b.callee_name() + " directly; run FuseOps first so every call is a primitive function");
      KernelBuild& k = kernel_for(*callee);
      ++k.calls;
      PlannedStep step{k.symbol, {}};
      for (const lang::ValueRef& a : b.args) step.args.push_back(tensor_of(a));
      for (size_t out = 0; out < b.types.size(); ++out) step.args.push_back(first_tensor[i] + static_cast<int32_t>(out));
      plan.steps.push_back(std::move(step));
    }
    // Outputs no kernel writes directly: params, constants, or a value returned twice.
    for (size_t r = 0; r < main.results.size(); ++r) {
      const lang::ValueRef& ref = main.results[r];
      const bool written = ref.is_binding() && memory.placement(ref).storage == lower::TensorPlacement::Storage::output &&
                           memory.placement(ref).offset == r;
      if (!written) plan.copies.emplace_back(static_cast<int32_t>(r), tensor_of(ref));
    }
    return plan;
  }

  // Halide 14's buffers address at most 2^31 - 1 bytes (32-bit extents and
  // strides, no large_buffers); the CPU kernels carry no run-time check of
  // it (lower/kernel_builder.cpp, parse_target), so a larger tensor is
  // refused here, before anything runs.
  static void check_addressable(const ExecutorPlan& plan, const lang::Function& main) {
    constexpr uint64_t kLimit = (uint64_t{1} << 31) - 1;
    for (const PlannedTensor& t : plan.tensors) {
      if (t.type.bytes() > kLimit) {
        std::string what = t.storage == PlannedTensor::Storage::input ? "the input '" + valid_utf8(main.params.at(t.offset).name) + "'"
                           : t.storage == PlannedTensor::Storage::weights ? "a weight"
                                                                           : "a value computed by the model";
        throw Error(Diagnostic{Severity::error, {}, {},
                               what + " " + t.type.str() + " is " + std::to_string(t.type.bytes()) +
                                   " bytes: the kernels' buffers (Halide 14) hold at most 2^31 - 1 bytes",
                               "split the model's work into smaller tensors (a smaller batch or input size)"});
      }
    }
  }

  KernelBuild& kernel_for(const lang::Function& fn) {
    auto it = kernel_of_function_.find(fn.name);
    if (it != kernel_of_function_.end()) return kernels_.at(it->second);
    const std::string workload = lower::kernel_hash(m_, fn, target_);
    lower::KernelTarget tuned = target_;
    if (auto knobs = options_.schedule_knobs.find(workload); knobs != options_.schedule_knobs.end())
      tuned.knobs = knobs->second;
    const std::string hash = tuned.knobs.empty() ? workload : lower::kernel_hash(m_, fn, tuned);
    kernel_of_function_[fn.name] = hash;
    if (!kernels_.count(hash)) {
      KernelBuild k;
      k.hash = hash;
      k.workload = workload;
      k.knobs = tuned.knobs;
      k.symbol = "mc_k_" + hash.substr(0, 24);
      for (const lang::Binding& b : fn.body) k.ops.push_back(b.callee_name());
      k.results = static_cast<int>(fn.results.size());
      k.cost = lang::function_cost(m_, fn);
      kernels_.emplace(hash, k);
      kernel_functions_.emplace(hash, &fn);
    }
    return kernels_.at(hash);
  }

  // Each kernel from the cache when a verified entry is there, else compiled
  // with Halide and stored. What is linked is always a file in the scratch
  // folder: bytes that were verified (or just made), never the cache's file,
  // which another builder may replace meanwhile.
  void compile_kernels(const fs::path& out) {
    const CodeCache cache(options_.cache_dir, "kernel", options_.warning ? options_.warning : options_.progress);
    const bool want_stmt = options_.emit_kernel_stmt;
    std::vector<KernelBuild*> missing;
    for (auto& [hash, k] : kernels_) {
      k.object = scratch_.path() / (k.symbol + ".o");
      if (std::optional<CacheEntry> entry = cache.load(lower::kernel_cache_key(hash), want_stmt)) {
        write_file_atomic(k.object, entry->object);
        if (want_stmt) write_file_atomic(stmt_path(k), *entry->stmt);
        k.cached = true;
      } else {
        missing.push_back(&k);
      }
    }
    compile_in_parallel(missing, cache);
    if (want_stmt)
      for (auto& [hash, k] : kernels_)
        fs::copy_file(stmt_path(k), out / "kernels" / (k.symbol + ".stmt"), fs::copy_options::overwrite_existing);
    if (options_.emit_kernel_asm)
      for (auto& [hash, k] : kernels_)
        write_file_atomic(out / "kernels" / (k.symbol + ".s"),
                          "# " + k.symbol + ": " + describe_ops(k.ops) + "\n" +
                              disassemble_object(read_binary_file(k.object), profile_.llvm_triple));
  }

  fs::path stmt_path(const KernelBuild& k) const { return scratch_.path() / (k.symbol + ".stmt"); }

  // Kernels compile independently (each builds its own Halide pipeline;
  // Halide's compiler is thread-safe when no IR is shared between threads),
  // so the cold build of a model takes about 1/jobs of the time. Progress
  // lines come in completion order; the first failure is rethrown after
  // every worker has stopped.
  void compile_in_parallel(const std::vector<KernelBuild*>& kernels, const CodeCache& cache) {
    std::mutex lock;
    size_t started = 0;
    std::vector<std::function<void()>> tasks;
    for (KernelBuild* build : kernels)
      tasks.push_back([&, build] {
        KernelBuild& k = *build;
        {
          const std::lock_guard<std::mutex> guard(lock);
          progress("compiling kernel " + std::to_string(++started) + "/" + std::to_string(kernels.size()) + " (" +
                   describe_ops(k.ops) + ")");
        }
        const fs::path stmt = stmt_path(k);
        lower::KernelTarget target = target_;
        target.knobs = k.knobs;
        lower::compile_kernel_object(m_, *kernel_functions_.at(k.hash), k.symbol, target, k.object,
                                     options_.emit_kernel_stmt ? &stmt : nullptr);
        cache.store(lower::kernel_cache_key(k.hash),
                    {read_binary_file(k.object), options_.emit_kernel_stmt ? std::optional(read_text_file(stmt)) : std::nullopt});
      });
    run_tasks(tasks, jobs());
  }

  // Threads for kernel builds, tool runs and hashing: --jobs, else one per core.
  size_t jobs() const {
    return options_.jobs > 0 ? static_cast<size_t>(options_.jobs) : std::max(1u, std::thread::hardware_concurrency());
  }

  static std::string describe_ops(const std::vector<std::string>& ops) {
    std::string s;
    for (const std::string& o : ops) s += (s.empty() ? "" : " + ") + o;
    return s;
  }

  fs::path halide_runtime_object() {
    // Halide's runtime for the target without no_runtime; one per artifact.
    Halide::Target t(target_.halide_target);
    t = t.without_feature(Halide::Target::NoRuntime);
    return cached_object(t.to_string() + "\n" + lower::code_generator_identity(), "halide_runtime.o",
                         [&](const fs::path& object) {
                           progress("compiling the Halide runtime for " + t.to_string());
                           Halide::compile_standalone_runtime(object.string(), t);
                         });
  }

  // scratch/<name>, from the cache's `kind` entries under the hash of
  // `key_text`, or made by `compile` and stored there: "runtime" for the code
  // that is the same for every model of a target, "model" for a model's plan
  // and its linked code (a warm compile links no code: ResNet-18's plan
  // compile and partial link were a fifth of it).
  fs::path cached_object(const std::string& key_text, const std::string& name,
                         const std::function<void(const fs::path&)>& compile, const std::string& kind = "runtime") const {
    const CodeCache cache(options_.cache_dir, kind, options_.warning ? options_.warning : options_.progress);
    const std::string key = sha256_hex(key_text);
    const fs::path object = scratch_.path() / name;
    if (std::optional<CacheEntry> entry = cache.load(key, false)) {
      write_file_atomic(object, entry->object);
      return object;
    }
    compile(object);
    cache.store(key, {read_binary_file(object), std::nullopt});
    return object;
  }

  // What C compiled against the runtime's headers depends on besides its own text.
  std::string c_key(const std::string& what) const {
    std::string key_text = what + "\n" + toolchain_.c_compiler_identity() + "\n" + lower::code_generator_identity() + "\n";
    for (size_t i = 0; i < runtime_sources_count; ++i)
      key_text += std::string(runtime_sources[i].name) + "\n" + runtime_sources[i].text + "\n";
    return key_text;
  }

  // The executor is the same C for every model of a target (it includes
  // Halide's runtime header: the code generator's identity is in its key).
  fs::path executor_object(const fs::path& include) const {
    return cached_object(c_key("executor"), "executor.o", [&](const fs::path& object) {
      toolchain_.compile_c(include / "modelc_executor.c", object, {include, "/usr/include/halide14"});
    });
  }

  // The AMX tile kernel (runtime/modelc_amx.c) for x86-64 Linux targets,
  // whose bfloat16 matrix products may call it; none elsewhere.
  std::optional<fs::path> amx_object(const fs::path& include) const {
    const Halide::Target t(target_.halide_target);
    if (t.arch != Halide::Target::X86 || t.bits != 64 || t.os != Halide::Target::Linux) return std::nullopt;
    return cached_object(c_key("amx"), "amx.o", [&](const fs::path& object) {
      toolchain_.compile_c(include / "modelc_amx.c", object, {include, "/usr/include/halide14"});
    });
  }

  // Two objects: the code (plan, executor, Halide runtime and kernels, every
  // symbol but the API hidden) and the weights (one hidden symbol). Only the
  // weights' object is large, so it is copied as few times as possible: into
  // the archive and the shared library, at once; the runner links the shared
  // library where the device has one.
  void link(const ExecutorPlan& plan, const fs::path& runtime, const fs::path& out) {
    const fs::path include = scratch_.path() / "include";
    fs::create_directories(include);
    for (size_t i = 0; i < runtime_sources_count; ++i)
      write_file_atomic(include / runtime_sources[i].name, std::string_view(runtime_sources[i].text));
    const std::string plan_c = generate_plan_c(plan);
    write_file_atomic(scratch_.path() / "plan.c", plan_c);
    fs::path executor, plan_object;
    const fs::path weights_object = scratch_.path() / "weights.o";
    const std::vector<fs::path> includes{include, "/usr/include/halide14"};
    const LibraryCache libraries(options_.cache_dir, options_.warning ? options_.warning : options_.progress);
    const bool cached_libraries = !options_.cache_dir.empty();
    std::optional<fs::path> amx;
    std::vector<std::function<void()>> first{[&] {
                                               executor = executor_object(include);
                                               amx = amx_object(include);
                                             },
                                             [&] {
                                               plan_object = cached_object(c_key("plan\n" + plan_c), "plan.o", [&](const fs::path& object) {
                                                 toolchain_.compile_c(scratch_.path() / "plan.c", object, includes);
                                               }, "model");
                                             }};
    // The weights' digests key the cached libraries; without a cache the
    // weights' object is written meanwhile instead.
    if (cached_libraries)
      for (const std::string& name : weights_.order) first.push_back([&, name] { (void)m_.constant(name).digest(); });
    else
      first.push_back([&] { weights_object_file(plan, weights_object); });
    run_tasks(first, jobs());

    std::vector<fs::path> objects{plan_object, executor, runtime};
    if (amx) objects.push_back(*amx);
    for (const auto& [_, k] : kernels_) objects.push_back(k.object);
    const std::vector<std::string> exported = exported_symbols(plan.prefix);
    std::string code_key = "code\n" + toolchain_.relocatable_link_identity() + "\n";
    for (const fs::path& o : objects) code_key += sha256_file(o) + "\n";
    for (const std::string& symbol : exported) code_key += symbol + "\n";
    const fs::path code_object = cached_object(code_key, plan.prefix + ".o", [&](const fs::path& object) {
      toolchain_.link_relocatable(objects, exported, object);
    }, "model");
    write_file_atomic(out / "model.h", generate_model_header(plan));
    for (size_t i = 0; i < runtime_sources_count; ++i)
      if (std::string_view(runtime_sources[i].name) == "modelc.h")
        write_file_atomic(out / "modelc.h", std::string_view(runtime_sources[i].text));
    if (profile_.has_runner() && toolchain_.wasm())
      write_file_atomic(out / "modelc_wasi_runner.mjs", runner_source("modelc_wasi_runner.mjs"));

    const std::string key = cached_libraries ? sha256_hex(libraries_key(plan, code_object)) : std::string();
    if (cached_libraries) {
      if (auto restored = libraries.restore(key, out)) {
        progress("lib" + plan.prefix + " and its runner from the cache (the same code and weights)");
        const std::lock_guard<std::mutex> guard(digests_lock_);
        digests_.merge(*restored);
        return;
      }
      weights_object_file(plan, weights_object);
    }
    progress("linking lib" + plan.prefix + " (" + std::to_string(plan.weight_bytes / 1024) + " KiB of weights)");
    const std::vector<fs::path> model_objects{code_object, weights_object};
    const fs::path shared = out / ("lib" + plan.prefix + ".so");
    // Each library is hashed for the manifest as soon as it is written: the
    // archive's while the shared library links, the shared library's while
    // the runner links (hashed after the last link, ResNet-18's 190 MB of
    // libraries were a seventh of a warm compile).
    const fs::path archive = out / ("lib" + plan.prefix + ".a");
    std::vector<std::function<void()>> tasks{[&] {
                                               toolchain_.archive(model_objects, archive);
                                               hash_output(archive);
                                             },
                                             [&] {
                                               std::future<void> hashing;
                                               if (profile_.has_shared_library()) {
                                                 toolchain_.link_shared(model_objects, shared);
                                                 hashing = std::async(std::launch::async, [&] { hash_output(shared); });
                                               }
                                               if (profile_.has_runner()) {
                                                 progress("linking the runner for " + profile_.name);
                                                 build_runner(plan, model_objects, profile_.has_shared_library() ? shared : fs::path(), out);
                                                 hash_output(out / runner_file_name());
                                               }
                                               if (hashing.valid()) hashing.get();
                                             }};
    run_tasks(tasks, jobs());
    if (cached_libraries) {
      std::map<fs::path, std::string> linked;
      for (const fs::path& file : {archive, shared, out / runner_file_name()})
        if (auto d = digests_.find(file); d != digests_.end()) linked[file] = d->second;
      libraries.store(sha256_hex(plan.prefix + "\n" + profile_.name + "\n" + profile_.llvm_triple), key, linked);
    }
  }

  // What the libraries and the runner are made of, besides their file names:
  // the tools and their flags, the code object, the weights (each constant's
  // digest and place) and the runner's object.
  std::string libraries_key(const ExecutorPlan& plan, const fs::path& code_object) const {
    std::string text = "libraries\n" + toolchain_.library_link_identity() + plan.prefix + "\n" + profile_.llvm_triple +
                       "\n" + sha256_file(code_object) + "\n";
    text += profile_.has_shared_library() ? "shared\n" : "static\n";
    // (runner_key holds the program compiler's command, which only devices with a runner have.)
    text += profile_.has_runner() ? runner_key(plan) + "\n" : std::string("no runner\n");
    if (const std::optional<uint16_t> machine = elf_data_object_machine(profile_.llvm_triple)) {
      text += "elf " + std::to_string(*machine) + "\n";
    } else {
      // The assembler's source names the weights file in this build's
      // scratch folder: a fixed name in the key instead.
      ExecutorPlan keyed = plan;
      keyed.weights_file = "weights.bin";
      text += generate_weights_c(keyed);
    }
    text += "weights " + std::to_string(weights_.bytes) + "\n";
    for (const std::string& name : weights_.order)
      text += std::to_string(weights_.offsets.at(name)) + " " + m_.constant(name).digest() + "\n";
    return text;
  }

  // Records the SHA-256 of a finished output file for the manifest.
  void hash_output(const fs::path& file) {
    std::string digest = sha256_file(file);
    const std::lock_guard<std::mutex> guard(digests_lock_);
    digests_[file] = std::move(digest);
  }

  // The weights' object: written directly where the ELF machine allows
  // (targets/elf_object.h), else assembled from the weights file with .incbin.
  void weights_object_file(const ExecutorPlan& plan, const fs::path& object) const {
    if (const std::optional<uint16_t> machine = elf_data_object_machine(profile_.llvm_triple)) {
      write_elf_data_object(object, *machine, plan.prefix + "_weights", weights_.bytes,
                            [&](std::ostream& out) { stream_weights(m_, weights_, out); });
      return;
    }
    write_weights(m_, weights_, scratch_weights_);
    write_file_atomic(scratch_.path() / "weights.c", generate_weights_c(plan));
    toolchain_.compile_c(scratch_.path() / "weights.c", object, {});
  }

  // The runner's object depends only on the model's prefix and the target's
  // compiler: this key caches it.
  std::string runner_key(const ExecutorPlan& plan) const {
    std::string key_text = "runner\n" + toolchain_.program_compiler_identity() + "MODELC_API=" + plan.prefix + "_api\n" +
                           std::string(runner_source("modelc_runner.c"));
    for (size_t i = 0; i < runtime_sources_count; ++i)
      if (std::string_view(runtime_sources[i].name) == "modelc.h") key_text += runtime_sources[i].text;
    return key_text;
  }

  // The runner program, linked with the shared library (or, without one, the
  // model's objects) and the target's C library: its include path is the
  // artifact folder (modelc.h), never the freestanding headers the library
  // was compiled with.
  void build_runner(const ExecutorPlan& plan, const std::vector<fs::path>& model_objects, const fs::path& shared,
                    const fs::path& out) const {
    const fs::path object = cached_object(runner_key(plan), "modelc_runner.o", [&](const fs::path& o) {
      const fs::path source = scratch_.path() / "modelc_runner.c";
      write_file_atomic(source, runner_source("modelc_runner.c"));
      toolchain_.compile_program_object(source, {"MODELC_API=" + plan.prefix + "_api"}, {out}, o);
    });
    std::vector<fs::path> objects{object};
    if (shared.empty()) objects.insert(objects.end(), model_objects.begin(), model_objects.end());
    toolchain_.link_executable(objects, out / runner_file_name(), shared);
  }

  std::string runner_file_name() const { return toolchain_.wasm() ? "runner.wasm" : "runner"; }

  nlohmann::json manifest(const ExecutorPlan& plan, const fs::path& out, const ArtifactSummary& summary) const {
    using nlohmann::json;
    // JSON holds only UTF-8: a name that is not keeps its exact bytes in name_hex.
    // `file` is the file name `modelc run` writes the tensor to (distinct, safe).
    auto tensors = [](const std::vector<NamedTensor>& list) {
      json a = json::array();
      FileNamer files(".npy");
      for (const NamedTensor& t : list) {
        json entry = {{"name", valid_utf8(t.name)}, {"dtype", std::string(lang::dtype_name(t.type.dtype))},
                      {"shape", t.type.shape}, {"file", files.add(t.name)}};
        if (!is_valid_utf8(t.name)) entry["name_hex"] = hex_bytes(t.name);
        a.push_back(std::move(entry));
      }
      return a;
    };
    json kernels = json::array();
    for (const auto& [hash, k] : kernels_) {
      json entry = {{"name", k.symbol}, {"hash", hash}, {"ops", k.ops}, {"results", k.results}, {"calls", k.calls},
                    {"multiply_adds", k.cost.multiply_adds}, {"bytes", k.cost.bytes}};
      if (k.cost.integer_multiply_adds > 0) entry["integer_multiply_adds"] = k.cost.integer_multiply_adds;
      if (!k.knobs.empty()) entry["schedule"] = {{"workload", k.workload}, {"knobs", k.knobs.str()}};
      kernels.push_back(std::move(entry));
    }
    json files = {{"static_library", "lib" + plan.prefix + ".a"}, {"header", "model.h"}, {"abi_header", "modelc.h"}};
    if (profile_.has_shared_library()) files["shared_library"] = "lib" + plan.prefix + ".so";
    if (profile_.has_runner()) files["runner"] = runner_file_name();
    if (profile_.has_runner() && toolchain_.wasm()) files["runner_host"] = "modelc_wasi_runner.mjs";
    json cost = {{"multiply_adds", summary.cost.multiply_adds}, {"bytes", summary.cost.bytes}};
    if (summary.cost.integer_multiply_adds > 0) cost["integer_multiply_adds"] = summary.cost.integer_multiply_adds;
    if (summary.roofline)
      cost["roofline"] = {{"milliseconds", summary.roofline->milliseconds},
                          {"compute_ms", summary.roofline->compute_ms},
                          {"memory_ms", summary.roofline->memory_ms},
                          {"peak_gflops", profile_.peak->gflops},
                          {"peak_bandwidth_gbs", profile_.peak->bandwidth_gbs},
                          {"peak_source", profile_.peak->source}};
    // Which kernel each step of the executor calls, in order: what a profile
    // of a run (step by step, modelc_model_api.run_observed) is keyed by.
    json step_kernels = json::array();
    for (const PlannedStep& s : plan.steps) step_kernels.push_back(s.kernel_symbol);
    // Every file but the manifest: the libraries' digests taken as they were
    // written (hash_output), the rest's now.
    std::vector<fs::path> files_to_hash;
    for (const auto& entry : fs::recursive_directory_iterator(out))
      if (entry.is_regular_file() && entry.path().filename() != "manifest.json") files_to_hash.push_back(entry.path());
    std::vector<std::string> hashes(files_to_hash.size());
    std::vector<std::function<void()>> hashing;
    for (size_t i = 0; i < files_to_hash.size(); ++i) {
      const auto known = digests_.find(files_to_hash[i]);
      if (known != digests_.end()) hashes[i] = known->second;
      else hashing.push_back([&, i] { hashes[i] = sha256_file(files_to_hash[i]); });
    }
    run_tasks(hashing, jobs());
    json digests = json::object();
    for (size_t i = 0; i < files_to_hash.size(); ++i) digests[fs::relative(files_to_hash[i], out).string()] = hashes[i];
    return {{"manifest_version", 1},
            {"model", plan.model_name},
            {"prefix", plan.prefix},
            {"api_symbol", plan.prefix + "_api"},
            {"target", {{"name", profile_.name}, {"device", profile_.name}, {"halide_target", target_.halide_target},
                        {"amx", target_.amx},
                        {"bf16_dot", target_.bf16_dot}, {"triple", profile_.llvm_triple}, {"family", to_string(profile_.family)},
                        {"run", to_string(profile_.run)}}},
            {"files", files},
            {"sha256", digests},
            {"inputs", tensors(plan.inputs)},
            {"outputs", tensors(plan.outputs)},
            {"kernels", kernels},
            {"steps", plan.steps.size()},
            {"step_kernels", step_kernels},
            {"arena_bytes", plan.arena_bytes},
            {"weight_bytes", plan.weight_bytes},
            {"code_bytes", summary.code_bytes},
            {"library_bytes", summary.library_bytes},
            {"cost", cost},
            {"versions", {{"modelc", MODELC_VERSION}, {"halide", lower::halide_version()}, {"llvm", lower::llvm_version()}}}};
  }

  const lang::Module& m_;
  const DeviceProfile& profile_;
  const ArtifactOptions& options_;
  Toolchain toolchain_;
  lower::KernelTarget target_;
  ScratchDirectory scratch_{"modelc-build"};
  WeightLayout weights_;
  fs::path scratch_weights_;
  std::map<std::string, KernelBuild> kernels_;                  // by hash, in a stable order
  std::mutex digests_lock_;
  std::map<fs::path, std::string> digests_;  // SHA-256 of output files hashed as they were finished
  std::map<std::string, const lang::Function*> kernel_functions_;
  std::map<std::string, std::string> kernel_of_function_;
};

}  // namespace

ArtifactSummary build_artifact(const lang::Module& fused, const DeviceProfile& profile, const ArtifactOptions& options,
                               const fs::path& out_dir) {
  return ArtifactBuilder(fused, profile, options).build(out_dir);
}

}  // namespace modelc::targets
