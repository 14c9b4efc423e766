// PadChannels: widens convolutions whose output channels fill no whole
// vector block to the next multiple of the block, with zero weights, so that
// ConvertLayout can give them the target's full block.
//
// Why: ConvertLayout's block for C channels is the largest power of two up
// to the target's that divides C. ShuffleNetV2's 58- and 116-channel branches
// get NCHW2c and NCHW4c, and their kernels use two or four lanes of an
// eight-lane vector (13-31 % of peak on AVX2). Computing 64 or 120 channels,
// the extra ones from zero weights, costs 3-10 % more multiply-adds at the
// full vector rate.
//
// What: a float32 conv2d (groups 1, NCHW/OIHW, constant weight) with K output
// channels, K's block under the target's below min(k, 8), and at most 25 %
// added (58 -> 64, 116 -> 120, 21 -> 24; not 3 -> 8), gets K' = K rounded up
// to k output channels, the new ones with zero weights. So does K whose
// block is 8 under 16 lanes (AVX-512: half of each vector, about half the
// peak) when at most 12.5 % is added (a classifier's 1000 -> 1008; not
// 40 -> 48). Its padded result
// flows on through ops that keep each channel to itself:
//  - bias_add with a constant bias (zeros appended);
//  - elementwise ops that map finite values to finite values (relu, clip,
//    sigmoid, tanh, erf, hard_swish, ...);
//  - add, subtract, multiply, maximum, minimum, and divide by a constant,
//    whose other operands are padded alike, or constants that vary along
//    channels (ones appended: finite whatever they meet) or do not;
//  - depthwise conv2d with a constant weight (zero filters appended).
// A convolution (groups 1, constant weight) reading a padded value takes the
// extra input channels with zero weights; every other use reads the first K
// channels through strided_slice (fused into its kernel by FuseOps). The
// extra channels therefore hold finite values that no real channel reads.
// An infinite activation would turn into NaN against a zero weight (0 * inf),
// where without padding it stayed infinite: only a result that had already
// overflowed can tell the difference.
//
// Assumes typed IR with NCHW/OIHW ops, before ConvertLayout; does nothing
// unless PassContext::activation_layout is NCHW{k}c.
#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "lang/ops/layout.h"
#include "lang/ops/nn.h"
#include "lang/ops/transform.h"
#include "lang/pass.h"
#include "lang/passes/function_builder.h"

namespace modelc::lang {
namespace {

// Channel counts padded: K whose block is below this many lanes...
constexpr int64_t kNarrowBlock = 8;
// ...when rounding up adds at most 1 / kMaxWasteDivisor of K; K with a
// block of 8 under a 16-lane target, at most 1 / kMaxHalfWasteDivisor.
constexpr int64_t kMaxWasteDivisor = 4;
constexpr int64_t kMaxHalfWasteDivisor = 8;

int64_t natural_block(int64_t channels, int64_t k) {
  int64_t block = 1;
  while (block * 2 <= k && channels % (block * 2) == 0) block *= 2;
  return block;
}

// Elementwise ops that keep a finite value finite (the extra channels' values
// are never read, but must not become NaN or infinite: 0 * inf is NaN).
bool keeps_finite(const Binding& b) {
  static const std::set<std::string> ops{"nn.relu",      "clip",          "sigmoid",        "tanh",    "erf",
                                         "negative",     "abs",           "nn.hard_swish",  "nn.elu",  "nn.leaky_relu",
                                         "nn.hard_sigmoid", "nn.softsign",   "nn.silu", "nn.gelu"};
  return b.op && b.types.size() == 1 && ops.count(b.op->name) > 0;
}

bool is_binary_channelwise(const Binding& b) {
  static const std::set<std::string> ops{"add", "subtract", "multiply", "divide", "maximum", "minimum"};
  return b.op && b.types.size() == 1 && b.args.size() == 2 && ops.count(b.op->name) > 0 &&
         dynamic_cast<const NoAttrs*>(b.attrs.get()) != nullptr;
}

bool plain_nchw_conv(const Binding& b, const Module& m) {
  if (!b.is_op("nn.conv2d") || b.types.size() != 1 || b.types[0].rank() != 4 || b.types[0].dtype != DType::float32)
    return false;
  const auto& a = attrs_as<Conv2DAttrs>(*b.attrs);
  if (a.data_layout != "NCHW" || a.kernel_layout != "OIHW" || a.out_layout != "NCHW") return false;
  if (!b.args[1].is_constant()) return false;
  const Tensor& w = m.constant(b.args[1].constant);
  return w.has_data() && w.type().dtype == DType::float32 && w.type().rank() == 4;
}

// `t` with axis `axis` extended to `extent`, the new elements `fill`.
Tensor pad_axis(const Tensor& t, size_t axis, int64_t extent, float fill) {
  const auto& s = t.type().shape;
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < axis; ++d) outer *= s[d];
  for (size_t d = axis + 1; d < s.size(); ++d) inner *= s[d];
  std::vector<int64_t> shape = s;
  shape[axis] = extent;
  Tensor out(TensorType{shape, DType::float32});
  const auto from = t.values<float>();
  auto to = out.mutable_values<float>();
  std::fill(to.begin(), to.end(), fill);
  for (int64_t o = 0; o < outer; ++o)
    std::copy_n(from.begin() + o * s[axis] * inner, s[axis] * inner, to.begin() + o * extent * inner);
  return out;
}

class ChannelPadder {
 public:
  ChannelPadder(Module& m, const Function& fn, int64_t block)
      : m_(m), fn_(fn), block_(block), builder_(fn), padded_(fn.body.size(), 0) {}

  Function run() {
    for (uint32_t i = 0; i < fn_.body.size(); ++i) rewrite(i, fn_.body[i]);
    std::vector<ValueRef> results;
    for (const ValueRef& r : fn_.results) results.push_back(unpadded(r));
    Function out = builder_.finish();
    out.results = results;
    return out;
  }

  bool changed() const { return std::any_of(padded_.begin(), padded_.end(), [](int64_t c) { return c > 0; }); }

 private:
  // The padded channel count of an old value, 0 when it is as it was.
  int64_t padding_of(const ValueRef& old) const { return old.is_binding() ? padded_[old.index] : 0; }

  // The new value holding an old one's channels as the model had them.
  ValueRef unpadded(const ValueRef& old) {
    const int64_t wide = padding_of(old);
    if (!wide) return builder_.map(old);
    if (auto it = slices_.find(old.index); it != slices_.end()) return it->second;
    const TensorType& t = fn_.body[old.index].types[0];
    auto attrs = std::make_shared<StridedSliceAttrs>();
    attrs->begin = {0};
    attrs->end = {t.shape[1]};
    attrs->axes = {1};
    Binding slice = make_op_call("strided_slice", {builder_.map(old)}, attrs, fn_.body[old.index].origin);
    const ValueRef v = builder_.emit(std::move(slice));
    slices_.emplace(old.index, v);
    return v;
  }

  int64_t wanted_outputs(int64_t channels) const {
    const int64_t natural = natural_block(channels, block_);
    if (natural >= block_) return 0;
    // Half a vector (8 lanes of 16): padded only when it costs little more.
    const int64_t divisor = natural >= std::min(block_, kNarrowBlock) ? kMaxHalfWasteDivisor : kMaxWasteDivisor;
    const int64_t wide = (channels + block_ - 1) / block_ * block_;
    return (wide - channels) * divisor <= channels ? wide : 0;
  }

  void rewrite(uint32_t i, const Binding& b) {
    if (plain_nchw_conv(b, m_) && rewrite_conv(i, b)) return;
    if (b.is_op("nn.bias_add") && rewrite_bias_add(i, b)) return;
    if (keeps_finite(b) && b.args.size() == 1 && padding_of(b.args[0])) {
      emit_padded(i, b, {builder_.map(b.args[0])}, padding_of(b.args[0]));
      return;
    }
    if (is_binary_channelwise(b) && rewrite_binary(i, b)) return;
    std::vector<ValueRef> args;
    for (const ValueRef& a : b.args) args.push_back(unpadded(a));
    builder_.keep(i, std::move(args));
  }

  void emit_padded(uint32_t i, const Binding& b, std::vector<ValueRef> args, int64_t wide, AttrsPtr attrs = nullptr) {
    Binding copy = b;
    copy.args = std::move(args);
    if (attrs) copy.attrs = std::move(attrs);
    copy.types.clear();
    builder_.replace(i, 0, builder_.emit(std::move(copy)));
    padded_[i] = wide;
  }

  // Constant `name` extended along each (axis, extent) of `pads`, the new
  // elements `fill`; made once per constant and padding.
  std::string padded_constant(const std::string& name, const std::vector<std::pair<size_t, int64_t>>& pads, float fill) {
    std::ostringstream key;
    key << name << '/' << fill;
    for (const auto& [axis, extent] : pads) key << '/' << axis << ':' << extent;
    auto [it, fresh] = padded_constants_.try_emplace(key.str());
    if (fresh) {
      Tensor t = m_.constant(name);
      for (const auto& [axis, extent] : pads) t = pad_axis(t, axis, extent, fill);
      it->second = m_.add_constant(name + ".padded", std::move(t));
    }
    return it->second;
  }

  bool rewrite_conv(uint32_t i, const Binding& b) {
    const auto& a = attrs_as<Conv2DAttrs>(*b.attrs);
    const int64_t wide_in = padding_of(b.args[0]);
    const auto& ws = m_.constant(b.args[1].constant).type().shape;  // K, C / groups, R, S
    const int64_t outputs = b.types[0].shape[1];
    if (a.groups == 1) {
      const int64_t wide_out = wanted_outputs(outputs);
      if (!wide_in && !wide_out) return false;
      std::vector<std::pair<size_t, int64_t>> pads;
      if (wide_in) pads.emplace_back(1, wide_in);
      if (wide_out) pads.emplace_back(0, wide_out);
      const std::string name = padded_constant(b.args[1].constant, pads, 0.f);
      emit_padded(i, b, {builder_.map(b.args[0]), ValueRef::constant_named(name)}, wide_out);
      return true;
    }
    // Depthwise over a padded input: zero filters for the extra channels.
    if (!wide_in || a.groups != outputs || ws[1] != 1 || ws[0] != outputs) return false;
    const std::string name = padded_constant(b.args[1].constant, {{0, wide_in}}, 0.f);
    auto attrs = std::make_shared<Conv2DAttrs>(a);
    attrs->groups = wide_in;
    emit_padded(i, b, {builder_.map(b.args[0]), ValueRef::constant_named(name)}, wide_in, attrs);
    return true;
  }

  bool rewrite_bias_add(uint32_t i, const Binding& b) {
    const int64_t wide = padding_of(b.args[0]);
    if (!wide || !b.args[1].is_constant()) return false;
    const int64_t axis = attrs_as<AxisAttrs>(*b.attrs).axis;
    if (axis != 1 && axis != -3) return false;
    const Tensor& bias = m_.constant(b.args[1].constant);
    if (!bias.has_data() || bias.type().dtype != DType::float32 || bias.type().rank() != 1) return false;
    const std::string name = padded_constant(b.args[1].constant, {{0, wide}}, 0.f);
    emit_padded(i, b, {builder_.map(b.args[0]), ValueRef::constant_named(name)}, wide);
    return true;
  }

  // add/multiply/...: every padded operand padded alike and shaped like the
  // result; constants varying along channels get ones appended; anything
  // else must not vary along channels.
  bool rewrite_binary(uint32_t i, const Binding& b) {
    const TensorType& result = b.types[0];
    if (result.rank() != 4) return false;
    int64_t wide = 0;
    for (const ValueRef& a : b.args)
      if (const int64_t w = padding_of(a)) {
        if ((wide && w != wide) || m_.type_of(fn_, a) != result) return false;
        wide = w;
      }
    if (!wide) return false;
    // Dividing by a padded value could divide by zero.
    if (b.is_op("divide") && padding_of(b.args[1])) return false;
    std::vector<ValueRef> args;
    for (const ValueRef& a : b.args) {
      if (padding_of(a)) {
        args.push_back(builder_.map(a));
        continue;
      }
      const TensorType t = m_.type_of(fn_, a);
      if (t.rank() > 4) return false;
      const size_t rank = t.rank();
      const bool varies = rank >= 3 && t.shape[rank - 3] != 1;
      if (!varies) {
        args.push_back(builder_.map(a));
        continue;
      }
      if (!a.is_constant() || t.dtype != DType::float32 || !m_.constant(a.constant).has_data()) return false;
      const std::string name = padded_constant(a.constant, {{rank - 3, wide}}, 1.f);
      args.push_back(ValueRef::constant_named(name));
    }
    emit_padded(i, b, std::move(args), wide);
    return true;
  }

  Module& m_;
  const Function& fn_;
  const int64_t block_;
  FunctionBuilder builder_;
  std::vector<int64_t> padded_;           // per old binding: its padded channel count, or 0
  std::map<uint32_t, ValueRef> slices_;  // old binding -> its first channels, sliced once
  std::map<std::string, std::string> padded_constants_;  // (constant, how) -> padded constant's name
};

}  // namespace

Module pad_channels(const Module& module, const PassContext& context) {
  const std::string& wanted = context.activation_layout;
  if (wanted.empty() || wanted == "NCHW") return module;
  const Layout target = Layout::parse(wanted);
  const int64_t block = target.primal() == "NCHW" && target.rank() == 5 ? target.factor_of('C') : 0;
  if (block < 2) return module;
  Module out = module;
  Function& main = out.main();
  ChannelPadder padder(out, main, block);
  Function padded = padder.run();
  if (!padder.changed()) return module;
  main = std::move(padded);
  return infer_type(dead_code_elimination(out, context), context);
}

}  // namespace modelc::lang
