// ONNX If, Loop and Scan, resolved at import time the way static shapes
// require: If takes the branch its constant condition picks; Loop and Scan
// are unrolled (the trip count, the condition after each iteration and the
// scanned length must be known at import time), so every iteration's body
// becomes ordinary IR ops that the passes fold, fuse and schedule.
#include <set>

#include "lang/frontends/onnx_node.h"
#include "lang/ops/op_helpers.h"
#include "lang/ops/transform.h"
#include "support/diagnostic.h"

namespace modelc::lang::frontends {

namespace {

// Unrolling is for loops of modest length; beyond this the model needs a
// loop in the IR, which modelc does not have.
constexpr int64_t kMaxIterations = 4096;

const onnx::GraphProto& graph_attr(const NodeContext& c, const char* name) {
  const onnx::AttributeProto* a = c.find_attr(name);
  if (!a || !a->has_g()) throw Error(std::string("the attribute '") + name + "' (a graph) is missing");
  return a->g();
}

ValueRef int_scalar(NodeContext& c, DType dtype, int64_t value) {
  Tensor t(TensorType{{}, dtype});
  t.set_element(0, static_cast<double>(value));
  return c.add_constant(std::move(t));
}

const ValueRef& tensor_of(const Imported& v, const std::string& what) {
  if (!v.tensor) throw Error(what + " is a sequence, where a tensor is needed");
  return *v.tensor;
}

// Stacks `parts` (equal shapes) along a new axis `axis`.
ValueRef stack(NodeContext& c, const std::vector<ValueRef>& parts, int64_t axis) {
  std::vector<ValueRef> expanded;
  for (const ValueRef& p : parts) {
    std::vector<int64_t> shape = c.type(p).shape;
    shape.insert(shape.begin() + axis, 1);
    expanded.push_back(c.call("reshape", {p}, reshape_to(shape)));
  }
  if (expanded.size() == 1) return expanded.front();
  ConcatenateAttrs a;
  a.axis = axis;
  return c.call("concatenate", expanded, make_attrs(a));
}

bool condition_value(NodeContext& c, const ValueRef& v, const char* what) {
  const std::optional<Tensor> t = c.constant_value(v);
  if (!t)
    throw Error(std::string(what) + " is computed from the model's inputs, which is not supported: loops are unrolled at "
                "import time, so their condition must fold to a constant");
  if (t->type().element_count() != 1 || t->type().dtype == DType::string)
    throw Error(std::string(what) + " is " + t->type().str() + ", expected one boolean value");
  return t->element_as_double(0) != 0;
}

std::vector<Imported> convert_if(NodeContext& c, const RunSubgraph& run) {
  const bool taken = c.constant_int(0, "the condition") != 0;
  return run(graph_attr(c, taken ? "then_branch" : "else_branch"), {});
}

std::vector<Imported> convert_loop(NodeContext& c, const std::vector<Imported>& inputs, const RunSubgraph& run) {
  const onnx::GraphProto& body = graph_attr(c, "body");
  const std::optional<int64_t> trips = c.has_input(0) ? std::optional<int64_t>(c.constant_int(0, "the trip count")) : std::nullopt;
  bool running = c.has_input(1) ? c.constant_int(1, "the loop's initial condition") != 0 : true;
  std::vector<Imported> carried(inputs.begin() + std::min<std::ptrdiff_t>(2, static_cast<std::ptrdiff_t>(inputs.size())), inputs.end());
  std::vector<std::vector<ValueRef>> scanned;
  int64_t i = 0;
  for (; running && (!trips || i < *trips); ++i) {
    if (i >= kMaxIterations)
      throw Error("the loop runs more than " + std::to_string(kMaxIterations) + " iterations, which is not supported: loops are unrolled at import time");
    std::vector<Imported> in = {{int_scalar(c, DType::int64, i), std::nullopt}, {int_scalar(c, DType::boolean, 1), std::nullopt}};
    in.insert(in.end(), carried.begin(), carried.end());
    std::vector<Imported> out = run(body, in);
    if (out.size() < 1 + carried.size())
      throw Error("the body gives " + std::to_string(out.size()) + " outputs; it must give the condition and " +
                  std::to_string(carried.size()) + " loop-carried values");
    running = condition_value(c, tensor_of(out[0], "the body's condition"), "the body's condition");
    for (size_t k = 0; k < carried.size(); ++k) carried[k] = std::move(out[1 + k]);
    const size_t scans = out.size() - 1 - carried.size();
    scanned.resize(scans);
    for (size_t k = 0; k < scans; ++k) scanned[k].push_back(tensor_of(out[1 + carried.size() + k], "a scan output"));
  }
  const size_t scan_outputs = static_cast<size_t>(c.node().output_size()) - std::min(carried.size(), static_cast<size_t>(c.node().output_size()));
  if (i == 0 && scan_outputs > 0) throw Error("the loop runs no iteration, so its scan outputs have no shape");
  std::vector<Imported> result = carried;
  for (const std::vector<ValueRef>& parts : scanned) result.push_back({stack(c, parts, 0), std::nullopt});
  return result;
}

std::vector<Imported> convert_scan(NodeContext& c, const std::vector<Imported>& inputs, const RunSubgraph& run) {
  if (c.opset() < 9) throw Error("Scan before opset 9 (with a batch axis and sequence_lens) is not supported");
  const onnx::GraphProto& body = graph_attr(c, "body");
  const int64_t scan_count = c.attr_int("num_scan_inputs", 0);
  if (scan_count <= 0 || static_cast<size_t>(scan_count) > inputs.size())
    throw Error("num_scan_inputs " + std::to_string(scan_count) + " does not fit " + std::to_string(inputs.size()) + " inputs");
  const size_t states = inputs.size() - static_cast<size_t>(scan_count);
  auto list = [&](const char* name, size_t n) {
    std::vector<int64_t> v = c.attr_ints(name, {});
    if (v.empty()) v.assign(n, 0);
    if (v.size() != n) throw Error(std::string(name) + " has " + std::to_string(v.size()) + " entries, expected " + std::to_string(n));
    return v;
  };
  const std::vector<int64_t> in_axes = list("scan_input_axes", static_cast<size_t>(scan_count));
  const std::vector<int64_t> in_reverse = list("scan_input_directions", static_cast<size_t>(scan_count));
  std::vector<ValueRef> scan_inputs;
  std::vector<int64_t> axes;
  int64_t length = -1;
  for (size_t j = 0; j < static_cast<size_t>(scan_count); ++j) {
    const ValueRef x = tensor_of(inputs[states + j], "a scan input");
    const TensorType t = c.type(x);
    const int64_t axis = ops::normalize_axis(in_axes[j], t.rank());
    const int64_t n = t.shape[static_cast<size_t>(axis)];
    if (length >= 0 && n != length) throw Error("scan inputs have lengths " + std::to_string(length) + " and " + std::to_string(n));
    length = n;
    scan_inputs.push_back(x);
    axes.push_back(axis);
  }
  if (length == 0) throw Error("the scanned axis has length 0, so the scan outputs have no shape");
  if (length > kMaxIterations)
    throw Error("the scan runs " + std::to_string(length) + " iterations, more than " + std::to_string(kMaxIterations) +
                ", which is not supported: scans are unrolled at import time");
  std::vector<Imported> carried(inputs.begin(), inputs.begin() + static_cast<std::ptrdiff_t>(states));
  std::vector<std::vector<ValueRef>> scanned;
  for (int64_t s = 0; s < length; ++s) {
    std::vector<Imported> in = carried;
    for (size_t j = 0; j < scan_inputs.size(); ++j) {
      const int64_t t = in_reverse[j] ? length - 1 - s : s;
      std::vector<int64_t> shape = c.type(scan_inputs[j]).shape;
      shape.erase(shape.begin() + axes[j]);
      in.push_back({c.call("reshape", {slice_along(c, scan_inputs[j], axes[j], t, t + 1)}, reshape_to(shape)), std::nullopt});
    }
    std::vector<Imported> out = run(body, in);
    if (out.size() < states) throw Error("the body gives fewer outputs than the scan has state variables");
    for (size_t k = 0; k < states; ++k) carried[k] = std::move(out[k]);
    scanned.resize(out.size() - states);
    for (size_t k = states; k < out.size(); ++k) scanned[k - states].push_back(tensor_of(out[k], "a scan output"));
  }
  const std::vector<int64_t> out_axes = list("scan_output_axes", scanned.size());
  const std::vector<int64_t> out_reverse = list("scan_output_directions", scanned.size());
  std::vector<Imported> result = carried;
  for (size_t k = 0; k < scanned.size(); ++k) {
    std::vector<ValueRef> parts = scanned[k];
    if (out_reverse[k]) std::reverse(parts.begin(), parts.end());
    const int64_t axis = ops::normalize_axis(out_axes[k], c.type(parts.front()).rank() + 1);
    result.push_back({stack(c, parts, axis), std::nullopt});
  }
  return result;
}

}  // namespace

bool is_control_flow_op(std::string_view op_type) { return op_type == "If" || op_type == "Loop" || op_type == "Scan"; }

std::vector<std::string> control_flow_ops() { return {"If", "Loop", "Scan"}; }

std::vector<Imported> convert_control_flow(NodeContext& c, const std::vector<Imported>& inputs, const RunSubgraph& run) {
  const std::string& op = c.node().op_type();
  if (op == "If") return convert_if(c, run);
  if (op == "Loop") return convert_loop(c, inputs, run);
  return convert_scan(c, inputs, run);
}

}  // namespace modelc::lang::frontends
