// results.json as written by to_json against schemas/results.schema.json, the
// contract other tools (and `modelc diff`) read: every field reports/ writes is
// in the schema. A separate executable because it links spec/ for the
// validator; the reports library itself does not.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "reports/results.h"
#include "sample_results.h"
#include "spec/builtin_schemas.h"

using modelc::reports::testing::sample_results;
using namespace modelc::reports;

namespace {

std::string describe(const std::vector<modelc::spec::SchemaError>& errors) {
  std::string text;
  for (const auto& e : errors) text += e.instance_pointer + ": " + e.keyword + ": " + e.message + "\n";
  return text;
}

std::vector<modelc::spec::SchemaError> schema_errors(const nlohmann::json& document) {
  return modelc::spec::builtin_validator("results").validate(document);
}

}  // namespace

TEST_CASE("to_json output conforms to schemas/results.schema.json") {
  Results results = sample_results();
  results.recipe.sha256 = std::string(64, 'a');  // the schema wants a full digest
  const auto errors = schema_errors(to_json(results));
  INFO("schema errors:\n" << describe(errors));
  CHECK(errors.empty());
}

TEST_CASE("a merged document, a failed artifact and an emulated target conform too") {
  Results results = sample_results();
  results.recipe.sha256 = std::string(64, 'b');
  results.machines = {{"a/results.json", results.environment}, {"b/results.json", results.environment}};
  results.results[1].machine = 1;
  results.results[1].status = RunStatus::emulated;
  results.results[0].status = RunStatus::failed;
  results.results[0].latency.reset();
  results.results[0].samples_ms.clear();
  results.comparisons = compare_rows(results);
  const auto errors = schema_errors(to_json(results));
  INFO("schema errors:\n" << describe(errors));
  CHECK(errors.empty());
}

TEST_CASE("the schema check catches a wrong shape") {
  nlohmann::json document = to_json(sample_results());
  document["results"][0]["latency_ms"]["median"] = "fast";
  const auto errors = modelc::spec::builtin_validator("results").validate(document);
  const bool found = std::any_of(errors.begin(), errors.end(), [](const auto& e) {
    return e.instance_pointer == "/results/0/latency_ms/median";
  });
  CHECK(found);
}
