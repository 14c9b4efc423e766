// ONNX converters of window ops: Conv, ConvTranspose, MaxPool, AveragePool and
// the global pools, over 1-D, 2-D and 3-D inputs (1-D as 2-D with a height of 1).
#include <algorithm>

#include "lang/frontends/onnx_node.h"
#include "lang/ops/nn.h"
#include "lang/ops/reduce.h"
#include "lang/ops/transform.h"
#include "lang/ops/window.h"
#include "support/diagnostic.h"

namespace modelc::lang::frontends {

namespace {

using Outputs = std::vector<ValueRef>;

// Every window attribute and spatial size is at most 2^30, so that the window
// arithmetic below (and the IR's) stays far inside int64.
constexpr int64_t kMaxWindowValue = int64_t{1} << 30;

// An ints attribute of a window op over n spatial axes: `count` values (all
// `fallback` when absent), each in [min, 2^30].
std::vector<int64_t> window_ints(const NodeContext& c, const std::string& name, size_t n, size_t count, int64_t fallback,
                                 int64_t min) {
  std::vector<int64_t> v = c.attr_ints(name, std::vector<int64_t>(count, fallback));
  if (v.size() != count)
    throw Error(name + " has " + std::to_string(v.size()) + " values, " + std::to_string(count) + " expected for a " +
                std::to_string(n) + "-D window");
  for (int64_t x : v)
    if (x < min || x > kMaxWindowValue)
      throw Error(name + " holds " + std::to_string(x) + ", outside [" + std::to_string(min) + ", 2^30]");
  return v;
}

// The spatial sizes of an input or weight: all axes after the first two.
std::vector<int64_t> spatial(const TensorType& t) {
  std::vector<int64_t> sizes(t.shape.begin() + std::min<ptrdiff_t>(2, static_cast<ptrdiff_t>(t.rank())), t.shape.end());
  for (int64_t s : sizes)
    if (s > kMaxWindowValue) throw Error("the spatial size " + std::to_string(s) + " of " + t.str() + " is over 2^30");
  return sizes;
}

// The explicit padding of a window op over n spatial axes in ONNX's order
// (all begins, then all ends: for 2-D the IR's top, left, bottom, right),
// from `pads` or from `auto_pad` and the static input size.
std::vector<int64_t> window_padding(const NodeContext& c, const std::vector<int64_t>& input_size,
                                    const std::vector<int64_t>& kernel, const std::vector<int64_t>& strides,
                                    const std::vector<int64_t>& dilations) {
  const size_t n = input_size.size();
  const std::string auto_pad = c.attr_string("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") return window_ints(c, "pads", n, 2 * n, 0, 0);
  if (auto_pad == "VALID") return std::vector<int64_t>(2 * n, 0);
  if (auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER")
    throw Error("auto_pad '" + auto_pad + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
  std::vector<int64_t> pads(2 * n);
  for (size_t d = 0; d < n; ++d) {
    const int64_t out = (input_size[d] + strides[d] - 1) / strides[d];
    const int64_t total = std::max<int64_t>(0, (out - 1) * strides[d] + (kernel[d] - 1) * dilations[d] + 1 - input_size[d]);
    const int64_t smaller = total / 2;
    pads[d] = auto_pad == "SAME_UPPER" ? smaller : total - smaller;
    pads[d + n] = total - pads[d];
  }
  return pads;
}

void expect_window_input(const TensorType& x) {
  if (x.rank() < 3 || x.rank() > 5)
    throw Error("only 1-D, 2-D and 3-D windows (3-D to 5-D input) are supported, the input is " + x.str());
}

// The attributes of a 1-D window as those of a 2-D one over a height of 1.
std::vector<int64_t> lift_pair(const std::vector<int64_t>& v, int64_t fill) { return {fill, v.at(0)}; }
std::vector<int64_t> lift_pads(const std::vector<int64_t>& p) { return {0, p.at(0), 0, p.at(1)}; }

// N, C, L -> N, C, 1, L (and the inverse on the way out).
ValueRef to_2d(NodeContext& c, const ValueRef& x) {
  std::vector<int64_t> shape = c.type(x).shape;
  shape.insert(shape.begin() + 2, 1);
  return c.call("reshape", {x}, reshape_to(shape));
}

ValueRef from_2d(NodeContext& c, const ValueRef& y) {
  std::vector<int64_t> shape = c.type(y).shape;
  shape.erase(shape.begin() + 2);
  return c.call("reshape", {y}, reshape_to(shape));
}

}  // namespace

ConvGeometry conv_geometry(const NodeContext& c, const TensorType& x, const TensorType& w) {
  const size_t n = x.rank() - 2;
  ConvGeometry g;
  g.strides = window_ints(c, "strides", n, n, 1, 1);
  g.dilations = window_ints(c, "dilations", n, n, 1, 1);
  g.pads = window_padding(c, spatial(x), spatial(w), g.strides, g.dilations);
  return g;
}

std::vector<ValueRef> convert_conv(NodeContext& c) {
  ValueRef x = c.input(0), w = c.input(1);
  const TensorType xt = c.type(x), wt = c.type(w);
  expect_window_input(xt);
  if (wt.rank() != xt.rank()) throw Error("weight " + wt.str() + " does not match the input " + xt.str());
  const size_t n = xt.rank() - 2;
  const std::vector<int64_t> kernel = spatial(wt);
  const std::vector<int64_t> strides = window_ints(c, "strides", n, n, 1, 1);
  const std::vector<int64_t> dilations = window_ints(c, "dilations", n, n, 1, 1);
  const std::vector<int64_t> pads = window_padding(c, spatial(xt), kernel, strides, dilations);
  ValueRef y;
  if (n == 3) {
    Conv3DAttrs a;
    a.strides = strides;
    a.dilation = dilations;
    a.padding = pads;
    a.groups = c.attr_int("group", 1);
    y = c.call("nn.conv3d", {x, w}, make_attrs(a));
  } else {
    Conv2DAttrs a;
    a.groups = c.attr_int("group", 1);
    a.strides = n == 1 ? lift_pair(strides, 1) : strides;
    a.dilation = n == 1 ? lift_pair(dilations, 1) : dilations;
    a.padding = n == 1 ? lift_pads(pads) : pads;
    y = c.call("nn.conv2d", {n == 1 ? to_2d(c, x) : x, n == 1 ? to_2d(c, w) : w}, make_attrs(a));
    if (n == 1) y = from_2d(c, y);
  }
  if (c.has_input(2)) y = c.call("nn.bias_add", {y, c.input(2)}, along_axis(1));
  return {y};
}

std::vector<ValueRef> convert_pool(NodeContext& c, bool max) {
  const ValueRef x = c.input(0);
  const TensorType xt = c.type(x);
  expect_window_input(xt);
  if (c.node().output_size() > 1 && !c.node().output(1).empty())
    throw Error("the Indices output is not supported");
  const size_t n = xt.rank() - 2;
  if (!c.has_attr("kernel_shape")) throw Error("kernel_shape is missing");
  const std::vector<int64_t> kernel = window_ints(c, "kernel_shape", n, n, 1, 1);
  const std::vector<int64_t> strides = window_ints(c, "strides", n, n, 1, 1);
  const std::vector<int64_t> dilations = window_ints(c, "dilations", n, n, 1, 1);
  const std::vector<int64_t> pads = window_padding(c, spatial(xt), kernel, strides, dilations);
  const bool ceil_mode = c.attr_int("ceil_mode", 0) != 0;
  const bool count_include_pad = c.attr_int("count_include_pad", 0) != 0;
  if (n == 3) {
    Pool3DAttrs a;
    a.pool_size = kernel;
    a.strides = strides;
    a.dilation = dilations;
    a.padding = pads;
    a.ceil_mode = ceil_mode;
    a.count_include_pad = count_include_pad;
    return {c.call(max ? "nn.max_pool3d" : "nn.avg_pool3d", {x}, make_attrs(a))};
  }
  Pool2DAttrs a;
  a.pool_size = n == 1 ? lift_pair(kernel, 1) : kernel;
  a.strides = n == 1 ? lift_pair(strides, 1) : strides;
  a.dilation = n == 1 ? lift_pair(dilations, 1) : dilations;
  a.padding = n == 1 ? lift_pads(pads) : pads;
  a.ceil_mode = ceil_mode;
  a.count_include_pad = count_include_pad;
  const ValueRef y = c.call(max ? "nn.max_pool2d" : "nn.avg_pool2d", {n == 1 ? to_2d(c, x) : x}, make_attrs(a));
  return {n == 1 ? from_2d(c, y) : y};
}

// ConvTranspose over 1 or 2 spatial axes; the padding follows from
// output_shape or auto_pad when given (ONNX's total padding rule).
std::vector<ValueRef> convert_conv_transpose(NodeContext& c) {
  ValueRef x = c.input(0), w = c.input(1);
  const TensorType xt = c.type(x), wt = c.type(w);
  if (xt.rank() != 3 && xt.rank() != 4)
    throw Error(std::to_string(static_cast<int64_t>(xt.rank()) - 2) + "-D transposed convolutions are not supported (1-D and 2-D are), the input is " + xt.str());
  if (wt.rank() != xt.rank()) throw Error("weight " + wt.str() + " does not match the input " + xt.str());
  const size_t n = xt.rank() - 2;
  const std::vector<int64_t> in = spatial(xt), kernel = spatial(wt);
  const std::vector<int64_t> strides = window_ints(c, "strides", n, n, 1, 1);
  const std::vector<int64_t> dilations = window_ints(c, "dilations", n, n, 1, 1);
  std::vector<int64_t> output_padding = window_ints(c, "output_padding", n, n, 0, 0);
  std::vector<int64_t> pads = window_ints(c, "pads", n, 2 * n, 0, 0);
  const std::string auto_pad = c.attr_string("auto_pad", "NOTSET");
  std::vector<int64_t> output_shape;
  if (c.has_attr("output_shape")) {
    // n values, or n + 2 with the batch and channel axes first.
    const size_t given = c.attr_ints("output_shape", {}).size();
    output_shape = window_ints(c, "output_shape", n, given == n + 2 ? n + 2 : n, 0, 0);
    if (output_shape.size() == n + 2) output_shape.erase(output_shape.begin(), output_shape.begin() + 2);
  }
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    if (output_shape.empty())
      for (size_t d = 0; d < n; ++d) output_shape.push_back(in[d] * strides[d]);
  } else if (auto_pad == "VALID") {
    pads.assign(2 * n, 0);
  }
  if (!output_shape.empty()) {
    for (size_t d = 0; d < n; ++d) {
      const int64_t total = strides[d] * (in[d] - 1) + output_padding[d] + (kernel[d] - 1) * dilations[d] + 1 - output_shape[d];
      if (total < 0) {
        output_padding[d] -= total;  // the shape asks for more than the kernel covers: extend the end
        pads[d] = pads[d + n] = 0;
        continue;
      }
      const bool lower = auto_pad == "SAME_LOWER";
      pads[d] = lower ? total - total / 2 : total / 2;
      pads[d + n] = total - pads[d];
    }
  }
  Conv2DTransposeAttrs a;
  a.groups = c.attr_int("group", 1);
  a.strides = n == 1 ? lift_pair(strides, 1) : strides;
  a.dilation = n == 1 ? lift_pair(dilations, 1) : dilations;
  a.output_padding = n == 1 ? lift_pair(output_padding, 0) : output_padding;
  a.padding = n == 1 ? lift_pads(pads) : pads;
  ValueRef y = c.call("nn.conv2d_transpose", {n == 1 ? to_2d(c, x) : x, n == 1 ? to_2d(c, w) : w}, make_attrs(a));
  if (n == 1) y = from_2d(c, y);
  if (c.has_input(2)) y = c.call("nn.bias_add", {y, c.input(2)}, along_axis(1));
  return {y};
}

// GlobalAveragePool / GlobalMaxPool: nn.global_avg_pool2d for 4-D inputs,
// else a mean / max over the spatial axes.
NodeConverter global_pool(bool max) {
  return [max](NodeContext& c) {
    const TensorType t = c.type(c.input(0));
    if (!max && t.rank() == 4) return Outputs{c.call("nn.global_avg_pool2d", {c.input(0)})};
    ReduceAttrs a;
    for (size_t d = 2; d < t.rank(); ++d) a.axes.push_back(static_cast<int64_t>(d));
    return Outputs{c.call(max ? "max" : "mean", {c.input(0)}, make_attrs(a))};
  };
}

}  // namespace modelc::lang::frontends
