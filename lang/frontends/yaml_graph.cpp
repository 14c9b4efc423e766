// YAML graph import: one layer at a time, each layer's fields read with their
// JSON pointer at hand so every error points at the line that caused it.
#include "lang/frontends/yaml_graph.h"

#include <algorithm>
#include <map>
#include <set>

#include "lang/frontends/graph_builder.h"
#include "lang/frontends/weight_init.h"
#include "lang/ops/elementwise.h"
#include "lang/ops/nn.h"
#include "lang/ops/transform.h"
#include "support/diagnostic.h"
#include "support/npy.h"
#include "support/spelling.h"

namespace modelc::lang {
namespace {

using nlohmann::json;
using frontends::GraphBuilder;
using frontends::make_attrs;
using frontends::WeightInit;

// The fields each op accepts besides op, name and inputs.
const std::map<std::string, std::vector<std::string>, std::less<>>& op_fields() {
  static const std::map<std::string, std::vector<std::string>, std::less<>> table = {
      {"conv2d", {"filters", "kernel", "stride", "padding", "dilation", "groups", "bias", "weights", "bias_init"}},
      {"dense", {"units", "bias", "weights", "bias_init"}},
      {"batch_norm", {"epsilon", "scale", "shift", "mean", "variance"}},
      {"relu", {}},
      {"relu6", {}},
      {"sigmoid", {}},
      {"tanh", {}},
      {"clip", {"min", "max"}},
      {"leaky_relu", {"alpha"}},
      {"max_pool", {"kernel", "stride", "padding"}},
      {"avg_pool", {"kernel", "stride", "padding"}},
      {"global_avg_pool", {}},
      {"flatten", {}},
      {"add", {}},
      {"mul", {}},
      {"concat", {"axis"}},
      {"softmax", {"axis"}},
      {"reshape", {"shape"}},
  };
  return table;
}

class YamlGraphImporter {
 public:
  YamlGraphImporter(const json& graph, const spec::SourceMap& marks, std::string pointer, std::filesystem::path base_dir,
                    const spec::ModelLimits& limits)
      : graph_(graph), marks_(marks), root_(std::move(pointer)), base_dir_(std::move(base_dir)), builder_(false, limits) {}

  Module run() {
    if (!graph_.is_object()) fail_at(root_, "the graph must be a mapping with inputs and layers, found " + kind_of(graph_));
    seed_ = static_cast<uint64_t>(read_int(graph_, root_, "seed", 0, 0));
    add_inputs();
    const json& layers = require(graph_, root_, "layers");
    const std::string layers_ptr = spec::pointer_append(root_, "layers");
    if (!layers.is_array() || layers.empty()) fail_at(layers_ptr, "layers must be a non-empty list, found " + kind_of(layers));
    for (size_t i = 0; i < layers.size(); ++i) add_layer(layers[i], spec::pointer_append(layers_ptr, i), i);
    std::vector<std::string> names = output_names();
    std::vector<ValueRef> results;
    for (const std::string& name : names) results.push_back(values_.at(name));
    return builder_.finish(std::move(results), std::move(names));
  }

 private:
  // ---- errors ----

  [[noreturn]] void fail_at(const std::string& pointer, std::string message, std::string hint = {}) const {
    throw Error(Diagnostic{Severity::error, marks_.locate(pointer), pointer, std::move(message), std::move(hint)});
  }
  [[noreturn]] void fail_at_key(const std::string& pointer, std::string message, std::string hint = {}) const {
    throw Error(Diagnostic{Severity::error, marks_.locate_key(pointer), pointer, std::move(message), std::move(hint)});
  }

  static std::string kind_of(const json& v) {
    if (v.is_object()) return "a mapping";
    if (v.is_array()) return "a list";
    if (v.is_string()) return "the string '" + v.get<std::string>() + "'";
    return v.dump();
  }

  // ---- field access ----

  const json& require(const json& obj, const std::string& pointer, const char* key) const {
    auto it = obj.find(key);
    if (it == obj.end()) fail_at(pointer, std::string("missing field '") + key + "'");
    return *it;
  }

  static const json* find(const json& obj, const char* key) {
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  }

  int64_t as_int(const json& v, const std::string& pointer, int64_t min_value) const {
    if (!v.is_number_integer()) fail_at(pointer, "expected an integer, found " + kind_of(v));
    const auto x = v.get<int64_t>();
    if (x < min_value) fail_at(pointer, "expected an integer >= " + std::to_string(min_value) + ", found " + std::to_string(x));
    return x;
  }

  int64_t read_int(const json& obj, const std::string& pointer, const char* key, int64_t fallback, int64_t min_value) const {
    const json* v = find(obj, key);
    return v ? as_int(*v, spec::pointer_append(pointer, key), min_value) : fallback;
  }

  double read_number(const json& obj, const std::string& pointer, const char* key, double fallback) const {
    const json* v = find(obj, key);
    if (!v) return fallback;
    if (!v->is_number()) fail_at(spec::pointer_append(pointer, key), "expected a number, found " + kind_of(*v));
    return v->get<double>();
  }

  bool read_bool(const json& obj, const std::string& pointer, const char* key, bool fallback) const {
    const json* v = find(obj, key);
    if (!v) return fallback;
    if (!v->is_boolean()) fail_at(spec::pointer_append(pointer, key), "expected true or false, found " + kind_of(*v));
    return v->get<bool>();
  }

  std::vector<int64_t> int_list(const json& v, const std::string& pointer, int64_t min_value) const {
    if (!v.is_array()) fail_at(pointer, "expected a list of integers, found " + kind_of(v));
    std::vector<int64_t> out;
    for (size_t i = 0; i < v.size(); ++i) out.push_back(as_int(v[i], spec::pointer_append(pointer, i), min_value));
    return out;
  }

  // One integer for both spatial dimensions, or [height, width].
  std::vector<int64_t> read_size2(const json& obj, const std::string& pointer, const char* key,
                                  std::vector<int64_t> fallback) const {
    const json* v = find(obj, key);
    if (!v) return fallback;
    const std::string at = spec::pointer_append(pointer, key);
    if (v->is_number_integer()) {
      const int64_t x = as_int(*v, at, 1);
      return {x, x};
    }
    std::vector<int64_t> pair = int_list(*v, at, 1);
    if (pair.size() != 2) fail_at(at, "expected one integer or [height, width], found " + std::to_string(pair.size()) + " values");
    return pair;
  }

  // [top, left, bottom, right] from an integer, [v, h], [t, l, b, r] or "same".
  std::vector<int64_t> read_padding(const json& obj, const std::string& pointer, const TensorType& input,
                                    const std::vector<int64_t>& kernel, const std::vector<int64_t>& stride,
                                    const std::vector<int64_t>& dilation) const {
    const json* v = find(obj, "padding");
    if (!v) return {0, 0, 0, 0};
    const std::string at = spec::pointer_append(pointer, "padding");
    if (v->is_string()) {
      if (v->get<std::string>() != "same") fail_at(at, "padding must be an integer, a list or \"same\", found " + kind_of(*v));
      if (input.rank() != 4) return {0, 0, 0, 0};  // the op's type rule reports the rank
      std::vector<int64_t> pads(4);
      for (size_t d = 0; d < 2; ++d) {
        const int64_t in = input.shape[d + 2];
        const int64_t out = (in + stride[d] - 1) / stride[d];
        const int64_t total = std::max<int64_t>(0, (out - 1) * stride[d] + (kernel[d] - 1) * dilation[d] + 1 - in);
        pads[d] = total / 2;
        pads[d + 2] = total - total / 2;
      }
      return pads;
    }
    if (v->is_number_integer()) {
      const int64_t p = as_int(*v, at, 0);
      return {p, p, p, p};
    }
    std::vector<int64_t> p = int_list(*v, at, 0);
    if (p.size() == 2) return {p[0], p[1], p[0], p[1]};
    if (p.size() == 4) return p;
    fail_at(at, "padding must have 2 values [vertical, horizontal] or 4 [top, left, bottom, right], found " +
                    std::to_string(p.size()));
  }

  // ---- graph inputs and outputs ----

  void add_inputs() {
    const json& inputs = require(graph_, root_, "inputs");
    const std::string at = spec::pointer_append(root_, "inputs");
    if (!inputs.is_array() || inputs.empty()) fail_at(at, "inputs must be a non-empty list, found " + kind_of(inputs));
    for (size_t i = 0; i < inputs.size(); ++i) {
      const json& in = inputs[i];
      const std::string ptr = spec::pointer_append(at, i);
      if (!in.is_object()) fail_at(ptr, "an input must be a mapping with name, shape and dtype, found " + kind_of(in));
      const std::string name = read_name(in, ptr);
      const std::vector<int64_t> shape = int_list(require(in, ptr, "shape"), spec::pointer_append(ptr, "shape"), 1);
      std::string dtype_text = "float32";
      if (const json* d = find(in, "dtype")) {
        if (!d->is_string()) fail_at(spec::pointer_append(ptr, "dtype"), "expected a dtype name, found " + kind_of(*d));
        dtype_text = d->get<std::string>();
      }
      const std::optional<DType> dtype = parse_dtype(dtype_text);
      if (!dtype) fail_at(spec::pointer_append(ptr, "dtype"), "unknown dtype '" + dtype_text + "'");
      try {
        define(name, builder_.add_param(name, TensorType{shape, *dtype}), ptr);
      } catch (const Error& e) {
        fail_at(spec::pointer_append(ptr, "shape"), e.diagnostics().front().message, e.diagnostics().front().hint);
      }
    }
  }

  std::string read_name(const json& obj, const std::string& pointer) const {
    const json& n = require(obj, pointer, "name");
    if (!n.is_string() || n.get<std::string>().empty())
      fail_at(spec::pointer_append(pointer, "name"), "expected a name, found " + kind_of(n));
    return n.get<std::string>();
  }

  void define(const std::string& name, ValueRef value, const std::string& pointer) {
    if (values_.count(name)) fail_at(pointer, "the name '" + name + "' is already used by an earlier input or layer");
    values_.emplace(name, value);
    order_.push_back(name);
  }

  std::vector<std::string> output_names() const {
    const json* outs = find(graph_, "outputs");
    if (!outs) return {order_.back()};
    const std::string at = spec::pointer_append(root_, "outputs");
    if (!outs->is_array() || outs->empty()) fail_at(at, "outputs must be a non-empty list of layer names, found " + kind_of(*outs));
    std::vector<std::string> names;
    for (size_t i = 0; i < outs->size(); ++i) {
      resolve((*outs)[i], spec::pointer_append(at, i));
      names.push_back((*outs)[i].get<std::string>());
    }
    return names;
  }

  ValueRef resolve(const json& name_value, const std::string& pointer) const {
    if (!name_value.is_string()) fail_at(pointer, "expected a layer or input name, found " + kind_of(name_value));
    const std::string name = name_value.get<std::string>();
    auto it = values_.find(name);
    if (it != values_.end()) return it->second;
    if (later_names_.count(name))
      fail_at(pointer, "'" + name + "' is a later layer; a layer can only use inputs and earlier layers");
    const std::string guess = closest_spelling(name, order_);
    fail_at(pointer, "unknown input or layer '" + name + "'",
            guess.empty() ? "known names: " + quoted_list(order_) : "did you mean '" + guess + "'?");
  }

  // ---- layers ----

  struct Layer {
    const json& fields;
    std::string pointer;
    std::string op;
    std::string name;
    std::vector<ValueRef> inputs;
    std::string origin;
  };

  void add_layer(const json& layer, const std::string& pointer, size_t index) {
    if (!layer.is_object()) fail_at(pointer, "a layer must be a mapping with an op, found " + kind_of(layer));
    const json& op_value = require(layer, pointer, "op");
    const std::string op_ptr = spec::pointer_append(pointer, "op");
    if (!op_value.is_string()) fail_at(op_ptr, "expected an op name, found " + kind_of(op_value));
    const std::string op = op_value.get<std::string>();
    auto fields = op_fields().find(op);
    if (fields == op_fields().end()) {
      std::vector<std::string> ops;
      for (const auto& [name, unused] : op_fields()) ops.push_back(name);
      const std::string guess = closest_spelling(op, ops);
      fail_at(op_ptr, "unknown op '" + op + "'", guess.empty() ? "ops: " + quoted_list(ops) : "did you mean '" + guess + "'?");
    }
    check_fields(layer, pointer, op, fields->second);
    note_later_names(index);
    Layer l{layer, pointer, op, layer_name(layer, pointer, op, index), layer_inputs(layer, pointer, index), {}};
    l.origin = "YAML layer '" + l.name + "' (" + op + ")";
    ValueRef out;
    try {
      out = build(l);
    } catch (const Error& e) {
      const Diagnostic& d = e.diagnostics().front();
      if (!d.pointer.empty()) throw;  // already located at a field
      fail_at(pointer, "layer '" + l.name + "' (" + op + "): " + d.message, d.hint);
    }
    define(l.name, out, pointer);
    last_layer_ = out;
  }

  void check_fields(const json& layer, const std::string& pointer, const std::string& op,
                    const std::vector<std::string>& allowed) const {
    std::vector<std::string> known = allowed;
    known.insert(known.end(), {"op", "name", "inputs"});
    for (const auto& [key, unused] : layer.items()) {
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      const std::string guess = closest_spelling(key, known);
      fail_at_key(spec::pointer_append(pointer, key), "op " + op + " has no field '" + key + "'",
                  guess.empty() ? "its fields: " + quoted_list(known) : "did you mean '" + guess + "'?");
    }
  }

  // Names of later layers, so that a forward reference gets a precise message.
  void note_later_names(size_t index) {
    later_names_.clear();
    const json& layers = graph_.at("layers");
    for (size_t j = index + 1; j < layers.size(); ++j)
      if (layers[j].is_object() && layers[j].contains("name") && layers[j]["name"].is_string())
        later_names_.insert(layers[j]["name"].get<std::string>());
  }

  std::string layer_name(const json& layer, const std::string& pointer, const std::string& op, size_t index) const {
    if (!layer.contains("name")) return op + "_" + std::to_string(index);
    return read_name(layer, pointer);
  }

  std::vector<ValueRef> layer_inputs(const json& layer, const std::string& pointer, size_t index) const {
    const json* names = find(layer, "inputs");
    if (!names) {
      if (index == 0) return {values_.at(order_.front())};
      return {last_layer_};
    }
    const std::string at = spec::pointer_append(pointer, "inputs");
    if (!names->is_array() || names->empty()) fail_at(at, "inputs must be a non-empty list of names, found " + kind_of(*names));
    std::vector<ValueRef> out;
    for (size_t i = 0; i < names->size(); ++i) out.push_back(resolve((*names)[i], spec::pointer_append(at, i)));
    return out;
  }

  ValueRef build(Layer& l) {
    const std::string& op = l.op;
    if (op == "add" || op == "mul") {
      expect_inputs(l, 2);
      return call(l, op == "add" ? "add" : "multiply", {l.inputs[0], l.inputs[1]});
    }
    if (op == "concat") {
      ConcatenateAttrs a;
      a.axis = read_int(l.fields, l.pointer, "axis", 1, INT64_MIN);
      return call(l, "concatenate", l.inputs, make_attrs(a));
    }
    expect_inputs(l, 1);
    const ValueRef x = l.inputs[0];
    if (op == "conv2d") return build_conv2d(l);
    if (op == "dense") return build_dense(l);
    if (op == "batch_norm") return build_batch_norm(l);
    if (op == "relu") return call(l, "nn.relu", {x});
    if (op == "sigmoid") return call(l, "sigmoid", {x});
    if (op == "tanh") return call(l, "tanh", {x});
    if (op == "relu6" || op == "clip") {
      if (op == "clip") {
        require(l.fields, l.pointer, "min");
        require(l.fields, l.pointer, "max");
      }
      ClipAttrs a;
      a.a_min = op == "relu6" ? 0.0 : read_number(l.fields, l.pointer, "min", 0);
      a.a_max = op == "relu6" ? 6.0 : read_number(l.fields, l.pointer, "max", 0);
      return call(l, "clip", {x}, make_attrs(a));
    }
    if (op == "leaky_relu") {
      LeakyReluAttrs a;
      a.alpha = read_number(l.fields, l.pointer, "alpha", 0.01);
      return call(l, "nn.leaky_relu", {x}, make_attrs(a));
    }
    if (op == "max_pool" || op == "avg_pool") return build_pool(l);
    if (op == "global_avg_pool") return call(l, "nn.global_avg_pool2d", {x});
    if (op == "softmax") {
      AxisAttrs a;
      a.axis = read_int(l.fields, l.pointer, "axis", -1, INT64_MIN);
      return call(l, "nn.softmax", {x}, make_attrs(a));
    }
    if (op == "flatten") {
      const TensorType t = builder_.type_of(x);
      ReshapeAttrs a;
      a.newshape = {t.rank() ? t.shape[0] : 1, -1};
      return call(l, "reshape", {x}, make_attrs(a));
    }
    // reshape
    const TensorType t = builder_.type_of(x);
    const std::string at = spec::pointer_append(l.pointer, "shape");
    ReshapeAttrs a;
    a.newshape = int_list(require(l.fields, l.pointer, "shape"), at, -1);
    for (size_t i = 0; i < a.newshape.size(); ++i)
      if (a.newshape[i] == 0) {
        if (i >= t.rank()) fail_at(spec::pointer_append(at, i), "0 copies an input dimension, but the input " + t.str() + " has no dimension " + std::to_string(i));
        a.newshape[i] = t.shape[i];
      }
    return call(l, "reshape", {x}, make_attrs(a));
  }

  void expect_inputs(const Layer& l, size_t n) const {
    if (l.inputs.size() != n)
      fail_at(l.fields.contains("inputs") ? spec::pointer_append(l.pointer, "inputs") : l.pointer,
              l.op + " takes " + std::to_string(n) + " input" + (n == 1 ? "" : "s") + ", given " + std::to_string(l.inputs.size()));
  }

  ValueRef call(const Layer& l, std::string_view op, std::vector<ValueRef> args, AttrsPtr attrs = nullptr) {
    return builder_.call(op, std::move(args), std::move(attrs), l.origin);
  }

  // The input's type, required to have `rank` dimensions (the layer needs its channel count).
  TensorType input_of_rank(const Layer& l, size_t rank, const char* layout) const {
    const TensorType t = builder_.type_of(l.inputs[0]);
    if (t.rank() != rank)
      fail_at(l.pointer, "layer '" + l.name + "' (" + l.op + ") expects a " + std::to_string(rank) + "-D " + layout +
                             " input, found " + t.str());
    return t;
  }

  ValueRef build_conv2d(Layer& l) {
    const TensorType x = input_of_rank(l, 4, "NCHW");
    const int64_t filters = as_int(require(l.fields, l.pointer, "filters"), spec::pointer_append(l.pointer, "filters"), 1);
    const std::vector<int64_t> kernel = read_size2(l.fields, l.pointer, "kernel", {});
    if (kernel.empty()) require(l.fields, l.pointer, "kernel");
    Conv2DAttrs a;
    a.strides = read_size2(l.fields, l.pointer, "stride", {1, 1});
    a.dilation = read_size2(l.fields, l.pointer, "dilation", {1, 1});
    a.groups = read_int(l.fields, l.pointer, "groups", 1, 1);
    a.padding = read_padding(l.fields, l.pointer, x, kernel, a.strides, a.dilation);
    if (x.shape[1] % a.groups != 0 || filters % a.groups != 0)
      fail_at(spec::pointer_append(l.pointer, "groups"), "groups=" + std::to_string(a.groups) + " must divide the input channels (" +
                                                             std::to_string(x.shape[1]) + ") and filters (" + std::to_string(filters) + ")");
    const int64_t per_group = x.shape[1] / a.groups;
    const int64_t receptive = kernel[0] * kernel[1];
    const ValueRef w = weight(l, "weights", "weight", {filters, per_group, kernel[0], kernel[1]}, default_weights(),
                              per_group * receptive, filters / a.groups * receptive);
    ValueRef y = call(l, "nn.conv2d", {l.inputs[0], w}, make_attrs(a));
    if (!read_bool(l.fields, l.pointer, "bias", true)) return y;
    const ValueRef b = weight(l, "bias_init", "bias", {filters}, zeros(), per_group * receptive, filters);
    AxisAttrs axis;
    axis.axis = 1;
    return call(l, "nn.bias_add", {y, b}, make_attrs(axis));
  }

  ValueRef build_dense(Layer& l) {
    const TensorType x = input_of_rank(l, 2, "[batch, features]");
    const int64_t units = as_int(require(l.fields, l.pointer, "units"), spec::pointer_append(l.pointer, "units"), 1);
    const ValueRef w = weight(l, "weights", "weight", {units, x.shape[1]}, default_weights(), x.shape[1], units);
    ValueRef y = call(l, "nn.dense", {l.inputs[0], w});
    if (!read_bool(l.fields, l.pointer, "bias", true)) return y;
    AxisAttrs axis;
    axis.axis = 1;
    return call(l, "nn.bias_add", {y, weight(l, "bias_init", "bias", {units}, zeros(), x.shape[1], units)}, make_attrs(axis));
  }

  // Unless the recipe says otherwise, the statistics are seeded values away
  // from 1 and 0, so that folding batch norm into a convolution is exercised.
  ValueRef build_batch_norm(Layer& l) {
    const TensorType x = builder_.type_of(l.inputs[0]);
    if (x.rank() < 2) fail_at(l.pointer, "layer '" + l.name + "' (batch_norm) expects channels on axis 1, found " + x.str());
    const std::vector<int64_t> shape{x.shape[1]};
    auto around = [](double centre, double spread) {
      WeightInit init;
      init.kind = WeightInit::Kind::uniform;
      init.limit = spread;
      init.offset = centre;
      return init;
    };
    BatchNormAttrs a;
    a.axis = 1;
    a.epsilon = read_number(l.fields, l.pointer, "epsilon", 1e-5);
    if (a.epsilon <= 0) fail_at(spec::pointer_append(l.pointer, "epsilon"), "epsilon must be > 0");
    const ValueRef gamma = weight(l, "scale", "gamma", shape, around(1.0, 0.5), 1, 1);
    const ValueRef beta = weight(l, "shift", "beta", shape, around(0.0, 0.2), 1, 1);
    const ValueRef mean = weight(l, "mean", "mean", shape, around(0.0, 0.2), 1, 1);
    const ValueRef var = weight(l, "variance", "var", shape, around(1.0, 0.5), 1, 1);
    return call(l, "nn.batch_norm", {l.inputs[0], gamma, beta, mean, var}, make_attrs(a));
  }

  ValueRef build_pool(Layer& l) {
    const TensorType x = input_of_rank(l, 4, "NCHW");
    Pool2DAttrs a;
    a.pool_size = read_size2(l.fields, l.pointer, "kernel", {});
    if (a.pool_size.empty()) require(l.fields, l.pointer, "kernel");
    a.strides = read_size2(l.fields, l.pointer, "stride", a.pool_size);
    a.padding = read_padding(l.fields, l.pointer, x, a.pool_size, a.strides, a.dilation);
    return call(l, l.op == "max_pool" ? "nn.max_pool2d" : "nn.avg_pool2d", {l.inputs[0]}, make_attrs(a));
  }

  // ---- weights ----

  static WeightInit default_weights() { return WeightInit{}; }
  static WeightInit zeros() {
    WeightInit init;
    init.kind = WeightInit::Kind::zeros;
    return init;
  }

  ValueRef weight(const Layer& l, const char* field, const char* role, std::vector<int64_t> shape, WeightInit init,
                  int64_t fan_in, int64_t fan_out) {
    init.seed = frontends::derive_seed(seed_, l.name, role);
    const std::string constant = l.name + "." + role;
    builder_.check_size(TensorType{shape, DType::float32}, "the weight '" + constant + "'");  // before it is allocated
    const json* spec = find(l.fields, field);
    if (!spec) return builder_.add_constant(constant, frontends::initialize_tensor(shape, init, fan_in, fan_out));
    const std::string at = spec::pointer_append(l.pointer, field);
    if (!spec->is_object()) fail_at(at, "expected {init: ...} or {file: ...}, found " + kind_of(*spec));
    for (const auto& [key, unused] : spec->items())
      if (key != "init" && key != "std" && key != "limit" && key != "seed" && key != "file") {
        const std::string guess = closest_spelling(key, std::vector<std::string>{"init", "std", "limit", "seed", "file"});
        fail_at_key(spec::pointer_append(at, key), "an initializer has no field '" + key + "'",
                    guess.empty() ? "its fields: 'init', 'std', 'limit', 'seed', 'file'" : "did you mean '" + guess + "'?");
      }
    if (const json* file = find(*spec, "file")) {
      if (spec->contains("init")) fail_at(at, "give either init or file, not both");
      return builder_.add_constant(constant, read_weights_file(*file, spec::pointer_append(at, "file"), shape));
    }
    const json& kind = require(*spec, at, "init");
    const std::string kind_at = spec::pointer_append(at, "init");
    if (!kind.is_string() || !frontends::parse_init_kind(kind.get<std::string>(), init.kind)) {
      const std::vector<std::string> names(frontends::kInitNames.begin(), frontends::kInitNames.end());
      const std::string guess = kind.is_string() ? closest_spelling(kind.get<std::string>(), names) : "";
      fail_at(kind_at, "unknown initializer " + kind_of(kind),
              guess.empty() ? "initializers: " + quoted_list(names) : "did you mean '" + guess + "'?");
    }
    init.offset = 0;
    init.std = read_number(*spec, at, "std", 0.05);
    init.limit = read_number(*spec, at, "limit", 0.05);
    if (spec->contains("seed")) init.seed = static_cast<uint64_t>(read_int(*spec, at, "seed", 0, 0));
    return builder_.add_constant(constant, frontends::initialize_tensor(shape, init, fan_in, fan_out));
  }

  Tensor read_weights_file(const json& file, const std::string& pointer, const std::vector<int64_t>& shape) const {
    if (!file.is_string()) fail_at(pointer, "expected a path to a .npy file, found " + kind_of(file));
    const std::filesystem::path path = base_dir_ / file.get<std::string>();
    NpyArray array;
    try {
      array = read_npy(path);
    } catch (const Error& e) {
      fail_at(pointer, e.diagnostics().front().message);
    }
    if (array.descr != "<f4")
      fail_at(pointer, path.string() + " holds " + array.descr + " data, float32 ('<f4') expected");
    if (array.shape != shape)
      fail_at(pointer, path.string() + " has shape " + shape_str(array.shape) + ", the layer expects " + shape_str(shape));
    return Tensor(TensorType{shape, DType::float32}, std::move(array.data));
  }

  const json& graph_;
  const spec::SourceMap& marks_;
  std::string root_;
  std::filesystem::path base_dir_;
  GraphBuilder builder_;
  uint64_t seed_ = 0;
  std::map<std::string, ValueRef> values_;
  std::vector<std::string> order_;  // names in definition order
  std::set<std::string> later_names_;
  ValueRef last_layer_;
};

}  // namespace

Module import_yaml_graph(const nlohmann::json& graph, const spec::SourceMap& marks, const std::string& graph_pointer,
                         const std::filesystem::path& base_dir, const spec::ModelLimits& limits) {
  return YamlGraphImporter(graph, marks, graph_pointer, base_dir, limits).run();
}

}  // namespace modelc::lang
