// Internal to lower/: Halide Funcs that stand for IR tensors, and the registry
// of compute rules. Includes Halide.h; never include this from a header
// outside lower/.
//
// Halide indexes the innermost dimension first, the IR the outermost first.
// TensorFunc hides that: `at` and `define` take indices in IR order.
#pragma once

#include <Halide.h>

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lang/module.h"
#include "lower/lowering.h"
#include "lower/register_tile.h"

namespace modelc::lower {

Halide::Type halide_type(lang::DType dtype);

struct TensorFunc {
  Halide::Func func;
  lang::TensorType type;
  // A float16/bfloat16 weight read as float32 (with_float32_weight): anchor
  // schedules compute it where each converted value is reused (schedule_widened).
  bool widened = false;

  // The element at `index` (IR order: outermost first).
  Halide::Expr at(const std::vector<Halide::Expr>& index) const;
};

// The Vars of a func in IR order (outermost first).
std::vector<Halide::Var> make_vars(size_t rank, const std::string& prefix = "d");
// Halide's argument order for IR-order vars/exprs.
std::vector<Halide::Var> halide_order(const std::vector<Halide::Var>& ir_vars);
std::vector<Halide::Expr> halide_order(const std::vector<Halide::Expr>& ir_index);

// The IR-order index of a matrix product's operand `t` (batch axes, then row
// and col) for the output element at `out_vars` (IR order): batch axes of `t`
// align with the output's trailing batch axes, size-1 ones broadcast.
std::vector<Halide::Expr> batch_operand_index(const TensorFunc& t, const std::vector<Halide::Var>& out_vars,
                                              Halide::Expr row, Halide::Expr col);

// A func of the given type whose value at IR-order `vars` is `body(vars)`.
TensorFunc define(const std::string& name, const lang::TensorType& type,
                  const std::function<Halide::Expr(const std::vector<Halide::Var>&)>& body);

struct LowerContext;

// e^x for float32 x up to 88, vectorizing into about a dozen FMA-pipe ops:
// round x / ln 2 to n (by adding 1.5 * 2^23), a degree-7 Taylor polynomial of the remainder
// (|r| <= ln 2 / 2: truncation error below 5e-9 relative), scaled by 2^n
// built in the exponent bits. x is clamped to [-87.3, 88], so a larger x
// gives e^88 (not infinity); a smaller one gives 0 (never a subnormal,
// which Intel cores multiply slowly): for arguments known to lie in range
// or where that saturation is harmless (softmax's x - max <= 0).
// NaN gives NaN.
// Halide 14's exp checks the range with integer compares and blends, which
// in fused epilogues (swish after a convolution) spilled registers.
Halide::Expr exp_bounded(const Halide::Expr& x);

// 1 / (1 + e^-x) for float32 x: e^-x as exp_bounded's but with a degree-5
// polynomial and neither of its selects (1 + e^-x needs no 0 below the
// range), NaN kept by one select on the result: within 3 ulp of libm's
// sigmoid (tested). About 30 % less time per vector than
// 1 / (1 + exp_bounded(-x)) alone; on EfficientNet-B0, whose swish (x *
// sigmoid(x)) runs on every expanded element, its fused expansion kernels
// 0-9 % faster and the model about 2 % (docs/performance.md).
Halide::Expr sigmoid_bounded(const Halide::Expr& x);

// x * sigmoid(x) (SiLU, swish) for float32 x, as x / (1 + e^-x) with
// sigmoid_bounded's e^-x: one rounding fewer than the product, and no select
// for NaN, which the division carries (x = -inf gives -inf, as x *
// sigmoid_bounded(x) did; the limit is 0). On EfficientNet-B0, whose 65 swish
// activations touch about 6.4 M elements a run, the select and the multiply
// were a fifth of each swish (docs/performance.md).
Halide::Expr silu_bounded(const Halide::Expr& x);

// Whether x (a float) is NaN, from its bits. Halide 14 compiles float
// arithmetic with LLVM's no-NaNs flag, under which LLVM may fold
// Halide::is_nan of a value to false: on an AVX2 host (AMD Zen 3) a NaN
// quantized to 255 instead of the zero point, and ONNX's IsNaN said false.
// Integer compares of the bits are not float math.
Halide::Expr is_nan_bits(const Halide::Expr& x);

// erf(x) for float32 x: x P(x^2) / Q(x^2) on [-4, 4], x clamped there (erf
// rounds to +-1 beyond), P of degree 6 and Q of degree 4 in x^2: a rational
// least-squares fit of erf (scripts/rational_fit.py) whose float32 evaluation is
// within 4.4e-7 of erf everywhere (tested). One division and ten
// multiply-adds: about a third of erfc's Chebyshev fit with an exp, which
// dominated BERT's GELU kernel. Odd, erf(0) = 0, NaN gives NaN.
Halide::Expr erf_rational(const Halide::Expr& x);
// GELU, x (1 + erf(x / sqrt 2)) / 2, as x (1/2 + xc P'(xc^2) / Q'(xc^2)) with
// xc = x clamped to [-4 sqrt 2, 4 sqrt 2], 0 below it: erf_rational's P and
// Q with the scale by 1 / sqrt 2 and the halving folded into their
// coefficients (18 vector ops where erf's form took 22). Within 2e-7
// max(|x|, 1) of GELU in double (tested); NaN gives NaN through the last
// multiply by x.
Halide::Expr gelu_rational(const Halide::Expr& x);

// tanh(x) for float32 x: x P(x^2) / Q(x^2) on [-9, 9], x clamped there (tanh
// rounds to +-1 beyond), degrees 6 and 3 in x^2 (scripts/rational_fit.py
// tanh): within 3.1e-7 of tanh, absolute and relative (tested). Halide 14
// calls libm's tanhf per element, unvectorized: an LSTM's gates spent 7 us
// on 256 of them. Odd, tanh(0) = 0, NaN gives NaN.
Halide::Expr tanh_rational(const Halide::Expr& x);

// The operands of a conv2d/dense/batch_matmul with its weight (args[1]) read
// as float32: a float16/bfloat16 weight (ReducePrecision's storage) is
// widened by a Func of its own, inlined into each use unless the anchor's
// schedule places it (schedule_widened; matrix products widen it as they
// copy the column panel).
std::vector<TensorFunc> with_float32_weight(std::span<const TensorFunc> args, const LowerContext& ctx);

// A widened weight converted once per iteration of `level`, into a scratch
// buffer that the loops inside read as float32: a level outside the loop
// over pixel tiles (a row of tiles, a channel block), so that each weight is
// converted once for many pixels. Converted where it is used instead, inside
// the register tile, float16 costs about six ops per weight vector (Halide 14
// has no F16C conversion on x86) and ResNet-18 ran 3x slower than float32.
// Axis `vectorized` (Halide order) vectorized and innermost in the buffer.
// Nothing for a float32 weight.
void schedule_widened(const TensorFunc& weight, const Halide::LoopLevel& level, int vectorized);
// A widened weight converted once per call, before the kernel's loops, in
// its own storage order: one contiguous stream of `lanes`-wide conversions,
// split among the threads. For schedules whose every parallel iteration
// reads all of the weight. Nothing for a float32 weight.
void schedule_widened_once(const TensorFunc& weight, int lanes);

// The register tile an anchor schedule asked register_tile() for: the
// space of tiles schedule_candidates() offers a tuner.
struct TileRequest {
  RegisterFile registers;
  int reserved = 0;  // registers the template's pick leaves to other values
  int block_lanes = 0;
  int64_t channel_blocks = 0;
  int64_t pixels = 0;
};

struct ProducerStage;

// What a schedule hook may touch.
struct ScheduleContext {
  Halide::Func output;                  // the kernel's output func (pure)
  std::vector<Halide::Var> output_vars;  // its vars in IR order
  lang::TensorType output_type;
  Halide::Target target;
  int vector_lanes = 8;  // float32 lanes of the target's natural vector
  ScheduleKnobs knobs = {};                            // empty: the template's own choices
  std::optional<TileRequest>* tile_request = nullptr;  // where register_tile() records what it was asked
  // Ops the kernel computes per element of an injective output (its bindings):
  // an element of GELU (eight ops, erf among them) costs more than one of a copy.
  int64_t ops_per_element = 1;
  // The kernel's earlier anchor, which this anchor's schedule computes inside
  // its loops (only for a rule whose LoweredOp says takes_producer).
  const ProducerStage* producer = nullptr;
};

using ScheduleHook = std::function<void(const ScheduleContext&)>;

// An anchor computed inside a later anchor's loops (FuseOps' producer fusion:
// a pointwise convolution feeding a depthwise one). The consumer's compute
// rule reads the producer's value through a pure Func of its own, `stage`,
// which its schedule places (a few rows of `blocks` channel blocks at a
// time); `apply` then schedules the producer's Funcs to compute `stage`
// there. `work`: the producer's multiply-adds per call, for the consumer's
// choice of parallel tasks.
struct ProducerStage {
  std::function<void(Halide::Func stage)> apply;
  int blocks = 1;  // channel blocks per iteration: the producer's register tile's
  int64_t work = 0;
};

// How a product over few rows (dense, qnn.dense) computes its N output
// columns: `dot(b, q, i)`, the result's column `column(b, q)` of row i,
// from `partial(u, b, q, i)`, vector-wide partial sums along K (u), where a
// step q of the columns reads four weight rows b side by side, sharing each
// load of x. Over one row (a classifier at batch 1, whose weights usually
// come from beyond L2) the four are N / 4 columns apart: four long
// sequential streams, which memory serves fastest (Zen 4, float32 weights
// read after 48 MB of other reads: 1280 x 1000 0.21 ms as four adjacent
// rows, 0.15 one row after another, 0.135 as four streams; 9216 x 4096 5.9,
// 8.6 and 5.8 ms). Over more rows, four adjacent columns (each step's
// weights in one place while x's rows reuse them). dot is stored so that
// the result reads it contiguously (`at`).
struct DotColumns {
  int64_t n = 1;         // output columns
  bool streams = false;  // four streams of n / 4 columns, else blocks of adjacent columns
  int block = 1;         // columns per step (four where there are four)
  int64_t steps = 1;     // steps of `block` columns

  static DotColumns choose(int64_t rows, int64_t n);
  // The weight row (column of the result) of (b, q), clamped into the
  // result (a last step past it recomputes its last column).
  Halide::Expr column(const Halide::Expr& b, const Halide::Expr& q) const;
  // dot's element of the result's column j and row i.
  Halide::Expr at(Halide::Func dot, const Halide::Expr& j, const Halide::Expr& i) const;
};

// The sum over u of `partial(u, b, q, i)` for the `lanes` u (a power of
// two) as a tree (halves added, as a vector's shuffles do), not a chain of
// dependent scalar adds.
Halide::Expr sum_of_lanes(Halide::Func partial, int lanes, const Halide::Expr& b, const Halide::Expr& q,
                          const Halide::Expr& i);

// The schedule of a DotColumns product: `dot(b, q, i)` over the whole
// result, its steps q in parallel tasks when `work` (multiply-adds) is worth
// it, `partial(u, b, q, i)` (the update over `ro` when K has whole vectors,
// `lanes` wide) per step. With `quads`, ro is 2-D: ro.x the 4 consecutive K
// of a lane's dot product (vectorized as one VectorReduce with u:
// vpdpbusd), ro.y the steps.
ScheduleHook row_dot_schedule(Halide::Func dot, Halide::Func partial, Halide::Var u, Halide::Var b, Halide::Var q,
                              Halide::Var i, std::optional<Halide::RDom> ro, int lanes, const DotColumns& columns,
                              int64_t work, bool quads = false);

struct LoweredOp {
  TensorFunc value;
  // For anchor ops: schedules the kernel around this op (it is the group's
  // first anchor; elementwise consumers are inlined into `output`).
  ScheduleHook schedule;
  // Funcs with update definitions that need a place in the loop nest when no
  // anchor schedule places them (reductions): computed at root by default.
  std::vector<Halide::Func> needs_root;
  // How this anchor is computed inside a later anchor (empty: it cannot be).
  ProducerStage stage = {};
  // Whether `schedule` computes an earlier anchor of its kernel (ScheduleContext::producer).
  bool takes_producer = false;
  // Whether `schedule` only speeds the op up (a reduction's, placing its
  // needs_root Funcs inside the output's loops): a kernel that stores results
  // of different shapes separately leaves it out (FuseOps at opt level 3
  // returns a reduction's prologue beside it).
  bool schedule_optional = false;
  // For injective ops: a schedule better than schedule_injective's for this
  // op, used only when its value is the kernel's one result and the kernel
  // has no anchor (else the generic one).
  ScheduleHook injective_schedule = {};
};

struct LowerContext {
  const lang::Binding& binding;
  std::span<const lang::TensorType> arg_types;
  std::string name;  // unique name prefix for funcs of this binding
  // The kernel's target: a rule whose compute depends on the instructions at
  // hand (qnn.conv2d's VNNI form) reads it; schedules get it in ScheduleContext.
  Halide::Target target;
  bool amx = false;       // KernelTarget::amx: bfloat16 matrix products on AMX tiles
  bool bf16_dot = false;  // KernelTarget::bf16_dot: bfloat16 pair dot products (vdpbf16ps)
  // Per argument: whether the kernel computes it (an earlier op of the same
  // kernel, inlined unless a schedule places it) rather than reading a buffer.
  std::vector<bool> computed = {};
  // Whether a later anchor of the kernel computes this one inside its loops
  // (FuseOps' producer fusion): the rule must return a ProducerStage.
  bool producer = false;
};

using ComputeRule = std::function<LoweredOp(std::span<const TensorFunc> args, const LowerContext& ctx)>;

class LoweringRegistry {
 public:
  static const LoweringRegistry& global();
  void add(const std::string& op, ComputeRule rule);
  const ComputeRule* find(std::string_view op) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, ComputeRule, std::less<>> rules_;
};

void register_nn_lowerings(LoweringRegistry& registry);
void register_conv_lowerings(LoweringRegistry& registry);
void register_winograd_lowerings(LoweringRegistry& registry);
void register_elementwise_lowerings(LoweringRegistry& registry);
void register_transform_lowerings(LoweringRegistry& registry);
void register_indexing_lowerings(LoweringRegistry& registry);
void register_reduce_lowerings(LoweringRegistry& registry);
void register_window_lowerings(LoweringRegistry& registry);
void register_normalization_lowerings(LoweringRegistry& registry);
void register_layout_lowerings(LoweringRegistry& registry);
void register_qnn_lowerings(LoweringRegistry& registry);

// Schedules shared by rules (lower/schedules.cpp).
// Output of an elementwise/injective kernel: vectorize the innermost dim, parallelize the outer ones.
void schedule_injective(const ScheduleContext& ctx);
// An injective output that moves the innermost axis of `input` (read by
// `reader`, inlined into s.output) to output axis `c_position`, while its own
// innermost axis comes from another of input's axes: a vector of the output
// would gather one element from each of f places. Instead f x f tiles: f
// vectors of the input read whole into registers, transposed there, stored as
// f whole vectors. Both axes must be at least f long.
void schedule_register_transpose(const ScheduleContext& s, Halide::Func input, Halide::Func reader, int c_position,
                                 int f);
// The vector registers of a CPU target (for register tiles).
RegisterFile register_file(const Halide::Target& target);
// An anchor schedule's register tile on s.target: the knobs' tile when set
// (modelc::Error when it does not fit this output), else choose_register_tile's
// with `reserved` registers left to values the tile model does not count
// (a tuner may still try tiles that use them).
RegisterTile register_tile(const ScheduleContext& s, int block_lanes, int64_t channel_blocks, int64_t pixels,
                           int reserved = 0);
// The template's pick for a request (register_tile without knobs).
RegisterTile template_tile(const TileRequest& request);
// Largest power of two <= lanes that fits `extent` (1 when extent is tiny).
int fitting_lanes(int64_t extent, int lanes);
// Whether a kernel doing about `work` multiply-adds (or element writes) gains
// from running in parallel: handing out a loop and joining costs a
// microsecond or two with the executor's spinning workers (runtime/
// modelc_executor.c), more than the smallest kernels take on one core. It
// was 2^20 while workers slept between loops (tens of microseconds to wake
// on a VM); at 2^17 memory-bound kernels also read on each core what that
// core wrote (EfficientNet's squeeze-and-excitation scales and pools), and
// transformer_enc2_d128 at two threads went from 0.95x to 0.68x of ONNX
// Runtime (Xeon, AVX-512).
constexpr int64_t kMinParallelWork = int64_t{1} << 17;
inline bool worth_parallel(int64_t work) { return work >= kMinParallelWork; }

// Halide's thread pool hands out a parallel loop's iterations one at a time
// under a lock, so an iteration of a microsecond or two costs about as much
// to hand out as to run: MobileNetV2's 112x112 1x1 convolution, 448
// iterations of 1.6 us, ran slower on two cores than on one. Parallel loops
// run in tasks of consecutive iterations doing at least this much work
// (about 10 us on one core), at least 8 tasks when there are that many
// iterations.
constexpr int64_t kMinTaskWork = int64_t{1} << 18;
// The iterations per task of a loop of `iterations` doing `work` in all,
// rounded up to a multiple of `unit` (tasks of whole rows of a fused loop).
int64_t parallel_task_size(int64_t iterations, int64_t work, int64_t unit = 1);
// Parallelizes `loop` of `f` in such tasks and returns the loop that runs
// one iteration of the original: `loop` itself when a task is one iteration,
// else the inner loop of the split (for compute_at and store_at).
Halide::Var parallel_tasks(Halide::Func f, const Halide::Var& loop, int64_t iterations, int64_t work, int64_t unit = 1);
// The same for one stage of a func (an update's pure var or RVar).
Halide::VarOrRVar parallel_tasks(Halide::Stage stage, const Halide::VarOrRVar& loop, int64_t iterations, int64_t work,
                                 int64_t unit = 1);
// Fuses the `count` outermost axes of `f` (its vars in IR order, vars[0]
// outermost, still adjacent loops) into one loop and returns it: the loop a
// kernel parallelizes when one image has several heads, rows or channel
// blocks (parallel over the first axis alone, a batch of one runs on one core).
Halide::Var fuse_outer(Halide::Func f, const std::vector<Halide::Var>& vars, size_t count);

}  // namespace modelc::lower
