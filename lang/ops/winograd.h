// Winograd convolution (Lavin & Gray, "Fast Algorithms for Convolutional
// Neural Networks", 2016): a stride-1 convolution computed per output tile
// of mh x mw from an ah x aw input tile (a = m + r - 1 on each axis) as
//
//   Y = Ah^T [ (Gh g Gw^T) (.) (Bh^T d Bw) ] Aw
//
// where (.) is an elementwise product summed over input channels: for each of
// the ah x aw positions of the transformed tile, one matrix product of the
// transformed weights U = Gh g Gw^T [K x C] with the transformed inputs
// V = Bh^T d Bw [C x tiles]. Kernels of 3x3 use F(m x m, 3 x 3): F(2x2) does
// 16 multiplies where the direct convolution does 36 per tile and channel
// pair, F(4x4) 36 where it does 144. Factorized kernels of 1 x r or r x 1
// (Inception's 1x7 and 7x1, 1x3 and 3x1) transform one axis only, F(m, r)
// along it and the identity (m = r = a = 1) along the other: F(2, 7) does 8
// multiplies where the direct form does 14. The transforms cost additions
// that do not grow with the channels.
//
// The weights are transformed once, at compile time (lang/passes/
// winograd_conv2d.cpp), into U stored as [ah * aw, K/ko, C/ki, ki, ko] for
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
  int64_t tile = 4;                          // m: output tile edge along each axis whose kernel is not 1
  std::vector<int64_t> kernel{3, 3};         // kh, kw
  std::vector<int64_t> padding{1, 1, 1, 1};  // top, left, bottom, right
  std::string data_layout = "NCHW8c";        // NCHW{ki}c
  std::string out_layout = "NCHW8c";         // NCHW{ko}c
  template <typename V> void fields(V& v) {
    v("tile", tile);
    v("kernel", kernel);
    v("padding", padding);
    v("data_layout", data_layout);
    v("out_layout", out_layout);
  }
};

// The transform matrices of F(m, r) along one axis, row-major: B^T is a x a,
// G is a x r, A^T is m x a, with a = m + r - 1. For r = 3 Lavin's: points 0,
// -1, 1 (m = 2) and 0, 1, -1, 2, -2 (m = 4), plus the point at infinity;
// for r = 5 and 7 the Toom-Cook construction over 0, 1, -1, 2, -2, 1/2, -1/2
// and infinity (winograd.cpp); for r = 1 the identity (m = a = 1).
struct WinogradMatrices {
  int m = 0;
  int r = 0;
  int a = 0;
  std::vector<double> bt;  // a x a
  std::vector<double> g;   // a x r
  std::vector<double> at;  // m x a
};

// F(m, r): r = 1 with m = 1; r = 3 or 5 with m = 2 or 4; r = 7 with m = 2.
// winograd_matrices throws modelc::Error for any other pair.
bool has_winograd_matrices(int64_t m, int64_t r);
const WinogradMatrices& winograd_matrices(int64_t m, int64_t r = 3);

// Whether a kh x kw kernel has a Winograd form with output tiles of `tile`
// along each axis whose kernel is not 1: 3x3 with 2 or 4, 5x5 with 2 (F(4x4,
// 5x5) interpolates at 1/2 on both axes: too inexact in float32), 1 x r and
// r x 1 with r = 3 or 5 (2 or 4) and r = 7 (2).
bool has_winograd(int64_t tile, int64_t kh, int64_t kw);

// The matrices along rows (h) and columns (w) of such a kernel. Throws
// modelc::Error for others.
struct WinogradAxes {
  const WinogradMatrices& h;
  const WinogradMatrices& w;
};
WinogradAxes winograd_axes(int64_t tile, int64_t kh, int64_t kw);

// U for a weight [K, C, kh, kw] in OIHW, or [K/ko, C/ki, kh, kw, ki, ko] in
// OIHW{ki}i{ko}o (as AlterOpLayout packs it): [ah * aw, K/ko, C/ki, ki, ko].
Tensor winograd_transform_weights(const Tensor& weight, int64_t m, int64_t ki, int64_t ko);

}  // namespace modelc::lang
