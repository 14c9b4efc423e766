// ONNX GatherND, ScatterND, ScatterElements and Scatter (ScatterElements
// before opset 11, without reduction): the IR's gather_nd, scatter_nd and
// scatter_elements, whose type rules check the shapes.
#include "lang/frontends/onnx_node.h"
#include "lang/ops/indexing.h"

namespace modelc::lang::frontends {

std::vector<ValueRef> convert_gather_nd(NodeContext& c) {
  GatherNDAttrs a;
  a.batch_dims = c.attr_int("batch_dims", 0);  // opset 12
  return {c.call("gather_nd", {c.input(0), c.input(1)}, make_attrs(a))};
}

std::vector<ValueRef> convert_scatter_nd(NodeContext& c) {
  ScatterNDAttrs a;
  a.reduction = c.attr_string("reduction", "none");  // opset 16
  return {c.call("scatter_nd", {c.input(0), c.input(1), c.input(2)}, make_attrs(a))};
}

std::vector<ValueRef> convert_scatter_elements(NodeContext& c) {
  ScatterElementsAttrs a;
  a.axis = c.attr_int("axis", 0);
  const auto rank = static_cast<int64_t>(c.type(c.input(0)).rank());
  if (a.axis < 0 && a.axis >= -rank) a.axis += rank;  // out of range: the type rule says so
  a.reduction = c.attr_string("reduction", "none");  // ScatterElements opset 16
  return {c.call("scatter_elements", {c.input(0), c.input(1), c.input(2)}, make_attrs(a))};
}

}  // namespace modelc::lang::frontends
