#include "spec/recipe_properties.h"

#include <algorithm>

#include "modelc_config.h"

namespace modelc::spec {
namespace {

using nlohmann::json;

// One line per property; see the header for what each kind means.
RecipeProperty reads(std::string pointer, std::string reader, bool subtree = false) {
  return {std::move(pointer), PropertySupport::consumed, std::move(reader), {}, subtree};
}
RecipeProperty only(std::string pointer, std::string reader, std::vector<std::string> values) {
  return {std::move(pointer), PropertySupport::some_values, std::move(reader), std::move(values), false};
}
RecipeProperty for_people(std::string pointer) { return {std::move(pointer), PropertySupport::for_people, {}, {}, false}; }
RecipeProperty planned(std::string pointer, std::string purpose, bool subtree = false) {
  return {std::move(pointer), PropertySupport::planned, std::move(purpose), {}, subtree};
}

std::vector<RecipeProperty> make_list() {
  return {
      reads("/apiVersion", "spec/recipe (only modelc/v1 loads)"),
      reads("/kind", "spec/recipe"),
      reads("/metadata", "spec/recipe"),
      reads("/metadata/name", "targets (artifact and library names), reports (results.json)"),
      reads("/metadata/version", "spec/lockfile, reports (results.json)"),
      for_people("/metadata/description"),
      for_people("/metadata/owners"),
      reads("/metadata/labels", "reports (copied into results.json)", true),
      reads("/extends", "spec/extends"),
      reads("/model", "driver/pipeline (import_model)"),
      reads("/model/onnx", "lang/frontends/onnx"),
      reads("/model/graph", "lang/frontends/yaml_graph", true),
      reads("/model/inputs", "lang/frontends/onnx (input shapes), driver/semantic_checks"),
      reads("/model/inputs/*/name", "lang/frontends/onnx, driver/semantic_checks"),
      reads("/model/inputs/*/shape", "lang/frontends/onnx, driver/semantic_checks"),
      reads("/model/inputs/*/dtype", "lang/frontends/onnx, driver/semantic_checks"),
      reads("/model/outputs", "driver/semantic_checks (keep_recipe_outputs)"),
      reads("/model/limits", "lang/frontends/onnx, lang/passes (size checks)"),
      reads("/model/limits/max_tensor_elements", "lang/frontends/onnx, lang/type, lang/passes FoldConstant"),
      reads("/model/limits/max_model_bytes", "lang/frontends/onnx, lang/passes FoldConstant"),
      reads("/model/limits/max_graph_nodes", "lang/frontends/onnx"),
      reads("/quantization", "spec/recipe"),
      reads("/quantization/mode", "lang/passes Quantize (int8), ReducePrecision (bf16, fp16; none: float32)"),
      reads("/quantization/weights", "driver/calibration, lang/passes Quantize"),
      reads("/quantization/weights/granularity", "lang/passes Quantize"),
      reads("/quantization/weights/bits", "lang/passes Quantize"),
      only("/quantization/weights/symmetric", "lang/passes Quantize (weights are symmetric int8)", {"true"}),
      reads("/quantization/activations", "driver/calibration, lang/passes Quantize"),
      reads("/quantization/activations/symmetric", "lang/passes Quantize"),
      reads("/quantization/activations/calibration", "driver/calibration"),
      reads("/quantization/activations/calibration/method", "lang/passes Quantize"),
      reads("/quantization/activations/calibration/percentile", "lang/passes Quantize"),
      reads("/quantization/activations/calibration/data", "driver/calibration"),
      reads("/quantization/activations/calibration/samples", "driver/calibration"),
      reads("/quantization/activations/calibration/random_seed", "driver/calibration"),
      reads("/quantization/skip", "lang/passes Quantize, ReducePrecision"),
      reads("/quantization/evaluation", "driver/measure (bench, report)"),
      reads("/quantization/evaluation/samples", "driver/calibration"),
      reads("/quantization/evaluation/data", "driver/calibration"),
      reads("/quantization/evaluation/random_seed", "driver/calibration"),
      reads("/quantization/evaluation/sensitivity", "driver/measure (report)"),
      reads("/layout", "spec/recipe"),
      reads("/layout/activations", "lang/passes ConvertLayout"),
      only("/layout/weights", "lang/passes AlterOpLayout (weights follow the activations)", {"auto"}),
      reads("/optimize", "spec/recipe"),
      reads("/optimize/level", "lang/pass_manager"),
      reads("/optimize/disable", "lang/pass_manager"),
      reads("/optimize/enable", "lang/pass_manager"),
      reads("/optimize/schedule", "lower (schedules)"),
      only("/optimize/schedule/strategy", "lower (schedule templates; tuned: their knobs from a tuning log)", {"template", "tuned"}),
      planned("/optimize/schedule/autoscheduler", "it configures the autoschedule strategy, which this version does not build"),
      reads("/optimize/schedule/log", "driver/tuning_log (the tuned strategy), `modelc tune` (where it writes)"),
      reads("/targets", "driver/pipeline (one artifact per target)"),
      reads("/targets/*", "driver/pipeline"),
      reads("/targets/*/device", "targets/recipe_device"),
      reads("/targets/*/threads", "runtime (create(num_threads)), reports (benchmarks)"),
      planned("/targets/*/options", "no target backend reads device options yet"),
      reads("/variants", "spec/variants"),
      reads("/variants/*", "spec/variants (an axis of the matrix)"),
      reads("/variants/exclude", "spec/variants"),
      reads("/variants/include", "spec/variants"),
      reads("/report", "driver (bench, report)"),
      reads("/report/baselines", "driver/evaluate"),
      reads("/report/formats", "driver/main (modelc report)"),
      planned("/report/metrics", "reports show every metric"),
      reads("/report/benchmark", "reports/rounds"),
      reads("/report/benchmark/warmup", "reports/rounds"),
      reads("/report/benchmark/repeats", "reports/rounds"),
      reads("/report/benchmark/min_seconds", "reports/rounds"),
      reads("/report/benchmark/rounds", "reports/rounds"),
      reads("/report/compare_to", "spec/variants (names), reports/comparison"),
      reads("/report/compare_to/variant", "spec/variants (names), reports/comparison"),
      reads("/report/compare_to/target", "spec/variants (names), reports/comparison"),
      reads("/report/compare_to/implementation", "spec/variants (names), reports/comparison"),
      reads("/report/input", "driver/evaluate (benchmark inputs)"),
  };
}

// Whether the concrete `tokens` match the entry's pattern (and, for a
// subtree entry, anything below it).
bool matches(const RecipeProperty& p, const std::vector<std::string>& tokens) {
  const std::vector<std::string> pattern = pointer_tokens(p.pointer);
  if (tokens.size() < pattern.size() || (tokens.size() > pattern.size() && !p.subtree)) return false;
  for (size_t i = 0; i < pattern.size(); ++i)
    if (pattern[i] != "*" && pattern[i] != tokens[i]) return false;
  return true;
}

// "quantization.mode" for /quantization/mode: how the recipe and `variants` name it.
std::string dotted(std::string_view pointer) {
  std::string out;
  for (const std::string& t : pointer_tokens(pointer)) out += (out.empty() ? "" : ".") + t;
  return out;
}

std::string value_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::string quoted_list(const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += i + 1 == values.size() ? " and " : ", ";
    out += "'" + values[i] + "'";
  }
  return out;
}

// The concrete pointers of the nodes `pattern` names in `doc`.
void expand(const json& doc, const std::vector<std::string>& pattern, size_t at, const std::string& pointer,
            std::vector<std::string>& out) {
  if (at == pattern.size()) {
    out.push_back(pointer);
    return;
  }
  if (pattern[at] == "*") {
    if (doc.is_object())
      for (const auto& [key, child] : doc.items()) expand(child, pattern, at + 1, pointer_append(pointer, key), out);
    if (doc.is_array())
      for (size_t i = 0; i < doc.size(); ++i) expand(doc[i], pattern, at + 1, pointer_append(pointer, i), out);
    return;
  }
  if (doc.is_object() && doc.contains(pattern[at]))
    expand(doc[pattern[at]], pattern, at + 1, pointer_append(pointer, pattern[at]), out);
}

// The first place at or below `pointer` that a recipe file (or a variant)
// wrote, rather than the schema's defaults; "" when none.
std::string first_written(const json& node, const std::string& pointer, const SourceMap& marks) {
  if (marks.find_key(pointer)) return pointer;
  if (node.is_object()) {
    for (const auto& [key, child] : node.items()) {
      std::string found = first_written(child, pointer_append(pointer, key), marks);
      if (!found.empty()) return found;
    }
  }
  return {};
}

class Refusals {
 public:
  Refusals(const json& doc, const SourceMap& marks) : doc_(doc), marks_(marks) {}

  std::vector<Diagnostic> find() {
    for (const RecipeProperty& p : recipe_properties()) {
      if (p.support != PropertySupport::planned && p.support != PropertySupport::some_values) continue;
      std::vector<std::string> pointers;
      expand(doc_, pointer_tokens(p.pointer), 0, "", pointers);
      for (const std::string& pointer : pointers) {
        const json& node = doc_.at(json::json_pointer(pointer));
        if (p.support == PropertySupport::planned) refuse_written(p, node, pointer);
        else refuse_values(p, node, pointer);
      }
    }
    return std::move(problems_);
  }

 private:
  void refuse_written(const RecipeProperty& p, const json& node, const std::string& pointer) {
    const std::string written = first_written(node, pointer, marks_);
    if (written.empty()) return;
    problems_.push_back({Severity::error, marks_.locate_key(written), written,
                         dotted(written) + " is not implemented yet in modelc " + MODELC_VERSION + ": " + p.reader,
                         "leave it out; modelc refuses settings that no stage reads instead of ignoring them"});
  }

  void refuse_values(const RecipeProperty& p, const json& node, const std::string& pointer) {
    auto refuse = [&](const json& value, const std::string& at, const char* hint) {
      if (std::find(p.values.begin(), p.values.end(), value_text(value)) != p.values.end()) return;
      const bool one = p.values.size() == 1;
      problems_.push_back({Severity::error, marks_.locate(at), at,
                           dotted(pointer) + " '" + value_text(value) + "' is not implemented yet in modelc " +
                               MODELC_VERSION + "; only " + quoted_list(p.values) + (one ? " is" : " are") +
                               " implemented",
                           hint});
    };
    if (!node.is_array()) {
      refuse(node, pointer, "leave it out or choose an implemented value");
      return;
    }
    for (size_t i = 0; i < node.size(); ++i) refuse(node[i], pointer_append(pointer, i), "remove it from the list");
  }

  const json& doc_;
  const SourceMap& marks_;
  std::vector<Diagnostic> problems_;
};

}  // namespace

const std::vector<RecipeProperty>& recipe_properties() {
  static const std::vector<RecipeProperty> list = make_list();
  return list;
}

const RecipeProperty* find_recipe_property(std::string_view pointer) {
  const std::vector<std::string> tokens = pointer_tokens(pointer);
  const RecipeProperty* found = nullptr;
  for (const RecipeProperty& p : recipe_properties()) {
    if (!matches(p, tokens)) continue;
    // The most specific entry wins: /targets/*/device over a subtree above it.
    if (!found || pointer_tokens(p.pointer).size() > pointer_tokens(found->pointer).size()) found = &p;
  }
  return found;
}

bool implemented(std::string_view pointer, const json& value) {
  const RecipeProperty* p = find_recipe_property(pointer);
  if (!p || p->support == PropertySupport::planned) return false;
  if (p->support != PropertySupport::some_values) return true;
  return std::find(p->values.begin(), p->values.end(), value_text(value)) != p->values.end();
}

std::vector<Diagnostic> unimplemented_settings(const json& resolved, const SourceMap& marks) {
  return Refusals(resolved, marks).find();
}

}  // namespace modelc::spec
