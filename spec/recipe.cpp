// load_recipe: YAML -> extends -> defaults -> schema -> typed Recipe -> the
// checks a schema cannot express. Every problem found is collected, so a
// person fixes a recipe in one round instead of one error per run.
#include "spec/recipe.h"

#include <algorithm>
#include <limits>
#include <set>
#include <tuple>

#include "spec/builtin_schemas.h"
#include "spec/extends.h"
#include "spec/recipe_properties.h"
#include "spec/schema_messages.h"
#include "support/checked_math.h"

namespace modelc::spec {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const json& at_or_null(const json& object, const char* key) {
  static const json null;
  if (!object.is_object()) return null;
  const auto it = object.find(key);
  return it == object.end() ? null : *it;
}

std::string string_or(const json& v, std::string fallback) { return v.is_string() ? v.get<std::string>() : fallback; }

std::vector<std::string> strings(const json& v) {
  std::vector<std::string> out;
  if (v.is_array())
    for (const json& s : v) out.push_back(s.get<std::string>());
  return out;
}

class RecipeBuilder {
 public:
  RecipeBuilder(Recipe& recipe, std::vector<Diagnostic>& problems) : r_(recipe), problems_(problems) {}

  void build() {
    const json& doc = r_.resolved;
    r_.api_version = doc["apiVersion"].get<std::string>();
    r_.name = doc["metadata"]["name"].get<std::string>();
    r_.version = doc["metadata"]["version"].get<std::string>();
    r_.description = string_or(at_or_null(doc["metadata"], "description"), "");
    build_model(doc["model"]);
    build_quantization(doc["quantization"]);
    r_.layout.activations = doc["layout"]["activations"].get<std::string>();
    r_.layout.weights = doc["layout"]["weights"].get<std::string>();
    build_optimize(doc["optimize"]);
    build_targets(doc["targets"]);
    build_report(doc["report"]);
  }

 private:
  void problem(const std::string& pointer, std::string message, std::string hint = {}) {
    problems_.push_back(Diagnostic{Severity::error, r_.locate(pointer), pointer, std::move(message), std::move(hint)});
  }

  // A path that must name an existing file (or folder, when allowed).
  fs::path existing_path(const std::string& pointer, const char* what, bool folder_ok) {
    const fs::path path = r_.resolve_path(pointer);
    std::error_code ec;
    const bool ok = folder_ok ? fs::exists(path, ec) : fs::is_regular_file(path, ec);
    if (!ok) {
      const std::string written = r_.resolved.at(json::json_pointer(pointer)).get<std::string>();
      problem(pointer, std::string(what) + " '" + written + "' not found (looked for " + path.string() + ")",
              "paths are relative to the recipe file that writes them");
    }
    return path;
  }

  void build_model(const json& model) {
    if (model.contains("onnx")) r_.model.onnx = existing_path("/model/onnx", "ONNX model", false);
    if (model.contains("graph")) {
      r_.model.graph = model["graph"];
      r_.model.graph_pointer = "/model/graph";
    }
    const json& limits = at_or_null(model, "limits");
    if (limits.contains("max_tensor_elements")) r_.model.limits.max_tensor_elements = limits["max_tensor_elements"].get<int64_t>();
    if (limits.contains("max_model_bytes")) r_.model.limits.max_model_bytes = limits["max_model_bytes"].get<int64_t>();
    if (limits.contains("max_graph_nodes")) r_.model.limits.max_graph_nodes = limits["max_graph_nodes"].get<int64_t>();
    const json& inputs = model.contains("inputs") ? model["inputs"] : at_or_null(at_or_null(model, "graph"), "inputs");
    const std::string base = model.contains("inputs") ? "/model/inputs" : "/model/graph/inputs";
    std::set<std::string> seen;
    for (size_t i = 0; i < inputs.size(); ++i) {
      InputSpec in;
      in.name = inputs[i]["name"].get<std::string>();
      in.shape = inputs[i]["shape"].get<std::vector<int64_t>>();
      in.dtype = string_or(at_or_null(inputs[i], "dtype"), "float32");
      in.pointer = pointer_append(base, i);
      if (!seen.insert(in.name).second)
        problem(in.pointer + "/name", "duplicate input name '" + in.name + "'", "every input needs its own name");
      check_element_count(in);
      r_.model.inputs.push_back(std::move(in));
    }
    r_.model.outputs = strings(at_or_null(model, "outputs"));
  }

  // The schema bounds each dimension; their product must still fit the
  // model's limits (and so the int64 arithmetic of shapes and byte sizes).
  void check_element_count(const InputSpec& in) {
    const int64_t limit = r_.model.limits.max_tensor_elements;
    const std::optional<int64_t> extent = checked_extent(in.shape);
    if (!extent || *extent > limit)
      problem(in.pointer + "/shape", "input '" + in.name + "' has " + (extent ? std::to_string(*extent) : "more than 2^63") +
                  " elements, more than model.limits.max_tensor_elements (" + std::to_string(limit) + ")",
              "check the shape, or raise model.limits.max_tensor_elements");
  }

  void build_quantization(const json& q) {
    r_.quantization.mode = q["mode"].get<std::string>();
    r_.quantization.options = q;
    r_.quantization.options.erase("mode");
    const json& calibration = q["activations"]["calibration"];
    // While int8 is refused (recipe_properties.cpp), saying what it would need is noise.
    const bool int8 = r_.quantization.mode == "int8" && implemented("/quantization/mode", "int8");
    if (int8 && !calibration.contains("data") && !calibration.contains("random_seed")) {
      problem("/quantization/mode", "int8 quantization needs calibration data, found none",
              "set quantization.activations.calibration.data to a folder of .npy samples or one .npy file (or, for "
              "models without real inputs, ask for seeded random samples with calibration.random_seed)");
    }
    if (calibration.contains("data"))
      existing_path("/quantization/activations/calibration/data", "calibration data", true);
  }

  void build_optimize(const json& o) {
    r_.optimize.level = o["level"].get<int>();
    r_.optimize.disable = strings(o["disable"]);
    r_.optimize.enable = strings(o["enable"]);
    for (const std::string& pass : r_.optimize.enable) {
      if (std::find(r_.optimize.disable.begin(), r_.optimize.disable.end(), pass) != r_.optimize.disable.end())
        problem("/optimize/enable", "pass '" + pass + "' is both enabled and disabled", "keep it in one of the two lists");
    }
    r_.optimize.schedule = o["schedule"]["strategy"].get<std::string>();
    if (o["schedule"].contains("log")) r_.optimize.tuning_log = r_.resolve_path("/optimize/schedule/log");
  }

  void build_targets(const json& targets) {
    for (const std::string& name : keys_in_written_order(targets, "/targets", r_.marks)) {
      TargetSpec t;
      t.name = name;
      t.pointer = pointer_append("/targets", name);
      const json& device = targets[name]["device"];
      if (device.is_object()) {
        t.device_profile = device;
        t.device = device["name"].is_string() ? device["name"].get<std::string>() : "";
      } else if (const std::string text = device.get<std::string>(); text.ends_with(".yaml") || text.ends_with(".yml")) {
        t.device_file = r_.resolve_path(pointer_append(t.pointer, "device"));
      } else {
        t.device = text;
      }
      t.threads = targets[name]["threads"].get<int>();
      r_.targets.push_back(std::move(t));
    }
  }

  void build_report(const json& report) {
    r_.report.baselines = strings(report["baselines"]);
    r_.report.formats = strings(report["formats"]);
    r_.report.benchmark.warmup = report["benchmark"]["warmup"].get<int>();
    r_.report.benchmark.repeats = report["benchmark"]["repeats"].get<int>();
    r_.report.benchmark.min_seconds = report["benchmark"]["min_seconds"].get<double>();
    r_.report.benchmark.rounds = report["benchmark"]["rounds"].get<int>();
    const json& compare_to = report["compare_to"];
    r_.report.compare_to.variant = compare_to.value("variant", "");
    r_.report.compare_to.target = compare_to.value("target", "");
    r_.report.compare_to.implementation = compare_to["implementation"].get<std::string>();
    if (report.contains("input")) r_.report.input = existing_path("/report/input", "input data", false);
    for (size_t i = 0; i < r_.report.baselines.size(); ++i) {
      if (r_.report.baselines[i] == "onnxruntime" && !r_.model.onnx) {
        problem(pointer_append("/report/baselines", i), "the onnxruntime baseline needs an ONNX model (model.onnx)",
                "a graph written in YAML can be compared with the reference baseline only");
      }
    }
  }

  Recipe& r_;
  std::vector<Diagnostic>& problems_;
};

}  // namespace

fs::path Recipe::resolve_path(std::string_view pointer) const {
  const fs::path written = resolved.at(json::json_pointer(std::string(pointer))).get<std::string>();
  if (written.is_absolute()) return written.lexically_normal();
  const SourceLocation where = marks.locate(pointer);
  const fs::path writer = where.known() ? fs::path(where.file) : file;
  return (fs::absolute(writer).parent_path() / written).lexically_normal();
}

std::vector<std::string> keys_in_written_order(const json& object, const std::string& pointer, const SourceMap& marks) {
  std::vector<std::tuple<size_t, int, int, std::string>> keyed;
  int order = 0;
  for (const auto& [key, value] : object.items()) {
    const std::string child = pointer_append(pointer, key);
    const SourceLocation* at = marks.find_key(child);
    // Keys written in no file (defaults) keep their sorted order, after the rest.
    if (at) keyed.emplace_back(marks.file_rank(at->file), at->line, at->column, key);
    else keyed.emplace_back(std::numeric_limits<size_t>::max(), order, 0, key);
    ++order;
  }
  std::stable_sort(keyed.begin(), keyed.end());
  std::vector<std::string> out;
  for (auto& k : keyed) out.push_back(std::move(std::get<3>(k)));
  return out;
}

std::vector<std::string> known_device_profiles() {
  return builtin_schema("recipe")["definitions"]["target"]["properties"]["device"]["then"]["else"]["enum"]
      .get<std::vector<std::string>>();
}

Recipe build_recipe(Document resolved, const fs::path& file) {
  if (!resolved.value.is_object()) {
    const SourceLocation where = resolved.marks.locate("");
    throw Error(Diagnostic{Severity::error, where.known() ? where : SourceLocation{file.string()}, "",
                           "expected a recipe (a mapping with apiVersion, kind, metadata and model), found " +
                               (resolved.value.is_null() ? std::string("an empty document") : detail::describe_found(resolved.value)),
                           "start from an example under examples/"});
  }
  const SchemaValidator& validator = builtin_validator("recipe");
  validator.apply_defaults(resolved.value);
  std::vector<Diagnostic> problems = schema_diagnostics(validator, resolved);
  if (!problems.empty()) throw Error(std::move(problems));
  // Settings this version would silently ignore are refused, with the rest.
  problems = unimplemented_settings(resolved.value, resolved.marks);

  Recipe recipe;
  recipe.file = fs::absolute(file).lexically_normal();
  recipe.resolved = std::move(resolved.value);
  recipe.marks = std::move(resolved.marks);
  RecipeBuilder(recipe, problems).build();
  if (!problems.empty()) throw Error(std::move(problems));
  return recipe;
}

Recipe load_recipe(const fs::path& path) { return build_recipe(load_extended_document(path), path); }

}  // namespace modelc::spec
