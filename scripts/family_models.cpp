// Writes twenty-three ONNX models of families the shared models lack, with seeded
// random weights (He-scaled, so activations keep their magnitude), for
// scripts/bench-families.sh: a check that the schedules generalize beyond the
// shared set, measured against ONNX Runtime like the shared models.
//
//   resnext_mini    ResNeXt bottlenecks, 32 groups (4, 8 and 16 channels per group)
//   densenet_mini   pre-activation BN-ReLU-conv layers joined by concatenation
//   inception_mini  GoogLeNet: LRN after the stem, modules of 1x1, 3x3, 5x5 and pooled branches
//   convnext_mini   7x7 depthwise, LayerNorm over channels last, 4x MLP with GELU (erf)
//   unet_mini       encoder-decoder: ConvTranspose and bilinear Resize up, skips concatenated
//   mobilenetv3_mini  3x3/5x5 depthwise, squeeze-and-excitation, HardSwish
//   shufflenet_mini channel split, depthwise branch, channel shuffle (Reshape/Transpose)
//   vit_mini        16x16 patches, 4 pre-norm encoder layers (6 heads), GELU MLP
//   lstm_mini       two stacked LSTM layers over 32 steps (input [32, 1, 128])
//   yolo_mini       Conv-BN-SiLU, nearest upsampling and concatenation, 255-channel heads
//   gpt_mini        causal self-attention (additive mask), GELU in its tanh form (Pow 3)
//   audio_mini      1-D convolutions over one second of 16 kHz audio (input [1, 1, 16000])
//   stylenet_mini   style-transfer-like: 3x3 convolutions with InstanceNormalization and ReLU, 128 x 128
//   espcn_mini      super-resolution: 5x5 and 3x3 convolutions with tanh, DepthToSpace x4
//   segment_mini    segmentation head: Softmax over 21 class channels at 112 x 112
//   inception3_mini Inception-v3's factorized 1x7 / 7x1 convolutions, 3x3 average pooling at stride 1
//   alexnet_mini    AlexNet's layers at full size: 11x11 stride-4 stem, LRN, 5x5, fully connected 9216 -> 4096 -> 4096
//   gru_mini        two stacked GRU layers over 32 steps (input [32, 1, 128]), linear_before_reset
//   fns_mini        fast neural style: reflection padding, 9x9 convolutions, InstanceNorm, residual blocks, upsampling
//   gnres_mini      diffusion-UNet residual blocks: GroupNorm (as PyTorch exports it) + SiLU + 3x3 convolutions, 64 x 64
//   regnet_mini     RegNetY-1.6GF's widths (48, 120, 336, 888): groups of 24 channels, squeeze-and-excitation
//   effnetv2_mini   EfficientNetV2-S: fused-MBConv (full 3x3 expansions over 24 and 48 channels), then MBConv with SE, SiLU
//   wide_encoder_mini  post-norm encoder, d_model 512 over 32 tokens (weights stream: 12 MB a layer), ReLU feed-forward
//
// Usage: family_models DIR (writes DIR/<name>.onnx). Build: see bench-families.sh.
#include <onnx/onnx_pb.h>
#include <algorithm>
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
  // Given float values (a vector, or of shape `dims`).
  std::string f32(std::vector<float> v, std::vector<int64_t> dims = {}, const std::string& prefix = "f") {
    std::string n = fresh(prefix);
    auto* t = g->add_initializer();
    t->set_name(n);
    t->set_data_type(TensorProto::FLOAT);
    if (dims.empty()) dims = {static_cast<int64_t>(v.size())};
    for (auto d : dims) t->add_dims(d);
    for (auto x : v) t->add_float_data(x);
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
  std::string conv(const std::string& x, int64_t cin, int64_t cout, int64_t k, int64_t stride = 1, int64_t groups = 1, bool bias = true,
                   int64_t pad = -1) {
    std::vector<std::string> in{x, init({cout, cin / groups, k, k}, std::sqrt(2.f / (cin / groups * k * k)))};
    if (bias) in.push_back(init({cout}, 0.05f));
    std::string r;
    auto* n = node("Conv", in, r);
    ints(n, "kernel_shape", {k, k});
    ints(n, "strides", {stride, stride});
    int64_t p = pad >= 0 ? pad : k / 2;
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
  std::string transpose(const std::string& x, std::vector<int64_t> perm) {
    std::string r;
    ints(node("Transpose", {x}, r), "perm", perm);
    return r;
  }
  // LayerNorm over the last axis (ch wide), seeded scale and shift.
  std::string layer_norm(const std::string& x, int64_t ch) {
    std::string r;
    int1(node("LayerNormalization", {x, init({ch}, 0.1f, 1.f), init({ch}, 0.05f)}, r), "axis", -1);
    return r;
  }
  // x W + b along the last axis.
  std::string linear(const std::string& x, int64_t in, int64_t out) {
    return op("Add", {op("MatMul", {x, init({in, out}, std::sqrt(1.f / in))}), init({out}, 0.02f)});
  }
  // GELU, erf form: x (1 + erf(x / sqrt 2)) / 2.
  std::string gelu_erf(const std::string& x) {
    std::string e = op("Erf", {op("Div", {x, init({1}, 0.f, 1.41421356f)})});
    return op("Mul", {op("Mul", {x, op("Add", {e, init({1}, 0.f, 1.f)})}), init({1}, 0.f, 0.5f)});
  }
  // Resize by 2 in H and W ("linear" or "nearest").
  std::string upsample2(const std::string& x, const std::string& mode) {
    std::string r;
    auto* a = node("Resize", {x, "", f32({1, 1, 2, 2})}, r)->add_attribute();
    a->set_name("mode");
    a->set_type(AttributeProto::STRING);
    a->set_s(mode);
    return r;
  }
  // Multi-head self-attention over [1, t, d] (heads of d / heads), with an
  // additive mask when one is given; its output projection included.
  std::string self_attention(const std::string& h, int64_t t, int64_t d, int64_t heads, const std::string& mask = "") {
    const int64_t hd = d / heads;
    auto split = [&](const std::string& v, std::vector<int64_t> perm) {
      return transpose(op("Reshape", {v, i64({1, t, heads, hd})}), perm);
    };
    std::string q = split(linear(h, d, d), {0, 2, 1, 3});
    std::string k = split(linear(h, d, d), {0, 2, 3, 1});
    std::string v = split(linear(h, d, d), {0, 2, 1, 3});
    std::string s = op("Mul", {op("MatMul", {q, k}), init({1}, 0.f, 1.f / std::sqrt(float(hd)))});
    if (!mask.empty()) s = op("Add", {s, mask});
    std::string p;
    int1(node("Softmax", {s}, p), "axis", -1);
    return linear(op("Reshape", {transpose(op("MatMul", {p, v}), {0, 2, 1, 3}), i64({1, t, d})}), d, d);
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
  auto lrn = [&](const std::string& t) {  // GoogLeNet's local response normalization
    std::string r;
    auto* n = b.node("LRN", {t}, r);
    B::int1(n, "size", 5);
    return r;
  };
  std::string x = b.relu(b.conv("input", 3, 64, 7, 2));
  x = lrn(b.maxpool(x, 3, 2, 1));
  x = b.relu(b.conv(x, 64, 192, 3));
  x = b.maxpool(lrn(x), 3, 2, 1);
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
  for (int i = 0; i < 3; ++i) {
    std::string y = b.transpose(b.conv(x, d, d, 7, 1, d), {0, 2, 3, 1});
    y = b.linear(b.gelu_erf(b.linear(b.layer_norm(y, d), d, 4 * d)), 4 * d, d);
    x = b.op("Add", {x, b.transpose(y, {0, 3, 1, 2})});
  }
  std::string y = b.head(x, d, 1000);
  b.io({1, 3, 224, 224}, y, {1, 1000});
  b.save(path);
}

// U-Net-style encoder-decoder (segmentation): 3x3 conv-BN-ReLU pairs, max
// pooling down, up by ConvTranspose 2x2 stride 2 and by bilinear Resize,
// skip connections concatenated; a per-pixel 1x1 classifier at full size.
void unet(const std::string& path) {
  B b;
  auto pair = [&](std::string x, int64_t cin, int64_t cout) {
    x = b.relu(b.bn(b.conv(x, cin, cout, 3, 1, 1, false), cout));
    return b.relu(b.bn(b.conv(x, cout, cout, 3, 1, 1, false), cout));
  };
  std::string e1 = pair("input", 3, 32);
  std::string e2 = pair(b.maxpool(e1, 2, 2, 0), 32, 64);
  std::string e3 = pair(b.maxpool(e2, 2, 2, 0), 64, 128);
  std::string m = pair(b.maxpool(e3, 2, 2, 0), 128, 256);
  auto up_conv = [&](const std::string& x, int64_t cin, int64_t cout) {  // ConvTranspose 2x2, stride 2
    std::string r;
    auto* n = b.node("ConvTranspose", {x, b.init({cin, cout, 2, 2}, std::sqrt(1.f / cin)), b.init({cout}, 0.05f)}, r);
    B::ints(n, "kernel_shape", {2, 2});
    B::ints(n, "strides", {2, 2});
    return r;
  };
  std::string d3 = pair(b.concat({up_conv(m, 256, 128), e3}, 1), 256, 128);
  std::string d2 = pair(b.concat({up_conv(d3, 128, 64), e2}, 1), 128, 64);
  std::string u1 = b.upsample2(d2, "linear");
  std::string d1 = pair(b.concat({u1, e1}, 1), 96, 32);
  std::string y = b.conv(d1, 32, 2, 1);
  b.io({1, 3, 224, 224}, y, {1, 2, 224, 224});
  b.save(path);
}

// MobileNetV3-style: inverted residuals with 3x3 and 5x5 depthwise
// convolutions, squeeze-and-excitation (global pool, 1x1 reduce, ReLU, 1x1
// expand, HardSigmoid, scale), HardSwish activations.
void mobilenetv3(const std::string& path) {
  B b;
  auto hswish = [&](const std::string& x) { return b.op("HardSwish", {x}); };
  std::string x = hswish(b.bn(b.conv("input", 3, 16, 3, 2, 1, false), 16));
  int64_t c = 16;
  auto block = [&](int64_t k, int64_t exp, int64_t out, bool se, bool hs, int64_t stride) {
    auto act = [&](const std::string& t) { return hs ? hswish(t) : b.relu(t); };
    std::string y = exp != c ? act(b.bn(b.conv(x, c, exp, 1, 1, 1, false), exp)) : x;
    y = act(b.bn(b.conv(y, exp, exp, k, stride, exp, false), exp));
    if (se) {
      int64_t r = std::max<int64_t>(8, exp / 4);
      std::string s = b.op("GlobalAveragePool", {y});
      s = b.relu(b.conv(s, exp, r, 1));
      s = b.op("HardSigmoid", {b.conv(s, r, exp, 1)});
      y = b.op("Mul", {y, s});
    }
    y = b.bn(b.conv(y, exp, out, 1, 1, 1, false), out);
    x = (stride == 1 && c == out) ? b.op("Add", {x, y}) : y;
    c = out;
  };
  block(3, 16, 16, true, false, 2);
  block(3, 72, 24, false, false, 2);
  block(3, 88, 24, false, false, 1);
  block(5, 96, 40, true, true, 2);
  block(5, 240, 40, true, true, 1);
  block(5, 120, 48, true, true, 1);
  block(5, 288, 96, true, true, 2);
  block(5, 576, 96, true, true, 1);
  x = hswish(b.bn(b.conv(x, 96, 576, 1, 1, 1, false), 576));
  std::string y = b.head(x, 576, 1000);
  b.io({1, 3, 224, 224}, y, {1, 1000});
  b.save(path);
}

// ShuffleNetV2-style: channel split, a 1x1 / depthwise 3x3 / 1x1 branch,
// concatenation and channel shuffle (Reshape, Transpose, Reshape).
void shufflenet(const std::string& path) {
  B b;
  std::string x = b.relu(b.bn(b.conv("input", 3, 24, 3, 2, 1, false), 24));
  x = b.maxpool(x, 3, 2, 1);
  int64_t c = 24, h = 56;
  auto branch = [&](const std::string& t, int64_t cin, int64_t cout, int64_t stride) {
    std::string y = b.relu(b.bn(b.conv(t, cin, cout, 1, 1, 1, false), cout));
    y = b.bn(b.conv(y, cout, cout, 3, stride, cout, false), cout);
    return b.relu(b.bn(b.conv(y, cout, cout, 1, 1, 1, false), cout));
  };
  auto shuffle = [&](const std::string& t, int64_t ch, int64_t hw) {
    std::string r = b.op("Reshape", {t, b.i64({1, 2, ch / 2, hw, hw})});
    return b.op("Reshape", {b.transpose(r, {0, 2, 1, 3, 4}), b.i64({1, ch, hw, hw})});
  };
  auto stage = [&](int64_t out, int repeats) {
    // down-sampling unit: both halves see the whole input
    std::string l = b.bn(b.conv(x, c, c, 3, 2, c, false), c);
    l = b.relu(b.bn(b.conv(l, c, out / 2, 1, 1, 1, false), out / 2));
    std::string r = branch(x, c, out / 2, 2);
    h /= 2;
    c = out;
    x = shuffle(b.concat({l, r}, 1), c, h);
    for (int i = 1; i < repeats; ++i) {
      std::string s0, s1;
      auto* n = b.g->add_node();
      n->set_op_type("Split");
      n->set_name(b.fresh("Split"));
      n->add_input(x);
      n->add_input(b.i64({c / 2, c / 2}));
      s0 = b.fresh("half");
      s1 = b.fresh("half");
      n->add_output(s0);
      n->add_output(s1);
      B::int1(n, "axis", 1);
      x = shuffle(b.concat({s0, branch(s1, c / 2, c / 2, 1)}, 1), c, h);
    }
  };
  stage(116, 4);
  stage(232, 8);
  stage(464, 4);
  x = b.relu(b.bn(b.conv(x, 464, 1024, 1, 1, 1, false), 1024));
  std::string y = b.head(x, 1024, 1000);
  b.io({1, 3, 224, 224}, y, {1, 1000});
  b.save(path);
}

// ViT-style: 16x16 patch embedding, pre-norm encoder layers (6 heads of 32),
// GELU MLP, mean-pooled tokens into a linear classifier.
void vit(const std::string& path) {
  B b;
  const int64_t d = 192, heads = 6, t = 196;
  std::string x = b.conv("input", 3, d, 16, 16, 1, true, 0);  // 1 x d x 14 x 14
  x = b.transpose(b.op("Reshape", {x, b.i64({1, d, t})}), {0, 2, 1});
  x = b.op("Add", {x, b.init({1, t, d}, 0.02f)});
  for (int layer = 0; layer < 4; ++layer) {
    x = b.op("Add", {x, b.self_attention(b.layer_norm(x, d), t, d, heads)});
    x = b.op("Add", {x, b.linear(b.gelu_erf(b.linear(b.layer_norm(x, d), d, 4 * d)), 4 * d, d)});
  }
  std::string pooled;
  {
    auto* n = b.node("ReduceMean", {b.layer_norm(x, d)}, pooled);
    B::ints(n, "axes", {1});
    B::int1(n, "keepdims", 0);
  }
  std::string y;
  auto* g = b.node("Gemm", {pooled, b.init({1000, d}, std::sqrt(1.f / d)), b.init({1000}, 0.01f)}, y);
  B::int1(g, "transB", 1);
  b.io({1, 3, 224, 224}, y, {1, 1000});
  b.save(path);
}

// Two stacked recurrent layers of `op` (LSTM: 4 gates, GRU: 3, with
// linear_before_reset as PyTorch exports it) over 32 steps of one sequence
// (128 -> 256 -> 256), then a per-step linear layer to 10 classes. Its input
// is not an image: family_models writes its shape beside it (NAME.shape).
void recurrent(const std::string& path, const std::string& op) {
  B b;
  const int64_t steps = 32, in = 128, hidden = 256, gates = op == "LSTM" ? 4 : 3;
  auto layer = [&](const std::string& x, int64_t width) {
    std::string y;
    auto* n = b.node(op, {x, b.init({1, gates * hidden, width}, std::sqrt(1.f / width)),
                          b.init({1, gates * hidden, hidden}, std::sqrt(1.f / hidden)), b.init({1, 2 * gates * hidden}, 0.05f)},
                     y);
    B::int1(n, "hidden_size", hidden);
    if (op == "GRU") B::int1(n, "linear_before_reset", 1);
    return b.op("Squeeze", {y, b.i64({1})});  // [steps, 1, 1, hidden] -> [steps, 1, hidden]
  };
  std::string h = layer(layer("input", in), hidden);
  h = b.op("Reshape", {h, b.i64({steps, hidden})});
  std::string y;
  auto* g = b.node("Gemm", {h, b.init({10, hidden}, std::sqrt(1.f / hidden)), b.init({10}, 0.01f)}, y);
  B::int1(g, "transB", 1);
  b.io({steps, 1, in}, y, {steps, 10});
  b.save(path);
  std::ofstream(path.substr(0, path.size() - 5) + ".shape") << steps << " 1 " << in << "\n";
}

// YOLO-style detector: Conv-BN-SiLU stages down to stride 32, a feature
// pyramid that upsamples (nearest Resize x2) and concatenates, and 1x1
// detection heads of 255 channels (3 anchors x 85) at strides 8, 16 and 32.
void yolo(const std::string& path) {
  B b;
  auto cbs = [&](const std::string& x, int64_t cin, int64_t cout, int64_t k, int64_t s) {
    std::string y = b.bn(b.conv(x, cin, cout, k, s, 1, false), cout);
    return b.op("Mul", {y, b.op("Sigmoid", {y})});
  };
  auto up = [&](const std::string& x) { return b.upsample2(x, "nearest"); };
  std::string x = cbs("input", 3, 16, 3, 2);   // 112
  x = cbs(x, 16, 32, 3, 2);                     // 56
  x = cbs(x, 32, 32, 3, 1);
  std::string p3 = cbs(cbs(x, 32, 64, 3, 2), 64, 64, 3, 1);     // 28
  std::string p4 = cbs(cbs(p3, 64, 128, 3, 2), 128, 128, 3, 1);  // 14
  std::string p5 = cbs(cbs(p4, 128, 256, 3, 2), 256, 256, 3, 1); // 7
  std::string f4 = cbs(b.concat({up(cbs(p5, 256, 128, 1, 1)), p4}, 1), 256, 128, 3, 1);
  std::string f3 = cbs(b.concat({up(cbs(f4, 128, 64, 1, 1)), p3}, 1), 128, 64, 3, 1);
  auto head = [&](const std::string& f, int64_t c) {
    return b.op("Sigmoid", {b.op("Reshape", {b.conv(f, c, 255, 1), b.i64({1, 255, -1})})});
  };
  std::string y = b.concat({head(f3, 64), head(f4, 128), head(p5, 256)}, 2);  // 784 + 196 + 49 cells
  b.io({1, 3, 224, 224}, y, {1, 255, 1029});
  b.save(path);
}

// GPT-style decoder: 64 tokens (embedded input), 2 pre-norm layers of causal
// self-attention (4 heads of 32, an additive mask) and an MLP whose GELU is
// the tanh form (Pow 3), as GPT-2 exports write it.
void gpt(const std::string& path) {
  B b;
  const int64_t t = 64, d = 128, heads = 4;
  std::vector<float> mask(static_cast<size_t>(t * t));
  for (int64_t i = 0; i < t; ++i)
    for (int64_t j = 0; j < t; ++j) mask[static_cast<size_t>(i * t + j)] = j > i ? -1e4f : 0.f;
  const std::string causal = b.f32(mask, {t, t}, "mask");
  std::string x = "input";
  for (int layer = 0; layer < 2; ++layer) {
    x = b.op("Add", {x, b.self_attention(b.layer_norm(x, d), t, d, heads, causal)});
    std::string m = b.linear(b.layer_norm(x, d), d, 4 * d);
    // 0.5 m (1 + tanh(sqrt(2 / pi) (m + 0.044715 m^3)))
    std::string cube = b.op("Pow", {m, b.init({1}, 0.f, 3.f)});
    std::string inner = b.op("Mul", {b.op("Add", {m, b.op("Mul", {cube, b.init({1}, 0.f, 0.044715f)})}), b.init({1}, 0.f, 0.7978845608f)});
    m = b.op("Mul", {b.op("Mul", {m, b.init({1}, 0.f, 0.5f)}), b.op("Add", {b.op("Tanh", {inner}), b.init({1}, 0.f, 1.f)})});
    x = b.op("Add", {x, b.linear(m, 4 * d, d)});
  }
  std::string y = b.linear(b.layer_norm(x, d), d, 1000);
  b.io({1, t, d}, y, {1, t, 1000});
  b.save(path);
  std::ofstream(path.substr(0, path.size() - 5) + ".shape") << "1 " << t << " " << d << "\n";
}

// A 1-D convolutional audio classifier on one second at 16 kHz: a wide
// strided first layer, Conv1d-BN-ReLU blocks with max pooling, global
// average pooling, 35 classes.
void audio(const std::string& path) {
  B b;
  auto conv1d = [&](const std::string& x, int64_t cin, int64_t cout, int64_t k, int64_t stride) {
    std::string r;
    auto* n = b.node("Conv", {x, b.init({cout, cin, k}, std::sqrt(2.f / (cin * k))), b.init({cout}, 0.05f)}, r);
    B::ints(n, "kernel_shape", {k});
    B::ints(n, "strides", {stride});
    B::ints(n, "pads", {k / 2, k / 2});
    std::string y = b.op("BatchNormalization", {r, b.init({cout}, 0.1f, 1.f), b.init({cout}, 0.1f), b.init({cout}, 0.1f),
                                                b.init({cout}, 0.05f, 1.f)});
    return b.relu(y);
  };
  auto pool = [&](const std::string& x) {
    std::string r;
    auto* n = b.node("MaxPool", {x}, r);
    B::ints(n, "kernel_shape", {4});
    B::ints(n, "strides", {4});
    return r;
  };
  std::string x = pool(conv1d("input", 1, 64, 80, 4));  // 4000 -> 1000
  x = pool(conv1d(x, 64, 64, 3, 1));                     // 250
  x = pool(conv1d(conv1d(x, 64, 128, 3, 1), 128, 128, 3, 1));  // 62
  x = pool(conv1d(conv1d(x, 128, 256, 3, 1), 256, 256, 3, 1)); // 15
  std::string g = b.op("GlobalAveragePool", {x});
  std::string f;
  auto* fl = b.node("Flatten", {g}, f);
  B::int1(fl, "axis", 1);
  std::string y;
  auto* gemm = b.node("Gemm", {f, b.init({35, 256}, std::sqrt(1.f / 256)), b.init({35}, 0.01f)}, y);
  B::int1(gemm, "transB", 1);
  b.io({1, 1, 16000}, y, {1, 35});
  b.save(path);
  std::ofstream(path.substr(0, path.size() - 5) + ".shape") << "1 1 16000\n";
}

// Style transfer (Johnson et al.): convolutions, each normalized per channel
// and image (InstanceNormalization) before ReLU.
void stylenet(const std::string& path) {
  B b;
  std::string x = "input";
  int64_t c = 3;
  for (int64_t o : {32, 64, 64, 32}) {
    x = b.conv(x, c, o, 3, 1);
    x = b.relu(b.op("InstanceNormalization", {x, b.init({o}, 0.1f, 1.f), b.init({o}, 0.1f)}));
    c = o;
  }
  b.io({1, 3, 128, 128}, x, {1, 32, 128, 128});
  b.save(path);
  std::ofstream(path.substr(0, path.size() - 5) + ".shape") << "1 3 128 128\n";
}

// ESPCN super-resolution: features at low resolution, then DepthToSpace
// (pixel shuffle) x4 of 16 channels into one.
void espcn(const std::string& path) {
  B b;
  std::string x = b.op("Tanh", {b.conv("input", 1, 64, 5, 1)});
  x = b.op("Tanh", {b.conv(x, 64, 32, 3, 1)});
  x = b.conv(x, 32, 16, 3, 1);
  std::string y;
  auto* n = b.node("DepthToSpace", {x}, y);
  B::int1(n, "blocksize", 4);
  b.io({1, 1, 128, 128}, y, {1, 1, 512, 512});
  b.save(path);
  std::ofstream(path.substr(0, path.size() - 5) + ".shape") << "1 1 128 128\n";
}

// A segmentation head: per-pixel class probabilities, Softmax over channels.
void segment(const std::string& path) {
  B b;
  std::string x = b.relu(b.conv("input", 3, 64, 3, 2));
  x = b.relu(b.conv(x, 64, 64, 3, 1));
  x = b.conv(x, 64, 21, 1);
  std::string y;
  auto* n = b.node("Softmax", {x}, y);
  B::int1(n, "axis", 1);
  b.io({1, 3, 224, 224}, y, {1, 21, 112, 112});
  b.save(path);
}

// Inception-v3's factorized convolutions (1x7 then 7x1) beside a 3x3 average
// pooling at stride 1 and a 1x1 convolution, joined.
void inception3(const std::string& path) {
  B b;
  std::string x = b.relu(b.conv("input", 3, 64, 3, 2));
  auto conv_hw = [&](const std::string& in, int64_t cin, int64_t cout, int64_t kh, int64_t kw) {
    std::string r;
    auto* n = b.node("Conv", {in, b.init({cout, cin, kh, kw}, std::sqrt(2.f / (cin * kh * kw))), b.init({cout}, 0.05f)}, r);
    B::ints(n, "kernel_shape", {kh, kw});
    B::ints(n, "pads", {kh / 2, kw / 2, kh / 2, kw / 2});
    return b.relu(r);
  };
  std::string a = conv_hw(conv_hw(x, 64, 96, 1, 7), 96, 96, 7, 1);
  std::string p;
  auto* n = b.node("AveragePool", {x}, p);
  B::ints(n, "kernel_shape", {3, 3});
  B::ints(n, "pads", {1, 1, 1, 1});
  B::ints(n, "strides", {1, 1});
  std::string y = b.concat({a, b.relu(b.conv(p, 64, 32, 1))}, 1);
  b.io({1, 3, 112, 112}, y, {1, 128, 56, 56});
  b.save(path);
  std::ofstream(path.substr(0, path.size() - 5) + ".shape") << "1 3 112 112\n";
}

// AlexNet (the ONNX zoo's bvlc_alexnet / torchvision layout) at full size:
// an 11x11 stride-4 stem, LRN after the first two stages, 5x5 and 3x3
// convolutions, then fully connected layers over 9216 -> 4096 -> 4096 ->
// 1000 whose weights (224 MB) stream from memory on every inference.
void alexnet(const std::string& path) {
  B b;
  auto lrn = [&](const std::string& t) {
    std::string r;
    auto* n = b.node("LRN", {t}, r);
    B::int1(n, "size", 5);
    return r;
  };
  std::string x = lrn(b.relu(b.conv("input", 3, 64, 11, 4, 1, true, 2)));  // 55
  x = b.maxpool(x, 3, 2, 0);                                                 // 27
  x = lrn(b.relu(b.conv(x, 64, 192, 5)));
  x = b.maxpool(x, 3, 2, 0);  // 13
  x = b.relu(b.conv(x, 192, 384, 3));
  x = b.relu(b.conv(x, 384, 256, 3));
  x = b.relu(b.conv(x, 256, 256, 3));
  x = b.maxpool(x, 3, 2, 0);  // 6
  std::string f;
  auto* fl = b.node("Flatten", {x}, f);
  B::int1(fl, "axis", 1);
  auto fc = [&](const std::string& in, int64_t k, int64_t n) {
    std::string r;
    auto* g = b.node("Gemm", {in, b.init({n, k}, std::sqrt(2.f / k)), b.init({n}, 0.01f)}, r);
    B::int1(g, "transB", 1);
    return r;
  };
  std::string y = fc(b.relu(fc(b.relu(fc(f, 9216, 4096)), 4096, 4096)), 4096, 1000);
  b.io({1, 3, 224, 224}, y, {1, 1000});
  b.save(path);
}

// Fast neural style (the ONNX zoo's mosaic / candy models): reflection
// padding before every convolution, 9x9 convolutions at the ends,
// InstanceNormalization and ReLU, strided downsampling, residual blocks, and
// nearest upsampling back to 224 x 224.
void fns(const std::string& path) {
  B b;
  auto reflect = [&](const std::string& x, int64_t p) {
    std::string padded;
    auto* a = b.node("Pad", {x, b.i64({0, 0, p, p, 0, 0, p, p})}, padded)->add_attribute();
    a->set_name("mode");
    a->set_type(AttributeProto::STRING);
    a->set_s("reflect");
    return padded;
  };
  auto conv_in = [&](const std::string& x, int64_t cin, int64_t cout, int64_t k, int64_t stride, bool relu = true) {
    std::string y = b.conv(reflect(x, k / 2), cin, cout, k, stride, 1, true, 0);
    y = b.op("InstanceNormalization", {y, b.init({cout}, 0.1f, 1.f), b.init({cout}, 0.1f)});
    return relu ? b.relu(y) : y;
  };
  std::string x = conv_in("input", 3, 32, 9, 1);  // 224
  x = conv_in(x, 32, 64, 3, 2);                   // 112
  x = conv_in(x, 64, 128, 3, 2);                  // 56
  for (int i = 0; i < 3; ++i) x = b.op("Add", {x, conv_in(conv_in(x, 128, 128, 3, 1), 128, 128, 3, 1, false)});
  x = conv_in(b.upsample2(x, "nearest"), 128, 64, 3, 1);  // 112
  x = conv_in(b.upsample2(x, "nearest"), 64, 32, 3, 1);   // 224
  std::string y = b.conv(reflect(x, 4), 32, 3, 9, 1, 1, true, 0);
  b.io({1, 3, 224, 224}, y, {1, 3, 224, 224});
  b.save(path);
}

// Residual blocks of a diffusion model's UNet: GroupNorm(32) as PyTorch
// exports it (Reshape to [N, 32, -1], InstanceNormalization, Reshape back,
// Mul and Add per channel), SiLU, 3x3 convolutions, a 1x1 shortcut where the
// width changes; 64 x 64, then 32 x 32 after a strided convolution.
void gnres(const std::string& path) {
  B b;
  auto group_norm = [&](const std::string& x, int64_t c, int64_t hw) {
    const int64_t groups = 32;
    std::string g = b.op("Reshape", {x, b.i64({1, groups, -1})});
    g = b.op("InstanceNormalization", {g, b.f32(std::vector<float>(groups, 1.f)), b.f32(std::vector<float>(groups, 0.f))});
    g = b.op("Reshape", {g, b.i64({1, c, hw, hw})});
    return b.op("Add", {b.op("Mul", {g, b.init({c, 1, 1}, 0.1f, 1.f)}), b.init({c, 1, 1}, 0.1f)});
  };
  auto silu = [&](const std::string& x) { return b.op("Mul", {x, b.op("Sigmoid", {x})}); };
  auto block = [&](const std::string& x, int64_t cin, int64_t cout, int64_t hw) {
    std::string h = b.conv(silu(group_norm(x, cin, hw)), cin, cout, 3);
    h = b.conv(silu(group_norm(h, cout, hw)), cout, cout, 3);
    return b.op("Add", {cin == cout ? x : b.conv(x, cin, cout, 1), h});
  };
  std::string x = b.conv("input", 3, 64, 3);
  x = block(block(x, 64, 64, 64), 64, 64, 64);
  x = b.conv(x, 64, 64, 3, 2);  // 32
  x = block(block(x, 64, 128, 32), 128, 128, 32);
  b.io({1, 3, 64, 64}, x, {1, 128, 32, 32});
  b.save(path);
  std::ofstream(path.substr(0, path.size() - 5) + ".shape") << "1 3 64 64\n";
}

// RegNetY-1.6GF (torchvision's widths, fewer blocks): bottlenecks whose 3x3
// convolution has groups of 24 channels (widths 48, 120, 336, 888: neither
// the widths nor the groups fill 16-lane blocks), squeeze-and-excitation.
void regnet(const std::string& path) {
  B b;
  auto cbr = [&](const std::string& x, int64_t cin, int64_t cout, int64_t k, int64_t s, int64_t g, bool relu) {
    std::string y = b.conv(x, cin, cout, k, s, g);
    return relu ? b.relu(y) : y;
  };
  auto block = [&](const std::string& x, int64_t cin, int64_t w, int64_t s) {
    std::string h = cbr(x, cin, w, 1, 1, 1, true);
    h = cbr(h, w, w, 3, s, w / 24, true);
    const int64_t se = cin / 4;
    std::string e = b.op("Sigmoid", {b.conv(b.relu(b.conv(b.op("GlobalAveragePool", {h}), w, se, 1)), se, w, 1)});
    h = cbr(b.op("Mul", {h, e}), w, w, 1, 1, 1, false);
    std::string skip = cin == w && s == 1 ? x : cbr(x, cin, w, 1, s, 1, false);
    return b.relu(b.op("Add", {skip, h}));
  };
  std::string x = cbr("input", 3, 32, 3, 2, 1, true);  // 112
  int64_t c = 32;
  const int64_t widths[] = {48, 120, 336, 888}, depths[] = {1, 2, 3, 1};
  for (int stage = 0; stage < 4; ++stage)
    for (int64_t d = 0; d < depths[stage]; ++d) {
      x = block(x, c, widths[stage], d == 0 ? 2 : 1);
      c = widths[stage];
    }
  std::string y = b.head(x, c, 1000);
  b.io({1, 3, 224, 224}, y, {1, 1000});
  b.save(path);
}

// EfficientNetV2-S (torchvision's widths, fewer blocks): fused-MBConv stages
// whose expansion is a full 3x3 convolution (24 and 48 channels, at 112 and
// 56 pixels), then MBConv stages with depthwise 3x3 and squeeze-and-
// excitation; SiLU as Mul(x, Sigmoid(x)) throughout.
void effnetv2(const std::string& path) {
  B b;
  auto silu = [&](const std::string& x) { return b.op("Mul", {x, b.op("Sigmoid", {x})}); };
  auto cbs = [&](const std::string& x, int64_t cin, int64_t cout, int64_t k, int64_t s, int64_t g, bool act) {
    std::string y = b.bn(b.conv(x, cin, cout, k, s, g, false), cout);
    return act ? silu(y) : y;
  };
  std::string x = cbs("input", 3, 24, 3, 2, 1, true);  // 112
  int64_t c = 24;
  auto fused = [&](int64_t out, int64_t expand, int64_t s) {
    std::string y = expand == 1 ? cbs(x, c, out, 3, s, 1, true) : cbs(cbs(x, c, c * expand, 3, s, 1, true), c * expand, out, 1, 1, 1, false);
    x = s == 1 && c == out ? b.op("Add", {x, y}) : y;
    c = out;
  };
  auto mb = [&](int64_t out, int64_t expand, int64_t s) {
    const int64_t e = c * expand;
    std::string y = cbs(cbs(x, c, e, 1, 1, 1, true), e, e, 3, s, e, true);
    const int64_t r = std::max<int64_t>(1, c / 4);
    std::string z = b.op("Sigmoid", {b.conv(silu(b.conv(b.op("GlobalAveragePool", {y}), e, r, 1)), r, e, 1)});
    y = cbs(b.op("Mul", {y, z}), e, out, 1, 1, 1, false);
    x = s == 1 && c == out ? b.op("Add", {x, y}) : y;
    c = out;
  };
  fused(24, 1, 1);
  fused(48, 4, 2);
  fused(48, 4, 1);  // 56
  fused(64, 4, 2);
  fused(64, 4, 1);  // 28
  mb(128, 4, 2);
  mb(128, 4, 1);    // 14
  mb(160, 6, 1);
  mb(256, 6, 2);    // 7
  x = cbs(x, 256, 1280, 1, 1, 1, true);
  std::string y = b.head(x, 1280, 1000);
  b.io({1, 3, 224, 224}, y, {1, 1000});
  b.save(path);
}

// nn.TransformerEncoder's defaults (post-norm, ReLU feed-forward of 4 x
// d_model) at d_model 512 and 8 heads over a short sequence of 32 tokens:
// each layer's 12 MB of weights stream from memory for few rows.
void wide_encoder(const std::string& path) {
  B b;
  const int64_t d = 512, heads = 8, t = 32;
  std::string x = "input";
  for (int layer = 0; layer < 4; ++layer) {
    x = b.layer_norm(b.op("Add", {x, b.self_attention(x, t, d, heads)}), d);
    x = b.layer_norm(b.op("Add", {x, b.linear(b.relu(b.linear(x, d, 4 * d)), 4 * d, d)}), d);
  }
  b.io({1, t, d}, x, {1, t, d});
  b.save(path);
  std::ofstream(path.substr(0, path.size() - 5) + ".shape") << "1 " << t << " " << d << "\n";
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
  unet(dir + "/unet_mini.onnx");
  mobilenetv3(dir + "/mobilenetv3_mini.onnx");
  shufflenet(dir + "/shufflenet_mini.onnx");
  vit(dir + "/vit_mini.onnx");
  recurrent(dir + "/lstm_mini.onnx", "LSTM");
  yolo(dir + "/yolo_mini.onnx");
  gpt(dir + "/gpt_mini.onnx");
  audio(dir + "/audio_mini.onnx");
  stylenet(dir + "/stylenet_mini.onnx");
  espcn(dir + "/espcn_mini.onnx");
  segment(dir + "/segment_mini.onnx");
  inception3(dir + "/inception3_mini.onnx");
  alexnet(dir + "/alexnet_mini.onnx");
  recurrent(dir + "/gru_mini.onnx", "GRU");
  fns(dir + "/fns_mini.onnx");
  gnres(dir + "/gnres_mini.onnx");
  regnet(dir + "/regnet_mini.onnx");
  effnetv2(dir + "/effnetv2_mini.onnx");
  wide_encoder(dir + "/wide_encoder_mini.onnx");
}
