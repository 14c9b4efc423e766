// RNN, GRU and LSTM unrolled at import, checked against a direct loop
// implementation of the ONNX equations written here: bidirectional, biases,
// initial states, peepholes, clip, GRU's linear_before_reset, batch-first
// layout and sequence_lens shorter than the sequence.
#include <doctest/doctest.h>

#include <cmath>

#include "lang/interpreter.h"
#include "lang/pass.h"
#include "tests/lang/onnx_test_model.h"
#include "tests/lang/test_util.h"

namespace modelc::lang {
namespace {

using namespace testing;

struct Config {
  std::string op = "LSTM";
  std::string direction = "forward";
  int64_t seq = 3, batch = 2, input = 3, hidden = 4;
  bool linear_before_reset = false;
  bool peepholes = false;
  double clip = 0;  // 0: none
  std::vector<int64_t> lengths;  // empty: all seq
  int64_t layout = 0;
};

int64_t gates(const Config& c) { return c.op == "LSTM" ? 4 : c.op == "GRU" ? 3 : 1; }
int64_t directions(const Config& c) { return c.direction == "bidirectional" ? 2 : 1; }

std::vector<float> values(size_t n, float scale, float offset) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::sin(static_cast<float>(i) * scale + offset) * 0.8f;
  return v;
}

struct Weights {
  std::vector<float> x, w, r, b, h0, c0, p;
};

Weights weights(const Config& c) {
  const auto D = static_cast<size_t>(directions(c)), G = static_cast<size_t>(gates(c)), H = static_cast<size_t>(c.hidden);
  const auto S = static_cast<size_t>(c.seq), B = static_cast<size_t>(c.batch), I = static_cast<size_t>(c.input);
  return {values(S * B * I, 0.7f, 0.1f), values(D * G * H * I, 0.37f, 0.5f), values(D * G * H * H, 0.53f, 1.1f),
          values(D * 2 * G * H, 0.29f, 2.0f), values(D * B * H, 0.41f, 0.3f), values(D * B * H, 0.23f, 0.9f),
          values(D * 3 * H, 0.61f, 1.7f)};
}

// GRU's reset gate for hidden unit m (the non-linear_before_reset candidate needs all of them).
double r_of(const Config& c, const Weights&, const std::vector<double>& xw, const std::vector<double>& hr, int64_t, int64_t m) {
  const double v = xw[static_cast<size_t>(c.hidden + m)] + hr[static_cast<size_t>(c.hidden + m)];
  const double clipped = c.clip > 0 ? std::clamp(v, -c.clip, c.clip) : v;
  return 1 / (1 + std::exp(-clipped));
}

// The ONNX equations, one scalar at a time. X is [seq, batch, input] here.
struct Reference {
  std::vector<double> y, h, c;  // [seq, D, batch, H], [D, batch, H], [D, batch, H]
};

Reference reference(const Config& c, const Weights& wt) {
  const int64_t D = directions(c), G = gates(c), H = c.hidden, S = c.seq, B = c.batch, I = c.input;
  Reference out{std::vector<double>(static_cast<size_t>(S * D * B * H)), std::vector<double>(static_cast<size_t>(D * B * H)),
                std::vector<double>(static_cast<size_t>(D * B * H))};
  auto sigmoid = [](double v) { return 1 / (1 + std::exp(-v)); };
  auto clip = [&](double v) { return c.clip > 0 ? std::clamp(v, -c.clip, c.clip) : v; };
  for (int64_t d = 0; d < D; ++d)
    for (int64_t b = 0; b < B; ++b) {
      std::vector<double> h(static_cast<size_t>(H)), cell(static_cast<size_t>(H));
      for (int64_t k = 0; k < H; ++k) {
        h[static_cast<size_t>(k)] = wt.h0[static_cast<size_t>((d * B + b) * H + k)];
        cell[static_cast<size_t>(k)] = wt.c0[static_cast<size_t>((d * B + b) * H + k)];
      }
      const int64_t length = c.lengths.empty() ? S : c.lengths[static_cast<size_t>(b)];
      const bool reverse = c.direction == "reverse" || d == 1;
      for (int64_t s = 0; s < length; ++s) {
        const int64_t t = reverse ? length - 1 - s : s;
        // pre[g][k] = x W^T + Wb (+ Rb) and rec[g][k] = h R^T (+ Rb)
        std::vector<double> xw(static_cast<size_t>(G * H)), hr(static_cast<size_t>(G * H));
        for (int64_t j = 0; j < G * H; ++j) {
          double a = wt.b[static_cast<size_t>(d * 2 * G * H + j)], r = wt.b[static_cast<size_t>(d * 2 * G * H + G * H + j)];
          for (int64_t i = 0; i < I; ++i)
            a += wt.x[static_cast<size_t>((t * B + b) * I + i)] * wt.w[static_cast<size_t>((d * G * H + j) * I + i)];
          for (int64_t k = 0; k < H; ++k) r += h[static_cast<size_t>(k)] * wt.r[static_cast<size_t>((d * G * H + j) * H + k)];
          xw[static_cast<size_t>(j)] = a;
          hr[static_cast<size_t>(j)] = r;
        }
        std::vector<double> next(static_cast<size_t>(H));
        auto at = [&](const std::vector<double>& v, int64_t g, int64_t k) { return v[static_cast<size_t>(g * H + k)]; };
        for (int64_t k = 0; k < H; ++k) {
          const auto kk = static_cast<size_t>(k);
          if (c.op == "RNN") {
            next[kk] = std::tanh(clip(at(xw, 0, k) + at(hr, 0, k)));
          } else if (c.op == "GRU") {
            const double z = sigmoid(clip(at(xw, 0, k) + at(hr, 0, k)));
            const double r = sigmoid(clip(at(xw, 1, k) + at(hr, 1, k)));
            double rec;
            if (c.linear_before_reset) {
              rec = r * at(hr, 2, k);
            } else {  // (r * h) R^T + Rb, recomputed
              rec = wt.b[static_cast<size_t>(d * 2 * G * H + G * H + 2 * H + k)];
              for (int64_t m = 0; m < H; ++m)
                rec += r_of(c, wt, xw, hr, d, m) * h[static_cast<size_t>(m)] * wt.r[static_cast<size_t>((d * G * H + 2 * H + k) * H + m)];
            }
            const double hh = std::tanh(clip(at(xw, 2, k) + rec));
            next[kk] = (1 - z) * hh + z * h[kk];
          } else {
            auto peep = [&](int64_t g, double state) { return c.peepholes ? wt.p[static_cast<size_t>(d * 3 * H + g * H + k)] * state : 0.0; };
            const double i = sigmoid(clip(at(xw, 0, k) + at(hr, 0, k) + peep(0, cell[kk])));
            const double f = sigmoid(clip(at(xw, 2, k) + at(hr, 2, k) + peep(2, cell[kk])));
            const double g = std::tanh(clip(at(xw, 3, k) + at(hr, 3, k)));
            cell[kk] = f * cell[kk] + i * g;
            const double o = sigmoid(clip(at(xw, 1, k) + at(hr, 1, k) + peep(1, cell[kk])));
            next[kk] = o * std::tanh(clip(cell[kk]));
          }
        }
        h = next;
        for (int64_t k = 0; k < H; ++k) out.y[static_cast<size_t>(((t * D + d) * B + b) * H + k)] = h[static_cast<size_t>(k)];
      }
      for (int64_t k = 0; k < H; ++k) {
        out.h[static_cast<size_t>((d * B + b) * H + k)] = h[static_cast<size_t>(k)];
        out.c[static_cast<size_t>((d * B + b) * H + k)] = cell[static_cast<size_t>(k)];
      }
    }
  return out;
}

onnx::ModelProto model(const Config& c, const Weights& wt) {
  const int64_t D = directions(c), G = gates(c), H = c.hidden;
  const std::vector<int64_t> x_shape =
      c.layout == 0 ? std::vector<int64_t>{c.seq, c.batch, c.input} : std::vector<int64_t>{c.batch, c.seq, c.input};
  onnx::ModelProto m = empty_model(x_shape, 14);
  onnx::GraphProto* g = m.mutable_graph();
  add_float_initializer(g, "W", {D, G * H, c.input}, wt.w);
  add_float_initializer(g, "R", {D, G * H, H}, wt.r);
  add_float_initializer(g, "B", {D, 2 * G * H}, wt.b);
  // The initial states follow `layout` like X and Y: [D, batch, H], or
  // [batch, D, H] batch-first (wt keeps them [D, batch, H]).
  auto state = [&](const std::vector<float>& v) {
    if (c.layout == 0) return v;
    std::vector<float> t(v.size());
    for (int64_t d = 0; d < D; ++d)
      for (int64_t b = 0; b < c.batch; ++b)
        for (int64_t k = 0; k < H; ++k)
          t[static_cast<size_t>((b * D + d) * H + k)] = v[static_cast<size_t>((d * c.batch + b) * H + k)];
    return t;
  };
  const std::vector<int64_t> state_shape =
      c.layout == 0 ? std::vector<int64_t>{D, c.batch, H} : std::vector<int64_t>{c.batch, D, H};
  add_float_initializer(g, "H0", state_shape, state(wt.h0));
  add_float_initializer(g, "C0", state_shape, state(wt.c0));
  add_float_initializer(g, "P", {D, 3 * H}, wt.p);
  std::vector<std::string> inputs = {"X", "W", "R", "B", "", "H0"};
  if (!c.lengths.empty()) {
    add_int_initializer(g, "L", {c.batch}, c.lengths, onnx::TensorProto::INT32);
    inputs[4] = "L";
  }
  if (c.op == "LSTM") inputs.insert(inputs.end(), {"C0", c.peepholes ? "P" : ""});
  std::vector<std::string> outputs = {"Y", "Yh"};
  if (c.op == "LSTM") outputs.push_back("Yc");
  onnx::NodeProto* n = add_node(g, c.op, "cell", inputs, outputs);
  set_attr(n, "hidden_size", H);
  set_attr(n, "direction", c.direction);
  set_attr(n, "layout", c.layout);
  if (c.linear_before_reset) set_attr(n, "linear_before_reset", int64_t{1});
  if (c.clip > 0) {
    auto* a = n->add_attribute();
    a->set_name("clip");
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(static_cast<float>(c.clip));
  }
  add_tensor_value(g->mutable_output(), "Y", c.layout == 0 ? std::vector<int64_t>{c.seq, D, c.batch, H} : std::vector<int64_t>{c.batch, c.seq, D, H});
  for (size_t o = 1; o < outputs.size(); ++o)
    add_tensor_value(g->mutable_output(), outputs[o], c.layout == 0 ? std::vector<int64_t>{D, c.batch, H} : std::vector<int64_t>{c.batch, D, H});
  return m;
}

void check(const Config& c) {
  TempDir dir;
  const Weights wt = weights(c);
  const Reference want = reference(c, wt);
  Tensor x(TensorType{c.layout == 0 ? std::vector<int64_t>{c.seq, c.batch, c.input} : std::vector<int64_t>{c.batch, c.seq, c.input}, DType::float32});
  for (int64_t t = 0; t < c.seq; ++t)
    for (int64_t b = 0; b < c.batch; ++b)
      for (int64_t i = 0; i < c.input; ++i) {
        const int64_t at = c.layout == 0 ? (t * c.batch + b) * c.input + i : (b * c.seq + t) * c.input + i;
        x.set_element(static_cast<size_t>(at), wt.x[static_cast<size_t>((t * c.batch + b) * c.input + i)]);
      }
  const Module m = run_passes(import_onnx(save(model(c, wt), dir.path() / "rnn.onnx")), {"InferType"}, PassContext{});
  if (c.op == "GRU") {
    // The recurrent weight's gate slices are made once per direction, not
    // once per step (copies that every step's kernel would stream).
    size_t zr_slices = 0;
    for (const auto& [name, value] : m.constants) zr_slices += value.type().shape == std::vector<int64_t>{2 * c.hidden, c.hidden};
    CHECK(zr_slices <= static_cast<size_t>(directions(c)));
  }
  const std::vector<Tensor> inputs = {x};
  const std::vector<Tensor> got = evaluate_main(m, inputs);
  const int64_t D = directions(c), H = c.hidden;
  for (int64_t t = 0; t < c.seq; ++t)
    for (int64_t d = 0; d < D; ++d)
      for (int64_t b = 0; b < c.batch; ++b)
        for (int64_t k = 0; k < H; ++k) {
          const int64_t at = c.layout == 0 ? ((t * D + d) * c.batch + b) * H + k : ((b * c.seq + t) * D + d) * H + k;
          CHECK(got[0].element_as_double(static_cast<size_t>(at)) ==
                doctest::Approx(want.y[static_cast<size_t>(((t * D + d) * c.batch + b) * H + k)]).epsilon(1e-4));
        }
  for (size_t o = 1; o < got.size(); ++o)
    for (int64_t d = 0; d < D; ++d)
      for (int64_t b = 0; b < c.batch; ++b)
        for (int64_t k = 0; k < H; ++k) {
          const int64_t at = c.layout == 0 ? (d * c.batch + b) * H + k : (b * D + d) * H + k;
          const std::vector<double>& state = o == 1 ? want.h : want.c;
          CHECK(got[o].element_as_double(static_cast<size_t>(at)) ==
                doctest::Approx(state[static_cast<size_t>((d * c.batch + b) * H + k)]).epsilon(1e-4));
        }
}

}  // namespace

TEST_CASE("LSTM: bidirectional with biases, initial states, peepholes and clip; batch-first") {
  Config c;
  c.direction = "bidirectional";
  c.peepholes = true;
  c.clip = 0.9;
  check(c);
  c.layout = 1;
  check(c);
}

TEST_CASE("GRU: both reset placements, reverse direction, sequence_lens shorter than the sequence") {
  Config c;
  c.op = "GRU";
  for (bool lbr : {false, true}) {
    CAPTURE(lbr);
    c.linear_before_reset = lbr;
    c.direction = "reverse";
    c.lengths = {};
    check(c);
    c.direction = "forward";
    c.lengths = {3, 1};
    check(c);
  }
}

TEST_CASE("RNN: bidirectional tanh cell") {
  Config c;
  c.op = "RNN";
  c.direction = "bidirectional";
  check(c);
}

}  // namespace modelc::lang
