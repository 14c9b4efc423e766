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

// Activations with up to two scalar parameters (nn.elu, nn.selu, nn.celu,
// nn.hard_sigmoid, nn.thresholded_relu, nn.shrink); each op documents what
// alpha and beta mean for it, and its defaults are ONNX's.
struct ActivationAttrs : AttrsOf<ActivationAttrs> {
  double alpha = 1.0;
  double beta = 0.0;
  template <typename V> void fields(V& v) {
    v("alpha", alpha);
    v("beta", beta);
  }
};

struct CastAttrs : AttrsOf<CastAttrs> {
  DType dtype = DType::float32;
  template <typename V> void fields(V& v) { v("dtype", dtype); }
};

struct IsInfAttrs : AttrsOf<IsInfAttrs> {
  bool detect_positive = true;
  bool detect_negative = true;
  template <typename V> void fields(V& v) {
    v("detect_positive", detect_positive);
    v("detect_negative", detect_negative);
  }
};

// The binary operators with numpy broadcasting, in one table shared by the
// reference kernels here and the lowering in lower/.
enum class BinaryOp {
  add, subtract, multiply, divide, maximum, minimum, power,
  floor_mod,    // Python's %: the sign of the divisor
  trunc_mod,    // C's fmod: the sign of the dividend
  left_shift, right_shift,
  prelu,        // x if x >= 0 else slope * x (nn.prelu)
  equal, not_equal, less, less_equal, greater, greater_equal,  // -> bool
  logical_and, logical_or, logical_xor,                          // bool x bool -> bool
};
inline constexpr BinaryOp kBinaryOps[] = {
    BinaryOp::add,       BinaryOp::subtract,   BinaryOp::multiply,    BinaryOp::divide,     BinaryOp::maximum,
    BinaryOp::minimum,   BinaryOp::power,      BinaryOp::floor_mod,   BinaryOp::trunc_mod,  BinaryOp::left_shift,
    BinaryOp::right_shift, BinaryOp::prelu,    BinaryOp::equal,       BinaryOp::not_equal,  BinaryOp::less,
    BinaryOp::less_equal, BinaryOp::greater,   BinaryOp::greater_equal, BinaryOp::logical_and, BinaryOp::logical_or,
    BinaryOp::logical_xor};
const char* binary_op_name(BinaryOp op);  // "add", ..., "nn.prelu"
bool is_comparison(BinaryOp op);          // equal ... greater_equal
bool is_logical(BinaryOp op);             // logical_and, logical_or, logical_xor

}  // namespace modelc::lang
