#include "lower/tensor_func.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "support/diagnostic.h"

namespace modelc::lower {

Halide::Type halide_type(lang::DType dtype) {
  switch (dtype) {
    case lang::DType::float32: return Halide::Float(32);
    case lang::DType::float16: return Halide::Float(16);
    case lang::DType::bfloat16: return Halide::BFloat(16);
    case lang::DType::int8: return Halide::Int(8);
    case lang::DType::uint8: return Halide::UInt(8);
    case lang::DType::int32: return Halide::Int(32);
    case lang::DType::int64: return Halide::Int(64);
    case lang::DType::boolean: return Halide::UInt(8);  // stored as one byte, like the C ABI
    case lang::DType::int16: return Halide::Int(16);
    case lang::DType::uint16: return Halide::UInt(16);
    case lang::DType::uint32: return Halide::UInt(32);
    case lang::DType::uint64: return Halide::UInt(64);
    case lang::DType::string: throw Error("string tensors cannot be compiled (they exist only at import time)");
  }
  return Halide::Float(32);
}

Halide::Expr TensorFunc::at(const std::vector<Halide::Expr>& index) const {
  if (index.empty()) return func(Halide::Expr(0));
  return func(halide_order(index));
}

std::vector<Halide::Var> make_vars(size_t rank, const std::string& prefix) {
  std::vector<Halide::Var> vars;
  for (size_t i = 0; i < rank; ++i) vars.emplace_back(prefix + std::to_string(i));
  return vars;
}

std::vector<Halide::Expr> batch_operand_index(const TensorFunc& t, const std::vector<Halide::Var>& out_vars,
                                              Halide::Expr row, Halide::Expr col) {
  std::vector<Halide::Expr> idx;
  const size_t batch = t.type.rank() - 2, offset = (out_vars.size() - 2) - batch;
  for (size_t d = 0; d < batch; ++d)
    idx.push_back(t.type.shape[d] == 1 ? Halide::Expr(0) : Halide::Expr(out_vars[offset + d]));
  idx.push_back(std::move(row));
  idx.push_back(std::move(col));
  return idx;
}

std::vector<Halide::Var> halide_order(const std::vector<Halide::Var>& ir_vars) {
  return {ir_vars.rbegin(), ir_vars.rend()};
}

std::vector<Halide::Expr> halide_order(const std::vector<Halide::Expr>& ir_index) {
  return {ir_index.rbegin(), ir_index.rend()};
}

TensorFunc define(const std::string& name, const lang::TensorType& type,
                  const std::function<Halide::Expr(const std::vector<Halide::Var>&)>& body) {
  TensorFunc t{Halide::Func(name), type};
  const std::vector<Halide::Var> vars = make_vars(type.rank(), name + "_d");
  Halide::Expr value = Halide::cast(halide_type(type.dtype), body(vars));
  // Scalars are 1-element buffers of rank 0 in the IR; Halide needs a dimension.
  if (vars.empty()) t.func(Halide::Var("s0")) = value;
  else t.func(halide_order(vars)) = value;
  return t;
}

Halide::Expr is_nan_bits(const Halide::Expr& x) {
  const Halide::Type t = x.type();
  if (!t.is_float() || (t.bits() != 32 && t.bits() != 64 && t.bits() != 16)) return Halide::is_nan(x);
  // NaN: every exponent bit set and a nonzero mantissa, so above the infinity's bits once the sign is off.
  const Halide::Type bits = Halide::UInt(t.bits(), t.lanes());
  const uint64_t sign = uint64_t{1} << (t.bits() - 1);
  const uint64_t infinity = t.bits() == 64 ? 0x7ff0000000000000ull : t.bits() == 32 ? 0x7f800000ull
                            : t.is_bfloat() ? 0x7f80ull : 0x7c00ull;
  const Halide::Expr u = Halide::reinterpret(bits, x);
  return (u & Halide::Internal::make_const(bits, sign - 1)) > Halide::Internal::make_const(bits, infinity);
}

namespace {

// float16 -> float32 in integer and float ops that vectorize on any CPU: the
// magnitude's bits shifted into float32's place are the value times 2^-112
// (denormal halves become float32 denormals, exactly), so one multiply by
// 2^112 restores it; infinities and NaNs get float32's all-ones exponent.
// Halide 14 emulates the conversion with more work (and does not use F16C's
// vcvtph2ps on x86): ResNet-18 with float16 weights ran 3.5x slower than with
// float32 ones. Assumes denormal inputs are not flushed to zero (Halide's
// default; a host that sets DAZ loses halves below 6.1e-5).
Halide::Expr widen_float16(const Halide::Expr& half) {
  const Halide::Expr bits = Halide::cast<uint32_t>(Halide::reinterpret(Halide::UInt(16), half));
  auto u32 = [](uint32_t v) { return Halide::Expr(v); };
  const Halide::Expr magnitude = bits & u32(0x7fff), sign = (bits & u32(0x8000)) << u32(16);
  const Halide::Expr shifted = magnitude << u32(13);
  const Halide::Expr finite = Halide::reinterpret(Halide::UInt(32), Halide::reinterpret(Halide::Float(32), shifted) *
                                                                       std::ldexp(1.0f, 112));
  const Halide::Expr value = Halide::select(magnitude >= u32(0x7c00), shifted | u32(0x7f800000), finite);
  return Halide::reinterpret(Halide::Float(32), value | sign);
}


// erf_rational's P and Q, highest power of x^2 first.
constexpr std::array<double, 7> kErfP{1.9638678239175533e-08, -1.9414935650274856e-06, 0.00014147418551146984,
                                      0.003711085766553879,  0.05061205476522446,     0.2003246545791626,
                                      1.1283791065216064};
constexpr std::array<double, 5> kErfQ{0.0009564481442794204, 0.014377592131495476, 0.11515048146247864,
                                      0.5108648538589478, 1.0};

template <size_t N>
std::vector<float> as_floats(const std::array<double, N>& c) {
  return {c.begin(), c.end()};
}

// Coefficients c_k (of x^2k, highest first) times scale * 2^-k: the
// polynomial of u^2 = x^2 / 2 as one of x^2, rounded to float once.
template <size_t N>
std::vector<float> scaled_for_half_square(const std::array<double, N>& high_first, double scale) {
  std::vector<float> out;
  for (size_t i = 0; i < N; ++i)
    out.push_back(static_cast<float>(high_first[i] * scale * std::ldexp(1.0, -static_cast<int>(N - 1 - i))));
  return out;
}

Halide::Expr horner(const Halide::Expr& t, const std::vector<float>& high_first) {
  Halide::Expr acc = high_first.front();
  for (size_t i = 1; i < high_first.size(); ++i) acc = acc * t + high_first[i];
  return acc;
}

// x P(x^2) / Q(x^2) with x clamped to [-bound, bound]; coefficients from the
// highest degree down (scripts/rational_fit.py prints them lowest first). NaN kept.
Halide::Expr odd_rational(const Halide::Expr& x, float bound, const std::vector<float>& p_high_first,
                          const std::vector<float>& q_high_first) {
  const Halide::Expr xc = Halide::clamp(x, -bound, bound);
  const Halide::Expr t = xc * xc;
  return Halide::select(is_nan_bits(x), x, xc * horner(t, p_high_first) / horner(t, q_high_first));
}

// e^xc for xc already clamped to [-87.3, 88]: n = xc / ln 2 rounded to the
// nearest integer, ties to even: adding 1.5 * 2^23 (where float32's spacing
// is 1) rounds it and leaves it in the low bits. Halide 14's round took two
// 8-lane vroundps and a split and join of each 16-lane vector on AVX-512 (4
// uops where this takes 3 with the conversion that both need). `taylor7`:
// the degree-7 Taylor polynomial of the remainder (within 2 ulp of libm);
// otherwise a degree-5 Chebyshev fit of e^r on [-ln 2 / 2, ln 2 / 2]
// (mpmath's chebyfit, 7.9e-8 from e^r there; 2 multiply-adds fewer).
// (Unsigned bits: Halide's bounds of a reinterpreted value are the whole
// type, and signed arithmetic on them overflows in its constant folding.)
Halide::Expr exp_of_clamped(const Halide::Expr& xc, bool taylor7) {
  const Halide::Expr biased = Halide::reinterpret(Halide::UInt(32), xc * 1.44269504f + 12582912.0f);
  const Halide::Expr n = Halide::cast<float>(Halide::cast<int32_t>(biased - Halide::Expr(uint32_t{0x4B400000})));
  // ln 2 = 0.693359375 (exact in 9 bits, so n * it is exact) - 2.12194440e-4.
  const Halide::Expr r = (xc - n * 0.693359375f) + n * 2.12194440e-4f;
  Halide::Expr p;
  if (taylor7) {
    p = 1.f / 5040;
    for (const float c : {1.f / 720, 1.f / 120, 1.f / 24, 1.f / 6, 0.5f, 1.f, 1.f}) p = p * r + c;
  } else {
    p = 0.008369148490856347f;
    for (const float c : {0.04191750724961526f, 0.16666505260408124f, 0.49998869378303396f, 1.00000001077157f,
                          1.0000000754548972f})
      p = p * r + c;
  }
  const Halide::Expr scale =
      Halide::reinterpret(Halide::Float(32), (biased + Halide::Expr(uint32_t{127} - uint32_t{0x4B400000})) << 23);
  return p * scale;
}

}  // namespace

Halide::Expr exp_bounded(const Halide::Expr& x) {
  const Halide::Expr e = exp_of_clamped(Halide::clamp(x, -87.3f, 88.0f), true);
  // Below -87.3 the result would be subnormal (or was clamped to 1.2e-38):
  // exactly 0 instead. A masked attention score's probability is then 0,
  // not 1.2e-38 / sum, a subnormal that the next product meets on every
  // element: Intel cores take a microcode assist per such multiply (a GPT
  // layer's probabilities x V ran at 1 % of peak on a Xeon; AMD's do not).
  return Halide::select(is_nan_bits(x), x, Halide::select(x < -87.3f, 0.f, e));
}

Halide::Expr sigmoid_bounded(const Halide::Expr& x) {
  // Beyond the clamp 1 + e^-x is 1 (x > 87.3) or e^88 (x < -88, where the
  // result, 6e-39, is 0 in the tolerance of every check): no select for
  // the saturation, and one for NaN on the result instead of the argument.
  const Halide::Expr e = exp_of_clamped(Halide::clamp(-x, -87.3f, 88.0f), false);
  return Halide::select(is_nan_bits(x), x, 1.f / (1.f + e));
}

Halide::Expr silu_bounded(const Halide::Expr& x) {
  return x / (1.f + exp_of_clamped(Halide::clamp(-x, -87.3f, 88.0f), false));
}

Halide::Expr erf_rational(const Halide::Expr& x) {
  return odd_rational(x, 4.f, as_floats(kErfP), as_floats(kErfQ));
}

Halide::Expr gelu_rational(const Halide::Expr& x) {
  // (1 + erf(u)) / 2 at u = x / sqrt 2 is 1/2 + x P(x^2 / 2) / (2 sqrt 2 Q(x^2 / 2)).
  static const std::vector<float> p = scaled_for_half_square(kErfP, 0.5 * std::sqrt(0.5));
  static const std::vector<float> q = scaled_for_half_square(kErfQ, 1.0);
  const float bound = static_cast<float>(4.0 * std::sqrt(2.0));
  const Halide::Expr xc = Halide::clamp(x, -bound, bound);
  const Halide::Expr t = xc * xc;
  // Below the clamp GELU is within 4.4e-8 of 0, which the fit's factor
  // (about 1e-7 off there) times a large |x| would not be.
  return x * Halide::select(x < -bound, 0.f, xc * (horner(t, p) / horner(t, q)) + 0.5f);
}

Halide::Expr tanh_rational(const Halide::Expr& x) {
  return odd_rational(x, 9.f,
                      {-8.823465639769615e-14f, 5.40664839288052e-11f, -2.0489103746967885e-08f, 1.1218659892620053e-05f,
                       0.0031100695487111807f, 0.1308947205543518f, 1.f},
                      {0.000255507038673386f, 0.024519488215446472f, 0.4642280042171478f, 1.f});
}

std::vector<TensorFunc> with_float32_weight(std::span<const TensorFunc> args, const LowerContext& ctx) {
  std::vector<TensorFunc> out(args.begin(), args.end());
  if (out.size() < 2) return out;
  const lang::DType d = out[1].type.dtype;
  if (d != lang::DType::float16 && d != lang::DType::bfloat16) return out;
  // ARM converts halves natively (fcvtl), GPUs load them as halves.
  const bool native_half = ctx.target.arch == Halide::Target::ARM || ctx.target.has_gpu_feature();
  const TensorFunc weight = out[1];
  out[1] = define(ctx.name + "_w32", lang::TensorType{weight.type.shape, lang::DType::float32},
                  [&](const std::vector<Halide::Var>& v) {
                    const Halide::Expr w = weight.at({v.begin(), v.end()});
                    return d == lang::DType::float16 && !native_half ? widen_float16(w) : w;
                  });
  out[1].widened = true;
  return out;
}

void schedule_widened(const TensorFunc& weight, const Halide::LoopLevel& level, int vectorized) {
  if (!weight.widened) return;
  Halide::Func w = weight.func;
  const std::vector<Halide::Var> v = w.args();
  w.compute_at(level);
  if (vectorized > 0 && vectorized < static_cast<int>(v.size())) {
    // The vectorized axis innermost in the scratch buffer: contiguous stores
    // when converting, contiguous loads for the unrolled uses.
    std::vector<Halide::Var> storage{v[static_cast<size_t>(vectorized)]};
    for (size_t i = 0; i < v.size(); ++i)
      if (static_cast<int>(i) != vectorized) storage.push_back(v[i]);
    w.reorder_storage(storage);
  }
  if (vectorized >= 0 && vectorized < static_cast<int>(v.size())) w.vectorize(v[static_cast<size_t>(vectorized)]);
}

void schedule_widened_once(const TensorFunc& weight, int lanes) {
  if (!weight.widened) return;
  Halide::Func w = weight.func;
  const std::vector<Halide::Var> v = w.args();
  w.compute_root();
  Halide::Var all = v[0];
  for (size_t i = 1; i < v.size(); ++i) {
    Halide::Var fused(w.name() + "_f" + std::to_string(i));
    w.fuse(all, v[i], fused);
    all = fused;
  }
  // Tasks of 2048 vectors: few enough to amortize a task, many enough to
  // spread a 512 x 512 x 3 x 3 weight over the threads. (The vectors are
  // split off first: guarding an outer split and then splitting its inner
  // part, Halide 14 dropped the guard and wrote past the buffer.)
  Halide::Var vector("vector"), lane("lane"), block("block"), inner("inner");
  w.split(all, vector, lane, lanes, Halide::TailStrategy::GuardWithIf)
      .vectorize(lane)
      .split(vector, block, inner, 2048, Halide::TailStrategy::GuardWithIf)
      .parallel(block);
}

const LoweringRegistry& LoweringRegistry::global() {
  static const LoweringRegistry registry = [] {
    LoweringRegistry r;
    register_nn_lowerings(r);
    register_conv_lowerings(r);
    register_winograd_lowerings(r);
    register_elementwise_lowerings(r);
    register_transform_lowerings(r);
    register_indexing_lowerings(r);
    register_reduce_lowerings(r);
    register_window_lowerings(r);
    register_normalization_lowerings(r);
    register_layout_lowerings(r);
    register_qnn_lowerings(r);
    return r;
  }();
  return registry;
}

void LoweringRegistry::add(const std::string& op, ComputeRule rule) {
  if (rules_.count(op)) throw std::logic_error("lowering registered twice: " + op);
  rules_.emplace(op, std::move(rule));
}

const ComputeRule* LoweringRegistry::find(std::string_view op) const {
  auto it = rules_.find(op);
  return it == rules_.end() ? nullptr : &it->second;
}

std::vector<std::string> LoweringRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [n, _] : rules_) out.push_back(n);
  return out;
}

RegisterFile register_file(const Halide::Target& target) {
  RegisterFile f;
  f.lanes = target.natural_vector_size<float>();
  // 512-bit vectors on x86 come with 32 registers (AVX-512); AArch64 has 32 NEON registers.
  const bool wide = (target.arch == Halide::Target::X86 && f.lanes >= 16) ||
                    (target.arch == Halide::Target::ARM && target.bits == 64);
  f.vector_registers = wide ? 32 : 16;
  // RV64GC has no vector unit: LLVM splits Halide's 128-bit vectors into
  // lanes of the 32 FP registers. Hexagon computes float32 in its 32 scalar
  // registers (HVX has no float32 arithmetic before v68), some of them
  // reserved (stack, frame, return address). Wasm SIMD128 maps onto the
  // host's 16 XMM registers on x86 (the default).
  if (target.arch == Halide::Target::RISCV && !target.has_feature(Halide::Target::RVV))
    f.vector_registers = std::max(4, 32 / std::max(1, f.lanes));
  if (target.arch == Halide::Target::Hexagon) f.vector_registers = 24;
  return f;
}

RegisterTile template_tile(const TileRequest& request) {
  return choose_register_tile(request.registers, request.block_lanes, request.channel_blocks, request.pixels,
                              request.reserved);
}

RegisterTile register_tile(const ScheduleContext& s, int block_lanes, int64_t channel_blocks, int64_t pixels, int reserved) {
  const RegisterFile registers = register_file(s.target);
  const TileRequest request{registers, reserved, block_lanes, channel_blocks, pixels};
  if (s.tile_request) *s.tile_request = request;
  if (s.knobs.empty()) return template_tile(request);
  for (const RegisterTile& tile : register_tile_candidates(registers, block_lanes, channel_blocks, pixels))
    if (tile.blocks == s.knobs.tile_blocks && tile.pixels == s.knobs.tile_pixels) return tile;
  throw Error("schedule knobs " + s.knobs.str() + " do not fit this kernel (" + std::to_string(channel_blocks) +
              " blocks of " + std::to_string(block_lanes) + " lanes x " + std::to_string(pixels) + " pixels, " +
              std::to_string(registers.vector_registers) + " vector registers); re-run `modelc tune`");
}

int fitting_lanes(int64_t extent, int lanes) {
  int v = lanes;
  while (v > 1 && extent < v) v /= 2;
  return v;
}

int64_t parallel_task_size(int64_t iterations, int64_t work, int64_t unit) {
  if (iterations <= 1) return 1;
  const int64_t per_iteration = std::max<int64_t>(1, work / iterations);
  const int64_t wanted = (kMinTaskWork + per_iteration - 1) / per_iteration;
  const int64_t size = std::clamp<int64_t>(wanted, 1, std::max<int64_t>(1, iterations / 8));
  return (size + unit - 1) / unit * unit;
}

Halide::VarOrRVar parallel_tasks(Halide::Stage stage, const Halide::VarOrRVar& loop, int64_t iterations, int64_t work,
                                 int64_t unit) {
  const int64_t size = parallel_task_size(iterations, work, unit);
  if (size <= 1) {
    stage.parallel(loop);
    return loop;
  }
  const std::string name = loop.name();
  const Halide::VarOrRVar task = loop.is_rvar ? Halide::VarOrRVar(Halide::RVar(name + "_task")) : Halide::VarOrRVar(Halide::Var(name + "_task"));
  const Halide::VarOrRVar inner = loop.is_rvar ? Halide::VarOrRVar(Halide::RVar(name + "_in")) : Halide::VarOrRVar(Halide::Var(name + "_in"));
  stage.split(loop, task, inner, static_cast<int>(size), Halide::TailStrategy::GuardWithIf).parallel(task);
  return inner;
}

Halide::Var parallel_tasks(Halide::Func f, const Halide::Var& loop, int64_t iterations, int64_t work, int64_t unit) {
  return parallel_tasks(Halide::Stage(f), loop, iterations, work, unit).var;
}

Halide::Var fuse_outer(Halide::Func f, const std::vector<Halide::Var>& vars, size_t count) {
  Halide::Var fused = vars.at(0);
  for (size_t d = 1; d < count; ++d) {
    Halide::Var next(fused.name() + "_" + vars[d].name());
    f.fuse(vars[d], fused, next);  // Halide order: inner var first
    fused = next;
  }
  return fused;
}

DotColumns DotColumns::choose(int64_t rows, int64_t n) {
  DotColumns c;
  c.n = n;
  c.block = n >= 4 ? 4 : 1;
  c.streams = rows == 1 && n >= 4;
  c.steps = (n + c.block - 1) / c.block;
  return c;
}

Halide::Expr DotColumns::column(const Halide::Expr& b, const Halide::Expr& q) const {
  const int64_t last = n - 1;
  return Halide::min(streams ? b * static_cast<int>(steps) + q : q * block + b, static_cast<int>(last));
}

Halide::Expr DotColumns::at(Halide::Func dot, const Halide::Expr& j, const Halide::Expr& i) const {
  const int q = static_cast<int>(streams ? steps : block);
  return streams ? dot(j / q, j % q, i) : dot(j % q, j / q, i);
}

Halide::Expr sum_of_lanes(Halide::Func partial, int lanes, const Halide::Expr& b, const Halide::Expr& q,
                          const Halide::Expr& i) {
  std::vector<Halide::Expr> sums;
  for (int l = 0; l < lanes; ++l) sums.push_back(partial(l, b, q, i));
  for (size_t half = sums.size() / 2; half > 0; half /= 2)
    for (size_t l = 0; l < half; ++l) sums[l] = sums[l] + sums[l + half];
  return sums[0];
}

ScheduleHook row_dot_schedule(Halide::Func dot, Halide::Func partial, Halide::Var u, Halide::Var b, Halide::Var q,
                              Halide::Var i, std::optional<Halide::RDom> ro, int lanes, const DotColumns& columns,
                              int64_t work, bool quads) {
  const bool parallel = worth_parallel(work);
  return [=](const ScheduleContext& s) mutable {
    // Stored as the result's columns lie: the result copies it with whole
    // vectors (a few thousand floats: the weights were megabytes).
    if (columns.streams) dot.reorder_storage(q, b, i);
    else dot.reorder_storage(b, q, i);
    dot.compute_root().bound(b, 0, columns.block).reorder(b, q, i).unroll(b);
    // On the stack where small (a classifier's 1000 floats), not a heap
    // allocation per call (an LSTM's recurrent product runs 32 times a run).
    if (s.output_type.element_count() * 4 <= 64 * 1024) dot.store_in(Halide::MemoryType::Stack);
    const Halide::Var at = parallel ? parallel_tasks(dot, q, columns.steps, work) : q;
    const int vector = std::min(lanes, s.vector_lanes);
    partial.compute_at(dot, at).vectorize(u, vector).unroll(u).unroll(b);
    if (ro && quads)
      partial.update()
          .reorder((*ro).x, u, b, (*ro).y, q, i)
          .atomic()
          .vectorize((*ro).x)
          .vectorize(u, vector)
          .unroll(u)
          .unroll(b);
    else if (ro)
      partial.update().reorder(u, b, *ro, q, i).vectorize(u, vector).unroll(u).unroll(b);
    Halide::Func out = s.output;
    const int out_lanes = fitting_lanes(columns.n, s.vector_lanes);
    if (out_lanes > 1) out.vectorize(s.output_vars[1], out_lanes, Halide::TailStrategy::GuardWithIf);
  };
}

void schedule_register_transpose(const ScheduleContext& s, Halide::Func input, Halide::Func reader, int c_position,
                                 int f) {
  Halide::Func out = s.output;
  const size_t rank = s.output_vars.size();
  Halide::Var ao("ao"), ai("ai"), co("co"), ci("ci");
  const Halide::Var a = s.output_vars[rank - 1], c = s.output_vars[static_cast<size_t>(c_position)];
  out.split(a, ao, ai, f, Halide::TailStrategy::ShiftInwards).split(c, co, ci, f, Halide::TailStrategy::ShiftInwards);
  std::vector<Halide::Var> outer;  // the loops outside a tile, outermost first
  for (size_t d = 0; d + 1 < rank; ++d) outer.push_back(static_cast<int>(d) == c_position ? co : s.output_vars[d]);
  // The tile's loops innermost, every other loop outside them (a partial
  // reorder left the rows between a tile's channels and its columns).
  std::vector<Halide::VarOrRVar> order{ai, ci, ao};
  for (auto it = outer.rbegin(); it != outer.rend(); ++it) order.push_back(*it);
  out.reorder(order).vectorize(ai).unroll(ci);
  Halide::Func tile = input.in(reader);
  const std::vector<Halide::Var> tv = tile.args();
  tile.compute_at(out, ao).store_in(Halide::MemoryType::Register).vectorize(tv[0]);
  for (size_t d = 1; d < tv.size(); ++d) tile.unroll(tv[d]);
  const int64_t total = s.output_type.element_count();
  const int64_t iterations = total / s.output_type.shape[rank - 1] / f;
  const Halide::Var fused = fuse_outer(out, outer, outer.size());
  if (iterations > 1 && worth_parallel(total)) parallel_tasks(out, fused, iterations, total);
}

void schedule_injective(const ScheduleContext& ctx) {
  Halide::Func out = ctx.output;
  const auto& shape = ctx.output_type.shape;
  const std::vector<Halide::Var>& v = ctx.output_vars;
  if (v.empty()) return;
  const size_t inner = v.size() - 1;
  const int lanes = fitting_lanes(shape[inner], ctx.vector_lanes);
  if (lanes > 1) out.vectorize(v[inner], lanes, Halide::TailStrategy::GuardWithIf);
  // Parallelize over the outer dims: fuse them into one loop with enough iterations.
  if (v.size() >= 2) {
    Halide::Var fused = v[0];
    int64_t work = shape[0];
    for (size_t d = 1; d + 1 < v.size() && work < 64; ++d) {
      Halide::Var f(fused.name() + "_" + v[d].name());
      out.fuse(v[d], fused, f);  // Halide order: inner var first
      fused = f;
      work *= shape[d];
    }
    int64_t total = std::max<int64_t>(1, ctx.ops_per_element);
    for (int64_t d : shape) total *= d;
    if (work > 1 && worth_parallel(total)) parallel_tasks(out, fused, work, total);
  }
}

}  // namespace modelc::lower
