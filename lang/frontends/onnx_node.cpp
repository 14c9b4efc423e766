// NodeContext, what every converter reads a node through, and the attribute
// builders the converters share.
#include <algorithm>

#include "lang/frontends/onnx_node.h"
#include "lang/ops/nn.h"
#include "lang/ops/reduce.h"
#include "lang/ops/transform.h"
#include "lang/ops/window.h"
#include "support/diagnostic.h"

namespace modelc::lang::frontends {

// ---- NodeContext ----

NodeContext::NodeContext(GraphBuilder& builder, const onnx::NodeProto& node, int opset,
                         std::vector<std::optional<ValueRef>> inputs)
    : builder_(builder), node_(node), opset_(opset), inputs_(std::move(inputs)) {
  origin_ = "ONNX node '" + node.name() + "' (" + node.op_type() + ")";
}

ValueRef NodeContext::input(size_t i) const {
  if (!has_input(i)) throw Error("input " + std::to_string(i) + " is missing");
  return *inputs_[i];
}

Tensor NodeContext::constant_input(size_t i, const char* what) const {
  std::optional<Tensor> value = builder_.constant_value(input(i));
  if (!value)
    throw Error(std::string(what) + " (input " + std::to_string(i) + ", '" + node_.input(static_cast<int>(i)) +
                "') must be known at import time, but it is computed from the model's inputs");
  return *value;
}

std::vector<int64_t> NodeContext::constant_ints(size_t i, const char* what) const {
  const Tensor t = constant_input(i, what);
  std::vector<int64_t> out;
  for (size_t k = 0; k < static_cast<size_t>(t.type().element_count()); ++k) out.push_back(t.element_as_int(k));
  return out;
}

namespace {

const Tensor& one_value(const Tensor& t, size_t i, const char* what) {
  if (t.type().element_count() != 1 || t.type().dtype == DType::string)
    throw Error(std::string(what) + " (input " + std::to_string(i) + ") must be one number, found " + t.type().str());
  return t;
}

}  // namespace

int64_t NodeContext::constant_int(size_t i, const char* what) const {
  return one_value(constant_input(i, what), i, what).element_as_int(0);
}

double NodeContext::constant_number(size_t i, const char* what) const {
  return one_value(constant_input(i, what), i, what).element_as_double(0);
}

const onnx::AttributeProto* NodeContext::find_attr(const std::string& name) const {
  for (const onnx::AttributeProto& a : node_.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

int64_t NodeContext::attr_int(const std::string& name, int64_t fallback) const {
  const onnx::AttributeProto* a = find_attr(name);
  return a ? a->i() : fallback;
}

double NodeContext::attr_float(const std::string& name, double fallback) const {
  const onnx::AttributeProto* a = find_attr(name);
  return a ? static_cast<double>(a->f()) : fallback;
}

std::string NodeContext::attr_string(const std::string& name, const std::string& fallback) const {
  const onnx::AttributeProto* a = find_attr(name);
  return a ? a->s() : fallback;
}

std::vector<int64_t> NodeContext::attr_ints(const std::string& name, std::vector<int64_t> fallback) const {
  const onnx::AttributeProto* a = find_attr(name);
  if (!a) return fallback;
  return {a->ints().begin(), a->ints().end()};
}

ValueRef NodeContext::call(std::string_view op, std::vector<ValueRef> args, AttrsPtr attrs) {
  const std::string hint = node_.output_size() > 0 ? node_.output(0) : node_.name();
  return builder_.call(op, std::move(args), std::move(attrs), origin_, hint);
}

ValueRef NodeContext::add_constant(Tensor value) {
  return builder_.add_constant(node_.output_size() > 0 ? node_.output(0) : node_.name(), std::move(value));
}

Tensor NodeContext::make_tensor(TensorType type) const {
  builder_.check_size(type, "the output");
  return Tensor(std::move(type));
}

ValueRef NodeContext::scalar(float value) { return builder_.add_constant(node_.name() + ".scalar", Tensor::scalar(value)); }

AttrsPtr reshape_to(std::vector<int64_t> shape) {
  ReshapeAttrs a;
  a.newshape = std::move(shape);
  return make_attrs(a);
}

AttrsPtr transpose_by(std::vector<int64_t> axes) {
  TransposeAttrs a;
  a.axes = std::move(axes);
  return make_attrs(a);
}

ValueRef slice_along(NodeContext& c, const ValueRef& value, int64_t axis, int64_t begin, int64_t end) {
  StridedSliceAttrs a;
  a.begin = {begin};
  a.end = {end};
  a.axes = {axis};
  return c.call("strided_slice", {value}, make_attrs(a));
}

AttrsPtr along_axis(int64_t axis) {
  AxisAttrs a;
  a.axis = axis;
  return make_attrs(a);
}

}  // namespace modelc::lang::frontends
