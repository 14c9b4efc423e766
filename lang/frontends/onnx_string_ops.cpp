// ONNX ops on string tensors. Compiled models hold numeric tensors only, so
// these are computed at import time on known strings (initializers, Constant
// nodes, or inputs a caller fixes); the result is a constant. With a string
// input computed from the model's inputs the converter says the input must be
// known at import time, like a Reshape's shape.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>

#include "lang/frontends/onnx_node.h"
#include "support/diagnostic.h"

namespace modelc::lang::frontends {

namespace {

// ASCII case mapping; other bytes (UTF-8 sequences) are kept as they are.
std::string with_case(std::string s, const std::string& action) {
  if (action == "LOWER") std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (action == "UPPER") std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  return s;
}

// The shortest text that reads back as the same float32 ("0.039187793", "1e-05", "NaN", "INF", "-INF").
std::string float_text(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "INF" : "-INF";
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, static_cast<float>(v));
  return std::string(buffer, end);
}

double parse_number(const std::string& s) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);  // also reads "NaN", "INF", "+INF", "-inf"
  if (end == s.c_str() || *end != '\0') throw Error("cannot cast the string '" + s + "' to a number");
  return v;
}

}  // namespace

std::vector<ValueRef> convert_string_normalizer(NodeContext& c) {
  const Tensor in = c.constant_input(0, "the strings");
  const TensorType& t = in.type();
  if (t.dtype != DType::string) throw Error("expects a string tensor, found " + t.str());
  if (!(t.rank() == 1 || (t.rank() == 2 && t.shape[0] == 1)))
    throw Error("expects a string tensor of shape [C] or [1, C], found " + t.str());
  const std::string action = c.attr_string("case_change_action", "NONE");
  if (action != "NONE" && action != "LOWER" && action != "UPPER")
    throw Error("case_change_action '" + action + "' is not one of NONE, LOWER, UPPER");
  const bool case_sensitive = c.attr_int("is_case_sensitive", 0) != 0;
  std::set<std::string> stopwords;
  if (const onnx::AttributeProto* a = c.find_attr("stopwords"))
    for (const std::string& w : a->strings()) stopwords.insert(case_sensitive ? w : with_case(w, "LOWER"));
  std::vector<std::string> kept;
  for (const std::string& s : in.strings())
    if (!stopwords.count(case_sensitive ? s : with_case(s, "LOWER"))) kept.push_back(with_case(s, action));
  // ONNX keeps the [1, C] form, and gives [1] holding "" when every string is a stopword.
  const bool empty = kept.empty();
  if (empty) kept.push_back("");
  const auto n = static_cast<int64_t>(kept.size());
  Tensor out(TensorType{t.rank() == 2 ? std::vector<int64_t>{1, n} : std::vector<int64_t>{n}, DType::string});
  for (size_t i = 0; i < kept.size(); ++i) out.set_string(i, std::move(kept[i]));
  return {c.add_constant(std::move(out))};
}

std::optional<ValueRef> cast_strings(NodeContext& c, DType to) {
  const DType from = c.type(c.input(0)).dtype;
  if (from != DType::string && to != DType::string) return std::nullopt;
  const Tensor in = c.constant_input(0, "the tensor to cast to or from strings");
  Tensor out(TensorType{in.type().shape, to});
  const auto count = static_cast<size_t>(in.type().element_count());
  for (size_t i = 0; i < count; ++i) {
    if (from == DType::string && to == DType::string) out.set_string(i, in.strings()[i]);
    else if (to == DType::string) out.set_string(i, is_float(from) ? float_text(in.element_as_double(i)) : std::to_string(in.element_as_int(i)));
    else out.set_element(i, parse_number(in.strings()[i]));
  }
  return c.add_constant(std::move(out));
}

}  // namespace modelc::lang::frontends
