// ONNX ops whose result is fixed by inputs known at import time: Compress
// (a constant condition picks the indices, its output's length), and the
// window functions of ONNX's signal ops (constant tensors of the given size).
#include <cmath>
#include <numbers>

#include "lang/frontends/onnx_node.h"
#include "lang/ops/transform.h"
#include "support/diagnostic.h"

namespace modelc::lang::frontends {

std::vector<ValueRef> convert_compress(NodeContext& c) {
  ValueRef x = c.input(0);
  const Tensor condition = c.constant_input(1, "the condition");
  if (condition.type().rank() != 1) throw Error("expects a 1-D condition, found " + condition.type().str());
  int64_t axis = 0;
  if (c.has_attr("axis")) {
    const auto rank = static_cast<int64_t>(c.type(x).rank());
    axis = c.attr_int("axis", 0);
    if (axis < -rank || axis >= rank) throw Error("axis " + std::to_string(axis) + " is out of range for " + c.type(x).str());
    if (axis < 0) axis += rank;
  } else {
    x = c.call("reshape", {x}, reshape_to({c.type(x).element_count()}));
  }
  const int64_t length = c.type(x).shape[static_cast<size_t>(axis)];
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < condition.type().element_count() && i < length; ++i)
    if (condition.element_as_double(static_cast<size_t>(i)) != 0) kept.push_back(i);
  Tensor indices = c.make_tensor(TensorType{{static_cast<int64_t>(kept.size())}, DType::int64});
  for (size_t i = 0; i < kept.size(); ++i) indices.set_element(i, static_cast<double>(kept[i]));
  TakeAttrs a;
  a.axis = axis;
  return {c.call("take", {x, c.add_constant(std::move(indices))}, make_attrs(a))};
}

NodeConverter window_function(const char* op) {
  const std::string name = op;
  return [name](NodeContext& c) {
    const int64_t size = c.constant_int(0, "the window size");
    if (size < 0) throw Error("the window size " + std::to_string(size) + " is negative");
    const std::optional<DType> dtype = dtype_of_onnx(static_cast<int32_t>(c.attr_int("output_datatype", onnx::TensorProto::FLOAT)));
    if (!dtype || *dtype == DType::string) throw Error("output_datatype " + std::to_string(c.attr_int("output_datatype", 1)) + " is not supported");
    const bool periodic = c.attr_int("periodic", 1) != 0;
    const double denominator = static_cast<double>(periodic ? size : size - 1);
    Tensor out = c.make_tensor(TensorType{{size}, *dtype});
    for (int64_t n = 0; n < size; ++n) {
      const double phase = denominator > 0 ? 2 * std::numbers::pi * static_cast<double>(n) / denominator : 0;
      double w;
      if (name == "HannWindow") w = 0.5 - 0.5 * std::cos(phase);
      else if (name == "HammingWindow") w = 25.0 / 46 - 21.0 / 46 * std::cos(phase);
      else w = 0.42 - 0.5 * std::cos(phase) + 0.08 * std::cos(2 * phase);  // BlackmanWindow
      out.set_element(static_cast<size_t>(n), w);
    }
    return std::vector<ValueRef>{c.add_constant(std::move(out))};
  };
}

}  // namespace modelc::lang::frontends
