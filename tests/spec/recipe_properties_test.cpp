// The list of recipe properties (spec/recipe_properties.h) against the
// schema: every property the schema lets a person write is either read by a
// stage or refused, never accepted and ignored.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "spec/recipe.h"
#include "spec/document.h"
#include "spec/recipe_properties.h"

#include "modelc_config.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace modelc::spec;

namespace {

// The property patterns of the recipe schema: /a/b for properties, * for
// additionalProperties, patternProperties and array items. $refs are followed
// (into graph.schema.json where the recipe embeds it); the walk stops where a
// subtree entry of the list covers everything below.
class SchemaWalk {
 public:
  std::set<std::string> properties;

  void walk(const json& schema, const std::string& doc, const std::string& pointer, int depth = 0) {
    REQUIRE_MESSAGE(depth < 64, "schema recursion at " << pointer);
    if (!schema.is_object()) return;
    if (schema.contains("$ref")) {
      const auto [target, target_doc] = resolve(schema["$ref"].get<std::string>(), doc);
      walk(target, target_doc, pointer, depth + 1);
    }
    for (const char* k : {"allOf", "anyOf", "oneOf"})
      if (schema.contains(k))
        for (const json& s : schema[k]) walk(s, doc, pointer, depth + 1);
    for (const char* k : {"if", "then", "else"})
      if (schema.contains(k)) walk(schema[k], doc, pointer, depth + 1);
    if (schema.contains("properties"))
      for (const auto& [name, sub] : schema["properties"].items()) property(sub, doc, pointer_append(pointer, name), depth);
    if (schema.contains("patternProperties"))
      for (const auto& [pattern, sub] : schema["patternProperties"].items()) property(sub, doc, pointer + "/*", depth);
    if (schema.contains("additionalProperties") && schema["additionalProperties"].is_object())
      property(schema["additionalProperties"], doc, pointer + "/*", depth);
    if (schema.contains("items") && schema["items"].is_object()) walk(schema["items"], doc, pointer + "/*", depth + 1);
  }

 private:
  void property(const json& schema, const std::string& doc, const std::string& pointer, int depth) {
    properties.insert(pointer);
    const RecipeProperty* p = find_recipe_property(pointer);
    if (p && p->subtree) return;  // one entry stands for all of it
    walk(schema, doc, pointer, depth + 1);
  }

  static std::pair<const json&, std::string> resolve(const std::string& ref, const std::string& doc) {
    const size_t hash = ref.find('#');
    const std::string file = ref.substr(0, hash);
    const std::string target_doc = file.empty() ? doc : file == "graph.schema.json" ? "graph" : file;
    REQUIRE_MESSAGE((target_doc == "recipe" || target_doc == "graph"), "unexpected $ref " << ref);
    const json& root = builtin_schema(target_doc);
    if (hash == std::string::npos) return {root, target_doc};
    return {root.at(json::json_pointer(ref.substr(hash + 1))), target_doc};
  }
};

std::set<std::string> schema_properties() {
  SchemaWalk w;
  w.walk(builtin_schema("recipe"), "recipe", "");
  return w.properties;
}

const json& schema_at(const std::string& pattern) {
  const json* node = &builtin_schema("recipe");
  for (const std::string& t : pointer_tokens(pattern)) {
    if (t == "*") node = &(*node)["additionalProperties"];
    else node = &(*node)["properties"][t];
    if (node->contains("$ref") && (*node)["$ref"].get<std::string>().rfind("#/", 0) == 0)
      node = &builtin_schema("recipe").at(json::json_pointer((*node)["$ref"].get<std::string>().substr(1)));
  }
  return *node;
}

fs::path golden_dir() {
  const char* root = std::getenv("MODELC_SOURCE_ROOT");
  return fs::path(root ? root : MODELC_SOURCE_ROOT_FALLBACK) / "tests" / "golden" / "spec";
}

// tests/golden/spec/unimplemented_<name>: quantization_mode, targets_x_options.
std::string golden_name(const std::string& pattern) {
  std::string name = "unimplemented";
  for (const std::string& t : pointer_tokens(pattern)) name += "_" + (t == "*" ? std::string("x") : t);
  return name;
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool refused(const RecipeProperty& p) {
  return p.support == PropertySupport::planned || p.support == PropertySupport::some_values;
}

}  // namespace

TEST_CASE("every property of the recipe schema is consumed by a stage or refused") {
  const std::set<std::string> walked = schema_properties();
  CHECK(walked.size() > 40);
  for (const std::string& pointer : walked) {
    CAPTURE(pointer);
    const RecipeProperty* p = find_recipe_property(pointer);
    CHECK_MESSAGE(p != nullptr, "add " << pointer << " to spec/recipe_properties.cpp: the stage that reads it, or planned(...)");
    if (p && (p->support == PropertySupport::consumed || p->support == PropertySupport::some_values))
      CHECK_MESSAGE(!p->reader.empty(), "say which stage reads " << pointer);
  }
  // And the list names no property the schema does not have.
  for (const RecipeProperty& p : recipe_properties()) {
    CAPTURE(p.pointer);
    CHECK(walked.count(p.pointer) == 1);
  }
}

TEST_CASE("a property implemented for some values: they are schema values, and so is its default") {
  for (const RecipeProperty& p : recipe_properties()) {
    if (p.support != PropertySupport::some_values) continue;
    CAPTURE(p.pointer);
    const json& schema = schema_at(p.pointer);
    // An enum lists the values (layout.weights has a pattern instead).
    const json allowed = schema.contains("enum") ? schema["enum"] : schema.value("items", json::object()).value("enum", json());
    if (allowed.is_array()) {
      for (const std::string& v : p.values) CHECK(std::find(allowed.begin(), allowed.end(), json(v)) != allowed.end());
      // Something is refused, or the entry should say reads(...).
      CHECK(p.values.size() < allowed.size());
    }
    REQUIRE(schema.contains("default"));
    const json& def = schema["default"];
    for (const json& v : def.is_array() ? def : json::array({def})) {
      CAPTURE(v.dump());
      CHECK(implemented(p.pointer, v));
    }
  }
}

TEST_CASE("each refused property has a golden recipe whose error says it is not implemented yet") {
  size_t refusals = 0;
  for (const RecipeProperty& p : recipe_properties()) {
    if (!refused(p)) continue;
    ++refusals;
    const fs::path yaml = golden_dir() / (golden_name(p.pointer) + ".yaml");
    CAPTURE(yaml.string());
    REQUIRE_MESSAGE(fs::exists(yaml), "write a recipe that sets " << p.pointer << " (tests/spec/bad_recipes_test.cpp checks its .err)");
    const std::string err = read(golden_dir() / (golden_name(p.pointer) + ".err"));
    CHECK(err.find("is not implemented yet in modelc") != std::string::npos);
    std::string dotted = p.pointer.substr(1);
    std::replace(dotted.begin(), dotted.end(), '/', '.');
    const size_t star = dotted.find('*');
    CHECK(err.find(dotted.substr(0, star)) != std::string::npos);
  }
  CHECK(refusals >= 6);  // fewer as features land (int8 quantization took three, entropy calibration one, tuning one, bf16/fp16 one)
}

TEST_CASE("find_recipe_property: patterns, subtrees and the most specific entry") {
  REQUIRE(find_recipe_property("/targets/host/threads"));
  CHECK(find_recipe_property("/targets/host/threads")->pointer == "/targets/*/threads");
  REQUIRE(find_recipe_property("/model/graph/layers/3/filters"));
  CHECK(find_recipe_property("/model/graph/layers/3/filters")->pointer == "/model/graph");
  CHECK(find_recipe_property("/quantization/weights/granularity")->support == PropertySupport::consumed);
  CHECK(find_recipe_property("/no/such/thing") == nullptr);
  CHECK(implemented("/quantization/mode", "none"));
  CHECK(implemented("/quantization/mode", "int8"));
  CHECK(implemented("/quantization/mode", "bf16"));  // lang/passes ReducePrecision
  CHECK(implemented("/quantization/mode", "fp16"));
  CHECK(implemented("/report/formats", "csv"));
  CHECK(implemented("/report/formats", "html"));  // reports/render_html
  CHECK(implemented("/layout/activations", "NHWC"));
}

TEST_CASE("defaults the schema fills in are never refused; written values are") {
  Document doc = parse_yaml(
      "quantization: {mode: none}\nreport: {formats: [md, html]}\nlayout: {weights: OHWI}\ntargets: {host: {device: host}}\n",
      "r.yaml");
  doc.value["quantization"]["weights"] = {{"granularity", "per-channel"}};  // as apply_defaults would
  doc.value["report"]["metrics"] = json::array({"latency"});
  doc.value["targets"]["host"]["options"] = json::object();
  const std::vector<modelc::Diagnostic> found = unimplemented_settings(doc.value, doc.marks);
  REQUIRE(found.size() == 1);
  CHECK(found[0].format() ==
        "r.yaml:3:19: error: layout.weights 'OHWI' is not implemented yet in modelc " + std::string(MODELC_VERSION) +
            "; only 'auto' is implemented (at /layout/weights)\n  hint: leave it out or choose an implemented value");
}
