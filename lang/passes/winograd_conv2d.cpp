// WinogradConv2D: computes stride-1 3x3 and 5x5 convolutions, and the
// factorized 1 x r and r x 1 ones of Inception-style networks (r = 3, 5, 7), with
// Winograd's minimal filtering algorithm (lang/ops/winograd.h), the weights
// transformed here, at compile time.
//
// Why: a ResNet spends most of its time in 3x3 convolutions, an Inception
// network in 1x7 and 7x1 ones, and a direct convolution already runs them
// near the FMA units' peak; doing less work is what is left. F(4x4, 3x3)
// needs 4x fewer multiplies, F(2x2, 3x3) 2.25x, F(2x2, 5x5) 2.8x; along one axis F(2, 7) 1.75x,
// F(4, 5) 2.5x, F(4, 3) 2x. The input and output transforms add work that
// does not grow with the number of channels.
//
// Which convolutions: blocked ones (NCHW{ki}c in, NCHW{ko}c out, as
// ConvertLayout leaves them), stride 1, dilation 1, groups 1, constant
// weights. The tile is chosen by the work saved once edge tiles are counted
// (an output not divisible by m computes whole tiles), among tiles with at
// least kMinTiles tiles per image: with fewer, each transformed weight
// (2.25x or 4x the size of the original) serves too few tiles, and the
// kernel waits on memory instead of computing. F(4x4) trades some accuracy
// (its transforms have entries up to 8 and 1/24); on the shared models the
// outputs stay within rtol 1e-3 / atol 1e-4 of PyTorch's. The one-axis forms
// interpolate at no more points than F(6, 3) (0, +-1, +-2, +-1/2 and
// infinity), and only along one axis.
//
// Assumes typed IR after ConvertLayout, before FuseOps (the new op is an
// anchor that fuses its epilogue like conv2d).
#include <map>

#include "lang/ops/layout.h"
#include "lang/ops/nn.h"
#include "lang/ops/winograd.h"
#include "lang/pass.h"
#include "lang/passes/function_builder.h"

namespace modelc::lang {
namespace {

constexpr int64_t kMinTiles = 16;

// The layout's channel block, or 0 when it is not NCHW{k}c.
int64_t channel_block(const std::string& layout) {
  const Layout l = Layout::parse(layout);
  return l.primal() == "NCHW" && l.rank() == 5 ? l.factor_of('C') : 0;
}

// The output tile edge to use along the axes whose kernel is not 1, or 0 to
// keep the direct convolution (no Winograd form for this kernel, or too few
// tiles).
int64_t choose_tile(int64_t kh, int64_t kw, int64_t oh, int64_t ow) {
  int64_t best = 0;
  double best_saving = 1.0;
  for (const int64_t m : {4, 2}) {
    if (!has_winograd(m, kh, kw)) continue;
    const WinogradAxes w = winograd_axes(m, kh, kw);
    const int64_t tiles = ((oh + w.h.m - 1) / w.h.m) * ((ow + w.w.m - 1) / w.w.m);
    if (tiles < kMinTiles) continue;
    // Multiplies of the direct convolution over those of the tiles computed.
    const double saving = static_cast<double>(kh * kw * oh * ow) / static_cast<double>(w.h.a * w.w.a * tiles);
    if (saving > best_saving) {
      best = m;
      best_saving = saving;
    }
  }
  return best;
}

bool eligible(const Binding& b, const Module& m) {
  if (!b.is_op("nn.conv2d") || !b.args[1].is_constant() || !m.constant(b.args[1].constant).has_data()) return false;
  const auto& a = attrs_as<Conv2DAttrs>(*b.attrs);
  const int64_t ki = channel_block(a.data_layout), ko = channel_block(a.out_layout);
  if (!ki || !ko || a.kernel_layout != "OIHW" + std::to_string(ki) + "i" + std::to_string(ko) + "o") return false;
  // The kernel's shape is choose_tile's to judge.
  return a.groups == 1 && a.strides == std::vector<int64_t>{1, 1} && a.dilation == std::vector<int64_t>{1, 1} &&
         m.constant(b.args[1].constant).type().rank() == 6;  // K/ko, C/ki, R, S, ki, ko
}

}  // namespace

Module winograd_conv2d(const Module& module, const PassContext& context) {
  Module out = module;
  for (Function& fn : out.functions) {
    if (fn.primitive) continue;
    FunctionBuilder b(fn);
    std::map<std::pair<std::string, int64_t>, std::string> transformed;  // (weight, tile) -> U
    for (uint32_t i = 0; i < fn.body.size(); ++i) {
      const Binding& d = fn.body[i];
      const TensorType* kernel = eligible(d, out) ? &out.constant(d.args[1].constant).type() : nullptr;
      const int64_t tile =
          kernel ? choose_tile(kernel->shape[2], kernel->shape[3], d.types[0].shape[2], d.types[0].shape[3]) : 0;
      if (!tile) {
        b.keep(i);
        continue;
      }
      const auto& a = attrs_as<Conv2DAttrs>(*d.attrs);
      const std::string& weight = d.args[1].constant;
      auto found = transformed.find({weight, tile});
      if (found == transformed.end()) {
        const int64_t ki = channel_block(a.data_layout), ko = channel_block(a.out_layout);
        const Tensor u = winograd_transform_weights(out.constant(weight), tile, ki, ko);  // packed OIHW{ki}i{ko}o
        found = transformed.emplace(std::make_pair(weight, tile),
                                    out.add_constant(weight + ".winograd" + std::to_string(tile), u)).first;
      }
      auto attrs = std::make_shared<Conv2DWinogradAttrs>();
      attrs->tile = tile;
      attrs->kernel = {kernel->shape[2], kernel->shape[3]};
      attrs->padding = a.padding;
      attrs->data_layout = a.data_layout;
      attrs->out_layout = a.out_layout;
      Binding w = make_op_call("nn.conv2d_winograd", {b.map(d.args[0]), ValueRef::constant_named(found->second)},
                               attrs, d.origin);
      b.replace(i, 0, b.emit(std::move(w)));
    }
    fn = b.finish();
  }
  return infer_type(dead_code_elimination(out, context), context);
}

}  // namespace modelc::lang
