// Runs the official JSON-Schema-Test-Suite (Debian package
// json-schema-test-suite) for draft-07: every required file must pass; the
// optional ones (formats, bignums, ECMAScript regex details) are counted and
// printed only. Remote references to http://localhost:1234/ are served from
// the suite's remotes/ folder, as the suite's README asks; the draft-07
// meta-schema comes from python3-jsonschema's copy when it is installed.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "spec/json_schema.h"

namespace fs = std::filesystem;
using nlohmann::json;
using modelc::spec::SchemaValidator;

namespace {

fs::path suite_root() {
  if (const char* env = std::getenv("MODELC_JSON_SCHEMA_TEST_SUITE")) return env;
  return "/usr/share/json-schema-test-suite";
}

const fs::path kMetaSchemaCopy = "/usr/lib/python3/dist-packages/jsonschema/schemas/draft7.json";

std::optional<json> read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  return json::parse(in);
}

std::optional<json> serve_remote(const std::string& uri) {
  const std::string localhost = "http://localhost:1234/";
  if (uri.rfind(localhost, 0) == 0) return read_json(suite_root() / "remotes" / uri.substr(localhost.size()));
  if (uri == "http://json-schema.org/draft-07/schema") return read_json(kMetaSchemaCopy);
  return std::nullopt;
}

struct Tally {
  int passed = 0;
  int total = 0;
  std::vector<std::string> failures;
};

void run_file(const fs::path& file, Tally& tally) {
  const json groups = *read_json(file);
  for (const json& group : groups) {
    const SchemaValidator validator(group["schema"], {}, serve_remote);
    for (const json& test : group["tests"]) {
      ++tally.total;
      const bool expected = test["valid"].get<bool>();
      bool got = false;
      try {
        got = validator.is_valid(test["data"]);
        // The detailed path must agree with the yes/no path.
        if (validator.validate(test["data"]).empty() != got) got = !expected;
      } catch (const std::exception& e) {
        got = !expected;
      }
      if (got == expected) {
        ++tally.passed;
      } else {
        tally.failures.push_back(file.filename().string() + ": " + group["description"].get<std::string>() + " / " +
                                 test["description"].get<std::string>());
      }
    }
  }
}

Tally run_folder(const fs::path& folder, bool recursive) {
  Tally tally;
  std::vector<fs::path> files;
  if (recursive) {
    for (const auto& e : fs::recursive_directory_iterator(folder))
      if (e.path().extension() == ".json") files.push_back(e.path());
  } else {
    for (const auto& e : fs::directory_iterator(folder))
      if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) run_file(f, tally);
  return tally;
}

}  // namespace

TEST_CASE("JSON-Schema-Test-Suite draft7: every required test passes") {
  const fs::path folder = suite_root() / "tests" / "draft7";
  REQUIRE_MESSAGE(fs::exists(folder), "install the Debian package json-schema-test-suite");
  const Tally tally = run_folder(folder, /*recursive=*/false);
  std::cout << "draft7 required: " << tally.passed << "/" << tally.total << " passed\n";
  for (const std::string& f : tally.failures) std::cout << "  FAILED " << f << "\n";
  CHECK(tally.total > 0);
  CHECK(tally.passed == tally.total);
}

TEST_CASE("JSON-Schema-Test-Suite draft7 optional: counted, not required") {
  const fs::path folder = suite_root() / "tests" / "draft7" / "optional";
  if (!fs::exists(folder)) return;
  const Tally tally = run_folder(folder, /*recursive=*/true);
  std::cout << "draft7 optional: " << tally.passed << "/" << tally.total << " passed\n";
  for (const std::string& f : tally.failures) std::cout << "  (optional) failed " << f << "\n";
}
