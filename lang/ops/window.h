// Attribute structs of the sliding-window operators beyond nn.conv2d and the
// 2-D pools (registered in lang/ops/window.cpp): transposed 2-D convolution,
// 3-D convolution and 3-D pooling, all channels-first (NCHW / NCDHW).
#pragma once

#include <cstdint>
#include <vector>

#include "lang/attrs.h"

namespace modelc::lang {

// Weight [C_in, C_out / groups, kH, kW] (ONNX's layout). Each input pixel
// scatters the kernel onto the output at stride spacing; padding crops the
// result ([top, left, bottom, right]) and output_padding extends its end.
struct Conv2DTransposeAttrs : AttrsOf<Conv2DTransposeAttrs> {
  std::vector<int64_t> strides{1, 1};
  std::vector<int64_t> padding{0, 0, 0, 0};
  std::vector<int64_t> dilation{1, 1};
  std::vector<int64_t> output_padding{0, 0};
  int64_t groups = 1;
  template <typename V> void fields(V& v) {
    v("strides", strides);
    v("padding", padding);
    v("dilation", dilation);
    v("output_padding", output_padding);
    v("groups", groups);
  }
};

// Weight [C_out, C_in / groups, kD, kH, kW]; padding is
// [front, top, left, back, bottom, right] (ONNX's begins, then ends).
struct Conv3DAttrs : AttrsOf<Conv3DAttrs> {
  std::vector<int64_t> strides{1, 1, 1};
  std::vector<int64_t> padding{0, 0, 0, 0, 0, 0};
  std::vector<int64_t> dilation{1, 1, 1};
  int64_t groups = 1;
  template <typename V> void fields(V& v) {
    v("strides", strides);
    v("padding", padding);
    v("dilation", dilation);
    v("groups", groups);
  }
};

struct Pool3DAttrs : AttrsOf<Pool3DAttrs> {
  std::vector<int64_t> pool_size{1, 1, 1};
  std::vector<int64_t> strides{1, 1, 1};
  std::vector<int64_t> padding{0, 0, 0, 0, 0, 0};
  std::vector<int64_t> dilation{1, 1, 1};
  bool ceil_mode = false;
  bool count_include_pad = false;  // avg_pool3d only
  template <typename V> void fields(V& v) {
    v("pool_size", pool_size);
    v("strides", strides);
    v("padding", padding);
    v("dilation", dilation);
    v("ceil_mode", ceil_mode);
    v("count_include_pad", count_include_pad);
  }
};

// Output extent of a transposed convolution along one axis.
int64_t transposed_output_extent(int64_t input, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_begin,
                                 int64_t pad_end, int64_t output_padding);

}  // namespace modelc::lang
