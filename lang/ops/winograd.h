// Winograd convolution F(m x m, 3 x 3) (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016): a stride-1 3x3 convolution computed
// per output tile of m x m from an (m+2) x (m+2) input tile as
//
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A
//
// where (.) is an elementwise product summed over input channels: for each of
// the (m+2)^2 positions of the transformed tile, one matrix product of the
// transformed weights U = G g G^T [K x C] with the transformed inputs
// V = B^T d B [C x tiles]. F(2x2, 3x3) does 16 multiplies where the direct
// convolution does 36 per tile and channel pair, F(4x4, 3x3) 36 where it does
// 144; the transforms cost additions that do not grow with the channels.
//
// The weights are transformed once, at compile time (lang/passes/
// winograd_conv2d.cpp), into U stored as [(m+2)^2, K/ko, C/ki, ki, ko] for
// blocked NCHW{ki}c inputs and NCHW{ko}c results, so that the kernel's matrix
// products read whole vectors of ko output channels.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "lang/attrs.h"
#include "lang/tensor.h"

namespace modelc::lang {

struct Conv2DWinogradAttrs : AttrsOf<Conv2DWinogradAttrs> {
  int64_t tile = 4;                          // m: output tile edge, 2 or 4
  std::vector<int64_t> padding{1, 1, 1, 1};  // top, left, bottom, right
  std::string data_layout = "NCHW8c";        // NCHW{ki}c
  std::string out_layout = "NCHW8c";         // NCHW{ko}c
  template <typename V> void fields(V& v) {
    v("tile", tile);
    v("padding", padding);
    v("data_layout", data_layout);
    v("out_layout", out_layout);
  }
};

// The transform matrices of F(m x m, 3 x 3), row-major: B^T is a x a, G is
// a x 3, A^T is m x a, with a = m + 2. Interpolation points 0, -1, 1 (m = 2)
// and 0, 1, -1, 2, -2 (m = 4), plus the point at infinity.
struct WinogradMatrices {
  int m = 0;
  int a = 0;
  std::vector<double> bt;  // a x a
  std::vector<double> g;   // a x 3
  std::vector<double> at;  // m x a
};

// Throws modelc::Error unless m is 2 or 4.
const WinogradMatrices& winograd_matrices(int64_t m);

// U for a 3x3 weight [K, C, 3, 3] in OIHW, or [K/ko, C/ki, 3, 3, ki, ko] in
// OIHW{ki}i{ko}o (as AlterOpLayout packs it): [(m+2)^2, K/ko, C/ki, ki, ko].
Tensor winograd_transform_weights(const Tensor& weight, int64_t m, int64_t ki, int64_t ko);

}  // namespace modelc::lang
