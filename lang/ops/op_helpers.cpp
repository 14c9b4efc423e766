#include "lang/ops/op_helpers.h"

#include <cstring>

namespace modelc::lang::ops {

int64_t checked_dim(std::optional<int64_t> dim, const std::string& what) {
  if (!dim) type_error(what + " has more than 2^63 elements");
  return *dim;
}

void expect_rank(const TensorType& t, size_t rank, const char* what) {
  if (t.rank() != rank)
    type_error(std::string("expects ") + what + " of rank " + std::to_string(rank) + ", found " + t.str());
}

void expect_float(const TensorType& t, const char* what) {
  if (t.dtype != DType::float32)
    type_error(std::string("expects ") + what + " of type float32, found " + t.str());
}

void expect_float_weight(const TensorType& t, const char* what) {
  if (t.dtype != DType::float32 && t.dtype != DType::float16 && t.dtype != DType::bfloat16)
    type_error(std::string("expects ") + what + " of type float32 (or float16/bfloat16 storage), found " + t.str());
}

Tensor as_float32(const Tensor& t) {
  if (t.type().dtype != DType::float16 && t.type().dtype != DType::bfloat16) return t;
  Tensor out(TensorType{t.type().shape, DType::float32});
  auto o = out.mutable_values<float>();
  for (size_t i = 0; i < o.size(); ++i) o[i] = static_cast<float>(t.element_as_double(i));
  return out;
}

std::vector<int64_t> broadcast_shapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) {
      TensorType ta{a, DType::float32}, tb{b, DType::float32};
      type_error("cannot broadcast shapes " + ta.str().substr(7, ta.str().find(')') - 6) + " and " +
                 tb.str().substr(7, tb.str().find(')') - 6));
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int64_t normalize_axis(int64_t axis, size_t rank) {
  const int64_t r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r)
    type_error("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + r : axis;
}

std::vector<int64_t> broadcast_index_map(const std::vector<int64_t>& in, const std::vector<int64_t>& out) {
  const size_t rank = out.size();
  std::vector<int64_t> in_full(rank, 1);
  for (size_t i = 0; i < in.size(); ++i) in_full[rank - in.size() + i] = in[i];
  const std::vector<int64_t> in_strides = contiguous_strides(in_full);
  int64_t total = 1;
  for (int64_t d : out) total *= d;
  std::vector<int64_t> map(static_cast<size_t>(total));
  std::vector<int64_t> idx(rank, 0);
  for (int64_t flat = 0; flat < total; ++flat) {
    int64_t offset = 0;
    for (size_t d = 0; d < rank; ++d)
      if (in_full[d] != 1) offset += idx[d] * in_strides[d];
    map[static_cast<size_t>(flat)] = offset;
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < out[d]) break;
      idx[d] = 0;
    }
  }
  return map;
}

Tensor map_broadcast(std::span<const Tensor> args, const TensorType& out_type,
                     const std::function<double(std::span<const double>)>& f) {
  Tensor out(out_type);
  std::vector<std::vector<int64_t>> maps;
  for (const Tensor& a : args) maps.push_back(broadcast_index_map(a.type().shape, out_type.shape));
  const auto n = static_cast<size_t>(out_type.element_count());
  std::vector<double> operands(args.size());
  // float32 fast path: avoid per-element dtype dispatch.
  bool all_float = out_type.dtype == DType::float32;
  for (const Tensor& a : args) all_float = all_float && a.type().dtype == DType::float32;
  if (all_float) {
    float* o = out.mutable_values<float>().data();
    for (size_t i = 0; i < n; ++i) {
      for (size_t k = 0; k < args.size(); ++k) operands[k] = args[k].values<float>()[static_cast<size_t>(maps[k][i])];
      o[i] = static_cast<float>(f(operands));
    }
    return out;
  }
  for (size_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < args.size(); ++k) operands[k] = args[k].element_as_double(static_cast<size_t>(maps[k][i]));
    out.set_element(i, f(operands));
  }
  return out;
}

Tensor map_unary_float(const Tensor& x, const std::function<float(float)>& f) {
  Tensor out(x.type());
  auto in = x.values<float>();
  auto o = out.mutable_values<float>();
  for (size_t i = 0; i < in.size(); ++i) o[i] = f(in[i]);
  return out;
}

void for_each_line(Tensor& t, int64_t axis, const std::function<void(float*, int64_t, int64_t)>& f) {
  const auto& shape = t.type().shape;
  const auto a = static_cast<size_t>(normalize_axis(axis, shape.size()));
  if (t.type().element_count() == 0) return;  // no lines, and no data to point into
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < a; ++d) outer *= shape[d];
  for (size_t d = a + 1; d < shape.size(); ++d) inner *= shape[d];
  const int64_t n = shape[a];
  float* data = t.mutable_values<float>().data();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) f(data + o * n * inner + i, n, inner);
}

void add_unary_float_op(OpRegistry& r, std::string name, std::string summary, std::function<float(float)> f) {
  OpDef def;
  def.name = std::move(name);
  def.summary = std::move(summary);
  def.pattern = OpPattern::elemwise;
  def.infer_type = [](std::span<const TensorType> args, const Attrs&) {
    expect_float(args[0], "input");
    return std::vector<TensorType>{args[0]};
  };
  def.reference = [f](std::span<const Tensor> args, const Attrs&, std::span<const TensorType>) {
    return std::vector<Tensor>{map_unary_float(args[0], f)};
  };
  r.add(std::move(def));
}

}  // namespace modelc::lang::ops
