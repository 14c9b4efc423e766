// ONNX sequence ops (seq(tensor) values). The IR has tensors only, so a
// sequence lives in the importer: the list of IR values of its elements.
// Every position and split size must be known at import time; then each op
// resolves to list edits, and only the tensors that come out of a sequence
// (SequenceAt, ConcatFromSequence, SequenceLength) reach the IR.
#include <algorithm>
#include <limits>
#include <set>

#include "lang/frontends/onnx_node.h"
#include "lang/ops/op_helpers.h"
#include "lang/ops/transform.h"
#include "support/checked_math.h"
#include "support/diagnostic.h"

namespace modelc::lang::frontends {

namespace {

const Sequence& sequence_input(const std::vector<const Sequence*>& sequences, size_t i, const NodeContext& c) {
  if (i >= sequences.size() || sequences[i] == nullptr)
    throw Error("input " + std::to_string(i) + " ('" + (i < c.input_count() ? c.node().input(static_cast<int>(i)) : "") +
                "') must be a sequence");
  return *sequences[i];
}

// A position into a sequence of `size` elements; `inclusive_end` admits
// `size` itself (insertion after the last element).
size_t position(NodeContext& c, size_t input, size_t size, bool inclusive_end) {
  const int64_t p = c.constant_int(input, "the position");
  const auto n = static_cast<int64_t>(size);
  const int64_t high = inclusive_end ? n : n - 1;
  if (p < -n || p > high)
    throw Error("position " + std::to_string(p) + " is out of range for a sequence of " + std::to_string(size) +
                " element" + (size == 1 ? "" : "s"));
  return static_cast<size_t>(p < 0 ? p + n : p);
}

ValueRef unsqueeze_at(NodeContext& c, const ValueRef& value, size_t axis) {
  std::vector<int64_t> shape = c.type(value).shape;
  shape.insert(shape.begin() + static_cast<std::ptrdiff_t>(axis), 1);
  return c.call("reshape", {value}, reshape_to(std::move(shape)));
}

SequenceResult concat_from_sequence(NodeContext& c, const Sequence& seq) {
  if (seq.empty()) throw Error("the sequence is empty; there is nothing to concatenate");
  const size_t rank = c.type(seq.front()).rank();
  for (const ValueRef& v : seq)
    if (c.type(v).rank() != rank)
      throw Error("the sequence holds " + c.type(seq.front()).str() + " and " + c.type(v).str() +
                  ": tensors of different ranks do not concatenate");
  const bool new_axis = c.attr_int("new_axis", 0) != 0;
  const int64_t axis = ops::normalize_axis(c.attr_int("axis", 0), new_axis ? rank + 1 : rank);
  Sequence parts = seq;
  if (new_axis)
    for (ValueRef& p : parts) p = unsqueeze_at(c, p, static_cast<size_t>(axis));
  if (parts.size() == 1) return {parts.front(), {}};
  ConcatenateAttrs a;
  a.axis = axis;
  return {c.call("concatenate", parts, make_attrs(a)), {}};
}

SequenceResult split_to_sequence(NodeContext& c) {
  const ValueRef x = c.input(0);
  const TensorType t = c.type(x);
  const int64_t axis = ops::normalize_axis(c.attr_int("axis", 0), t.rank());
  const int64_t dim = t.shape[static_cast<size_t>(axis)];
  std::vector<int64_t> sizes;
  bool squeeze = false;
  if (c.has_input(1)) {
    const Tensor split = c.constant_input(1, "the split sizes");
    if (split.type().rank() == 0) {
      const int64_t chunk = split.element_as_int(0);
      if (chunk <= 0) throw Error("the split size " + std::to_string(chunk) + " must be positive");
      c.check_node_count(dim / chunk + 1, "splitting into chunks of " + std::to_string(chunk));
      for (int64_t begin = 0; begin < dim; begin += sizes.back()) sizes.push_back(std::min(chunk, dim - begin));
    } else {
      for (size_t i = 0; i < static_cast<size_t>(split.type().element_count()); ++i) sizes.push_back(split.element_as_int(i));
      int64_t total = 0;
      for (int64_t s : sizes) {
        if (s < 0) throw Error("split sizes must not be negative");
        total = checked_add(total, s).value_or(std::numeric_limits<int64_t>::max());
      }
      if (total != dim)
        throw Error("the split sizes add up to " + std::to_string(total) + ", but axis " + std::to_string(axis) + " of " +
                    t.str() + " has " + std::to_string(dim));
    }
  } else {
    c.check_node_count(dim, "splitting into " + std::to_string(dim) + " parts");
    sizes.assign(static_cast<size_t>(dim), 1);
    squeeze = c.attr_int("keepdims", 1) == 0;
  }
  Sequence out;
  int64_t begin = 0;
  for (int64_t size : sizes) {
    ValueRef part = slice_along(c, x, axis, begin, begin + size);
    if (squeeze) {
      std::vector<int64_t> shape = c.type(part).shape;
      shape.erase(shape.begin() + axis);
      part = c.call("reshape", {part}, reshape_to(std::move(shape)));
    }
    out.push_back(part);
    begin += size;
  }
  return {{}, std::move(out)};
}

}  // namespace

bool is_sequence_op(std::string_view op_type) {
  static const std::set<std::string, std::less<>> ops = {
      "SequenceEmpty", "SequenceConstruct", "SequenceInsert",     "SequenceAt",
      "SequenceErase", "SequenceLength",    "ConcatFromSequence", "SplitToSequence"};
  return ops.count(op_type) != 0;
}

std::vector<std::string> sequence_ops() {
  return {"ConcatFromSequence", "SequenceAt",     "SequenceConstruct", "SequenceEmpty",
          "SequenceErase",      "SequenceInsert", "SequenceLength",    "SplitToSequence"};
}

SequenceResult convert_sequence_op(NodeContext& c, const std::vector<const Sequence*>& sequences) {
  const std::string& op = c.node().op_type();
  if (op == "SequenceEmpty") return {{}, Sequence{}};
  if (op == "SequenceConstruct") {
    Sequence out;
    for (size_t i = 0; i < c.input_count(); ++i) out.push_back(c.input(i));
    return {{}, std::move(out)};
  }
  if (op == "SplitToSequence") return split_to_sequence(c);
  const Sequence& seq = sequence_input(sequences, 0, c);
  if (op == "SequenceLength") {
    Tensor length(TensorType{{}, DType::int64});
    length.set_element(0, static_cast<double>(seq.size()));
    return {c.add_constant(std::move(length)), {}};
  }
  if (op == "SequenceAt") return {seq[position(c, 1, seq.size(), false)], {}};
  if (op == "ConcatFromSequence") return concat_from_sequence(c, seq);
  Sequence out = seq;
  if (op == "SequenceInsert") {
    const ValueRef value = c.input(1);
    if (!seq.empty() && c.type(value).dtype != c.type(seq.front()).dtype)
      throw Error("inserts a " + c.type(value).str() + " into a sequence of " +
                  std::string(dtype_name(c.type(seq.front()).dtype)) + " tensors");
    const size_t at = c.has_input(2) ? position(c, 2, seq.size(), true) : seq.size();
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(at), value);
    return {{}, std::move(out)};
  }
  // SequenceErase
  if (seq.empty()) throw Error("cannot erase from an empty sequence");
  const size_t at = c.has_input(1) ? position(c, 1, seq.size(), false) : seq.size() - 1;
  out.erase(out.begin() + static_cast<std::ptrdiff_t>(at));
  return {{}, std::move(out)};
}

}  // namespace modelc::lang::frontends
