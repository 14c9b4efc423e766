// ONNX RNN, GRU and LSTM, unrolled over their static sequence length into IR
// ops: the input projection of all steps is one dense op, then each step is a
// dense op on the hidden state plus its gates' elementwise math, which FuseOps
// groups. Directions forward, reverse and bidirectional; layout 0 and 1;
// custom activations (with activation_alpha / activation_beta), clip,
// peepholes, input_forget, GRU's linear_before_reset, and constant
// sequence_lens (steps past a batch entry's length keep its state and give
// zeros, as ONNX Runtime does).
#include <algorithm>

#include "lang/frontends/onnx_node.h"
#include "lang/ops/elementwise.h"
#include "lang/ops/transform.h"
#include "support/diagnostic.h"

namespace modelc::lang::frontends {

namespace {

enum class Cell { rnn, gru, lstm };

struct Activation {
  std::string name;
  double alpha = 0;
  double beta = 0;
};

// Whether an activation takes alpha / beta, and their ONNX defaults.
struct ActivationInfo {
  const char* name;
  bool alpha, beta;
  double default_alpha, default_beta;
};
constexpr ActivationInfo kActivations[] = {
    {"Relu", false, false, 0, 0},        {"Tanh", false, false, 0, 0},
    {"Sigmoid", false, false, 0, 0},     {"Softsign", false, false, 0, 0},
    {"Softplus", false, false, 0, 0},    {"Affine", true, true, 1.0, 0.0},
    {"LeakyRelu", true, false, 0.01, 0}, {"ThresholdedRelu", true, false, 1.0, 0},
    {"ScaledTanh", true, true, 1.0, 1.0}, {"HardSigmoid", true, true, 0.2, 0.5},
    {"Elu", true, false, 1.0, 0},
};

std::vector<Activation> activations(const NodeContext& c, Cell cell, size_t directions) {
  const size_t per_direction = cell == Cell::lstm ? 3 : cell == Cell::gru ? 2 : 1;
  std::vector<std::string> names;
  if (const onnx::AttributeProto* a = c.find_attr("activations")) names.assign(a->strings().begin(), a->strings().end());
  if (names.empty()) {
    const std::vector<std::string> defaults =
        cell == Cell::lstm ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
        : cell == Cell::gru ? std::vector<std::string>{"Sigmoid", "Tanh"}
                            : std::vector<std::string>{"Tanh"};
    for (size_t d = 0; d < directions; ++d) names.insert(names.end(), defaults.begin(), defaults.end());
  }
  if (names.size() != per_direction * directions)
    throw Error("expects " + std::to_string(per_direction * directions) + " activations, found " + std::to_string(names.size()));
  std::vector<float> alphas, betas;
  if (const onnx::AttributeProto* a = c.find_attr("activation_alpha")) alphas.assign(a->floats().begin(), a->floats().end());
  if (const onnx::AttributeProto* b = c.find_attr("activation_beta")) betas.assign(b->floats().begin(), b->floats().end());
  size_t next_alpha = 0, next_beta = 0;
  std::vector<Activation> out;
  for (const std::string& name : names) {
    const ActivationInfo* info = nullptr;
    for (const ActivationInfo& i : kActivations)
      if (name == i.name) info = &i;
    if (!info) throw Error("activation '" + name + "' is not supported");
    Activation act{name, info->default_alpha, info->default_beta};
    if (info->alpha && next_alpha < alphas.size()) act.alpha = alphas[next_alpha++];
    if (info->beta && next_beta < betas.size()) act.beta = betas[next_beta++];
    out.push_back(act);
  }
  return out;
}

class Unroller {
 public:
  Unroller(NodeContext& c, Cell cell) : c_(c), cell_(cell) {}

  std::vector<ValueRef> run() {
    const int64_t layout = c_.attr_int("layout", 0);
    ValueRef x = c_.input(0);
    if (c_.type(x).rank() != 3) throw Error("expects a 3-D input X, found " + c_.type(x).str());
    if (layout == 1) x = c_.call("transpose", {x}, transpose_by({1, 0, 2}));
    const TensorType xt = c_.type(x);
    seq_ = xt.shape[0];
    batch_ = xt.shape[1];
    const int64_t input_size = xt.shape[2];
    const std::string direction = c_.attr_string("direction", "forward");
    if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
      throw Error("direction '" + direction + "' is not one of forward, reverse, bidirectional");
    const size_t directions = direction == "bidirectional" ? 2 : 1;
    gates_ = cell_ == Cell::lstm ? 4 : cell_ == Cell::gru ? 3 : 1;
    const TensorType wt = c_.type(c_.input(1));
    if (wt.rank() != 3 || wt.shape[0] != static_cast<int64_t>(directions) || wt.shape[2] != input_size ||
        wt.shape[1] % gates_ != 0)
      throw Error("W is " + wt.str() + "; expected [" + std::to_string(directions) + ", " + std::to_string(gates_) +
                  " * hidden_size, " + std::to_string(input_size) + "]");
    hidden_ = c_.attr_int("hidden_size", wt.shape[1] / gates_);
    if (hidden_ < 1 || hidden_ != wt.shape[1] / gates_) throw Error("W is " + wt.str() + ", which does not fit hidden_size " + std::to_string(hidden_));
    // Every operand's shape, before any is sliced (a scalar B once made
    // direction_slice erase from an empty shape: the ONNX fuzzer). The
    // initial states follow `layout` like X and the outputs do.
    const int64_t dirs = static_cast<int64_t>(directions), gh = gates_ * hidden_;
    auto expect = [&](const ValueRef& v, const std::string& name, const std::vector<int64_t>& shape) {
      const TensorType t = c_.type(v);
      if (t.shape != shape) throw Error(name + " is " + t.str() + "; expected " + TensorType{shape, t.dtype}.str());
    };
    expect(c_.input(2), "R", {dirs, gh, hidden_});
    if (c_.has_input(3)) expect(c_.input(3), "B", {dirs, 2 * gh});
    auto state = [&](size_t input, const std::string& name) -> std::optional<ValueRef> {
      if (!c_.has_input(input)) return std::nullopt;
      ValueRef v = c_.input(input);
      if (layout == 1) v = c_.call("transpose", {v}, transpose_by({1, 0, 2}));
      expect(v, name, {dirs, batch_, hidden_});
      return v;
    };
    initial_h_ = state(5, "initial_h");
    if (cell_ == Cell::lstm) {
      initial_c_ = state(6, "initial_c");
      if (c_.has_input(7)) expect(c_.input(7), "P", {dirs, 3 * hidden_});
    }
    acts_ = activations(c_, cell_, directions);
    if (c_.has_attr("clip")) clip_ = c_.attr_float("clip", 0);
    read_sequence_lengths();
    const ValueRef x2d = c_.call("reshape", {x}, reshape_to({seq_ * batch_, input_size}));

    std::vector<ValueRef> ys, hs, cs;
    for (size_t d = 0; d < directions; ++d) {
      const bool reverse = direction == "reverse" || d == 1;
      if (reverse && !lengths_.empty())
        throw Error("the reverse direction with sequence_lens shorter than the sequence is not supported");
      Direction result = unroll(x2d, static_cast<int64_t>(d), reverse);
      ys.push_back(result.y);
      hs.push_back(result.h);
      if (cell_ == Cell::lstm) cs.push_back(result.c);
    }
    ValueRef y = concat(ys, 1), h = concat(hs, 0);  // [seq, dirs, batch, hidden], [dirs, batch, hidden]
    std::optional<ValueRef> cell_state;
    if (cell_ == Cell::lstm) cell_state = concat(cs, 0);
    if (layout == 1) {
      y = c_.call("transpose", {y}, transpose_by({2, 0, 1, 3}));
      h = c_.call("transpose", {h}, transpose_by({1, 0, 2}));
      if (cell_state) cell_state = c_.call("transpose", {*cell_state}, transpose_by({1, 0, 2}));
    }
    std::vector<ValueRef> out = {y, h};
    if (cell_state) out.push_back(*cell_state);
    return out;
  }

 private:
  struct Direction {
    ValueRef y, h, c;
  };

  void read_sequence_lengths() {
    if (!c_.has_input(4)) return;
    const std::vector<int64_t> lengths = c_.constant_ints(4, "sequence_lens");
    if (static_cast<int64_t>(lengths.size()) != batch_)
      throw Error("sequence_lens has " + std::to_string(lengths.size()) + " entries for a batch of " + std::to_string(batch_));
    for (int64_t l : lengths)
      if (l < 0 || l > seq_) throw Error("sequence length " + std::to_string(l) + " is outside [0, " + std::to_string(seq_) + "]");
    if (std::any_of(lengths.begin(), lengths.end(), [&](int64_t l) { return l != seq_; })) lengths_ = lengths;
  }

  ValueRef slice(const ValueRef& v, int64_t axis, int64_t begin, int64_t end) { return slice_along(c_, v, axis, begin, end); }

  // Direction d of a [dirs, rows, cols] weight, as [rows, cols] (or of [dirs, n] as [n]).
  ValueRef direction_slice(size_t input, int64_t d) { return direction_slice(c_.input(input), d); }
  ValueRef direction_slice(const ValueRef& v, int64_t d) {
    std::vector<int64_t> shape = c_.type(v).shape;
    shape.erase(shape.begin());
    return c_.call("reshape", {slice(v, 0, d, d + 1)}, reshape_to(shape));
  }

  ValueRef gate(const ValueRef& v, int64_t k) { return slice(v, 1, k * hidden_, (k + 1) * hidden_); }
  ValueRef add(const ValueRef& a, const ValueRef& b) { return c_.call("add", {a, b}); }
  ValueRef mul(const ValueRef& a, const ValueRef& b) { return c_.call("multiply", {a, b}); }
  ValueRef dense(const ValueRef& x, const ValueRef& w) { return c_.call("nn.dense", {x, w}); }

  ValueRef concat(const std::vector<ValueRef>& parts, int64_t axis) {
    if (parts.size() == 1) return parts.front();
    ConcatenateAttrs a;
    a.axis = axis;
    return c_.call("concatenate", parts, make_attrs(a));
  }

  // GRU's Rb [Rbz, Rbr, Rbh] with Rbh zeroed: with linear_before_reset, Rbh
  // goes inside the reset product instead of into the input projection.
  ValueRef without_candidate(const ValueRef& rb) {
    Tensor keep(TensorType{{3 * hidden_}, DType::float32});
    for (int64_t i = 0; i < 2 * hidden_; ++i) keep.set_element(static_cast<size_t>(i), 1.0);
    return mul(rb, c_.add_constant(std::move(keep)));
  }

  ValueRef zeros(std::vector<int64_t> shape) { return c_.add_constant(Tensor(TensorType{std::move(shape), DType::float32})); }

  ValueRef activate(const Activation& act, ValueRef x) {
    if (clip_) {
      ClipAttrs a;
      a.a_min = -*clip_;
      a.a_max = *clip_;
      x = c_.call("clip", {x}, make_attrs(a));
    }
    auto with = [&](const char* op, double alpha, double beta) {
      ActivationAttrs a;
      a.alpha = alpha;
      a.beta = beta;
      return c_.call(op, {x}, make_attrs(a));
    };
    const std::string& n = act.name;
    if (n == "Sigmoid") return c_.call("sigmoid", {x});
    if (n == "Tanh") return c_.call("tanh", {x});
    if (n == "Relu") return c_.call("nn.relu", {x});
    if (n == "Softsign") return c_.call("nn.softsign", {x});
    if (n == "Softplus") return c_.call("nn.softplus", {x});
    if (n == "HardSigmoid") return with("nn.hard_sigmoid", act.alpha, act.beta);
    if (n == "Elu") return with("nn.elu", act.alpha, 0);
    if (n == "ThresholdedRelu") return with("nn.thresholded_relu", act.alpha, 0);
    if (n == "LeakyRelu") {
      LeakyReluAttrs a;
      a.alpha = act.alpha;
      return c_.call("nn.leaky_relu", {x}, make_attrs(a));
    }
    const ValueRef alpha = c_.scalar(static_cast<float>(act.alpha)), beta = c_.scalar(static_cast<float>(act.beta));
    if (n == "Affine") return add(mul(x, alpha), beta);
    // ScaledTanh: alpha * tanh(beta * x)
    return mul(alpha, c_.call("tanh", {mul(x, beta)}));
  }

  // [batch, 1] mask of the entries still inside their sequence at step t.
  ValueRef live_at(int64_t t) {
    Tensor mask(TensorType{{batch_, 1}, DType::boolean});
    for (int64_t b = 0; b < batch_; ++b) mask.set_element(static_cast<size_t>(b), t < lengths_[static_cast<size_t>(b)] ? 1 : 0);
    return c_.add_constant(std::move(mask));
  }

  Direction unroll(const ValueRef& x2d, int64_t d, bool reverse) {
    const size_t act0 = static_cast<size_t>(d) * (cell_ == Cell::lstm ? 3 : cell_ == Cell::gru ? 2 : 1);
    const ValueRef w = direction_slice(1, d), r = direction_slice(2, d);
    const int64_t gh = gates_ * hidden_;
    std::optional<ValueRef> wb, rb;
    if (c_.has_input(3)) {
      const ValueRef b = direction_slice(3, d);  // [2 * gates * hidden]: Wb then Rb
      wb = slice(b, 0, 0, gh);
      rb = slice(b, 0, gh, 2 * gh);
    }
    const bool linear_before_reset = cell_ == Cell::gru && c_.attr_int("linear_before_reset", 0) != 0;
    // Input projection of every step at once, with the biases that simply add.
    ValueRef xw = dense(x2d, w);
    if (wb) xw = add(xw, add(*wb, linear_before_reset ? without_candidate(*rb) : *rb));
    xw = c_.call("reshape", {xw}, reshape_to({seq_, batch_, gh}));

    ValueRef h = initial_h_ ? direction_slice(*initial_h_, d) : zeros({batch_, hidden_});
    ValueRef cell = initial_c_ ? direction_slice(*initial_c_, d) : zeros({batch_, hidden_});
    std::optional<ValueRef> pi, po, pf;
    if (cell_ == Cell::lstm && c_.has_input(7)) {
      const ValueRef p = direction_slice(7, d);
      pi = slice(p, 0, 0, hidden_);
      po = slice(p, 0, hidden_, 2 * hidden_);
      pf = slice(p, 0, 2 * hidden_, 3 * hidden_);
    }
    const bool input_forget = cell_ == Cell::lstm && c_.attr_int("input_forget", 0) != 0;
    // GRU's recurrent weights split once, outside the steps: sliced inside
    // the loop, each step's slices folded into constants of their own, and a
    // 32-step layer streamed 32 copies of its weights instead of one.
    std::optional<ValueRef> r_zr, r_h, rb_h;
    if (cell_ == Cell::gru) {
      r_zr = slice(r, 0, 0, 2 * hidden_);
      r_h = slice(r, 0, 2 * hidden_, 3 * hidden_);
      if (rb && linear_before_reset) rb_h = slice(*rb, 0, 2 * hidden_, 3 * hidden_);
    }
    std::vector<ValueRef> steps(static_cast<size_t>(seq_));
    for (int64_t s = 0; s < seq_; ++s) {
      const int64_t t = reverse ? seq_ - 1 - s : s;
      const ValueRef xt = c_.call("reshape", {slice(xw, 0, t, t + 1)}, reshape_to({batch_, gh}));
      ValueRef h_next, c_next = cell;
      if (cell_ == Cell::rnn) {
        h_next = activate(acts_[act0], add(xt, dense(h, r)));
      } else if (cell_ == Cell::gru) {
        // Gates z, r, h. The candidate's recurrent term is reset before or after its projection.
        const ValueRef zr = add(slice(xt, 1, 0, 2 * hidden_), dense(h, *r_zr));
        const ValueRef z = activate(acts_[act0], gate(zr, 0));
        const ValueRef reset = activate(acts_[act0], gate(zr, 1));
        ValueRef candidate;
        if (linear_before_reset) {
          ValueRef recurrent = dense(h, *r_h);
          if (rb_h) recurrent = add(recurrent, *rb_h);
          candidate = add(gate(xt, 2), mul(reset, recurrent));
        } else {
          candidate = add(gate(xt, 2), dense(mul(reset, h), *r_h));
        }
        const ValueRef hh = activate(acts_[act0 + 1], candidate);
        // H = (1 - z) * hh + z * H_prev = hh + z * (H_prev - hh)
        h_next = add(hh, mul(z, c_.call("subtract", {h, hh})));
      } else {
        // Gates i, o, f, c.
        const ValueRef pre = add(xt, dense(h, r));
        ValueRef pre_i = gate(pre, 0), pre_f = gate(pre, 2);
        if (pi) pre_i = add(pre_i, mul(*pi, cell));
        if (pf) pre_f = add(pre_f, mul(*pf, cell));
        const ValueRef i = activate(acts_[act0], pre_i);
        const ValueRef f = input_forget ? c_.call("subtract", {c_.scalar(1.f), i}) : activate(acts_[act0], pre_f);
        const ValueRef candidate = activate(acts_[act0 + 1], gate(pre, 3));
        c_next = add(mul(f, cell), mul(i, candidate));
        ValueRef pre_o = gate(pre, 1);
        if (po) pre_o = add(pre_o, mul(*po, c_next));
        h_next = mul(activate(acts_[act0], pre_o), activate(acts_[act0 + 2], c_next));
      }
      ValueRef y = h_next;
      if (!lengths_.empty()) {
        const ValueRef live = live_at(t);
        y = c_.call("where", {live, h_next, c_.scalar(0.f)});
        h_next = c_.call("where", {live, h_next, h});
        c_next = c_.call("where", {live, c_next, cell});
      }
      steps[static_cast<size_t>(t)] = c_.call("reshape", {y}, reshape_to({1, 1, batch_, hidden_}));
      h = h_next;
      cell = c_next;
    }
    const ValueRef h_out = c_.call("reshape", {h}, reshape_to({1, batch_, hidden_}));
    const ValueRef c_out = c_.call("reshape", {cell}, reshape_to({1, batch_, hidden_}));
    return {concat(steps, 0), h_out, c_out};
  }

  NodeContext& c_;
  Cell cell_;
  int64_t seq_ = 0, batch_ = 0, hidden_ = 0, gates_ = 1;
  std::vector<Activation> acts_;
  std::optional<double> clip_;
  std::optional<ValueRef> initial_h_, initial_c_;  // [dirs, batch, hidden], whatever the layout
  std::vector<int64_t> lengths_;  // empty: every entry runs the whole sequence
};

}  // namespace

NodeConverter recurrent(const char* op) {
  const Cell cell = std::string_view(op) == "LSTM" ? Cell::lstm : std::string_view(op) == "GRU" ? Cell::gru : Cell::rnn;
  return [cell](NodeContext& c) { return Unroller(c, cell).run(); };
}

}  // namespace modelc::lang::frontends
