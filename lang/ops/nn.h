// Attribute structs of the nn.* operators (registered in lang/ops/nn.cpp).
#pragma once

#include <initializer_list>

#include <cstdint>
#include <string>
#include <vector>

#include "lang/attrs.h"

namespace modelc::lang {

struct Conv2DAttrs : AttrsOf<Conv2DAttrs> {
  std::vector<int64_t> strides{1, 1};
  std::vector<int64_t> padding{0, 0, 0, 0};  // top, left, bottom, right
  std::vector<int64_t> dilation{1, 1};
  int64_t groups = 1;
  // Layouts (lang/ops/layout.h) of the input, the weight and the result.
  // ConvertLayout sets them; strides, padding and dilation always refer to
  // the logical H and W axes.
  std::string data_layout = "NCHW";
  std::string kernel_layout = "OIHW";
  std::string out_layout = "NCHW";
  template <typename V> void fields(V& v) {
    v("strides", strides);
    v("padding", padding);
    v("dilation", dilation);
    v("groups", groups);
    v("data_layout", data_layout);
    v("kernel_layout", kernel_layout);
    v("out_layout", out_layout);
  }
};

struct Pool2DAttrs : AttrsOf<Pool2DAttrs> {
  std::vector<int64_t> pool_size{1, 1};
  std::vector<int64_t> strides{1, 1};
  std::vector<int64_t> padding{0, 0, 0, 0};  // top, left, bottom, right
  std::vector<int64_t> dilation{1, 1};
  bool ceil_mode = false;
  bool count_include_pad = false;  // avg_pool2d only
  std::string data_layout = "NCHW";  // of the input and the result (lang/ops/layout.h)
  template <typename V> void fields(V& v) {
    v("pool_size", pool_size);
    v("strides", strides);
    v("padding", padding);
    v("dilation", dilation);
    v("ceil_mode", ceil_mode);
    v("count_include_pad", count_include_pad);
    v("data_layout", data_layout);
  }
};

struct GlobalPool2DAttrs : AttrsOf<GlobalPool2DAttrs> {
  std::string data_layout = "NCHW";  // of the input and the result (lang/ops/layout.h)
  template <typename V> void fields(V& v) { v("data_layout", data_layout); }
};

struct BatchNormAttrs : AttrsOf<BatchNormAttrs> {
  int64_t axis = 1;
  double epsilon = 1e-5;
  template <typename V> void fields(V& v) {
    v("axis", axis);
    v("epsilon", epsilon);
  }
};

// Used by ops that work along one axis (bias_add, softmax).
struct AxisAttrs : AttrsOf<AxisAttrs> {
  int64_t axis = -1;
  template <typename V> void fields(V& v) { v("axis", axis); }
};

// Kernel sizes, strides, dilations and paddings come from model files: the
// window ops refuse magnitudes past 2^31 (no real model comes near), so that
// the index arithmetic of the type rules and reference kernels cannot overflow.
inline constexpr int64_t kMaxWindowAttr = int64_t{1} << 31;
// Throws a type error when a value is past kMaxWindowAttr in magnitude.
void check_window_attrs(std::initializer_list<int64_t> values);

// Output spatial extent of a sliding window (0 when the window does not fit);
// checks its attributes with check_window_attrs.
int64_t window_output_extent(int64_t input, int64_t window, int64_t stride, int64_t dilation, int64_t pad_before,
                             int64_t pad_after, bool ceil_mode);

// nn.packed_matmul's weight: a matrix product's right operand [K, N] as N/c
// panels of c columns, [N/c, K, c] (each panel's rows contiguous), so that a
// kernel reading c-wide vectors walks one contiguous stream per panel
// (PackMatmulWeights, lang/passes/pack_matmul_weights.cpp). N % c == 0.
//
// With `pairs` (a bfloat16 weight, K even) each panel holds pairs of rows:
// [N/c, K/2, c, 2], element (k, n) at [n / c, k / 2, n % c, k % 2], so that
// a vector of c columns holds, per column, the weights of rows 2i and 2i + 1
// side by side: what a bfloat16 pair dot product (x86 vdpbf16ps) reads.
class Tensor;
Tensor pack_matmul_panels(const Tensor& kn, int64_t c, bool pairs = false);
// The [K, N] matrix of a packed weight (panels or panels of pairs, by rank).
Tensor unpack_matmul_panels(const Tensor& panels);

}  // namespace modelc::lang
