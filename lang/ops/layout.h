// Data layouts of tensors and the layout_transform operator (lang/ops/layout.cpp).
//
// A layout names the axes of a tensor from outermost to innermost. Each
// upper-case letter is an axis of the logical tensor (a primal axis); a number
// followed by a lower-case letter splits the primal axis of that letter: the
// lower-case (sub) axis holds `factor` consecutive elements and the upper-case
// one the rest. So "NCHW16c" stores a logical NCHW tensor as
// [N, C/16, H, W, 16], and "OIHW8i16o" an OIHW weight as [O/16, I/8, H, W, 8, 16].
// Two layouts with the same primal letters describe the same logical tensor and
// convert into each other by index arithmetic alone.
#pragma once

#include <cstdint>
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "lang/attrs.h"
#include "lang/tensor.h"

namespace modelc::lang {

class Layout {
 public:
  struct Axis {
    char name = 'N';     // upper case: primal axis; lower case: sub axis of the same letter
    int64_t factor = 0;  // sub axes only: how many elements
  };

  // Throws modelc::Error for text such as "NCHW16" or "NCHWc" or "NCCHW".
  static Layout parse(std::string_view text);

  const std::vector<Axis>& axes() const { return axes_; }
  size_t rank() const { return axes_.size(); }
  const std::string& str() const { return text_; }
  // The split factor of primal axis `primal` (0 when it is not split).
  int64_t factor_of(char primal) const;
  // Position of axis `name` (primal or sub), or -1.
  int position_of(char name) const;
  // The primal letters in order ("NCHW" for "NCHW16c").
  std::string primal() const;
  // Same primal letters, as sets: a tensor converts between the two by index arithmetic.
  bool convertible_to(const Layout& other) const;

  bool operator==(const Layout& other) const { return text_ == other.text_; }

 private:
  std::vector<Axis> axes_;
  std::string text_;
};

// The shape in layout `to` of a tensor whose shape in layout `from` is `shape`.
// Throws modelc::Error when the rank does not match `from` or a split factor of
// `to` does not divide the axis it splits.
std::vector<int64_t> convert_shape(const std::vector<int64_t>& shape, const Layout& from, const Layout& to);

// The index in layout `from` of the element found at `index` in layout `to`.
// Index is int64_t for reference kernels and Halide::Expr for lowerings, so
// both stages share one formula.
inline size_t layout_axis_slot(char axis) { return static_cast<size_t>((axis >= 'a' ? axis - 'a' : axis - 'A')); }

template <typename Index>
std::vector<Index> source_index(const Layout& from, const Layout& to, const std::vector<Index>& index) {
  std::array<Index, 26> full{};  // per primal letter: the coordinate along the whole logical axis
  for (size_t i = 0; i < to.rank(); ++i) {
    const Layout::Axis& a = to.axes()[i];
    if (a.factor != 0) continue;
    const int64_t f = to.factor_of(a.name);
    full[layout_axis_slot(a.name)] = f ? index[i] * static_cast<int>(f) : index[i];
  }
  for (size_t i = 0; i < to.rank(); ++i) {
    const Layout::Axis& a = to.axes()[i];
    if (a.factor == 0) continue;
    const char primal = static_cast<char>(a.name - 'a' + 'A');
    full[layout_axis_slot(primal)] = full[layout_axis_slot(primal)] + index[i];
  }
  std::vector<Index> out;
  for (const Layout::Axis& a : from.axes()) {
    if (a.factor == 0) {
      const int64_t f = from.factor_of(a.name);
      out.push_back(f ? full[layout_axis_slot(a.name)] / static_cast<int>(f) : full[layout_axis_slot(a.name)]);
    } else {
      out.push_back(full[layout_axis_slot(a.name)] % static_cast<int>(a.factor));
    }
  }
  return out;
}

// The tensor `value` (stored in layout `from`) stored in layout `to`.
Tensor transform_layout(const Tensor& value, const Layout& from, const Layout& to);

// layout_transform(x, src_layout="NCHW", dst_layout="NCHW16c"): the same
// logical tensor stored in another layout.
struct LayoutTransformAttrs : AttrsOf<LayoutTransformAttrs> {
  std::string src_layout = "NCHW";
  std::string dst_layout = "NCHW";
  template <typename V> void fields(V& v) {
    v("src_layout", src_layout);
    v("dst_layout", dst_layout);
  }
};

}  // namespace modelc::lang
