// ONNX Einsum, lowered to the IR's layout ops, sums and batch_matmul.
//
// Each operand first loses its repeated letters (a diagonal: the two axes
// moved last, merged, and every (n + 1)-th element kept) and the letters no
// other operand nor the output uses (summed away). Operands then combine
// left to right: letters both share and later need are batch axes, letters
// both share and nobody needs are contracted, the rest are free; the pair
// becomes one batch_matmul of [batch, free_a, contracted] x [batch,
// contracted, free_b]. Finally the result is summed and transposed into the
// output's order. "..." stands for the leading axes not named.
#include <algorithm>
#include <cctype>
#include <map>
#include <numeric>

#include "lang/frontends/onnx_node.h"
#include "lang/ops/reduce.h"
#include "lang/ops/transform.h"
#include "support/diagnostic.h"

namespace modelc::lang::frontends {

namespace {

// An operand: its value and one letter per axis. The axes "..." stands for
// get the digits '0', '1', ...: right-aligned across operands (numpy's
// broadcasting order), and never equal to an equation's letters.
struct Term {
  ValueRef value;
  std::string letters;
};

std::string strip_spaces(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
  return s;
}

// Replaces "..." by the last `count` of `total` ellipsis digits.
std::string expand_ellipsis(const std::string& spec, size_t count, size_t total) {
  const size_t at = spec.find("...");
  if (at == std::string::npos) return spec;
  std::string axes;
  for (size_t i = total - count; i < total; ++i) axes += static_cast<char>('0' + i);
  return spec.substr(0, at) + axes + spec.substr(at + 3);
}

class EinsumBuilder {
 public:
  explicit EinsumBuilder(NodeContext& c) : c_(c) {}

  ValueRef run() {
    const std::string equation = strip_spaces(c_.attr_string("equation", ""));
    const size_t arrow = equation.find("->");
    std::string inputs = equation.substr(0, arrow);
    std::vector<std::string> specs;
    for (size_t start = 0;;) {
      const size_t comma = inputs.find(',', start);
      specs.push_back(inputs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (specs.size() != c_.input_count()) throw Error("the equation names " + std::to_string(specs.size()) + " operands, the node has " + std::to_string(c_.input_count()));
    auto valid = [&](const std::string& spec) {
      const size_t dots = spec.find("...");
      const std::string letters = dots == std::string::npos ? spec : spec.substr(0, dots) + spec.substr(dots + 3);
      for (char ch : letters)
        if (!std::isalpha(static_cast<unsigned char>(ch))) throw Error("the equation '" + equation + "' is not valid Einsum");
      return letters.size();
    };
    std::vector<size_t> ellipsis(specs.size(), 0);
    size_t ellipsis_axes = 0;
    for (size_t i = 0; i < specs.size(); ++i) {
      const size_t rank = c_.type(c_.input(i)).rank(), named = valid(specs[i]);
      const bool dots = specs[i].find("...") != std::string::npos;
      if (dots ? rank < named : rank != named)
        throw Error("operand " + std::to_string(i) + " '" + specs[i] + "' does not fit its rank " + std::to_string(rank));
      ellipsis[i] = dots ? rank - named : 0;
      ellipsis_axes = std::max(ellipsis_axes, ellipsis[i]);
    }
    if (ellipsis_axes > 10) throw Error("\"...\" stands for more than 10 axes");
    std::vector<Term> terms;
    for (size_t i = 0; i < specs.size(); ++i)
      terms.push_back({c_.input(i), expand_ellipsis(specs[i], ellipsis[i], ellipsis_axes)});
    std::string output;
    if (arrow != std::string::npos) {
      const std::string spec = equation.substr(arrow + 2);
      valid(spec);
      output = expand_ellipsis(spec, ellipsis_axes, ellipsis_axes);
    } else {  // implicit: the ellipsis axes, then the letters used once, in alphabetical order
      std::map<char, int> uses;
      for (const Term& t : terms)
        for (char ch : t.letters) ++uses[ch];
      for (size_t i = 0; i < ellipsis_axes; ++i) output += static_cast<char>('0' + i);
      for (const auto& [ch, n] : uses)
        if (n == 1 && std::isalpha(static_cast<unsigned char>(ch))) output += ch;
    }
    for (Term& t : terms) t = diagonals(t);
    for (size_t i = 0; i < terms.size(); ++i) terms[i] = sum_unused(terms[i], needed_elsewhere(terms, i, output));
    Term acc = terms[0];
    for (size_t i = 1; i < terms.size(); ++i) {
      std::string later = output;
      for (size_t j = i + 1; j < terms.size(); ++j) later += terms[j].letters;
      acc = contract(acc, terms[i], later);
    }
    acc = sum_unused(acc, output);
    for (char ch : output)
      if (acc.letters.find(ch) == std::string::npos) throw Error("output letter '" + std::string(1, ch) + "' names no input axis");
    return permute(acc, output).value;
  }

 private:
  static std::string needed_elsewhere(const std::vector<Term>& terms, size_t self, const std::string& output) {
    std::string out = output;
    for (size_t j = 0; j < terms.size(); ++j)
      if (j != self) out += terms[j].letters;
    return out;
  }

  std::vector<int64_t> shape(const Term& t) { return c_.type(t.value).shape; }

  Term permute(const Term& t, const std::string& order) {
    if (t.letters == order) return t;
    std::vector<int64_t> axes;
    for (char ch : order) axes.push_back(static_cast<int64_t>(t.letters.find(ch)));
    return {c_.call("transpose", {t.value}, transpose_by(axes)), order};
  }

  Term reshape(const Term& t, std::vector<int64_t> to, std::string letters) {
    return {c_.call("reshape", {t.value}, reshape_to(std::move(to))), std::move(letters)};
  }

  // Keeps the diagonal of each letter that appears twice in one operand.
  Term diagonals(Term t) {
    for (size_t a = 0; a < t.letters.size(); ++a) {
      const size_t b = t.letters.find(t.letters[a], a + 1);
      if (b == std::string::npos) continue;
      const char ch = t.letters[a];
      std::string rest;
      std::vector<int64_t> axes;
      for (size_t k = 0; k < t.letters.size(); ++k)
        if (k != a && k != b) {
          rest += t.letters[k];
          axes.push_back(static_cast<int64_t>(k));
        }
      axes.push_back(static_cast<int64_t>(a));
      axes.push_back(static_cast<int64_t>(b));
      const std::string order = rest + ch;
      const Term moved{c_.call("transpose", {t.value}, transpose_by(axes)), rest + ch + ch};
      std::vector<int64_t> s = shape(moved);
      const int64_t n = s.back();
      if (s[s.size() - 2] != n) throw Error("letter '" + std::string(1, ch) + "' names axes of sizes " + std::to_string(s[s.size() - 2]) + " and " + std::to_string(n));
      s.pop_back();
      s.back() = n * n;
      Term flat = reshape(moved, s, order);
      StridedSliceAttrs slice;
      slice.begin = {0};
      slice.end = {n * n};
      slice.axes = {static_cast<int64_t>(s.size()) - 1};
      slice.strides = {n + 1};
      t = {c_.call("strided_slice", {flat.value}, make_attrs(slice)), order};
      a = static_cast<size_t>(-1);  // the letters moved: look again from the start
    }
    return t;
  }

  // Sums the axes whose letters `keep` does not name.
  Term sum_unused(const Term& t, const std::string& keep) {
    ReduceAttrs a;
    a.keepdims = false;
    std::string letters;
    for (size_t k = 0; k < t.letters.size(); ++k) {
      if (keep.find(t.letters[k]) == std::string::npos) a.axes.push_back(static_cast<int64_t>(k));
      else letters += t.letters[k];
    }
    if (a.axes.empty()) return t;
    return {c_.call("sum", {t.value}, make_attrs(a)), letters};
  }

  Term contract(const Term& a, const Term& b, const std::string& later) {
    std::string batch, contracted, free_a, free_b;
    for (char ch : a.letters) {
      const bool in_b = b.letters.find(ch) != std::string::npos, needed = later.find(ch) != std::string::npos;
      (in_b ? (needed ? batch : contracted) : free_a) += ch;
    }
    for (char ch : b.letters)
      if (a.letters.find(ch) == std::string::npos) free_b += ch;
    auto extent = [&](const Term& t, const std::string& letters) {
      int64_t n = 1;
      const std::vector<int64_t> s = shape(t);
      for (char ch : letters) n *= s[t.letters.find(ch)];
      return n;
    };
    for (char ch : batch + contracted)
      if (shape(a)[a.letters.find(ch)] != shape(b)[b.letters.find(ch)])
        throw Error("letter '" + std::string(1, ch) + "' names axes of different sizes");
    const int64_t nb = extent(a, batch), m = extent(a, free_a), k = extent(a, contracted), n = extent(b, free_b);
    const Term lhs = reshape(permute(a, batch + free_a + contracted), {nb, m, k}, "");
    const Term rhs = reshape(permute(b, batch + contracted + free_b), {nb, k, n}, "");
    std::vector<int64_t> out_shape;
    for (char ch : batch + free_a) out_shape.push_back(shape(a)[a.letters.find(ch)]);
    for (char ch : free_b) out_shape.push_back(shape(b)[b.letters.find(ch)]);
    const ValueRef product = c_.call("nn.batch_matmul", {lhs.value, rhs.value});
    return {c_.call("reshape", {product}, reshape_to(out_shape)), batch + free_a + free_b};
  }

  NodeContext& c_;
};

}  // namespace

std::vector<ValueRef> convert_einsum(NodeContext& c) { return {EinsumBuilder(c).run()}; }

}  // namespace modelc::lang::frontends
