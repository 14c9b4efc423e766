// Writes four ONNX models of families the shared models lack, with seeded
// random weights (He-scaled, so activations keep their magnitude), for
// scripts/bench-families.sh: a check that the schedules generalize beyond the
// shared set, measured against ONNX Runtime like the shared models.
//
//   resnext_mini    ResNeXt bottlenecks, 32 groups (4, 8 and 16 channels per group)
//   densenet_mini   pre-activation BN-ReLU-conv layers joined by concatenation
//   inception_mini  GoogLeNet modules: 1x1, 3x3, 5x5 and pooled branches, concatenated
//   convnext_mini   7x7 depthwise, LayerNorm over channels last, 4x MLP with GELU (erf)
//
// Usage: family_models DIR (writes DIR/<name>.onnx). Build: see bench-families.sh.
#include <onnx/onnx_pb.h>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using namespace onnx;
// A graph under construction: fresh names, seeded initializers, node helpers.
struct B {
  ModelProto m;
  GraphProto* g;
  std::mt19937 rng{42};
  int id = 0;
  B() {
    m.set_ir_version(8);
    auto* o = m.add_opset_import();
    o->set_domain("");
    o->set_version(17);
    g = m.mutable_graph();
    g->set_name("g");
  }
  std::string fresh(const std::string& p) { return p + std::to_string(id++); }
  std::string init(std::vector<int64_t> dims, float scale, float offset = 0) {
    std::string n = fresh("w");
    auto* t = g->add_initializer();
    t->set_name(n);
    t->set_data_type(TensorProto::FLOAT);
    int64_t c = 1;
    for (auto d : dims) { t->add_dims(d); c *= d; }
    std::normal_distribution<float> nd(0, 1);
    for (int64_t i = 0; i < c; ++i) t->add_float_data(offset + scale * nd(rng));
    return n;
  }
  std::string i64(std::vector<int64_t> v) {
    std::string n = fresh("s");
    auto* t = g->add_initializer();
    t->set_name(n);
    t->set_data_type(TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(v.size()));
    for (auto x : v) t->add_int64_data(x);
    return n;
  }
  NodeProto* node(const std::string& op, std::vector<std::string> in, std::string& out) {
    out = fresh(op);
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(out);
    for (auto& i : in) n->add_input(i);
    n->add_output(out);
    return n;
  }
  static void ints(NodeProto* n, const std::string& name, std::vector<int64_t> v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(AttributeProto::INTS);
    for (auto x : v) a->add_ints(x);
  }
  static void int1(NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(AttributeProto::INT);
    a->set_i(v);
  }
  std::string op(const std::string& o, std::vector<std::string> in) { std::string r; node(o, in, r); return r; }
  std::string conv(const std::string& x, int64_t cin, int64_t cout, int64_t k, int64_t stride = 1, int64_t groups = 1, bool bias = true) {
    std::vector<std::string> in{x, init({cout, cin / groups, k, k}, std::sqrt(2.f / (cin / groups * k * k)))};
    if (bias) in.push_back(init({cout}, 0.05f));
    std::string r;
    auto* n = node("Conv", in, r);
    ints(n, "kernel_shape", {k, k});
    ints(n, "strides", {stride, stride});
    int64_t p = k / 2;
    ints(n, "pads", {p, p, p, p});
    int1(n, "group", groups);
    return r;
  }
  std::string bn(const std::string& x, int64_t c) {
    return op("BatchNormalization", {x, init({c}, 0.1f, 1.f), init({c}, 0.1f), init({c}, 0.1f), init({c}, 0.05f, 1.f)});
  }
  std::string relu(const std::string& x) { return op("Relu", {x}); }
  std::string maxpool(const std::string& x, int64_t k, int64_t s, int64_t p) {
    std::string r;
    auto* n = node("MaxPool", {x}, r);
    ints(n, "kernel_shape", {k, k});
    ints(n, "strides", {s, s});
    ints(n, "pads", {p, p, p, p});
    return r;
  }
  std::string avgpool(const std::string& x, int64_t k, int64_t s) {
    std::string r;
    auto* n = node("AveragePool", {x}, r);
    ints(n, "kernel_shape", {k, k});
    ints(n, "strides", {s, s});
    return r;
  }
  std::string concat(std::vector<std::string> xs, int64_t axis) {
    std::string r;
    auto* n = node("Concat", xs, r);
    int1(n, "axis", axis);
    return r;
  }
  std::string head(const std::string& x, int64_t c, int64_t classes) {
    std::string p = op("GlobalAveragePool", {x});
    std::string f;
    auto* n = node("Flatten", {p}, f);
    int1(n, "axis", 1);
    std::string r;
    auto* g = node("Gemm", {f, init({classes, c}, std::sqrt(1.f / c)), init({classes}, 0.01f)}, r);
    int1(g, "transB", 1);
    return r;
  }
  void io(std::vector<int64_t> in_shape, const std::string& out, std::vector<int64_t> out_shape) {
    auto add = [](auto* v, const std::string& name, std::vector<int64_t> dims) {
      v->set_name(name);
      auto* t = v->mutable_type()->mutable_tensor_type();
      t->set_elem_type(TensorProto::FLOAT);
      for (auto d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
    };
    add(g->add_input(), "input", in_shape);
    add(g->add_output(), out, out_shape);
  }
  void save(const std::string& path) {
    std::ofstream f(path, std::ios::binary);
    m.SerializeToOstream(&f);
  }
};

// ResNeXt-style: bottlenecks with 32 groups (4, then 8 channels per group).
void resnext(const std::string& path) {
  B b;
  std::string x = b.relu(b.bn(b.conv("input", 3, 64, 7, 2, 1, false), 64));
  x = b.maxpool(x, 3, 2, 1);
  int64_t c = 64;
  auto block = [&](int64_t width, int64_t out, int64_t stride) {
    std::string y = b.relu(b.conv(x, c, width, 1));
    y = b.relu(b.conv(y, width, width, 3, stride, 32));
    y = b.conv(y, width, out, 1);
    std::string sc = (stride != 1 || c != out) ? b.conv(x, c, out, 1, stride) : x;
    x = b.relu(b.op("Add", {y, sc}));
    c = out;
  };
  block(128, 256, 1);
  block(128, 256, 1);
  block(256, 512, 2);
  block(256, 512, 1);
  block(512, 1024, 2);
  block(512, 1024, 1);
  std::string y = b.head(x, c, 1000);
  b.io({1, 3, 224, 224}, y, {1, 1000});
  b.save(path);
}

// DenseNet-style: pre-activation BN-ReLU-conv layers joined by concatenation,
// `layers[i]` of them in dense block i, a halving transition between blocks.
// {6, 6, 6}: the mini; {6, 12, 24, 16}: DenseNet-121's layout (issue 15's
// cold-compile figure).
void densenet(const std::string& path, const std::vector<int>& layers) {
  B b;
  std::string x = b.relu(b.bn(b.conv("input", 3, 64, 7, 2, 1, false), 64));
  x = b.maxpool(x, 3, 2, 1);
  int64_t c = 64;
  const int64_t growth = 32;
  for (size_t blk = 0; blk < layers.size(); ++blk) {
    for (int l = 0; l < layers[blk]; ++l) {
      std::string y = b.conv(b.relu(b.bn(x, c)), c, 4 * growth, 1, 1, 1, false);
      y = b.conv(b.relu(b.bn(y, 4 * growth)), 4 * growth, growth, 3, 1, 1, false);
      x = b.concat({x, y}, 1);
      c += growth;
    }
    if (blk + 1 < layers.size()) {
      x = b.conv(b.relu(b.bn(x, c)), c, c / 2, 1, 1, 1, false);
      c /= 2;
      x = b.avgpool(x, 2, 2);
    }
  }
  x = b.relu(b.bn(x, c));
  std::string y = b.head(x, c, 1000);
  b.io({1, 3, 224, 224}, y, {1, 1000});
  b.save(path);
}

// GoogLeNet-style inception modules: four branches joined along channels.
void inception(const std::string& path) {
  B b;
  std::string x = b.relu(b.conv("input", 3, 64, 7, 2));
  x = b.maxpool(x, 3, 2, 1);
  x = b.relu(b.conv(x, 64, 192, 3));
  x = b.maxpool(x, 3, 2, 1);
  int64_t c = 192;
  auto module = [&](int64_t c1, int64_t r3, int64_t c3, int64_t r5, int64_t c5, int64_t pp) {
    std::string a = b.relu(b.conv(x, c, c1, 1));
    std::string m = b.relu(b.conv(b.relu(b.conv(x, c, r3, 1)), r3, c3, 3));
    std::string f = b.relu(b.conv(b.relu(b.conv(x, c, r5, 1)), r5, c5, 5));
    std::string p = b.relu(b.conv(b.maxpool(x, 3, 1, 1), c, pp, 1));
    x = b.concat({a, m, f, p}, 1);
    c = c1 + c3 + c5 + pp;
  };
  module(64, 96, 128, 16, 32, 32);
  module(128, 128, 192, 32, 96, 64);
  x = b.maxpool(x, 3, 2, 1);
  module(192, 96, 208, 16, 48, 64);
  module(160, 112, 224, 24, 64, 64);
  std::string y = b.head(x, c, 1000);
  b.io({1, 3, 224, 224}, y, {1, 1000});
  b.save(path);
}

// ConvNeXt-style: 7x7 depthwise, LayerNorm over channels (channels last),
// an MLP of 4x width with GELU, residual; patchify stem.
void convnext(const std::string& path) {
  B b;
  const int64_t d = 96;
  std::string x = b.conv("input", 3, d, 4, 4);  // patchify: 4x4 stride 4 (padded 2 each side: 57x57)
  auto ln = [&](const std::string& t, int64_t ch) {
    std::string r;
    auto* n = b.node("LayerNormalization", {t, b.init({ch}, 0.1f, 1.f), b.init({ch}, 0.05f)}, r);
    B::int1(n, "axis", -1);
    return r;
  };
  auto perm = [&](const std::string& t, std::vector<int64_t> p) {
    std::string r;
    auto* n = b.node("Transpose", {t}, r);
    B::ints(n, "perm", p);
    return r;
  };
  for (int i = 0; i < 3; ++i) {
    std::string y = b.conv(x, d, d, 7, 1, d);
    y = perm(y, {0, 2, 3, 1});
    y = ln(y, d);
    y = b.op("Add", {b.op("MatMul", {y, b.init({d, 4 * d}, std::sqrt(1.f / d))}), b.init({4 * d}, 0.02f)});
    // GELU, erf form
    std::string e = b.op("Erf", {b.op("Div", {y, b.init({1}, 0.f, 1.41421356f)})});
    y = b.op("Mul", {b.op("Mul", {y, b.op("Add", {e, b.init({1}, 0.f, 1.f)})}), b.init({1}, 0.f, 0.5f)});
    y = b.op("Add", {b.op("MatMul", {y, b.init({4 * d, d}, std::sqrt(1.f / (4 * d)))}), b.init({d}, 0.02f)});
    y = perm(y, {0, 3, 1, 2});
    x = b.op("Add", {x, y});
  }
  std::string y = b.head(x, d, 1000);
  b.io({1, 3, 224, 224}, y, {1, 1000});
  b.save(path);
}

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3 || (argc == 3 && std::string(argv[2]) != "--densenet121")) {
    std::fprintf(stderr, "usage: family_models DIR [--densenet121]\n");
    return 2;
  }
  const std::string dir = argv[1];
  if (argc == 3) {  // only DenseNet-121, for timing its compile (scripts/compile-times.sh)
    densenet(dir + "/densenet121.onnx", {6, 12, 24, 16});
    return 0;
  }
  resnext(dir + "/resnext_mini.onnx");
  densenet(dir + "/densenet_mini.onnx", {6, 6, 6});
  inception(dir + "/inception_mini.onnx");
  convnext(dir + "/convnext_mini.onnx");
}
