#include "driver/semantic_checks.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "support/diagnostic.h"
#include "support/spelling.h"
#include "targets/device_profile.h"
#include "targets/recipe_device.h"

namespace modelc::driver {
namespace {

std::string did_you_mean_or_list(const std::string& name, const std::vector<std::string>& names, const char* what) {
  const std::string guess = closest_spelling(name, names);
  if (!guess.empty()) return "did you mean '" + guess + "'?";
  return std::string("its ") + what + ": " + quoted_list(names);
}

// The block size k of NCHW<k>c; nullopt for unblocked layouts. The schema's
// pattern has already admitted the text.
std::optional<int64_t> channel_block(const std::string& layout) {
  if (layout.size() < 6 || layout.rfind("NCHW", 0) != 0 || layout.back() != 'c') return std::nullopt;
  int64_t k = 0;
  const char* first = layout.data() + 4;
  const char* last = layout.data() + layout.size() - 1;
  const auto [end, ec] = std::from_chars(first, last, k);
  if (ec != std::errc() || end != last) return std::numeric_limits<int64_t>::max();  // too large to fit any layer
  return k;
}

// Ops whose activations are images (N, C, H, W): the ones a layout changes.
bool is_spatial_op(const lang::Binding& b) {
  return b.is_op("nn.conv2d") || b.is_op("nn.max_pool2d") || b.is_op("nn.avg_pool2d") ||
         b.is_op("nn.global_avg_pool2d");
}

class ModelChecks {
 public:
  ModelChecks(const spec::Recipe& recipe, const lang::Module& module)
      : recipe_(recipe), module_(module), main_(module.main()) {}

  void run() {
    check_inputs();
    check_outputs();
    check_targets();
    check_layout();
    check_quantization_skip();
    check_sensitivity();
    if (!problems_.empty()) throw Error(std::move(problems_));
  }

 private:
  void problem(const std::string& pointer, std::string message, std::string hint = {}) {
    problems_.push_back(Diagnostic{Severity::error, recipe_.locate(pointer), pointer, std::move(message), std::move(hint)});
  }

  void check_inputs() {
    std::vector<std::string> names;
    for (const lang::Param& p : main_.params) names.push_back(p.name);
    for (const spec::InputSpec& in : recipe_.model.inputs) {
      const auto param = std::find_if(main_.params.begin(), main_.params.end(),
                                      [&](const lang::Param& p) { return p.name == in.name; });
      if (param == main_.params.end()) {
        problem(in.pointer + "/name", "the model has no input '" + in.name + "'",
                did_you_mean_or_list(in.name, names, "inputs"));
        continue;
      }
      const lang::TensorType& type = param->type;
      if (type.rank() != in.shape.size()) {
        problem(in.pointer + "/shape",
                "input '" + in.name + "' has rank " + std::to_string(type.rank()) + " in the model (shape " +
                    lang::shape_str(type.shape) + "), the recipe gives rank " + std::to_string(in.shape.size()) + ": " +
                    lang::shape_str(in.shape));
      } else if (type.shape != in.shape) {
        problem(in.pointer + "/shape",
                "input '" + in.name + "' has shape " + lang::shape_str(type.shape) + " in the model, the recipe gives " +
                    lang::shape_str(in.shape),
                recipe_.model.graph ? "a graph model takes its shapes from graph.inputs; give the same shape in both"
                                    : "");
      }
      if (lang::parse_dtype(in.dtype) != type.dtype) {
        problem(in.pointer + "/dtype", "input '" + in.name + "' is " + std::string(lang::dtype_name(type.dtype)) +
                                           " in the model, the recipe says " + in.dtype);
      }
    }
  }

  void check_outputs() {
    std::vector<std::string> names;
    for (size_t i = 0; i < main_.results.size(); ++i) names.push_back(lang::result_name(main_, i));
    for (size_t i = 0; i < recipe_.model.outputs.size(); ++i) {
      const std::string& name = recipe_.model.outputs[i];
      if (std::find(names.begin(), names.end(), name) != names.end()) continue;
      problem(spec::pointer_append("/model/outputs", i), "the model has no output '" + name + "'",
              did_you_mean_or_list(name, names, "outputs"));
    }
    // String tensors exist only at import time (the importer refuses string inputs).
    const std::vector<lang::TensorType> types = module_.result_types(main_);
    for (size_t i = 0; i < types.size(); ++i)
      if (types[i].dtype == lang::DType::string)
        problem("/model", "output '" + names[i] + "' is a string tensor, which compiled models cannot return",
                "string ops run at import time only; compile the numeric part of the model");
  }

  void check_targets() {
    for (const spec::TargetSpec& t : recipe_.targets) {
      try {
        targets::device_profile_of(recipe_, t);
      } catch (const Error& e) {
        // Located already: in the recipe, or in the target's profile file.
        for (Diagnostic d : e.diagnostics()) {
          d.message = "target '" + t.name + "': " + d.message;
          problems_.push_back(std::move(d));
        }
      }
    }
  }

  // ConvertLayout (lang/passes) applies the layout to the activations of
  // convolution and pooling layers and gives each tensor the largest power of
  // two <= k that divides its channels, so a layer that does not fit is stored
  // in a smaller block (the 3-channel image in none), which is by design. The
  // recipe is wrong when the layout cannot apply at all: a model without such
  // layers, a block the pass never uses, or a block no layer takes.
  void check_layout() {
    const std::string& layout = recipe_.layout.activations;
    if (layout == "NCHW" || layout == "auto") return;
    const std::vector<SpatialLayer> layers = spatial_layers();
    if (layers.empty()) {
      problem("/layout/activations",
              "layout " + layout + " applies to the activations of convolution and pooling layers, and this model has none",
              "leave layout.activations out (auto) for this model");
      return;
    }
    const std::optional<int64_t> k = channel_block(layout);
    if (!k) return;  // NHWC fits every layer
    if (*k > kMaxChannelBlock || (*k & (*k - 1)) != 0) {
      problem("/layout/activations",
              "layout " + layout + " has a channel block of " + (*k > kMaxChannelBlock ? "more than 2^20" : std::to_string(*k)) +
                  ", expected a power of two (1, 2, 4, ... up to 2^20)",
              "blocks usually match the vector width: NCHW8c for AVX2, NCHW16c for AVX-512");
      return;
    }
    int64_t widest = 1;  // the largest block some layer takes
    std::vector<std::string> listed;
    for (const SpatialLayer& l : layers) {
      widest = std::max(widest, block_for(l.channels, *k));
      listed.push_back(l.name + " has " + std::to_string(l.channels) + " channels");
    }
    if (widest == *k) return;
    constexpr size_t kShown = 5;
    std::string text;
    for (size_t i = 0; i < listed.size() && i < kShown; ++i) text += (i ? ", " : "") + listed[i];
    if (listed.size() > kShown) text += " and " + std::to_string(listed.size() - kShown) + " more";
    problem("/layout/activations",
            "layout " + layout + " splits channels into blocks of " + std::to_string(*k) +
                ", but no convolution or pooling layer has a multiple of " + std::to_string(*k) + " channels: " + text,
            widest > 1 ? "the largest block a layer of this model takes is " + std::to_string(widest) + ": use NCHW" +
                             std::to_string(widest) + "c"
                       : "no layer of this model has an even channel count: use NCHW or NHWC");
  }

  // Each entry of quantization.skip names a layer (ONNX node, YAML layer) or
  // an op of this model: one that names nothing would keep nothing in float,
  // in silence.
  void check_quantization_skip() {
    if (recipe_.quantization.mode == "none" || !recipe_.resolved.contains("quantization")) return;
    const nlohmann::json& q = recipe_.resolved.at("quantization");
    if (!q.contains("skip") || !q.at("skip").is_array()) return;
    std::set<std::string> names;
    for (const lang::Binding& b : main_.body) {
      if (!b.origin.empty()) names.insert(lang::origin_name(b.origin));
      if (b.op) names.insert(b.op->name);
    }
    for (size_t i = 0; i < q.at("skip").size(); ++i) {
      const nlohmann::json& entry = q.at("skip")[i];
      if (!entry.is_string() || names.count(entry.get<std::string>())) continue;
      const std::string name = entry.get<std::string>();
      std::string hint = "list ONNX node names (as `modelc sensitivity` prints them) or op names such as nn.conv2d";
      const std::vector<std::string> candidates(names.begin(), names.end());
      if (const std::string near = closest_spelling(name, candidates); !near.empty()) hint = "did you mean '" + near + "'?";
      problem("/quantization/skip/" + std::to_string(i),
              "quantization.skip names '" + name + "', which is neither a layer nor an op of this model", hint);
    }
  }

  // The report's per-layer sensitivity table runs on held-out inputs: asked
  // for without them, say so now rather than after every artifact is built.
  void check_sensitivity() {
    if (recipe_.quantization.mode != "int8") return;
    const nlohmann::json& e = recipe_.quantization.options["evaluation"];
    if (!e.is_object() || e.value("sensitivity", int64_t{0}) <= 0 || e.value("samples", int64_t{0}) > 0) return;
    problem("/quantization/evaluation/sensitivity",
            "quantization.evaluation.sensitivity asks for a per-layer table on held-out inputs, but evaluation.samples is 0",
            "set quantization.evaluation.samples and data (a folder of .npy inputs) or random_seed");
  }

  struct SpatialLayer {
    std::string name;
    int64_t channels = 0;  // the fewest-blocked channel count it reads or writes
  };

  // The convolution and pooling layers of @main with the channel count that
  // limits their block: of the tensors each reads (unless it is a model input,
  // which keeps its layout) and writes, the one whose block is smallest.
  std::vector<SpatialLayer> spatial_layers() const {
    std::vector<SpatialLayer> out;
    for (size_t i = 0; i < main_.body.size(); ++i) {
      const lang::Binding& b = main_.body[i];
      if (!is_spatial_op(b) || b.args.empty() || b.types.empty()) continue;
      std::vector<int64_t> channels{channel_count(b.types[0])};
      if (!b.args[0].is_param()) channels.push_back(channel_count(module_.type_of(main_, b.args[0])));
      // Frontends name a binding's origin ("YAML layer 'stem' (conv2d)"); a
      // binding without one is named as the IR prints it.
      SpatialLayer layer{b.origin.empty() ? "%" + std::to_string(i) + " = " + b.op->name : b.origin, channels[0]};
      for (const int64_t c : channels)
        if (block_for(c, kMaxChannelBlock) < block_for(layer.channels, kMaxChannelBlock)) layer.channels = c;
      out.push_back(std::move(layer));
    }
    return out;
  }

  // Channels of an (N, C, H, W) tensor; 0 for other ranks.
  static int64_t channel_count(const lang::TensorType& type) { return type.rank() == 4 ? type.shape[1] : 0; }

  // ConvertLayout's block for `channels` under NCHW<k>c.
  static int64_t block_for(int64_t channels, int64_t k) {
    int64_t block = 1;
    while (channels > 0 && block * 2 <= k && channels % (block * 2) == 0) block *= 2;
    return block;
  }

  static constexpr int64_t kMaxChannelBlock = int64_t{1} << 20;  // lang::Layout's limit on split factors

  const spec::Recipe& recipe_;
  const lang::Module& module_;
  const lang::Function& main_;
  std::vector<Diagnostic> problems_;
};

}  // namespace

void check_recipe_against_model(const spec::Recipe& recipe, const lang::Module& imported) {
  ModelChecks(recipe, imported).run();
}

lang::Module keep_recipe_outputs(lang::Module imported, const spec::Recipe& recipe) {
  if (recipe.model.outputs.empty()) return imported;
  lang::Function& main = imported.main();
  std::vector<lang::ValueRef> results;
  for (const std::string& name : recipe.model.outputs) {
    size_t i = 0;
    while (i < main.results.size() && lang::result_name(main, i) != name) ++i;
    if (i == main.results.size()) return imported;
    results.push_back(main.results[i]);
  }
  main.results = std::move(results);
  main.result_names = recipe.model.outputs;
  return imported;
}

}  // namespace modelc::driver
