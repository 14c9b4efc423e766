// The typed recipe: what the rest of modelc reads after spec/ has loaded the
// YAML, resolved `extends`, validated it against schemas/recipe.schema.json and
// applied the defaults the schema states.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec/document.h"
#include "spec/model_limits.h"

namespace modelc::spec {

struct InputSpec {
  std::string name;
  std::vector<int64_t> shape;
  std::string dtype = "float32";
  std::string pointer;  // e.g. /model/inputs/0, for error messages
};

struct ModelSpec {
  // Exactly one of onnx / graph is set.
  std::optional<std::filesystem::path> onnx;  // absolute, resolved against the recipe's folder
  std::optional<nlohmann::json> graph;        // the inline YAML graph (see schemas/graph.schema.json)
  std::string graph_pointer;                  // JSON pointer of `graph` in the resolved recipe
  std::vector<InputSpec> inputs;              // may be empty for ONNX models with static shapes
  std::vector<std::string> outputs;           // empty: all model outputs
  ModelLimits limits;                         // model.limits
};

struct QuantizationSpec {
  std::string mode = "none";  // none | int8 | fp16 | bf16
  nlohmann::json options;     // the rest of the quantization block, validated by the schema
};

struct LayoutSpec {
  std::string activations = "auto";  // auto | NCHW | NHWC | NCHW<k>c (auto: chosen per target)
  std::string weights = "auto";
};

struct OptimizeSpec {
  int level = 2;                      // 0..3
  std::vector<std::string> disable;   // pass names
  std::vector<std::string> enable;    // pass names
  std::string schedule = "template";  // template | autoschedule | tuned
  std::optional<std::filesystem::path> tuning_log;
};

struct TargetSpec {
  std::string name;    // key under `targets:`
  std::string device;  // device profile name, e.g. host, x86-64-avx512 (empty: in device_file)
  // A device profile of the recipe's own, read by targets/ (targets/recipe_device.h):
  // written in the recipe (device_profile, not null), or in a file (device_file).
  nlohmann::json device_profile;
  std::filesystem::path device_file;
  int threads = 0;     // 0: all cores of the machine that runs it
  std::string pointer;
};

struct BenchmarkSpec {
  int warmup = 10;
  int repeats = 50;          // timed runs per implementation, all rounds together (at least)
  double min_seconds = 0.5;  // timed work per implementation, all rounds together (at least)
  int rounds = 10;           // implementations take turns, one batch each per round (reports/rounds.h)
};

// The row every speed-up of a report is measured against. Empty variant or
// target: the first variant, the first target (spec/variants checks names).
struct CompareToSpec {
  std::string variant;
  std::string target;
  std::string implementation = "modelc";  // modelc | reference | onnxruntime
};

struct ReportSpec {
  std::vector<std::string> baselines{"reference"};  // reference | onnxruntime
  std::vector<std::string> formats{"md", "json"};  // md | html | json | csv
  BenchmarkSpec benchmark;
  CompareToSpec compare_to;
  std::optional<std::filesystem::path> input;  // .npy input data; default: seeded random
};

struct Recipe {
  std::filesystem::path file;  // absolute path of the recipe
  std::string api_version;     // modelc/v1
  std::string name;
  std::string version;
  std::string description;
  ModelSpec model;
  QuantizationSpec quantization;
  LayoutSpec layout;
  OptimizeSpec optimize;
  std::vector<TargetSpec> targets;  // in the order written
  ReportSpec report;

  nlohmann::json resolved;  // the whole recipe after extends and defaults
  SourceMap marks;          // source positions of `resolved`, across every extended file

  // Location of a node of `resolved`, for errors found after validation.
  SourceLocation locate(std::string_view pointer) const { return marks.locate(pointer); }

  // A path written in the recipe (the string at `pointer`, e.g. a graph
  // layer's weights file), made absolute against the folder of the file that
  // wrote it: with `extends`, a base recipe's paths are relative to the base.
  std::filesystem::path resolve_path(std::string_view pointer) const;
};

// Loads, resolves `extends`, validates and converts. Throws modelc::Error with
// every problem found (each with file:line:column and JSON pointer).
Recipe load_recipe(const std::filesystem::path& path);

// The embedded JSON schemas: "recipe", "graph", "target", "results".
const nlohmann::json& builtin_schema(std::string_view name);

// The second half of load_recipe, for a document already loaded and merged
// (e.g. a variant of a recipe): applies defaults, validates, converts and runs
// the semantic checks. `file` is the recipe's path.
Recipe build_recipe(Document resolved, const std::filesystem::path& file);

// Device profile names a target's `device:` may name (the recipe schema's list).
std::vector<std::string> known_device_profiles();

// The keys of the mapping at `pointer`, in the order they were written
// (nlohmann::json sorts keys; the marks remember the order).
std::vector<std::string> keys_in_written_order(const nlohmann::json& object, const std::string& pointer,
                                               const SourceMap& marks);

}  // namespace modelc::spec
