// Building blocks shared by the op families of lang/ops: type-rule checks and
// loops of the reference kernels. Internal to lang/ops.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lang/op.h"
#include "support/checked_math.h"
#include "support/diagnostic.h"

namespace modelc::lang::ops {

[[noreturn]] inline void type_error(const std::string& message) { throw Error(message); }

// A dimension computed from a shape and attributes with support/checked_math.h:
// nullopt (it does not fit in int64) is a type error "<what> has more than 2^63 elements".
int64_t checked_dim(std::optional<int64_t> dim, const std::string& what);

void expect_rank(const TensorType& t, size_t rank, const char* what);
void expect_float(const TensorType& t, const char* what);
// The weight of a float32 conv2d/dense/batch_matmul: float32, or stored in
// float16 / bfloat16 (ReducePrecision) and read as float32.
void expect_float_weight(const TensorType& t, const char* what);
// A copy of `t` in float32 when it is float16 or bfloat16, else `t` itself
// (references of the ops that take reduced-precision weights).
Tensor as_float32(const Tensor& t);
// Numpy broadcasting of two shapes; throws with both shapes in the message.
std::vector<int64_t> broadcast_shapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b);
// Normalises a possibly negative axis against `rank`; throws when out of range.
int64_t normalize_axis(int64_t axis, size_t rank);

// For each output index (flat), the flat index into an input of shape `in`
// broadcast to `out`.
std::vector<int64_t> broadcast_index_map(const std::vector<int64_t>& in, const std::vector<int64_t>& out);

// Applies f elementwise over float32 or int64 inputs broadcast to `out_type`.
Tensor map_broadcast(std::span<const Tensor> args, const TensorType& out_type,
                     const std::function<double(std::span<const double>)>& f);
Tensor map_unary_float(const Tensor& x, const std::function<float(float)>& f);

// Calls f(row, n, stride) for every 1-D line of a float32 tensor along
// `axis`: row[i * stride] for i < n are its elements.
void for_each_line(Tensor& t, int64_t axis, const std::function<void(float* row, int64_t n, int64_t stride)>& f);

// Registers an elementwise-pattern op y = f(x) on float tensors.
void add_unary_float_op(OpRegistry& r, std::string name, std::string summary, std::function<float(float)> f);

}  // namespace modelc::lang::ops
