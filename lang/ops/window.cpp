// Sliding-window operators: nn.conv2d_transpose, nn.conv3d, nn.max_pool3d,
// nn.avg_pool3d. The reference kernels favour obviously right over fast.
#include "lang/ops/window.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "lang/ops/nn.h"
#include "lang/ops/op_helpers.h"

namespace modelc::lang {

int64_t transposed_output_extent(int64_t input, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_begin,
                                 int64_t pad_end, int64_t output_padding) {
  check_window_attrs({kernel, stride, dilation, pad_begin, pad_end, output_padding});
  using Wide = __int128;  // exact here: every term is bounded by 2^63
  const Wide out = Wide{stride} * (Wide{input} - 1) + output_padding + (Wide{kernel} - 1) * dilation + 1 - pad_begin - pad_end;
  if (out > std::numeric_limits<int64_t>::max()) ops::type_error("the transposed window's output extent does not fit in 64 bits");
  return out < std::numeric_limits<int64_t>::min() ? std::numeric_limits<int64_t>::min() : static_cast<int64_t>(out);
}

namespace {

using ops::expect_float;
using ops::expect_rank;
using ops::type_error;

void check_count(const std::vector<int64_t>& v, size_t n, const char* name, int64_t min_value) {
  if (v.size() != n)
    type_error(std::string(name) + " must have " + std::to_string(n) + " values, found " + std::to_string(v.size()));
  for (int64_t x : v)
    if (x < min_value) type_error(std::string(name) + " must be >= " + std::to_string(min_value));
}

void check_groups(int64_t groups, int64_t in_channels, int64_t out_channels) {
  if (groups < 1 || in_channels % groups != 0 || out_channels % groups != 0)
    type_error("groups=" + std::to_string(groups) + " must divide input channels " + std::to_string(in_channels) +
               " and output channels " + std::to_string(out_channels));
}

// ---- conv2d_transpose ----

std::vector<TensorType> conv2d_transpose_type(std::span<const TensorType> args, const Attrs& attrs) {
  const auto& a = attrs_as<Conv2DTransposeAttrs>(attrs);
  const TensorType& x = args[0];
  const TensorType& w = args[1];
  expect_rank(x, 4, "input (NCHW)");
  expect_rank(w, 4, "weight (IOHW)");
  expect_float(x, "input");
  expect_float(w, "weight");  // the kernel reads both as float32
  check_count(a.strides, 2, "strides", 1);
  check_count(a.dilation, 2, "dilation", 1);
  check_count(a.padding, 4, "padding", 0);
  check_count(a.output_padding, 2, "output_padding", 0);
  if (w.shape[0] != x.shape[1])
    type_error("weight " + w.str() + " expects " + std::to_string(w.shape[0]) + " input channels, input " + x.str() +
               " has " + std::to_string(x.shape[1]));
  const int64_t out_channels = ops::checked_dim(checked_mul(w.shape[1], a.groups), "conv2d_transpose: the output channels");
  check_groups(a.groups, x.shape[1], out_channels);
  std::vector<int64_t> shape{x.shape[0], out_channels};
  for (size_t d = 0; d < 2; ++d) {
    const int64_t extent = transposed_output_extent(x.shape[d + 2], w.shape[d + 2], a.strides[d], a.dilation[d],
                                                    a.padding[d], a.padding[d + 2], a.output_padding[d]);
    if (extent < 1) type_error("the padding crops away the whole result");
    shape.push_back(extent);
  }
  return {TensorType{shape, x.dtype}};
}

std::vector<Tensor> conv2d_transpose_reference(std::span<const Tensor> args, const Attrs& attrs,
                                               std::span<const TensorType> types) {
  const auto& a = attrs_as<Conv2DTransposeAttrs>(attrs);
  const auto& xs = args[0].type().shape;
  const auto& ws = args[1].type().shape;
  const auto& os = types[0].shape;
  const float* x = args[0].values<float>().data();
  const float* w = args[1].values<float>().data();
  Tensor out(types[0]);
  float* o = out.mutable_values<float>().data();
  const int64_t C = xs[1], H = xs[2], W = xs[3], OCG = ws[1], KH = ws[2], KW = ws[3];
  const int64_t CG = C / a.groups;
  for (int64_t n = 0; n < xs[0]; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const int64_t g = c / CG;
      for (int64_t iy = 0; iy < H; ++iy)
        for (int64_t ix = 0; ix < W; ++ix) {
          const float v = x[((n * C + c) * H + iy) * W + ix];
          for (int64_t oc = 0; oc < OCG; ++oc)
            for (int64_t ky = 0; ky < KH; ++ky) {
              const int64_t y = iy * a.strides[0] - a.padding[0] + ky * a.dilation[0];
              if (y < 0 || y >= os[2]) continue;
              for (int64_t kx = 0; kx < KW; ++kx) {
                const int64_t xo = ix * a.strides[1] - a.padding[1] + kx * a.dilation[1];
                if (xo < 0 || xo >= os[3]) continue;
                o[((n * os[1] + g * OCG + oc) * os[2] + y) * os[3] + xo] += v * w[((c * OCG + oc) * KH + ky) * KW + kx];
              }
            }
        }
    }
  return {std::move(out)};
}

// ---- conv3d ----

std::vector<TensorType> conv3d_type(std::span<const TensorType> args, const Attrs& attrs) {
  const auto& a = attrs_as<Conv3DAttrs>(attrs);
  const TensorType& x = args[0];
  const TensorType& w = args[1];
  expect_rank(x, 5, "input (NCDHW)");
  expect_rank(w, 5, "weight (OIDHW)");
  expect_float(x, "input");
  expect_float(w, "weight");  // the kernel reads both as float32
  check_count(a.strides, 3, "strides", 1);
  check_count(a.dilation, 3, "dilation", 1);
  check_count(a.padding, 6, "padding", 0);
  check_groups(a.groups, x.shape[1], w.shape[0]);
  if (checked_mul(w.shape[1], a.groups) != x.shape[1])
    type_error("weight " + w.str() + " with groups=" + std::to_string(a.groups) + " does not fit the input channels of " + x.str());
  std::vector<int64_t> shape{x.shape[0], w.shape[0]};
  for (size_t d = 0; d < 3; ++d) {
    const int64_t extent = window_output_extent(x.shape[d + 2], w.shape[d + 2], a.strides[d], a.dilation[d], a.padding[d],
                                                a.padding[d + 3], false);
    if (extent < 1) type_error("the kernel " + w.str() + " does not fit the padded input " + x.str());
    shape.push_back(extent);
  }
  return {TensorType{shape, x.dtype}};
}

std::vector<Tensor> conv3d_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& a = attrs_as<Conv3DAttrs>(attrs);
  const auto& xs = args[0].type().shape;
  const auto& ws = args[1].type().shape;
  const auto& os = types[0].shape;
  const float* x = args[0].values<float>().data();
  const float* w = args[1].values<float>().data();
  Tensor out(types[0]);
  float* o = out.mutable_values<float>().data();
  const int64_t K = ws[0], CG = ws[1], KG = K / a.groups;
  for (int64_t n = 0; n < os[0]; ++n)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t od = 0; od < os[2]; ++od)
        for (int64_t oy = 0; oy < os[3]; ++oy)
          for (int64_t ox = 0; ox < os[4]; ++ox) {
            float acc = 0;
            for (int64_t c = 0; c < CG; ++c)
              for (int64_t kd = 0; kd < ws[2]; ++kd)
                for (int64_t ky = 0; ky < ws[3]; ++ky)
                  for (int64_t kx = 0; kx < ws[4]; ++kx) {
                    const int64_t id = od * a.strides[0] - a.padding[0] + kd * a.dilation[0];
                    const int64_t iy = oy * a.strides[1] - a.padding[1] + ky * a.dilation[1];
                    const int64_t ix = ox * a.strides[2] - a.padding[2] + kx * a.dilation[2];
                    if (id < 0 || id >= xs[2] || iy < 0 || iy >= xs[3] || ix < 0 || ix >= xs[4]) continue;
                    const int64_t ic = (k / KG) * CG + c;
                    acc += x[(((n * xs[1] + ic) * xs[2] + id) * xs[3] + iy) * xs[4] + ix] *
                           w[(((k * CG + c) * ws[2] + kd) * ws[3] + ky) * ws[4] + kx];
                  }
            o[(((n * K + k) * os[2] + od) * os[3] + oy) * os[4] + ox] = acc;
          }
  return {std::move(out)};
}

// ---- 3-D pooling ----

std::vector<TensorType> pool3d_type(std::span<const TensorType> args, const Attrs& attrs) {
  const auto& a = attrs_as<Pool3DAttrs>(attrs);
  expect_rank(args[0], 5, "input (NCDHW)");
  expect_float(args[0], "input");
  check_count(a.pool_size, 3, "pool_size", 1);
  check_count(a.strides, 3, "strides", 1);
  check_count(a.dilation, 3, "dilation", 1);
  check_count(a.padding, 6, "padding", 0);
  const auto& s = args[0].shape;
  std::vector<int64_t> shape{s[0], s[1]};
  for (size_t d = 0; d < 3; ++d) {
    const int64_t extent = window_output_extent(s[d + 2], a.pool_size[d], a.strides[d], a.dilation[d], a.padding[d],
                                                a.padding[d + 3], a.ceil_mode);
    if (extent < 1) type_error("the pooling window does not fit the padded input " + args[0].str());
    shape.push_back(extent);
  }
  return {TensorType{shape, args[0].dtype}};
}

template <bool kMax>
std::vector<Tensor> pool3d_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType> types) {
  const auto& a = attrs_as<Pool3DAttrs>(attrs);
  const auto& s = args[0].type().shape;
  const auto& os = types[0].shape;
  const float* x = args[0].values<float>().data();
  Tensor out(types[0]);
  float* o = out.mutable_values<float>().data();
  for (int64_t plane = 0; plane < s[0] * s[1]; ++plane)
    for (int64_t od = 0; od < os[2]; ++od)
      for (int64_t oy = 0; oy < os[3]; ++oy)
        for (int64_t ox = 0; ox < os[4]; ++ox) {
          float acc = kMax ? -std::numeric_limits<float>::infinity() : 0.f;
          int64_t count = 0;
          for (int64_t kd = 0; kd < a.pool_size[0]; ++kd)
            for (int64_t ky = 0; ky < a.pool_size[1]; ++ky)
              for (int64_t kx = 0; kx < a.pool_size[2]; ++kx) {
                const int64_t id = od * a.strides[0] - a.padding[0] + kd * a.dilation[0];
                const int64_t iy = oy * a.strides[1] - a.padding[1] + ky * a.dilation[1];
                const int64_t ix = ox * a.strides[2] - a.padding[2] + kx * a.dilation[2];
                const bool inside = id >= 0 && id < s[2] && iy >= 0 && iy < s[3] && ix >= 0 && ix < s[4];
                // Padding counts for averages only up to the padded extent (not the ceil_mode overhang).
                const bool in_padded = id < s[2] + a.padding[3] && iy < s[3] + a.padding[4] && ix < s[4] + a.padding[5];
                if (inside) {
                  const float v = x[((plane * s[2] + id) * s[3] + iy) * s[4] + ix];
                  acc = kMax ? std::max(acc, v) : acc + v;
                  ++count;
                } else if (!kMax && a.count_include_pad && in_padded) {
                  ++count;
                }
              }
          o[((plane * os[2] + od) * os[3] + oy) * os[4] + ox] = kMax ? acc : (count ? acc / static_cast<float>(count) : 0.f);
        }
  return {std::move(out)};
}

template <typename A>
std::function<std::unique_ptr<Attrs>()> attrs_factory() {
  return [] { return std::make_unique<A>(); };
}

}  // namespace

void register_window_ops(OpRegistry& r) {
  // Each input element (N, C, H, W) meets every weight of its input channel (Cout/groups x R x S).
  auto conv2d_transpose_multiply_adds = [](std::span<const TensorType> args, const Attrs&, std::span<const TensorType>) {
    return args[1].shape.at(0) > 0 ? args[0].element_count() * (args[1].element_count() / args[1].shape[0]) : int64_t{0};
  };
  r.add({"nn.conv2d_transpose", "transposed 2-D convolution, NCHW x IOHW", 2, 2, OpPattern::out_elemwise_fusable,
         attrs_factory<Conv2DTransposeAttrs>(), conv2d_transpose_type, conv2d_transpose_reference,
         conv2d_transpose_multiply_adds});
  r.add({"nn.conv3d", "3-D convolution, NCDHW x OIDHW", 2, 2, OpPattern::out_elemwise_fusable,
         attrs_factory<Conv3DAttrs>(), conv3d_type, conv3d_reference});
  r.add({"nn.max_pool3d", "3-D max pooling, NCDHW", 1, 1, OpPattern::out_elemwise_fusable, attrs_factory<Pool3DAttrs>(),
         pool3d_type, pool3d_reference<true>});
  r.add({"nn.avg_pool3d", "3-D average pooling, NCDHW", 1, 1, OpPattern::out_elemwise_fusable,
         attrs_factory<Pool3DAttrs>(), pool3d_type, pool3d_reference<false>});
}

}  // namespace modelc::lang
