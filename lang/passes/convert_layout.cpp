// ConvertLayout: stores activations in the recipe's layout (PassContext::
// activation_layout): NCHW (nothing to do), NHWC, or blocked NCHW{k}c.
//
// Walking @main in order, each 4-D value is either as the model had it
// (logical NCHW) or converted to some layout L. Convolutions convert: their
// input to the layout chosen for its channel count, their weight to a matching
// kernel layout (HWIO for NHWC; OIHW{ki}i{ko}o for NCHW{k}c, OIHW{ko}o when
// grouped), their result to the layout chosen for the output channels.
// Pooling (global pooling too) and bias_add follow their input's layout; a
// concatenate along channels whose operands fill whole channel blocks joins
// the blocked tensors along their outer channel axis; elementwise and broadcast
// ops follow their first converted operand, converting the others (a
// broadcast constant such as [C, 1, 1] is reshaped to 4-D and converted; a
// per-tensor one uses a block of 1). Every other op gets NCHW operands, and
// @main's results are NCHW, so a layout_transform appears exactly at the edges
// of each converted region, once per value (later uses share it).
//
// For NCHW{k}c the block of a tensor with C channels is the largest power of
// two <= k that divides C; a block of 1 keeps the tensor in NCHW (the
// 3-channel image of a CNN enters its first convolution unblocked).
//
// Constants (weights, biases) are transformed here, at compile time, with the
// layout_transform reference kernel (what FoldConstant would do), so no weight
// transform runs per inference. Transforms that the input already had cancel
// against the ones this pass would add (NCHW -> L -> NCHW becomes nothing).
//
// Assumes typed IR with NCHW/OIHW ops (anything already in another layout is
// left as it is), before FuseOps.
#include <algorithm>
#include <map>

#include "lang/ops/layout.h"
#include "lang/ops/nn.h"
#include "lang/ops/reduce.h"
#include "lang/ops/transform.h"
#include "lang/pass.h"
#include "lang/passes/function_builder.h"
#include "support/diagnostic.h"

namespace modelc::lang {
namespace {

const char* const kNCHW = "NCHW";

// The layout for a tensor with `channels` channels under the target.
std::string layout_for_channels(const Layout& target, int64_t channels) {
  const int64_t k = target.factor_of('C');
  if (!k) return target.str();
  int64_t block = 1;
  while (block * 2 <= k && channels % (block * 2) == 0) block *= 2;
  return block == 1 ? kNCHW : "NCHW" + std::to_string(block) + "c";
}

// Same layout with the channel block replaced by 1 (for operands with one channel).
std::string with_unit_block(const std::string& layout) {
  const Layout l = Layout::parse(layout);
  return l.factor_of('C') ? "NCHW1c" : layout;
}

bool is_plain_conv(const Binding& b) {
  const auto& a = attrs_as<Conv2DAttrs>(*b.attrs);
  return a.data_layout == kNCHW && a.kernel_layout == "OIHW" && a.out_layout == kNCHW;
}

// Elementwise and broadcast ops whose meaning does not depend on axes.
bool is_layout_transparent(const Binding& b) {
  if (!b.op || b.types.size() != 1) return false;
  if (b.op->pattern == OpPattern::elemwise) return true;
  return b.op->pattern == OpPattern::broadcast && dynamic_cast<const NoAttrs*>(b.attrs.get()) != nullptr;
}

class LayoutConverter {
 public:
  LayoutConverter(Module& m, const Function& fn, Layout target)
      : m_(m), fn_(fn), target_(std::move(target)), builder_(fn), layout_(fn.body.size()), foreign_(fn.body.size(), false) {}

  Function run() {
    for (uint32_t i = 0; i < fn_.body.size(); ++i) convert(i, fn_.body[i]);
    std::vector<ValueRef> results;
    for (const ValueRef& r : fn_.results) results.push_back(in_layout(r, kNCHW));
    Function out = builder_.finish();
    out.results = results;
    return out;
  }

 private:
  // "" when the old value is as the model had it.
  const std::string& layout_of(const ValueRef& old) const {
    static const std::string as_is;
    return old.is_binding() ? layout_[old.index] : as_is;
  }

  TensorType old_type(const ValueRef& old) const { return m_.type_of(fn_, old); }

  // The old value in `want` (a layout of logical NCHW, or NCHW itself).
  ValueRef in_layout(const ValueRef& old, const std::string& want) {
    const std::string& current = layout_of(old);
    const std::string from = current.empty() ? kNCHW : current;
    if (from == want) return builder_.map(old);
    if (old.is_constant()) return constant_in_layout(old.constant, from, want);
    const auto key = std::make_pair(old.index, want);
    if (auto found = cache_.find(key); found != cache_.end()) return found->second;
    const ValueRef value = transform(builder_.map(old), from, want);
    cache_.emplace(key, value);
    return value;
  }

  ValueRef constant_in_layout(const std::string& name, const std::string& from, const std::string& to) {
    const std::string converted = name + "." + to;
    if (!m_.constants.count(converted))
      m_.constants.emplace(converted, transform_layout(m_.constant(name), Layout::parse(from), Layout::parse(to)));
    return ValueRef::constant_named(converted);
  }

  // layout_transform of a new value, looking through a transform that produced it.
  ValueRef transform(ValueRef value, std::string from, const std::string& to) {
    if (value.is_binding()) {
      const Binding& p = builder_.emitted(value);
      if (p.is_op("layout_transform") && attrs_as<LayoutTransformAttrs>(*p.attrs).dst_layout == from) {
        from = attrs_as<LayoutTransformAttrs>(*p.attrs).src_layout;
        value = p.args[0];
        if (from == to) return value;
      }
    }
    auto attrs = std::make_shared<LayoutTransformAttrs>();
    attrs->src_layout = from;
    attrs->dst_layout = to;
    Binding b = make_op_call("layout_transform", {value}, attrs);
    const TensorType t = value.is_binding() ? builder_.emitted(value).types.at(value.output)
                         : value.is_constant() ? m_.constant(value.constant).type()
                                               : fn_.params.at(value.index).type;
    b.types = {TensorType{convert_shape(t.shape, Layout::parse(from), Layout::parse(to)), t.dtype}};
    return builder_.emit(std::move(b));
  }

  void emit(uint32_t i, Binding b, std::vector<ValueRef> args, AttrsPtr attrs, const std::string& layout) {
    b.args = std::move(args);
    b.attrs = std::move(attrs);
    const TensorType logical = b.types.at(0);
    b.types = {TensorType{convert_shape(logical.shape, Layout::parse(kNCHW), Layout::parse(layout)), logical.dtype}};
    builder_.replace(i, 0, builder_.emit(std::move(b)));
    layout_[i] = layout;
  }

  void keep_with_nchw_operands(uint32_t i, const Binding& b) {
    bool converted = false;
    for (const ValueRef& a : b.args) converted = converted || !layout_of(a).empty();
    if (!converted) {
      builder_.keep(i);
      return;
    }
    std::vector<ValueRef> args;
    for (const ValueRef& a : b.args) args.push_back(in_layout(a, kNCHW));
    builder_.keep(i, std::move(args));
  }

  // An as-is value that is not a logical NCHW tensor (already in some layout).
  bool foreign(const ValueRef& old) const { return old.is_binding() && foreign_.at(old.index); }

  void mark_foreign(uint32_t i, const Binding& b) {
    bool f = false;
    for (const ValueRef& a : b.args) f = f || foreign(a);
    if (b.is_op("layout_transform")) f = attrs_as<LayoutTransformAttrs>(*b.attrs).dst_layout != kNCHW;
    if (b.is_op("nn.conv2d")) f = attrs_as<Conv2DAttrs>(*b.attrs).out_layout != kNCHW;
    if (b.is_op("nn.max_pool2d") || b.is_op("nn.avg_pool2d")) f = attrs_as<Pool2DAttrs>(*b.attrs).data_layout != kNCHW;
    if (b.is_op("nn.global_avg_pool2d")) f = attrs_as<GlobalPool2DAttrs>(*b.attrs).data_layout != kNCHW;
    foreign_[i] = f && layout_[i].empty();
  }

  void convert(uint32_t i, const Binding& b) {
    convert_binding(i, b);
    mark_foreign(i, b);
  }

  void convert_binding(uint32_t i, const Binding& b) {
    if (b.is_op("nn.conv2d") && is_plain_conv(b) && convert_conv(i, b)) return;
    if ((b.is_op("nn.max_pool2d") || b.is_op("nn.avg_pool2d")) && convert_pool(i, b)) return;
    if (b.is_op("nn.global_avg_pool2d") && convert_global_pool(i, b)) return;
    if ((b.is_op("mean") || b.is_op("sum") || b.is_op("max") || b.is_op("min")) && convert_spatial_reduce(i, b)) return;
    if (b.is_op("concatenate") && convert_concatenate(i, b)) return;
    if (b.is_op("nn.bias_add") && convert_bias_add(i, b)) return;
    if (b.is_op("layout_transform") && convert_existing_transform(i, b)) return;
    if (is_layout_transparent(b) && convert_transparent(i, b)) return;
    keep_with_nchw_operands(i, b);
  }

  bool convert_conv(uint32_t i, const Binding& b) {
    const auto& a = attrs_as<Conv2DAttrs>(*b.attrs);
    const int64_t channels = old_type(b.args[0]).shape[1], outputs = b.types.at(0).shape[1];
    const std::string out = layout_for_channels(target_, outputs);
    // An output no block divides (an image's 3 channels, 21 classes) stays
    // NCHW, and so does the input then: the NCHW kernel loads whole vectors
    // along the width, where reading a blocked input along it gathers lanes
    // a block apart (a 32 -> 3 channel 3x3 layer: 8 % of peak).
    const std::string data = out == kNCHW && target_.factor_of('C') ? kNCHW : layout_for_channels(target_, channels);
    std::string kernel = "OIHW";
    int64_t merge = 0;  // grouped: groups joined into one (group_merge); 0 keeps the generic form
    if (!target_.factor_of('C')) {
      kernel = "HWIO";
    } else {
      const int64_t ki = Layout::parse(data).factor_of('C'), ko = Layout::parse(out).factor_of('C');
      if (narrow_groups(a.groups, channels, outputs, ki, ko)) {
        kernel = "OHWI" + std::to_string(ko) + "o";
      } else {
        if (ki && ko && a.groups > 1 && a.groups < channels) merge = group_merge(a.groups, channels, outputs, ki, ko);
        if (merge > 1 && !b.args[1].is_constant()) merge = 0;
        if (ki && (a.groups == 1 || merge > 0)) kernel += std::to_string(ki) + "i";
        if (ko) kernel += std::to_string(ko) + "o";
      }
    }
    if (data == kNCHW && out == kNCHW && kernel == "OIHW") return false;
    auto attrs = std::make_shared<Conv2DAttrs>(a);
    attrs->data_layout = data;
    attrs->kernel_layout = kernel;
    attrs->out_layout = out;
    std::string weight_name = b.args[1].is_constant() ? b.args[1].constant : "";
    if (merge > 1) {
      attrs->groups = a.groups / merge;
      weight_name = merged_group_weight(weight_name, a.groups, merge);
    }
    const ValueRef weight = b.args[1].is_constant()
                                ? constant_in_layout(weight_name, "OIHW", kernel)
                                : transform(builder_.map(b.args[1]), "OIHW", kernel);
    emit(i, b, {in_layout(b.args[0], data), weight}, attrs, out);
    return true;
  }

  // Groups of g < k channels in and out, g dividing the block k (ResNeXt's
  // 4 and 8 channels per group at 16 lanes): weights OHWI{k}o, a block's
  // k / g groups side by side in each vector (lower/ops/conv2d.cpp,
  // lower_conv2d_grouped_narrow), no multiply-adds with zero weights.
  static bool narrow_groups(int64_t groups, int64_t channels, int64_t outputs, int64_t ki, int64_t ko) {
    if (!ki || ki != ko || groups <= 1 || groups >= channels || channels != outputs || channels % groups != 0) return false;
    const int64_t g = channels / groups;
    return g < ki && ki % g == 0;
  }

  // A grouped convolution (not depthwise) runs on the blocked kernels when
  // each group's input and output channels fill whole blocks: the
  // reduction walks the input blocks of the output block's group. Narrower
  // groups (ResNeXt's 4 channels per group at 8 lanes) are joined, `merge`
  // groups into one, with zero weights between them (block-diagonal): merge
  // times the multiply-adds, but at the blocked kernels' rate instead of the
  // per-element gather of the generic rule (16 % of peak on a ResNeXt 3x3
  // layer, Zen 3). At most kMaxGroupMerge; 0 when none fits.
  static constexpr int64_t kMaxGroupMerge = 2;
  static int64_t group_merge(int64_t groups, int64_t channels, int64_t outputs, int64_t ki, int64_t ko) {
    const int64_t cg_in = channels / groups, cg_out = outputs / groups;
    for (int64_t m = 1; m <= kMaxGroupMerge; ++m)
      if (groups % m == 0 && (cg_in * m) % ki == 0 && (cg_out * m) % ko == 0) return m;
    return 0;
  }

  // The OIHW weight of `groups` groups as `groups / merge` groups: zeros
  // where an output channel meets the input channels of a group not its own.
  std::string merged_group_weight(const std::string& name, int64_t groups, int64_t merge) {
    const std::string merged = name + ".groups" + std::to_string(groups / merge);
    if (m_.constants.count(merged)) return merged;
    const Tensor& w = m_.constant(name);
    const auto& s = w.type().shape;  // K, C/groups, R, S
    const int64_t K = s[0], cg_in = s[1], taps = s[2] * s[3], cg_out = K / groups;
    Tensor wide(TensorType{{K, cg_in * merge, s[2], s[3]}, w.type().dtype});
    const auto from = w.values<float>();
    auto to = wide.mutable_values<float>();
    std::fill(to.begin(), to.end(), 0.f);
    for (int64_t k = 0; k < K; ++k) {
      const int64_t slot = (k / cg_out) % merge;  // the old group's place within the merged one
      for (int64_t c = 0; c < cg_in; ++c)
        std::copy_n(from.begin() + (k * cg_in + c) * taps, taps, to.begin() + (k * cg_in * merge + slot * cg_in + c) * taps);
    }
    m_.constants.emplace(merged, std::move(wide));
    return merged;
  }

  bool convert_pool(uint32_t i, const Binding& b) {
    const std::string& layout = layout_of(b.args[0]);
    if (layout.empty() || attrs_as<Pool2DAttrs>(*b.attrs).data_layout != kNCHW) return false;
    auto attrs = std::make_shared<Pool2DAttrs>(attrs_as<Pool2DAttrs>(*b.attrs));
    attrs->data_layout = layout;
    emit(i, b, {builder_.map(b.args[0])}, attrs, layout);
    return true;
  }

  bool convert_global_pool(uint32_t i, const Binding& b) {
    const std::string& layout = layout_of(b.args[0]);
    if (layout.empty() || attrs_as<GlobalPool2DAttrs>(*b.attrs).data_layout != kNCHW) return false;
    auto attrs = std::make_shared<GlobalPool2DAttrs>();
    attrs->data_layout = layout;
    emit(i, b, {builder_.map(b.args[0])}, attrs, layout);
    return true;
  }

  // A reduction over H and W that keeps them (an instance norm's mean and
  // variance) stays in a blocked layout: the same axes of NCHW{k}c, whose
  // result is the blocked form of [N, C, 1, 1], so that the elementwise ops
  // that normalize with it stay blocked too. In NCHW each such reduction
  // cost a transform of the convolution's output out of the blocked layout
  // and one of its result back.
  bool convert_spatial_reduce(uint32_t i, const Binding& b) {
    const std::string& layout = layout_of(b.args[0]);
    if (layout.empty() || foreign(b.args[0]) || b.types.size() != 1 || old_type(b.args[0]).rank() != 4) return false;
    const Layout l = Layout::parse(layout);
    if (l.primal() != kNCHW || l.rank() != 5 || !l.factor_of('C')) return false;
    const auto& a = attrs_as<ReduceAttrs>(*b.attrs);
    std::vector<int64_t> axes = reduction_axes(a, 4);
    std::sort(axes.begin(), axes.end());
    if (!a.keepdims || axes != std::vector<int64_t>{2, 3}) return false;
    auto attrs = std::make_shared<ReduceAttrs>();
    attrs->axes = axes;
    attrs->keepdims = true;
    emit(i, b, {builder_.map(b.args[0])}, attrs, layout);
    return true;
  }

  // Joining along channels stays in a blocked layout when every operand's
  // channels fill whole blocks: the join is then along the outer channel
  // axis (C/k) of the blocked tensors. The block is the largest one (up to
  // the target's) that divides every operand, so that DenseNet- and
  // SqueezeNet-style joins of odd widths still stay blocked when they can.
  bool convert_concatenate(uint32_t i, const Binding& b) {
    const TensorType& result = b.types[0];
    if (result.rank() != 4 || b.args.empty()) return false;
    int64_t axis = attrs_as<ConcatenateAttrs>(*b.attrs).axis;
    if (axis < 0) axis += 4;
    if (axis != 1) return false;
    bool converted = false;
    for (const ValueRef& a : b.args) {
      if (foreign(a)) return false;
      converted = converted || !layout_of(a).empty();
    }
    if (!converted) return false;
    std::string layout = target_.str();
    if (const int64_t k = target_.factor_of('C')) {
      int64_t block = 1;
      auto divides_all = [&](int64_t blk) {
        for (const ValueRef& a : b.args)
          if (old_type(a).shape[1] % blk != 0) return false;
        return true;
      };
      while (block * 2 <= k && divides_all(block * 2)) block *= 2;
      if (block == 1) return false;
      layout = "NCHW" + std::to_string(block) + "c";
    }
    std::vector<ValueRef> args;
    for (const ValueRef& a : b.args) args.push_back(in_layout(a, layout));
    auto attrs = std::make_shared<ConcatenateAttrs>();
    attrs->axis = Layout::parse(layout).position_of('C');
    emit(i, b, std::move(args), attrs, layout);
    return true;
  }

  bool convert_bias_add(uint32_t i, const Binding& b) {
    const std::string layout = layout_of(b.args[0]);
    if (layout.empty() || b.types.at(0).rank() != 4 || attrs_as<AxisAttrs>(*b.attrs).axis != 1) return false;
    const Layout l = Layout::parse(layout);
    if (!l.factor_of('C')) {
      auto attrs = std::make_shared<AxisAttrs>();
      attrs->axis = l.position_of('C');
      emit(i, b, {builder_.map(b.args[0]), builder_.map(b.args[1])}, attrs, layout);
      return true;
    }
    // Blocked: add a [1, C, 1, 1] bias converted to the same layout.
    const ValueRef bias = broadcast_operand(b.args[1], {1, b.types[0].shape[1], 1, 1}, layout);
    Binding add = make_op_call("add", {}, nullptr, b.origin);
    add.types = b.types;
    emit(i, add, {builder_.map(b.args[0]), bias}, add.attrs, layout);
    return true;
  }

  // An operand of shape `shape4` (1 or full along each NCHW axis) in `layout`
  // (or its one-channel form), reshaped to 4-D first when needed.
  ValueRef broadcast_operand(const ValueRef& old, const std::vector<int64_t>& shape4, const std::string& layout) {
    const std::string want = shape4[1] == 1 ? with_unit_block(layout) : layout;
    const TensorType t = old_type(old);
    if (t.shape == shape4) return in_layout(old, want);
    const TensorType reshaped{shape4, t.dtype};
    if (old.is_constant()) {
      const Tensor& value = m_.constant(old.constant);
      const std::string name = old.constant + "." + want;
      if (!m_.constants.count(name)) {
        const auto bytes = value.bytes();
        m_.constants.emplace(name, transform_layout(Tensor(reshaped, {bytes.begin(), bytes.end()}), Layout::parse(kNCHW),
                                                    Layout::parse(want)));
      }
      return ValueRef::constant_named(name);
    }
    auto attrs = std::make_shared<ReshapeAttrs>();
    attrs->newshape = shape4;
    Binding r = make_op_call("reshape", {in_layout(old, kNCHW)}, attrs);
    r.types = {reshaped};
    return transform(builder_.emit(std::move(r)), kNCHW, want);
  }

  bool convert_transparent(uint32_t i, const Binding& b) {
    const TensorType& result = b.types[0];
    if (result.rank() != 4) return false;
    std::string layout;
    for (const ValueRef& a : b.args)
      if (foreign(a)) return false;
    for (const ValueRef& a : b.args)
      if (!layout_of(a).empty() && old_type(a) == result) {
        layout = layout_of(a);
        break;
      }
    if (layout.empty()) return false;
    std::vector<ValueRef> args;
    for (const ValueRef& a : b.args) {
      const TensorType t = old_type(a);
      if (t.shape == result.shape) {
        args.push_back(in_layout(a, layout));
        continue;
      }
      if (t.rank() > 4) return false;
      std::vector<int64_t> shape4(4 - t.rank(), 1);
      shape4.insert(shape4.end(), t.shape.begin(), t.shape.end());
      for (size_t d = 0; d < 4; ++d)
        if (shape4[d] != 1 && shape4[d] != result.shape[d]) return false;
      args.push_back(broadcast_operand(a, shape4, layout));
    }
    emit(i, b, std::move(args), b.attrs, layout);
    return true;
  }

  // layout_transform(x, NCHW -> L) already in the model: x in L, with no new op
  // when x was converted to L (a back-to-back pair cancels).
  bool convert_existing_transform(uint32_t i, const Binding& b) {
    const auto& a = attrs_as<LayoutTransformAttrs>(*b.attrs);
    if (a.src_layout != kNCHW || layout_of(b.args[0]).empty()) return false;
    if (!Layout::parse(a.dst_layout).convertible_to(Layout::parse(kNCHW))) return false;
    builder_.replace(i, 0, in_layout(b.args[0], a.dst_layout));
    return true;
  }

  Module& m_;
  const Function& fn_;
  const Layout target_;
  FunctionBuilder builder_;
  std::vector<std::string> layout_;  // per old binding: "" (as is) or its layout
  std::vector<bool> foreign_;        // per old binding: as is, but not a logical NCHW tensor
  std::map<std::pair<uint32_t, std::string>, ValueRef> cache_;  // (old binding, layout) -> converted value
};

}  // namespace

Module convert_layout(const Module& module, const PassContext& context) {
  const std::string& wanted = context.activation_layout;
  if (wanted.empty() || wanted == kNCHW) return module;
  const Layout target = Layout::parse(wanted);
  if (target.primal() != "NCHW" && target.primal() != "NHWC")
    throw Error("ConvertLayout: activation layout " + wanted + " is not NCHW, NHWC or NCHW<k>c");
  if (target.primal() == "NCHW" && (!target.factor_of('C') || target.rank() != 5))
    throw Error("ConvertLayout: activation layout " + wanted + " is not NCHW, NHWC or NCHW<k>c");
  Module out = module;
  Function& main = out.main();
  main = LayoutConverter(out, main, target).run();
  return infer_type(dead_code_elimination(out, context), context);
}

}  // namespace modelc::lang
