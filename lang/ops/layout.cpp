// layout_transform and the Layout algebra it rests on.
#include "lang/ops/layout.h"

#include <array>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "lang/ops/op_helpers.h"

namespace modelc::lang {

Layout Layout::parse(std::string_view text) {
  Layout layout;
  layout.text_ = std::string(text);
  auto fail = [&](const std::string& why) -> void {
    throw Error(Diagnostic{Severity::error, {}, {}, "bad layout \"" + std::string(text) + "\": " + why,
                           "write upper-case axes with optional splits, such as NCHW, NHWC, NCHW16c or OIHW8i16o"});
  };
  int64_t factor = 0;
  for (char c : text) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      factor = factor * 10 + (c - '0');
      if (factor > 1 << 20) fail("split factor too large");
    } else if (std::isupper(static_cast<unsigned char>(c))) {
      if (factor) fail("a number must be followed by a lower-case axis");
      layout.axes_.push_back({c, 0});
    } else if (std::islower(static_cast<unsigned char>(c))) {
      if (!factor) fail(std::string("the sub-axis '") + c + "' needs a factor before it");
      layout.axes_.push_back({c, factor});
      factor = 0;
    } else {
      fail(std::string("unexpected character '") + c + "'");
    }
  }
  if (factor) fail("ends with a number");
  if (layout.axes_.empty()) fail("no axes");
  for (size_t i = 0; i < layout.axes_.size(); ++i) {
    const char name = layout.axes_[i].name;
    for (size_t j = 0; j < i; ++j)
      if (layout.axes_[j].name == name) fail(std::string("axis '") + name + "' appears twice");
    if (layout.axes_[i].factor) {
      const char primal = static_cast<char>(std::toupper(static_cast<unsigned char>(name)));
      if (layout.text_.find(primal) == std::string::npos) fail(std::string("sub-axis '") + name + "' splits no axis");
    }
  }
  return layout;
}

int64_t Layout::factor_of(char primal) const {
  const char sub = static_cast<char>(std::tolower(static_cast<unsigned char>(primal)));
  for (const Axis& a : axes_)
    if (a.name == sub) return a.factor;
  return 0;
}

int Layout::position_of(char name) const {
  for (size_t i = 0; i < axes_.size(); ++i)
    if (axes_[i].name == name) return static_cast<int>(i);
  return -1;
}

std::string Layout::primal() const {
  std::string out;
  for (const Axis& a : axes_)
    if (!a.factor) out += a.name;
  return out;
}

bool Layout::convertible_to(const Layout& other) const {
  std::string a = primal(), b = other.primal();
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

std::vector<int64_t> convert_shape(const std::vector<int64_t>& shape, const Layout& from, const Layout& to) {
  if (shape.size() != from.rank())
    ops::type_error("a tensor of rank " + std::to_string(shape.size()) + " is not in layout " + from.str() +
                    " (rank " + std::to_string(from.rank()) + ")");
  if (!from.convertible_to(to)) ops::type_error("layout " + from.str() + " does not convert to " + to.str());
  std::map<char, int64_t> extent;  // whole logical extent per primal letter
  for (size_t i = 0; i < shape.size(); ++i) {
    const Layout::Axis& a = from.axes()[i];
    if (a.factor) {
      if (shape[i] != a.factor)
        ops::type_error("axis " + std::string(1, a.name) + " of layout " + from.str() + " has " +
                        std::to_string(a.factor) + " elements, the tensor " + std::to_string(shape[i]));
      continue;
    }
    const int64_t f = from.factor_of(a.name);
    extent[a.name] = shape[i] * (f ? f : 1);
  }
  std::vector<int64_t> out;
  for (const Layout::Axis& a : to.axes()) {
    if (a.factor) {
      out.push_back(a.factor);
      continue;
    }
    const int64_t f = to.factor_of(a.name);
    if (f && extent[a.name] % f != 0)
      ops::type_error("layout " + to.str() + " splits axis " + std::string(1, a.name) + " of " +
                      std::to_string(extent[a.name]) + " elements into blocks of " + std::to_string(f));
    out.push_back(f ? extent[a.name] / f : extent[a.name]);
  }
  return out;
}

// The same index arithmetic as source_index, with what depends only on the
// two layouts worked out once: weights are transformed at compile time (tens
// of millions of elements for a CNN), so the loop keeps the logical
// coordinates up to date as the destination index advances and allocates
// nothing per element.
Tensor transform_layout(const Tensor& value, const Layout& from, const Layout& to) {
  const TensorType& in = value.type();
  const TensorType out_type{convert_shape(in.shape, from, to), in.dtype};
  if (from == to) return value;
  if (out_type.element_count() == 0) return Tensor(out_type);
  if (out_type.rank() == 0) return value;
  const auto in_strides = contiguous_strides(in.shape);
  const size_t elem = dtype_bytes(in.dtype);
  const auto& os = out_type.shape;
  const size_t rank = os.size();
  // Destination axis d moves logical coordinate slot[d] by step[d] per index.
  std::vector<size_t> slot(rank);
  std::vector<int64_t> step(rank);
  for (size_t d = 0; d < rank; ++d) {
    const Layout::Axis& a = to.axes()[d];
    const bool sub = a.factor != 0;
    const char primal = sub ? static_cast<char>(a.name - 'a' + 'A') : a.name;
    slot[d] = layout_axis_slot(primal);
    const int64_t f = sub ? 0 : to.factor_of(a.name);
    step[d] = sub ? 1 : (f ? f : 1);
  }
  // Source axis j reads logical slot source_slot[j]: divided by its factor
  // (outer part of a split axis), or modulo it (its sub axis), or as is. Its
  // contribution to the source offset, for every value the slot takes, is
  // tabulated once: the copy below then divides nothing.
  std::vector<size_t> source_slot;
  std::vector<std::vector<int64_t>> contribution;
  std::array<int64_t, 26> extent{};  // values a slot takes: 0 .. extent - 1
  for (size_t d = 0; d < rank; ++d) extent[slot[d]] += (os[d] - 1) * step[d];
  for (size_t j = 0; j < from.rank(); ++j) {
    const Layout::Axis& a = from.axes()[j];
    const bool sub = a.factor != 0;
    const char primal = sub ? static_cast<char>(a.name - 'a' + 'A') : a.name;
    const size_t s = layout_axis_slot(primal);
    const int64_t div = sub ? 0 : from.factor_of(a.name), mod = sub ? a.factor : 0;
    std::vector<int64_t> table(static_cast<size_t>(extent[s] + 1));
    for (int64_t c = 0; c <= extent[s]; ++c)
      table[static_cast<size_t>(c)] = (div ? c / div : mod ? c % mod : c) * in_strides[j];
    source_slot.push_back(s);
    contribution.push_back(std::move(table));
  }
  // Along the innermost destination axis only its slot moves: the source
  // axes reading that slot are summed into one table, the others' part of
  // the offset is fixed for the whole row.
  const size_t inner = rank - 1, inner_slot = slot[inner];
  std::vector<int64_t> row_table(static_cast<size_t>(extent[inner_slot] + 1), 0);
  for (size_t j = 0; j < source_slot.size(); ++j)
    if (source_slot[j] == inner_slot)
      for (size_t c = 0; c < row_table.size(); ++c) row_table[c] += contribution[j][c];
  Tensor out(out_type);
  std::byte* o = out.mutable_bytes().data();
  const std::byte* x = value.bytes().data();
  std::array<int64_t, 26> full{};
  std::vector<int64_t> idx(rank, 0);
  const int64_t count = out_type.element_count(), row = os[inner], row_step = step[inner];
  for (int64_t flat = 0; flat < count; flat += row) {
    int64_t base = 0;
    for (size_t j = 0; j < source_slot.size(); ++j)
      if (source_slot[j] != inner_slot) base += contribution[j][static_cast<size_t>(full[source_slot[j]])];
    const int64_t* t = row_table.data() + full[inner_slot];
    if (elem == 4) {
      for (int64_t i = 0; i < row; ++i)
        std::memcpy(o + static_cast<size_t>(flat + i) * 4, x + static_cast<size_t>(base + t[i * row_step]) * 4, 4);
    } else {
      for (int64_t i = 0; i < row; ++i)
        std::memcpy(o + static_cast<size_t>(flat + i) * elem, x + static_cast<size_t>(base + t[i * row_step]) * elem, elem);
    }
    for (size_t d = inner; d-- > 0;) {
      if (++idx[d] < os[d]) {
        full[slot[d]] += step[d];
        break;
      }
      full[slot[d]] -= step[d] * (os[d] - 1);
      idx[d] = 0;
    }
  }
  return out;
}

namespace {

std::vector<TensorType> layout_transform_type(std::span<const TensorType> args, const Attrs& attrs) {
  const auto& a = attrs_as<LayoutTransformAttrs>(attrs);
  return {TensorType{convert_shape(args[0].shape, Layout::parse(a.src_layout), Layout::parse(a.dst_layout)), args[0].dtype}};
}

std::vector<Tensor> layout_transform_reference(std::span<const Tensor> args, const Attrs& attrs, std::span<const TensorType>) {
  const auto& a = attrs_as<LayoutTransformAttrs>(attrs);
  return {transform_layout(args[0], Layout::parse(a.src_layout), Layout::parse(a.dst_layout))};
}

}  // namespace

void register_layout_ops(OpRegistry& r) {
  r.add({"layout_transform", "the same tensor stored in another layout (NCHW, NHWC, NCHW16c, OIHW8i16o, ...)", 1, 1,
         OpPattern::injective, [] { return std::make_unique<LayoutTransformAttrs>(); }, layout_transform_type,
         layout_transform_reference});
}

}  // namespace modelc::lang
