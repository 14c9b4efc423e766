#include "lang/frontends/onnx_qdq.h"

#include <onnx/checker.h>

#include <cmath>
#include <map>
#include <set>

#include "lang/frontends/onnx_node.h"
#include "support/diagnostic.h"
#include "support/file_io.h"

namespace modelc::lang {
namespace {

namespace fe = frontends;

// A Conv, Gemm or MatMul given int8 weights.
struct Anchor {
  int node = 0;
  int64_t axis = 0;   // the weight's output-channel axis
  bool bias = false;  // input 2 is a float initializer, stored int32
};

const onnx::AttributeProto* find_attr(const onnx::NodeProto& node, const std::string& name) {
  for (const onnx::AttributeProto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

int64_t attr_int(const onnx::NodeProto& node, const std::string& name, int64_t fallback) {
  const onnx::AttributeProto* a = find_attr(node, name);
  return a ? a->i() : fallback;
}

double attr_float(const onnx::NodeProto& node, const std::string& name, double fallback) {
  const onnx::AttributeProto* a = find_attr(node, name);
  return a ? static_cast<double>(a->f()) : fallback;
}

class QdqWriter {
 public:
  QdqWriter(onnx::ModelProto& model, const OnnxImport& imported, const QuantizeOptions& options, int opset)
      : g_(*model.mutable_graph()), imported_(imported), o_(options), per_channel_(options.per_channel_weights && opset >= 13) {
    for (const onnx::TensorProto& t : g_.initializer()) {
      initializers_[t.name()] = &t;
      used_.insert(t.name());
    }
    for (const onnx::ValueInfoProto& v : g_.input()) used_.insert(v.name());
    for (const onnx::ValueInfoProto& v : g_.output()) {
      used_.insert(v.name());
      graph_outputs_.insert(v.name());
    }
    for (int i = 0; i < g_.node_size(); ++i) {
      const onnx::NodeProto& n = g_.node(i);
      for (const std::string& in : n.input()) {
        consumers_[in].push_back(i);
        used_.insert(in);
      }
      for (const std::string& out : n.output()) used_.insert(out);
    }
  }

  QdqSummary run() {
    plan();
    calibrate_ranges();
    rebuild();
    return summary_;
  }

 private:
  // ---- what to quantize (the Quantize pass's rules, on ONNX nodes) ----

  void plan() {
    std::set<std::string> anchor_results, read_in_8_bits;
    for (int i = 0; i < g_.node_size(); ++i) {
      const onnx::NodeProto& n = g_.node(i);
      if (!n.domain().empty() && n.domain() != "ai.onnx") continue;
      const std::string& op = n.op_type();
      if (op == "Conv" || op == "Gemm" || op == "MatMul") {
        if (auto a = anchor(i)) {
          anchors_.push_back(*a);
          quantize(n.input(0));
          read_in_8_bits.insert(n.input(0));
          const std::string end = chain_end(n.output(0));
          quantize(end);
          anchor_results.insert(end);
          ++summary_.layers;
        } else if (n.input_size() > 1 && initializers_.count(n.input(1)) != 0) {
          ++summary_.float_layers;  // a product of two activations is not a layer with weights
        }
      } else if (op == "Add" && residual(n)) {
        quantize(n.input(0));
        quantize(n.input(1));
        read_in_8_bits.insert(n.input(0));
        read_in_8_bits.insert(n.input(1));
        quantize(chain_end(n.output(0)));
      } else if (op == "MaxPool" && n.output_size() == 1 && quantized_.count(n.input(0)) != 0) {
        same_as_[n.output(0)] = n.input(0);
        quantize(n.output(0));
        read_in_8_bits.insert(n.input(0));
      }
    }
    // As in the pass: a layer's result that nothing reads in 8 bits stays float.
    std::vector<std::string> kept;
    for (const std::string& v : order_)
      if (anchor_results.count(v) == 0 || read_in_8_bits.count(v) != 0) kept.push_back(v);
      else quantized_.erase(v);
    order_ = std::move(kept);
  }

  bool skipped(const onnx::NodeProto& n) const {
    const std::string ir_op = n.op_type() == "Conv" ? "nn.conv2d" : "nn.dense";
    for (const std::string& s : o_.skip)
      if (s == n.name() || s == ir_op) return true;
    return false;
  }

  // A float activation: a graph input or a node's output that is not a constant.
  bool activation(const std::string& name) const {
    auto found = imported_.values.find(name);
    if (found == imported_.values.end() || found->second.is_constant()) return false;
    return imported_.module.type_of(imported_.module.main(), found->second).dtype == DType::float32;
  }

  const onnx::TensorProto* float_initializer(const std::string& name, size_t rank) const {
    auto found = initializers_.find(name);
    if (found == initializers_.end() || found->second->data_type() != onnx::TensorProto::FLOAT) return nullptr;
    if (rank != 0 && static_cast<size_t>(found->second->dims_size()) != rank) return nullptr;
    if (found->second->data_location() == onnx::TensorProto::EXTERNAL) return nullptr;
    return found->second;
  }

  std::optional<Anchor> anchor(int i) const {
    const onnx::NodeProto& n = g_.node(i);
    if (skipped(n) || n.input_size() < 2 || n.output_size() != 1 || !activation(n.input(0))) return std::nullopt;
    Anchor a;
    a.node = i;
    const std::string& op = n.op_type();
    if (op == "Conv") {
      const onnx::TensorProto* w = float_initializer(n.input(1), 0);
      if (!w || w->dims_size() < 3) return std::nullopt;
      a.axis = 0;
    } else if (op == "Gemm") {
      if (!float_initializer(n.input(1), 2) || attr_int(n, "transA", 0) != 0 || attr_float(n, "alpha", 1.0) != 1.0) return std::nullopt;
      if (n.input_size() > 2 && !n.input(2).empty() && attr_float(n, "beta", 1.0) != 1.0) return std::nullopt;
      a.axis = attr_int(n, "transB", 0) != 0 ? 0 : 1;
    } else {  // MatMul
      if (!float_initializer(n.input(1), 2)) return std::nullopt;
      a.axis = 1;
    }
    if (op != "MatMul" && n.input_size() > 2 && !n.input(2).empty()) {
      const onnx::TensorProto* b = float_initializer(n.input(2), 1);
      const onnx::TensorProto* w = initializers_.at(n.input(1));
      if (!b || b->dims(0) != w->dims(static_cast<int>(a.axis))) return std::nullopt;  // a broadcast Gemm bias stays a float op
      a.bias = true;
    }
    return a;
  }

  // The value an anchor or add yields: its ReLU's or Clip's (lower bound <= 0)
  // when that is its only consumer, as the importer built them and the pass
  // reads them (activation_clamp).
  std::string chain_end(const std::string& value) const {
    auto found = consumers_.find(value);
    if (found == consumers_.end() || found->second.size() != 1 || graph_outputs_.count(value) != 0) return value;
    const onnx::NodeProto& c = g_.node(found->second.front());
    if (c.output_size() != 1) return value;
    auto in = imported_.values.find(value), out = imported_.values.find(c.output(0));
    if (in == imported_.values.end() || out == imported_.values.end() || !out->second.is_binding()) return value;
    const Binding& b = imported_.module.main().body.at(out->second.index);
    return activation_clamp(b, in->second) ? c.output(0) : value;
  }

  // An add of two float activations of its result's shape, one of them quantized.
  bool residual(const onnx::NodeProto& n) const {
    if (n.input_size() != 2 || n.output_size() != 1 || !activation(n.input(0)) || !activation(n.input(1))) return false;
    if (quantized_.count(n.input(0)) == 0 && quantized_.count(n.input(1)) == 0) return false;
    const Module& m = imported_.module;
    const TensorType out = m.type_of(m.main(), imported_.values.at(n.output(0)));
    return m.type_of(m.main(), imported_.values.at(n.input(0))) == out && m.type_of(m.main(), imported_.values.at(n.input(1))) == out;
  }

  void quantize(const std::string& value) {
    if (quantized_.insert(value).second) order_.push_back(value);
  }

  // ---- ranges ----

  void calibrate_ranges() {
    std::vector<ValueRef> values;
    std::vector<std::string> names;
    for (const std::string& v : order_)
      if (same_as_.count(v) == 0) {
        values.push_back(imported_.values.at(v));
        names.push_back(v);
      }
    if (values.empty()) return;
    const std::vector<ValueRange> ranges = calibrate(imported_.module, values, o_);
    for (size_t i = 0; i < names.size(); ++i) params_[names[i]] = activation_quant_params(ranges[i], o_.symmetric_activations);
    for (const std::string& v : order_) {
      std::string source = v;
      while (same_as_.count(source) != 0) source = same_as_.at(source);
      params_[v] = params_.at(source);
    }
  }

  // ---- the new graph ----

  std::string fresh(const std::string& base) {
    std::string name = base;
    for (int k = 1; used_.count(name) != 0; ++k) name = base + "_" + std::to_string(k);
    used_.insert(name);
    return name;
  }

  std::string add_initializer(const std::string& base, int32_t type, const std::vector<int64_t>& dims, const void* data, size_t bytes) {
    onnx::TensorProto* t = g_.add_initializer();
    t->set_name(fresh(base));
    t->set_data_type(type);
    for (int64_t d : dims) t->add_dims(d);
    t->set_raw_data(data, bytes);
    return t->name();
  }

  template <typename T>
  std::string add_initializer(const std::string& base, int32_t type, const std::vector<int64_t>& dims, const std::vector<T>& values) {
    return add_initializer(base, type, dims, values.data(), values.size() * sizeof(T));
  }

  static void set_axis(onnx::NodeProto* node, int64_t axis) {
    onnx::AttributeProto* a = node->add_attribute();
    a->set_name("axis");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(axis);
  }

  onnx::NodeProto* add_node(const std::string& op, std::vector<std::string> inputs, const std::string& output) {
    onnx::NodeProto* n = g_.add_node();
    n->set_op_type(op);
    n->set_name(fresh(output + "_node"));
    for (std::string& in : inputs) n->add_input(std::move(in));
    n->add_output(output);
    return n;
  }

  // x -> QuantizeLinear -> DequantizeLinear; consumers read the latter.
  void add_pair(const std::string& value) {
    const QuantParams& q = params_.at(value);
    const std::vector<float> scale{static_cast<float>(q.scale)};
    const std::string s = add_initializer(value + "_scale", onnx::TensorProto::FLOAT, {}, scale);
    // One byte either way: uint8, or int8 in two's complement.
    const std::string zp = add_initializer(value + "_zero_point", q.dtype == DType::uint8 ? onnx::TensorProto::UINT8 : onnx::TensorProto::INT8,
                                           {}, std::vector<uint8_t>{static_cast<uint8_t>(q.zero_point)});
    const std::string quantized = fresh(value + "_quantized");
    add_node("QuantizeLinear", {value, s, zp}, quantized);
    const std::string dequantized = fresh(value + "_dequantized");
    add_node("DequantizeLinear", {quantized, s, zp}, dequantized);
    renamed_[value] = dequantized;
    ++summary_.activations;
  }

  // The int8 weight of an anchor with its DequantizeLinear (shared by anchors
  // reading the same initializer along the same axis); its scales in `scales`.
  std::string dequantized_weight(const std::string& name, int64_t axis, std::vector<double>& scales) {
    const std::string key = name + "|" + std::to_string(axis);
    auto found = weights_.find(key);
    if (found != weights_.end()) {
      scales = found->second.second;
      return found->second.first;
    }
    const Tensor& w = imported_.module.constant(imported_.values.at(name).constant);
    const Tensor q = quantize_weights(w, per_channel_, axis, scales, o_.weight_bits);
    const auto data = q.values<int8_t>();
    const std::string wq = add_initializer(name + "_quantized", onnx::TensorProto::INT8, w.type().shape, data.data(), data.size());
    const std::vector<float> s(scales.begin(), scales.end());
    const std::vector<int64_t> dims = per_channel_ ? std::vector<int64_t>{static_cast<int64_t>(s.size())} : std::vector<int64_t>{};
    const std::string sn = add_initializer(name + "_scale", onnx::TensorProto::FLOAT, dims, s);
    const std::string zn = add_initializer(name + "_zero_point", onnx::TensorProto::INT8, dims, std::vector<int8_t>(s.size(), 0));
    const std::string out = fresh(name + "_dequantized");
    onnx::NodeProto* dq = add_node("DequantizeLinear", {wq, sn, zn}, out);
    if (per_channel_) set_axis(dq, axis);
    weights_.emplace(key, std::make_pair(out, scales));
    return out;
  }

  // The bias as int32 at input scale x weight scale, dequantized.
  std::string dequantized_bias(const std::string& name, double input_scale, const std::vector<double>& w_scales) {
    const auto b = imported_.module.constant(imported_.values.at(name).constant).values<float>();
    std::vector<int32_t> q(b.size());
    std::vector<float> s(per_channel_ ? b.size() : 1);
    for (size_t c = 0; c < b.size(); ++c) {
      const double scale = input_scale * w_scales[per_channel_ ? c : 0];
      q[c] = static_cast<int32_t>(std::clamp<double>(std::nearbyint(b[c] / scale), -2147483647.0, 2147483647.0));
      if (per_channel_ || c == 0) s[per_channel_ ? c : 0] = static_cast<float>(scale);
    }
    const std::vector<int64_t> dims = per_channel_ ? std::vector<int64_t>{static_cast<int64_t>(b.size())} : std::vector<int64_t>{};
    const std::string bq = add_initializer(name + "_quantized", onnx::TensorProto::INT32, {static_cast<int64_t>(b.size())}, q);
    const std::string sn = add_initializer(name + "_scale", onnx::TensorProto::FLOAT, dims, s);
    const std::string out = fresh(name + "_dequantized");
    onnx::NodeProto* dq = add_node("DequantizeLinear", {bq, sn}, out);
    if (per_channel_) set_axis(dq, 0);
    return out;
  }

  void rebuild() {
    google::protobuf::RepeatedPtrField<onnx::NodeProto> old;
    old.Swap(g_.mutable_node());
    std::map<int, const Anchor*> anchor_at;
    for (const Anchor& a : anchors_) anchor_at[a.node] = &a;
    for (const onnx::ValueInfoProto& in : g_.input())
      if (quantized_.count(in.name()) != 0) add_pair(in.name());
    std::set<std::string> replaced;  // float initializers given int8 or int32 forms
    for (int i = 0; i < old.size(); ++i) {
      onnx::NodeProto n = old.Get(i);
      if (auto a = anchor_at.find(i); a != anchor_at.end()) {
        std::vector<double> w_scales;
        replaced.insert(n.input(1));
        n.set_input(1, dequantized_weight(n.input(1), a->second->axis, w_scales));
        if (a->second->bias) {
          replaced.insert(n.input(2));
          n.set_input(2, dequantized_bias(n.input(2), params_.at(n.input(0)).scale, w_scales));
        }
      }
      for (int k = 0; k < n.input_size(); ++k)
        if (auto r = renamed_.find(n.input(k)); r != renamed_.end()) n.set_input(k, r->second);
      *g_.add_node() = std::move(n);
      for (const std::string& out : old.Get(i).output())
        if (quantized_.count(out) != 0) add_pair(out);
    }
    drop_unused(replaced);
  }

  // Float initializers (and their graph inputs, IR < 4) nothing reads now.
  void drop_unused(const std::set<std::string>& candidates) {
    std::set<std::string> read;
    for (const onnx::NodeProto& n : g_.node())
      for (const std::string& in : n.input()) read.insert(in);
    for (const onnx::ValueInfoProto& v : g_.output()) read.insert(v.name());
    auto unused = [&](const std::string& name) { return candidates.count(name) != 0 && read.count(name) == 0; };
    auto* inits = g_.mutable_initializer();
    for (int i = inits->size() - 1; i >= 0; --i)
      if (unused(inits->Get(i).name())) inits->DeleteSubrange(i, 1);
    auto* inputs = g_.mutable_input();
    for (int i = inputs->size() - 1; i >= 0; --i)
      if (unused(inputs->Get(i).name())) inputs->DeleteSubrange(i, 1);
  }

  onnx::GraphProto& g_;
  const OnnxImport& imported_;
  const QuantizeOptions& o_;
  const bool per_channel_;
  std::map<std::string, const onnx::TensorProto*> initializers_;
  std::map<std::string, std::vector<int>> consumers_;
  std::set<std::string> graph_outputs_;
  std::set<std::string> used_;
  std::vector<Anchor> anchors_;
  std::set<std::string> quantized_;
  std::vector<std::string> order_;
  std::map<std::string, std::string> same_as_;
  std::map<std::string, QuantParams> params_;
  std::map<std::string, std::string> renamed_;
  std::map<std::string, std::pair<std::string, std::vector<double>>> weights_;
  QdqSummary summary_;
};

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& message) {
  throw Error(Diagnostic{Severity::error, {file.string()}, {}, message, {}});
}

}  // namespace

QdqSummary write_qdq_onnx(const std::filesystem::path& file, const OnnxImport& imported, const QuantizeOptions& options,
                          const std::filesystem::path& out) {
  onnx::ModelProto model;
  if (!fe::parse_protobuf_file(file, model, "the ONNX model")) fail(file, "is not a valid ONNX model: the protobuf data does not parse");
  const int opset = fe::default_opset(model);
  if (opset < 10)
    fail(file, "has opset " + std::to_string(opset) + "; its QDQ form needs QuantizeLinear, which ONNX has from opset 10");
  QdqSummary summary = QdqWriter(model, imported, options, opset).run();
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    fail(file, std::string("its QDQ form does not pass the ONNX checker: ") + e.what());
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) fail(file, "its QDQ form could not be serialized");
  write_file_atomic(out, bytes);
  return summary;
}

}  // namespace modelc::lang
