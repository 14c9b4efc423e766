// Attribute structs of elementwise operators (registered in lang/ops/elementwise.cpp).
#pragma once

#include "lang/attrs.h"

namespace modelc::lang {

struct ClipAttrs : AttrsOf<ClipAttrs> {
  double a_min = -3.4028234663852886e38;
  double a_max = 3.4028234663852886e38;
  template <typename V> void fields(V& v) {
    v("a_min", a_min);
    v("a_max", a_max);
  }
};

struct LeakyReluAttrs : AttrsOf<LeakyReluAttrs> {
  double alpha = 0.01;
  template <typename V> void fields(V& v) { v("alpha", alpha); }
};

// The binary arithmetic operators with numpy broadcasting, in one table shared
// by the reference kernels here and the lowering in lower/.
enum class BinaryOp { add, subtract, multiply, divide, maximum, minimum, power };
inline constexpr BinaryOp kBinaryOps[] = {BinaryOp::add,     BinaryOp::subtract, BinaryOp::multiply, BinaryOp::divide,
                                          BinaryOp::maximum, BinaryOp::minimum,  BinaryOp::power};
const char* binary_op_name(BinaryOp op);  // "add", ...

}  // namespace modelc::lang
