// The validator's behaviour beyond yes/no: messages, hints, best-branch
// selection, defaults, URI scopes. (tests/spec/json_schema_suite_test.cpp runs
// the official suite for correctness.)
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "spec/builtin_schemas.h"
#include "spec/json_schema.h"
#include "spec/recipe.h"

using modelc::spec::SchemaError;
using modelc::spec::SchemaValidator;
using nlohmann::json;

namespace {

std::vector<SchemaError> errors_of(const json& schema, const json& instance) {
  return SchemaValidator(schema).validate(instance);
}

}  // namespace

TEST_CASE("unknown properties suggest the closest allowed name") {
  const json schema = {{"type", "object"},
                       {"additionalProperties", false},
                       {"properties", {{"quantization", true}, {"layout", true}}}};
  const auto errors = errors_of(schema, {{"quantisation", 1}, {"zzz", 2}});
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].instance_pointer == "/quantisation");
  CHECK(errors[0].about_key);
  CHECK(errors[0].message == "unknown property 'quantisation'");
  CHECK(errors[0].hint == "did you mean 'quantization'?");
  CHECK(errors[1].hint == "allowed here: layout, quantization");
}

TEST_CASE("a misspelled required property is reported once, as the misspelling") {
  const json schema = {{"type", "object"},
                       {"additionalProperties", false},
                       {"required", {"kernel"}},
                       {"properties", {{"kernel", {{"type", "integer"}}}}}};
  const auto errors = errors_of(schema, {{"kernal", 3}});
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].keyword == "additionalProperties");
  CHECK(errors[0].hint == "did you mean 'kernel'?");
}

TEST_CASE("enum, type and bounds say what was expected and what was found") {
  CHECK(errors_of({{"enum", {"float32", "int8"}}}, "flaot32")[0].message ==
        "expected one of float32 or int8, found the string \"flaot32\"");
  CHECK(errors_of({{"enum", {"float32", "int8"}}}, "flaot32")[0].hint == "did you mean 'float32'?");
  CHECK(errors_of({{"type", "integer"}}, "2")[0].message == "expected an integer, found the string \"2\"");
  CHECK(errors_of({{"type", {"string", "array"}}}, 1.0)[0].message == "expected a string or a list, found the number 1.0");
  CHECK(errors_of({{"maximum", 3}}, 5)[0].message == "expected a value <= 3, found 5");
  CHECK(errors_of({{"multipleOf", 0.5}}, 0.75)[0].message == "expected a multiple of 0.5, found 0.75");
  CHECK(errors_of({{"minItems", 2}}, json::array({1}))[0].message == "expected at least 2 items, found 1");
  CHECK(errors_of({{"x-hint", "like 1.2.0"}, {"pattern", "^[0-9]"}}, "v1")[0].hint == "like 1.2.0");
}

TEST_CASE("oneOf reports the branch whose discriminator matched") {
  const json schema = json::parse(R"({
    "oneOf": [
      {"type": "object", "properties": {"op": {"const": "conv2d"}, "filters": {"type": "integer"}}, "required": ["op", "filters"]},
      {"type": "object", "properties": {"op": {"const": "dense"}, "units": {"type": "integer"}}, "required": ["op", "units"]}
    ]})");
  const auto errors = errors_of(schema, {{"op", "dense"}, {"units", "ten"}});
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].instance_pointer == "/units");
  CHECK(errors[0].message == "expected an integer, found the string \"ten\"");

  const auto by_type = errors_of({{"anyOf", {{{"type", "string"}}, {{"type", "array"}}}}}, 3);
  REQUIRE(by_type.size() == 1);
  CHECK(by_type[0].message == "expected a string or a list, found the integer 3");
}

TEST_CASE("oneOf of single required properties reads as 'exactly one of'") {
  const json schema = {{"oneOf", {{{"required", {"onnx"}}}, {{"required", {"graph"}}}}}};
  CHECK(errors_of(schema, json::object())[0].message == "missing a property: expected one of onnx or graph");
  CHECK(errors_of(schema, {{"onnx", 1}, {"graph", 2}})[0].message ==
        "expected only one of the properties onnx or graph, found 'onnx' and 'graph'");
}

TEST_CASE("$id scopes: location-independent identifiers and base URI changes") {
  const json schema = json::parse(R"({
    "$id": "http://example.com/root.json",
    "definitions": {
      "A": {"$id": "#foo", "type": "integer"},
      "B": {"$id": "other.json", "definitions": {"X": {"$id": "#bar", "type": "string"}}}
    },
    "properties": {
      "a": {"$ref": "#foo"},
      "b": {"$ref": "other.json#bar"},
      "c": {"$ref": "http://example.com/other.json#/definitions/X"}
    }})");
  const SchemaValidator v(schema);
  CHECK(v.is_valid({{"a", 1}, {"b", "s"}, {"c", "t"}}));
  CHECK_FALSE(v.is_valid({{"a", "x"}}));
  CHECK_FALSE(v.is_valid({{"b", 1}}));
  CHECK_FALSE(v.is_valid({{"c", 1}}));
}

TEST_CASE("an unresolvable $ref is an error, not a crash") {
  const auto errors = errors_of({{"$ref", "missing.json#/x"}}, 1);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].keyword == "$ref");
}

TEST_CASE("remote documents come from the resolver") {
  int calls = 0;
  const SchemaValidator v({{"$ref", "http://x.test/int.json"}}, "", [&](const std::string& uri) -> std::optional<json> {
    ++calls;
    if (uri == "http://x.test/int.json") return json{{"type", "integer"}};
    return std::nullopt;
  });
  CHECK(v.is_valid(3));
  CHECK_FALSE(v.is_valid("3"));
  CHECK(calls == 1);  // fetched once, when registered, never while validating
}

TEST_CASE("defaults fill missing properties through $ref, allOf and if/then") {
  const json schema = json::parse(R"({
    "definitions": {"level": {"type": "integer", "default": 2}},
    "properties": {
      "optimize": {"type": "object", "default": {}, "properties": {"level": {"$ref": "#/definitions/level"}}},
      "layers": {"type": "array", "items": {
        "allOf": [{"if": {"properties": {"op": {"const": "conv"}}}, "then": {"properties": {"stride": {"default": 1}}}}]}}
    }})");
  json instance = {{"layers", {{{"op", "conv"}}, {{"op", "relu"}}}}};
  SchemaValidator(schema).apply_defaults(instance);
  CHECK(instance["optimize"]["level"] == 2);
  CHECK(instance["layers"][0]["stride"] == 1);
  CHECK_FALSE(instance["layers"][1].contains("stride"));
}

TEST_CASE("URI references resolve as RFC 3986 says") {
  using modelc::spec::resolve_uri;
  CHECK(resolve_uri("http://a/b/c/d;p?q", "g") == "http://a/b/c/g");
  CHECK(resolve_uri("http://a/b/c/d;p?q", "../g") == "http://a/b/g");
  CHECK(resolve_uri("http://a/b/c/d;p?q", "/g") == "http://a/g");
  CHECK(resolve_uri("http://a/b/c/d;p?q", "//g") == "http://g");
  CHECK(resolve_uri("http://a/b/c/d;p?q", "#s") == "http://a/b/c/d;p?q#s");
  CHECK(resolve_uri("http://a/b/c/d;p?q", "../../../g") == "http://a/g");
  CHECK(resolve_uri("modelc:/schemas/recipe.schema.json", "graph.schema.json#/definitions/input") ==
        "modelc:/schemas/graph.schema.json#/definitions/input");
}

TEST_CASE("closest_match suggests likely typos only") {
  using modelc::spec::closest_match;
  const std::vector<std::string> names{"mode", "weights", "activations", "skip"};
  CHECK(closest_match("mdoe", names) == "mode");
  CHECK(closest_match("activation", names) == "activations");
  CHECK(closest_match("Weights", names) == "weights");
  CHECK_FALSE(closest_match("banana", names).has_value());
}

TEST_CASE("the builtin schemas are embedded, valid draft-07 and documented") {
  const std::vector<std::string> names = modelc::spec::builtin_schema_names();
  CHECK(names == std::vector<std::string>{"graph", "recipe", "results", "target"});
  const std::filesystem::path meta = "/usr/lib/python3/dist-packages/jsonschema/schemas/draft7.json";
  for (const std::string& name : names) {
    CAPTURE(name);
    const json& schema = modelc::spec::builtin_schema(name);
    CHECK(schema.contains("description"));
    if (std::filesystem::exists(meta)) {
      std::ifstream in(meta);
      CHECK(SchemaValidator(json::parse(in)).validate(schema).empty());
    }
    // Every property in every schema carries a description for editors.
    std::vector<std::string> undocumented;
    const std::function<void(const json&, const std::string&)> walk = [&](const json& node, const std::string& at) {
      if (node.is_object()) {
        if (node.contains("properties") && node["properties"].is_object()) {
          for (const auto& [key, p] : node["properties"].items()) {
            const bool documented = p.is_object() && (p.contains("description") || p.contains("$ref"));
            if (!documented) undocumented.push_back(at + "/properties/" + key);
          }
        }
        for (const auto& [key, child] : node.items())
          if (key != "if") walk(child, at + "/" + key);  // conditions, not documented properties
      } else if (node.is_array()) {
        for (size_t i = 0; i < node.size(); ++i) walk(node[i], at + "/" + std::to_string(i));
      }
    };
    walk(schema, "");
    CHECK_MESSAGE(undocumented.empty(), "undocumented: " << (undocumented.empty() ? "" : undocumented.front()));
  }
  CHECK_THROWS_AS(modelc::spec::builtin_schema("nope"), modelc::Error);
}

TEST_CASE("results.json example validates against the results schema") {
  const json results = json::parse(R"({
    "schema_version": 1,
    "recipe": {"name": "tiny", "version": "1.0.0", "file": "r.yaml", "sha256": "0000000000000000000000000000000000000000000000000000000000000000"},
    "environment": {"cpu": "x", "cores": 2, "flags": ["avx2"], "os": "Linux", "modelc": "0.1.0", "halide": "14", "llvm": "14"},
    "results": [{"variant": "default", "target": "host", "device": "host", "status": "ok",
                 "compile": {"seconds": 1.5, "stages": {"lower": 0.5}},
                 "latency_ms": {"warmup": 10, "repeats": 50, "median": 1.0, "p90": 1.1, "p99": 1.2, "min": 0.9, "max": 1.3, "mean": 1.0, "stddev": 0.1},
                 "throughput_per_s": 1000, "sizes": {"code_bytes": 1, "weight_bytes": 2, "arena_bytes": 3},
                 "accuracy": {"max_abs_error": 0, "max_rel_error": 0, "reference": "reference-fp32"},
                 "baselines": [{"name": "reference", "status": "ok", "latency_ms": {"median": 5.0}}]}]})");
  CHECK(modelc::spec::builtin_validator("results").validate(results).empty());
  json bad = results;
  bad["results"][0]["status"] = "okay";
  CHECK_FALSE(modelc::spec::builtin_validator("results").is_valid(bad));
}
