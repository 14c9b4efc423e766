// Quantize: static int8 post-training quantization of @main (recipe
// `quantization.mode: int8`; a no-op otherwise).
//
//  1. Annotate: the anchors are nn.conv2d (NCHW/OIHW) and nn.dense with
//     constant weights, each with the chain that follows it when it has a
//     single use: a constant bias (nn.bias_add, or add of a per-channel
//     constant), then ReLU or Clip. An add of two quantized values (a
//     residual connection), with its ReLU, is quantized too. Layers named in
//     `skip` (ONNX node names, or op names such as nn.dense) stay in float.
//  2. Calibrate: the float model runs in the reference interpreter over the
//     calibration samples (lang/passes/quantize.h); every anchor input and
//     chain result gets a range.
//  3. Realize: weights per output channel (or per tensor), symmetric int8 at
//     [-127, 127] (or [-63, 63]: QuantizeOptions::weight_bits); biases int32 at scale input_scale * weight_scale;
//     activations uint8 with a zero point (or symmetric int8). An anchor
//     becomes qnn.quantize of its input (unless the input is already
//     quantized: integer values flow from one quantized op to the next),
//     qnn.conv2d / qnn.dense with the bias, and qnn.requantize to the chain
//     result's range with ReLU/Clip as its clamp; a chain result that no
//     quantized op reads (logits, a projection a layer norm reads) is the
//     accumulator dequantized instead, its ReLU/Clip in float (8 bits would
//     round it and saturate it at the calibrated range). An add with at least one quantized operand
//     becomes qnn.add (the other operand is quantized) where a quantized op reads its result; one
//     that only float ops read (a transformer's residual sum before a layer norm) stays float. nn.max_pool2d of a
//     quantized value pools its integers. A qnn.dequantize gives
//     float consumers their value (dead-code elimination drops it when
//     there are none).
//
// Assumes typed IR before ConvertLayout (NCHW convolutions), batch norm
// already folded (SimplifyInference, FoldConstant).
#include <cmath>
#include <optional>
#include <set>

#include "lang/ops/elementwise.h"
#include "lang/ops/nn.h"
#include "lang/ops/qnn.h"
#include "lang/pass.h"
#include "lang/passes/function_builder.h"
#include "lang/passes/quantize.h"
#include "support/diagnostic.h"

namespace modelc::lang {
namespace {

template <typename A>
AttrsPtr make_attrs(A attrs) {
  return std::make_shared<const A>(std::move(attrs));
}

struct Chain {
  uint32_t anchor = 0;
  std::optional<ValueRef> bias;        // constant, one value per output channel
  std::optional<std::pair<double, double>> clamp;  // ReLU or Clip bounds
  uint32_t last = 0;                   // the binding whose value the chain yields
  std::vector<uint32_t> members;       // after the anchor
  bool is_add = false;
  bool is_max_pool = false;            // nn.max_pool2d of a quantized value, kept in integers
};

// A value of @main as a key of calibrated ranges.
std::string value_key(const ValueRef& v) {
  return std::to_string(static_cast<int>(v.kind)) + ":" + std::to_string(v.index) + ":" + std::to_string(v.output) + ":" + v.constant;
}

bool skipped(const Binding& b, const QuantizeOptions& o) {
  for (const std::string& s : o.skip)
    if (s == origin_name(b.origin) || (b.op && s == b.op->name)) return true;
  return false;
}

// A constant per-channel bias of `channels` values added to the anchor's result.
std::optional<ValueRef> bias_of(const Module& m, const Binding& b, uint32_t from, int64_t channels, bool conv) {
  if (b.is_op("nn.bias_add")) {
    const int64_t axis = attrs_as<AxisAttrs>(*b.attrs).axis;
    if (b.args[1].is_constant() && (axis == 1 || (!conv && axis == -1)) && b.args[0] == ValueRef::binding(from)) return b.args[1];
    return std::nullopt;
  }
  if (!b.is_op("add") || b.args[0] != ValueRef::binding(from) || !b.args[1].is_constant()) return std::nullopt;
  const TensorType t = m.constant(b.args[1].constant).type();
  const bool fits = conv ? (t.shape == std::vector<int64_t>{1, channels, 1, 1} || t.shape == std::vector<int64_t>{channels, 1, 1})
                         : t.shape == std::vector<int64_t>{channels};
  return fits && t.element_count() == channels ? std::optional<ValueRef>(b.args[1]) : std::nullopt;
}

// The single consumer of binding i, if it has exactly one use that is a binding.
std::optional<uint32_t> only_consumer(const Function& fn, const std::vector<int>& uses, uint32_t i) {
  if (uses[i] != 1) return std::nullopt;
  for (uint32_t j = i + 1; j < fn.body.size(); ++j)
    for (const ValueRef& a : fn.body[j].args)
      if (a == ValueRef::binding(i)) return j;
  return std::nullopt;
}

std::optional<Chain> anchor_chain(const Module& m, const Function& fn, const std::vector<int>& uses, uint32_t i) {
  const Binding& b = fn.body[i];
  const bool conv = b.is_op("nn.conv2d");
  if (!conv && !b.is_op("nn.dense")) return std::nullopt;
  if (!b.args[1].is_constant() || !m.constant(b.args[1].constant).has_data()) return std::nullopt;
  if (conv) {
    const auto& a = attrs_as<Conv2DAttrs>(*b.attrs);
    if (a.data_layout != "NCHW" || a.kernel_layout != "OIHW" || a.out_layout != "NCHW") return std::nullopt;
  }
  if (m.type_of(fn, b.args[0]).dtype != DType::float32) return std::nullopt;
  Chain c;
  c.anchor = c.last = i;
  const int64_t channels = b.types.at(0).shape[1];
  if (auto next = only_consumer(fn, uses, c.last)) {
    if (auto bias = bias_of(m, fn.body[*next], c.last, channels, conv)) {
      c.bias = bias;
      c.members.push_back(*next);
      c.last = *next;
    }
  }
  if (auto next = only_consumer(fn, uses, c.last)) {
    if (auto clamp = activation_clamp(fn.body[*next], ValueRef::binding(c.last))) {
      c.clamp = clamp;
      c.members.push_back(*next);
      c.last = *next;
    }
  }
  return c;
}

class Realizer {
 public:
  Realizer(Module& m, const Function& fn, const QuantizeOptions& o) : m_(m), fn_(fn), o_(o), builder_(fn) {}

  // `eight_bit`: the old values a quantized op reads in 8 bits.
  void run(const std::vector<std::optional<Chain>>& chains, const std::map<std::string, ValueRange>& ranges,
           const std::set<std::string>& eight_bit) {
    ranges_ = &ranges;
    eight_bit_ = &eight_bit;
    std::vector<bool> consumed(fn_.body.size(), false);
    for (uint32_t i = 0; i < fn_.body.size(); ++i) {
      if (consumed[i]) continue;
      if (!chains[i]) {
        builder_.keep(i);
        continue;
      }
      const Chain& c = *chains[i];
      for (uint32_t member : c.members) consumed[member] = true;
      if (c.is_add) realize_add(c);
      else if (c.is_max_pool) realize_max_pool(c);
      else realize_anchor(c);
    }
  }

  Function finish() { return builder_.finish(); }

 private:
  QuantParams params_of(const ValueRef& old) const { return activation_quant_params(ranges_->at(value_key(old)), o_.symmetric_activations); }

  // The quantized version of old value `old`, made on first use.
  std::pair<ValueRef, QuantParams> quantized(const ValueRef& old) {
    if (auto it = quantized_.find(value_key(old)); it != quantized_.end()) return it->second;
    const QuantParams q = params_of(old);
    QuantizeAttrs a;
    a.scale = {q.scale};
    a.zero_point = {q.zero_point};
    a.out_dtype = q.dtype;
    const ValueRef v = builder_.emit(make_op_call("qnn.quantize", {builder_.map(old)}, make_attrs(a)));
    quantized_[value_key(old)] = {v, q};
    return {v, q};
  }

  // The int8 version of float weight `name` and its scales, made once: an unrolled RNN's steps share one
  // weight, and a copy per step would be memory each step streams and the artifact stores.
  const std::pair<std::string, std::vector<double>>& quantized_weight(const std::string& name) {
    auto [it, inserted] = weights_.try_emplace(name);
    if (inserted) {
      std::vector<double> scales;
      Tensor wq = quantize_weights(m_.constant(name), o_.per_channel_weights, 0, scales, o_.weight_bits);
      it->second = {m_.add_constant(name + "_int8", std::move(wq)), std::move(scales)};
    }
    return it->second;
  }

  // Records the quantized result of old binding `last` and gives float consumers its dequantized value.
  void publish(uint32_t last, const ValueRef& value, const QuantParams& q, const std::string& origin) {
    quantized_[value_key(ValueRef::binding(last))] = {value, q};
    DequantizeAttrs d;
    d.scale = {q.scale};
    d.zero_point = {q.zero_point};
    builder_.replace(last, 0, builder_.emit(make_op_call("qnn.dequantize", {value}, make_attrs(d), origin)));
  }

  void clamp_bounds(const Chain& c, const QuantParams& q, int64_t& out_min, int64_t& out_max) const {
    if (!c.clamp) return;
    out_min = q.zero_point + static_cast<int64_t>(std::ceil(c.clamp->first / q.scale - 1e-9));
    if (std::isfinite(c.clamp->second)) out_max = q.zero_point + static_cast<int64_t>(std::floor(c.clamp->second / q.scale + 1e-9));
    out_min = std::max(out_min, dtype_min(q.dtype));
    out_max = std::min(out_max, dtype_max(q.dtype));
  }

  void realize_anchor(const Chain& c) {
    const Binding& anchor = fn_.body[c.anchor];
    const bool conv = anchor.is_op("nn.conv2d");
    const auto [x, xq] = quantized(anchor.args[0]);
    const std::pair<std::string, std::vector<double>>& weight = quantized_weight(anchor.args[1].constant);
    const std::vector<double>& w_scales = weight.second;
    const ValueRef w = ValueRef::constant_named(weight.first);
    const int64_t K = m_.constant(weight.first).type().shape[0];
    auto w_scale = [&](int64_t k) { return w_scales.size() == 1 ? w_scales[0] : w_scales[static_cast<size_t>(k)]; };
    std::vector<ValueRef> args{x, w};
    if (c.bias) {
      const Tensor& b = m_.constant(c.bias->constant);
      Tensor bq(TensorType{{K}, DType::int32});
      for (int64_t k = 0; k < K; ++k)
        bq.set_element(static_cast<size_t>(k), static_cast<double>(std::llround(b.element_as_double(static_cast<size_t>(k)) / (xq.scale * w_scale(k)))));
      args.push_back(ValueRef::constant_named(m_.add_constant(c.bias->constant + "_int32", bq)));
    }
    ValueRef acc;
    if (conv) {
      const auto& f = attrs_as<Conv2DAttrs>(*anchor.attrs);
      QnnConv2DAttrs a;
      a.strides = f.strides;
      a.padding = f.padding;
      a.dilation = f.dilation;
      a.groups = f.groups;
      a.input_zero_point = xq.zero_point;
      a.kernel_zero_point = {0};
      acc = builder_.emit(make_op_call("qnn.conv2d", args, make_attrs(a), anchor.origin));
    } else {
      QnnMatmulAttrs a;
      a.input_zero_point = xq.zero_point;
      a.kernel_zero_point = {0};
      acc = builder_.emit(make_op_call("qnn.dense", args, make_attrs(a), anchor.origin));
    }
    std::vector<double> acc_scales;
    for (double ws : w_scales) acc_scales.push_back(xq.scale * ws);
    if (eight_bit_->count(value_key(ValueRef::binding(c.last))) == 0) {
      realize_float_result(c, acc, acc_scales);
      return;
    }
    const QuantParams yq = params_of(ValueRef::binding(c.last));
    RequantizeAttrs r;
    r.input_scale = acc_scales;
    r.output_scale = yq.scale;
    r.output_zero_point = yq.zero_point;
    r.out_dtype = yq.dtype;
    r.axis = 1;
    clamp_bounds(c, yq, r.out_min, r.out_max);
    publish(c.last, builder_.emit(make_op_call("qnn.requantize", {acc}, make_attrs(r), anchor.origin)), yq, anchor.origin);
  }

  // A result no quantized op reads (a classifier's logits, a projection a
  // layer norm reads) is not rounded to 8 bits: its accumulators are
  // dequantized at their own scale, and its ReLU or Clip runs in float. Rounded,
  // it would also saturate at the calibrated range, and the largest logits
  // (which decide the top class) are the ones beyond it.
  void realize_float_result(const Chain& c, const ValueRef& acc, const std::vector<double>& acc_scales) {
    const Binding& anchor = fn_.body[c.anchor];
    DequantizeAttrs d;
    d.scale = acc_scales;
    d.zero_point.assign(acc_scales.size(), 0);
    d.axis = 1;
    ValueRef value = builder_.emit(make_op_call("qnn.dequantize", {acc}, make_attrs(d), anchor.origin));
    if (c.clamp) {
      const Binding& clamp = fn_.body[c.members.back()];
      value = builder_.emit(make_op_call(clamp.op->name, {value}, clamp.attrs, clamp.origin));
    }
    builder_.replace(c.last, 0, value);
  }

  void realize_add(const Chain& c) {
    const Binding& add = fn_.body[c.anchor];
    const auto [l, lq] = quantized(add.args[0]);
    const auto [r, rq] = quantized(add.args[1]);
    const QuantParams yq = params_of(ValueRef::binding(c.last));
    QnnAddAttrs a;
    a.lhs_scale = lq.scale;
    a.lhs_zero_point = lq.zero_point;
    a.rhs_scale = rq.scale;
    a.rhs_zero_point = rq.zero_point;
    a.output_scale = yq.scale;
    a.output_zero_point = yq.zero_point;
    a.out_dtype = yq.dtype;
    clamp_bounds(c, yq, a.out_min, a.out_max);
    publish(c.last, builder_.emit(make_op_call("qnn.add", {l, r}, make_attrs(a), add.origin)), yq, add.origin);
  }

  // Dequantizing is increasing, so the maximum of dequantized values is the
  // dequantized maximum: the pool runs on the integers, exactly, with its
  // input's scale and zero point (no new rounding, where pooling in float32
  // and quantizing again cost ResNet-18 a tenth of its int8 run).
  void realize_max_pool(const Chain& c) {
    const Binding& pool = fn_.body[c.anchor];
    const auto [x, xq] = quantized(pool.args[0]);
    publish(c.last, builder_.emit(make_op_call("nn.max_pool2d", {x}, pool.attrs, pool.origin)), xq, pool.origin);
  }

  Module& m_;
  const Function& fn_;
  const QuantizeOptions& o_;
  FunctionBuilder builder_;
  const std::map<std::string, ValueRange>* ranges_ = nullptr;
  std::map<std::string, std::pair<ValueRef, QuantParams>> quantized_;
  std::map<std::string, std::pair<std::string, std::vector<double>>> weights_;  // float weight -> int8 copy, scales
  const std::set<std::string>* eight_bit_ = nullptr;
};

}  // namespace

std::optional<std::pair<double, double>> activation_clamp(const Binding& b, const ValueRef& from) {
  if (b.args.empty() || b.args[0] != from) return std::nullopt;
  if (b.is_op("nn.relu")) return std::pair<double, double>{0.0, INFINITY};
  if (b.is_op("clip")) {
    const auto& a = attrs_as<ClipAttrs>(*b.attrs);
    if (a.a_min <= 0) return std::pair<double, double>{a.a_min, a.a_max};
  }
  return std::nullopt;
}

QuantParams activation_quant_params(const ValueRange& r, bool symmetric) {
  const double lo = std::min(r.lo, 0.0), hi = std::max(r.hi, 0.0);
  QuantParams q;
  if (symmetric) {
    q.dtype = DType::int8;
    const double bound = std::max(-lo, hi);
    q.scale = bound > 0 ? bound / 127.0 : 1.0;
    return q;
  }
  q.dtype = DType::uint8;
  q.scale = hi > lo ? (hi - lo) / 255.0 : 1.0;
  q.zero_point = std::clamp<int64_t>(std::llround(-lo / q.scale), 0, 255);
  return q;
}

Tensor quantize_weights(const Tensor& w, bool per_channel, int64_t axis, std::vector<double>& scales, int bits) {
  const std::vector<int64_t>& shape = w.type().shape;
  if (axis < 0 || axis >= static_cast<int64_t>(shape.size())) throw Error("quantize_weights: axis out of range");
  if (bits != 7 && bits != 8) throw Error("quantize_weights: weights take 7 or 8 bits, not " + std::to_string(bits));
  const long long qmax = (1LL << (bits - 1)) - 1;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= shape[static_cast<size_t>(d)];
  for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
  const int64_t K = shape[static_cast<size_t>(axis)];
  const auto v = w.values<float>();
  auto at = [&](int64_t o, int64_t k, int64_t i) { return static_cast<size_t>((o * K + k) * inner + i); };
  std::vector<double> bound(static_cast<size_t>(K), 0);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t i = 0; i < inner; ++i)
        bound[static_cast<size_t>(k)] = std::max(bound[static_cast<size_t>(k)], std::fabs(static_cast<double>(v[at(o, k, i)])));
  if (!per_channel) std::fill(bound.begin(), bound.end(), K > 0 ? *std::max_element(bound.begin(), bound.end()) : 0.0);
  scales.clear();
  for (double b : bound) scales.push_back(b > 0 ? b / static_cast<double>(qmax) : 1.0);
  Tensor out(TensorType{shape, DType::int8});
  auto q = out.mutable_values<int8_t>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t i = 0; i < inner; ++i)
        q[at(o, k, i)] = static_cast<int8_t>(std::clamp<long long>(std::llround(v[at(o, k, i)] / scales[static_cast<size_t>(k)]), -qmax, qmax));
  if (!per_channel) scales.resize(1);
  return out;
}

Module quantize(const Module& module, const PassContext& context) {
  const QuantizeOptions& o = context.quantize;
  if (o.mode != "int8") return module;
  const Function& fn = module.main();
  const std::vector<int> uses = count_uses(fn);
  std::vector<std::optional<Chain>> chains(fn.body.size());
  std::set<std::string> quantized_values;  // old values that will be quantized
  std::set<std::string> eight_bit;         // old values a quantized op reads in 8 bits
  std::vector<ValueRef> observed;
  std::set<std::string> observed_keys;
  auto observe = [&](const ValueRef& v) {
    const std::string k = value_key(v);
    if (observed_keys.insert(k).second) observed.push_back(v);
    return k;
  };
  for (uint32_t i = 0; i < fn.body.size(); ++i) {
    const Binding& b = fn.body[i];
    if (!b.is_op_call() || skipped(b, o)) continue;
    std::optional<Chain> c = anchor_chain(module, fn, uses, i);
    if (!c && b.is_op("add") && b.args.size() == 2 && b.args[0].is_binding() && b.args[1].is_binding() &&
        (quantized_values.count(value_key(b.args[0])) + quantized_values.count(value_key(b.args[1]))) > 0 &&
        module.type_of(fn, b.args[0]) == b.types.at(0) && module.type_of(fn, b.args[1]) == b.types.at(0)) {
      Chain add;
      add.anchor = add.last = i;
      add.is_add = true;
      if (auto next = only_consumer(fn, uses, i))
        if (auto clamp = activation_clamp(fn.body[*next], ValueRef::binding(i))) {
          add.clamp = clamp;
          add.members.push_back(*next);
          add.last = *next;
        }
      c = add;
    }
    if (!c && b.is_op("nn.max_pool2d") && b.args[0].is_binding() && quantized_values.count(value_key(b.args[0])) > 0 &&
        attrs_as<Pool2DAttrs>(*b.attrs).data_layout == "NCHW") {
      Chain pool;
      pool.anchor = pool.last = i;
      pool.is_max_pool = true;
      c = pool;
    }
    if (!c) continue;
    if (!o.only.empty() && !c->is_add && !c->is_max_pool && b.origin != o.only) continue;
    bool member_skipped = false;
    for (uint32_t member : c->members) member_skipped = member_skipped || skipped(fn.body[member], o);
    if (member_skipped) continue;  // a bias or activation kept in float keeps its anchor in float too
    eight_bit.insert(observe(b.args[0]));
    if (c->is_add) eight_bit.insert(observe(b.args[1]));
    quantized_values.insert(value_key(ValueRef::binding(c->last)));
    chains[i] = c;
  }
  // An add is quantized for the quantized ops that read its result in 8
  // bits. Where none does (a transformer's residual sum, which a layer norm
  // reads), it stays in float and its operands keep their precision: a
  // layer's accumulator dequantized, not rounded to 8 bits and saturated at
  // its calibrated range (BERT int8 against the float model: largest
  // absolute error 0.98 with the residual sums in 8 bits, 0.065 without).
  // Dropping one add can leave another unread, or a max pool without a
  // quantized input: repeated until nothing changes.
  for (bool changed = true; changed;) {
    changed = false;
    eight_bit.clear();
    quantized_values.clear();
    for (uint32_t i = 0; i < fn.body.size(); ++i) {
      if (!chains[i]) continue;
      eight_bit.insert(value_key(fn.body[i].args[0]));
      if (chains[i]->is_add) eight_bit.insert(value_key(fn.body[i].args[1]));
      quantized_values.insert(value_key(ValueRef::binding(chains[i]->last)));
    }
    for (uint32_t i = 0; i < fn.body.size(); ++i) {
      if (!chains[i] || !(chains[i]->is_add || chains[i]->is_max_pool)) continue;
      const Binding& b = fn.body[i];
      const bool read = eight_bit.count(value_key(ValueRef::binding(chains[i]->last))) != 0;
      const bool fed = quantized_values.count(value_key(b.args[0])) != 0 ||
                       (chains[i]->is_add && quantized_values.count(value_key(b.args[1])) != 0);
      if ((chains[i]->is_add && !read) || !fed) {
        chains[i].reset();
        changed = true;
      }
    }
  }
  if (observed.empty()) return module;
  // The results that need a range of their own: an add's, and a layer's that
  // a quantized op reads (others stay float; a max pool keeps its input's).
  for (const std::optional<Chain>& c : chains)
    if (c && !c->is_max_pool && (c->is_add || eight_bit.count(value_key(ValueRef::binding(c->last))) != 0))
      observe(ValueRef::binding(c->last));

  std::map<std::string, ValueRange> by_key;
  std::vector<ValueRef> uncalibrated;
  for (const ValueRef& v : observed) {
    const std::string k = value_key(v);
    if (o.range_cache && o.range_cache->count(k)) by_key[k] = o.range_cache->at(k);
    else uncalibrated.push_back(v);
  }
  if (!uncalibrated.empty()) {
    const std::vector<ValueRange> ranges = calibrate(module, uncalibrated, o);
    for (size_t i = 0; i < uncalibrated.size(); ++i) {
      by_key[value_key(uncalibrated[i])] = ranges[i];
      if (o.range_cache) (*o.range_cache)[value_key(uncalibrated[i])] = ranges[i];
    }
  }
  Module out = module;
  Realizer realizer(out, fn, o);
  realizer.run(chains, by_key, eight_bit);
  Function realized = realizer.finish();
  out.main() = std::move(realized);
  return out;
}

}  // namespace modelc::lang
