// libFuzzer target: a recipe file, through everything spec/ does with it.
//
// Each input is written as recipe.yaml into a scratch folder and loaded the way
// the CLI loads a recipe: spec::load_recipe (YAML with marks, `extends`,
// defaults, schema validation, typed Recipe and its checks), then
// spec::expand_variants (every variant built and validated again), then every
// diagnostic formatted. Going through a real file rather than calling
// parse_yaml + build_recipe on a buffer is what lets the fuzzer reach
// `extends`: the scratch folder holds fixed files an input can extend
// (base.yaml, files/base.yaml, files/cycle_b.yaml, which extends recipe.yaml
// back) and the model/data files that recipes name, so inputs mutated from the
// examples and the bad-recipe goldens keep passing the file checks and go on
// into the deeper stages.
//
// Only a modelc::Error is an acceptable outcome for a bad input. Any other
// exception escapes, and libFuzzer reports it as a crash: the CLI would call it
// an internal error ("this is a bug in modelc").
//
// To stay hermetic, an input whose `extends` leaves the scratch folder (an
// absolute path or a '..' step) is skipped before it is written; the fixed
// files use '..' only to reach recipe.yaml.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "spec/document.h"
#include "spec/recipe.h"
#include "spec/variants.h"
#include "support/diagnostic.h"

namespace fs = std::filesystem;
namespace spec = modelc::spec;
using nlohmann::json;

namespace {

constexpr std::string_view kBase = R"(# What the fuzzed recipes extend.
apiVersion: modelc/v1
kind: Recipe
metadata: {name: fuzz-base, version: 0.1.0, owners: [fuzz]}
model:
  onnx: files/tiny.onnx
  inputs: [{name: x, shape: [1, 3, 8, 8], dtype: float32}]
quantization:
  activations:
    calibration: {method: percentile, percentile: 99.9, data: files/calib/}
targets:
  host: {device: host}
  avx2: {device: x86-64-avx2, threads: 2}
variants:
  optimize.level: [1, 3]
report:
  baselines: [reference]
  formats: [md, json]
)";

void write(const fs::path& path, std::string_view text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary).write(text.data(), static_cast<std::streamsize>(text.size()));
}

// The scratch folder, made once per process and removed at exit. Never
// freed: the atexit handler, registered while `dir` is being made, runs after
// the destructor of a plain static `dir` (a use-after-free when replaying).
const fs::path& scratch() {
  static const fs::path* const dir = new fs::path([] {
    std::string name = (fs::temp_directory_path() / "modelc-fuzz-XXXXXX").string();
    if (::mkdtemp(name.data()) == nullptr) std::abort();
    const fs::path d = name;
    write(d / "base.yaml", kBase);
    write(d / "files" / "base.yaml", kBase);
    write(d / "files" / "cycle_b.yaml", "extends: ../recipe.yaml\n");
    // spec/ checks that named files exist; it never reads models or data.
    for (const char* f : {"tiny.onnx", "mlp.onnx", "mlp.input.npy", "input.npy", "files/tiny.onnx",
                          "files/calib/sample0.npy", "calib/sample0.npy", "tuning.jsonl"})
      write(d / f, "");
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(*dir, ec);
    });
    return d;
  }());
  return *dir;
}

bool stays_inside(const json& name) {
  if (!name.is_string()) return true;  // spec/ reports it
  const fs::path p = name.get<std::string>();
  if (p.is_absolute()) return false;
  for (const fs::path& part : p)
    if (part == "..") return false;
  return true;
}

bool extends_stays_inside(std::string_view text) {
  try {
    const spec::Document doc = spec::parse_yaml(text, "recipe.yaml");
    if (!doc.value.is_object() || !doc.value.contains("extends")) return true;
    const json& extends = doc.value["extends"];
    if (!extends.is_array()) return stays_inside(extends);
    for (const json& e : extends)
      if (!stays_inside(e)) return false;
    return true;
  } catch (const modelc::Error&) {
    return true;  // load_recipe meets the same error
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (!extends_stays_inside(text)) return -1;  // not added to the corpus
  const fs::path recipe = scratch() / "recipe.yaml";
  write(recipe, text);
  try {
    const spec::Recipe r = spec::load_recipe(recipe);
    for (const spec::Variant& v : spec::expand_variants(r)) {
      if (v.name.empty()) std::abort();  // every variant has a name
    }
  } catch (const modelc::Error& e) {
    if (e.diagnostics().empty()) std::abort();  // an error says what is wrong
    for (const modelc::Diagnostic& d : e.diagnostics()) (void)d.format();
  }
  return 0;
}
