// lower/: from a primitive function of the IR to a compiled kernel.
//
// Each primitive function (one fused group, see lang FuseOps) becomes one
// Halide pipeline: the op's compute rule says *what* (lower/ops/<family>.cpp),
// the anchor op's schedule says *how* for the target (tiling, vectorization at
// the target's vector width, parallel loops). Shapes are static, so every
// kernel is specialised to its shapes. This header is free of Halide so that
// targets/ and the driver can include it cheaply.
#pragma once

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lang/module.h"

namespace modelc::lower {

// The knobs of a kernel's anchor schedule that `modelc tune` measures and a
// tuning log sets (optimize.schedule.strategy: tuned). Unset knobs (0) keep
// the template's own choice, so empty knobs are the template schedule.
struct ScheduleKnobs {
  int tile_blocks = 0;  // register tile: vector-wide blocks of output channels or columns (B)
  int tile_pixels = 0;  // register tile: output pixels or rows per weight vector (T)
  bool empty() const { return tile_blocks == 0 && tile_pixels == 0; }
  std::string str() const;  // "tile 2x6"; "template" when empty
  friend bool operator==(const ScheduleKnobs&, const ScheduleKnobs&) = default;
};

struct KernelTarget {
  std::string halide_target = "host";  // a Halide target string, without no_runtime
  ScheduleKnobs knobs;                 // empty: the template schedule
  // The CPU has AMX tiles (AMX-TILE, AMX-BF16 and AMX-INT8) and the kernels
  // may use them: bfloat16 matrix products and int8 convolutions then call
  // the runtime's tile kernels (runtime/modelc_amx.c). Halide 14's target
  // strings have no such feature.
  bool amx = false;
  // The CPU multiplies pairs of bfloat16 faster than float32 FMAs (AMD Zen 5:
  // vdpbf16ps, 32 products per instruction, twice the float32 rate):
  // matrix products over bfloat16 weights in row pairs then compute on them
  // (lower/ops/nn.cpp). Intel's runs at half the rate and loses to FMA.
  bool bf16_dot = false;
};

bool has_lowering(std::string_view op_name);
// Ops registered in lang/ that have no compute rule here (empty when complete).
std::vector<std::string> ops_without_lowering();

// Content hash of what a kernel computes: the function's printed body (ops,
// attributes, shapes, dtypes; not its name), the target and its schedule
// knobs when set. Identical layers hash equal and share a kernel, whose
// symbol is made from this hash. With the knobs left empty it names the
// kernel's *workload*, what a tuning log is keyed by.
std::string kernel_hash(const lang::Module& module, const lang::Function& primitive, const KernelTarget& target);

// The schedule knobs worth measuring for a kernel on `target` (its knobs
// ignored): the template's own choice first, then the other settings its
// anchor schedule accepts, best first by the schedule's cost model, at most
// `limit` in all. Empty when the kernel's schedule has no knobs (injective
// kernels, GPU targets). Builds the pipeline without compiling it: cheap.
std::vector<ScheduleKnobs> schedule_candidates(const lang::Module& module, const lang::Function& primitive,
                                               const KernelTarget& target, size_t limit);

// The key of a compiled kernel in a persistent cache: its kernel_hash and
// kernel_code_identity(). The symbol (and so the artifact's bytes) stays the
// same across modelc builds that make the same code; the cached object does not.
std::string kernel_cache_key(std::string_view kernel_hash);

// The sha256 of the sources that shape a kernel (lower/, the lang/ op
// definitions and printer), computed when modelc is built
// (lower/kernel_source_digest.py), and those files, relative to the source root.
std::string_view kernel_source_digest();
std::vector<std::string> kernel_source_files();

// Which Halide and LLVM make code: their versions and the GNU build ids of
// the libraries loaded in this process (a rebuilt package with the same
// version counts as another compiler). Part of every cache key of compiled code.
std::string code_generator_identity();

// Everything besides a function's text and target that decides a kernel's
// code: kernel_source_digest() and code_generator_identity(). Editing lower/
// changes it at the next build, so no cached kernel outlives the code that made it.
std::string kernel_code_identity();

// Compiles the primitive function ahead of time to an object file exporting
// `symbol` (buffers in parameter order, then one per result in result order)
// and `symbol`_argv. Results that share one shape are computed in one loop
// nest under the anchor's schedule; otherwise each result has its own.
// With stmt_path set, also writes Halide's lowered statement there.
void compile_kernel_object(const lang::Module& module, const lang::Function& primitive, const std::string& symbol,
                           const KernelTarget& target, const std::filesystem::path& object_path,
                           const std::filesystem::path* stmt_path = nullptr);

// A primitive function compiled with Halide's JIT for this machine. Compiling
// dominates the cost of running small kernels, so runners that call the same
// kernel (or structurally identical ones, see kernel_hash) keep this and call
// run again. Copies share the compiled code.
class JitKernel {
 public:
  // Arguments in parameter order, with the parameters' types; one tensor per result.
  std::vector<lang::Tensor> run(std::span<const lang::Tensor> args) const;

 private:
  friend JitKernel compile_kernel_jit(const lang::Module&, const lang::Function&, bool, const std::string&);
  struct Compiled;
  std::shared_ptr<Compiled> compiled_;  // realize() is non-const in Halide
};

// With bf16_dot, as KernelTarget::bf16_dot (tests of that form on any machine).
// `target`: a Halide target string that this machine runs ("host", or one
// with fewer features: tests of the forms a lowering picks without them).
JitKernel compile_kernel_jit(const lang::Module& module, const lang::Function& primitive, bool bf16_dot = false,
                             const std::string& target = "host");

// Compiles with Halide's JIT for this machine and runs once (tests, the op x
// target harness).
std::vector<lang::Tensor> run_kernel_jit(const lang::Module& module, const lang::Function& primitive,
                                         std::span<const lang::Tensor> args, bool bf16_dot = false,
                                         const std::string& target = "host");

// This machine's Halide target, without the features Halide 14 misdetects
// (AVX512-FP16 on AMD Zen 4): what "host" means everywhere in modelc.
std::string host_halide_target();

// Whether kernels compiled for this machine use AMX tiles: where its CPU and
// kernel allow them (CPUID's AMX-TILE, AMX-BF16 and AMX-INT8, Linux's tile
// data state), unless the environment says MODELC_AMX=0 (to measure without
// them); MODELC_AMX=1 asks for them on any x86-64 machine (the tile kernel
// then runs its plain C form: for tests of the lowering on CPUs without AMX).
bool amx_for_host();

// Whether kernels compiled for this machine multiply bfloat16 pairs
// (KernelTarget::bf16_dot): an AMD CPU of family 0x19 or later with
// AVX512-BF16 (Zen 4, Zen 5; Zen 3, family 0x19 too, lacks it), measured at
// about twice its float32 FMA rate on both; MODELC_BF16_DOT=0 or 1
// overrides (1: on any machine, for tests; the kernels still compute the same
// sums where the instruction is missing, only slower).
bool bf16_dot_for_host();

// float32 lanes of one natural vector of a Halide target ("host" allowed).
int float_lanes(const std::string& halide_target);

// Whether int8 convolutions and dense layers compiled for `target` multiply
// with an 8-bit dot product: VNNI on x86-64 (Halide's avx512_sapphirerapids),
// the dot-product extension on 64-bit Arm (lower/ops/qnn_conv2d.h QuadDot),
// or AMX tiles. Without one they multiply int16 pairs, usually no faster
// than float32 (docs/quantization.md).
bool has_int8_dot_product(const KernelTarget& target);
// Whether, without one, 7-bit weights (kernel_bits 7) let them multiply
// uint8 by int8 in byte pairs instead: x86 with AVX2 (vpmaddubsw).
bool has_int8_byte_pairs(const KernelTarget& target);

std::string halide_version();
std::string llvm_version();

}  // namespace modelc::lower
