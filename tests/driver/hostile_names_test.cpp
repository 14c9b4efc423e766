// Tensor names an ONNX file may hold, end to end: the artifact builds, its
// model.h compiles in a strict C99 program that finds the very bytes of each
// name in the API table, and `modelc run` writes every output inside the
// output folder, whatever the output is called.
#include <doctest/doctest.h>

#include <fstream>
#include <set>

#include "driver/pipeline.h"
#include "support/file_io.h"
#include "support/process.h"
#include "support/utf8.h"
#include "tests/driver/test_util.h"
#include "tests/lang/onnx_test_model.h"
#include "tests/targets/hostile_names.h"

namespace fs = std::filesystem;
using namespace modelc;

namespace {

// Output i is the hostile name i; input i is "in" + it (ONNX names are unique in a graph).
// The empty name is left out: ONNX reads it as "no value".
std::vector<std::pair<std::string, std::string>> hostile_io_names(bool with_nul) {
  std::vector<std::pair<std::string, std::string>> names;
  for (const std::string& n : test::hostile_names()) {
    if (n.empty() || (!with_nul && n.find('\0') != std::string::npos)) continue;
    names.emplace_back("in" + n, n);
  }
  return names;
}

fs::path write_recipe(const test::TempDir& tmp, const fs::path& model) {
  return tmp.write("recipe.yaml", "apiVersion: modelc/v1\nkind: Recipe\nmetadata: {name: hostile, version: 1.0.0}\n"
                                  "model:\n  onnx: " + model.string() + "\ntargets:\n  host: {device: host}\n");
}

std::set<fs::path> files_under(const fs::path& root) {
  std::set<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) out.insert(e.path());
  return out;
}

// A C program that prints the API table's names, then model.h's _NAME macros, in hex, and runs the model.
std::string user_program(size_t count) {
  std::string s =
      "#include <stdio.h>\n#include <stdlib.h>\n#include \"model.h\"\n"
      "static void hex(const char* s, size_t n) { size_t i; for (i = 0; i < n; ++i) printf(\"%02x\", (unsigned char)s[i]); printf(\"\\n\"); }\n"
      "static void hexs(const char* s) { size_t n = 0; while (s[n]) ++n; hex(s, n); }\n";
  for (size_t i = 0; i < count; ++i) {
    s += "static const char in" + std::to_string(i) + "[] = HOSTILE_INPUT_" + std::to_string(i) + "_NAME;\n";
    s += "static const char out" + std::to_string(i) + "[] = HOSTILE_OUTPUT_" + std::to_string(i) + "_NAME;\n";
  }
  s += "int main(void) {\n  const modelc_model_api* api = hostile_api();\n  int32_t i;\n"
       "  modelc_buffer ins[64], outs[64];\n  float x[64][2], y[64][2];\n  modelc_model* m;\n"
       "  if (api->num_inputs != HOSTILE_NUM_INPUTS || api->num_inputs > 64) return 2;\n"
       "  for (i = 0; i < api->num_inputs; ++i) hexs(api->inputs[i].name);\n"
       "  for (i = 0; i < api->num_outputs; ++i) hexs(api->outputs[i].name);\n";
  for (size_t i = 0; i < count; ++i) s += "  hex(in" + std::to_string(i) + ", sizeof in" + std::to_string(i) + " - 1);\n";
  for (size_t i = 0; i < count; ++i) s += "  hex(out" + std::to_string(i) + ", sizeof out" + std::to_string(i) + " - 1);\n";
  s += "  for (i = 0; i < api->num_inputs; ++i) {\n"
       "    x[i][0] = (float)i; x[i][1] = -1.5f;\n"
       "    ins[i].name = api->inputs[i].name; ins[i].data = x[i]; ins[i].bytes = sizeof x[i];\n"
       "    outs[i].name = api->outputs[i].name; outs[i].data = y[i]; outs[i].bytes = sizeof y[i];\n  }\n"
       "  m = hostile_create(1);\n"
       "  if (hostile_run(m, ins, api->num_inputs, outs, api->num_outputs) != MODELC_OK) { fprintf(stderr, \"%s\\n\", hostile_last_error(m)); return 3; }\n"
       "  for (i = 0; i < api->num_outputs; ++i) if (y[i][0] != 2.0f * (float)i || y[i][1] != -3.0f) return 4;\n"
       "  hostile_destroy(m);\n  return 0;\n}\n";
  return s;
}

}  // namespace

TEST_CASE("hostile tensor names: model.h compiles as strict C99 and the API table holds each name's bytes") {
  test::TempDir tmp;
  const auto names = hostile_io_names(false);
  const fs::path model = lang::testing::save(lang::testing::doubling_model(names, {2}), tmp.path() / "hostile.onnx");
  const spec::Recipe recipe = spec::load_recipe(write_recipe(tmp, model));
  driver::CompileOptions options;
  options.out_dir = tmp.path() / "out";
  const auto artifacts = driver::compile(recipe, options);
  REQUIRE(artifacts.size() == 1);
  const fs::path dir = artifacts[0].directory;

  const auto cc = find_executable("gcc");
  REQUIRE(cc);
  write_file_atomic(tmp.path() / "user.c", user_program(names.size()));
  const ProcessResult build =
      run_process({cc->string(), "-std=c99", "-Wall", "-Werror", "-Wtrigraphs", "-I" + dir.string(),
                   (tmp.path() / "user.c").string(), (dir / "libhostile.a").string(), "-lpthread", "-ldl", "-lm", "-o",
                   (tmp.path() / "user").string()});
  INFO(build.stderr_text.substr(0, 4000));
  REQUIRE(build.exit_code == 0);
  const ProcessResult run = run_process({(tmp.path() / "user").string()});
  INFO(run.stderr_text);
  REQUIRE(run.exit_code == 0);
  std::string want;
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [in, out] : names) want += hex_bytes(in) + "\n";
    for (const auto& [in, out] : names) want += hex_bytes(out) + "\n";
  }
  CHECK(run.stdout_text == want);

  // The manifest is valid JSON; a name that is not UTF-8 keeps its bytes in name_hex.
  std::ifstream in(dir / "manifest.json");
  const nlohmann::json manifest = nlohmann::json::parse(in);
  REQUIRE(manifest["outputs"].size() == names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    const nlohmann::json& o = manifest["outputs"][i];
    if (is_valid_utf8(names[i].second)) {
      CHECK(o["name"] == names[i].second);
      CHECK_FALSE(o.contains("name_hex"));
    } else {
      CHECK(o["name_hex"] == hex_bytes(names[i].second));
    }
  }
}

TEST_CASE("modelc run writes each output inside --output-dir, under the file name the manifest gives") {
  test::TempDir tmp;
  const auto names = hostile_io_names(false);
  const fs::path model = lang::testing::save(lang::testing::doubling_model(names, {2}), tmp.path() / "hostile.onnx");
  const fs::path recipe = write_recipe(tmp, model);
  const fs::path out_dir = tmp.path() / "a" / "b" / "outputs";
  const std::vector<std::string> argv{test::modelc_binary().string(), "run", recipe.string(), "-o",
                                      (tmp.path() / "build").string(), "--output-dir", out_dir.string()};
  // A first run builds the artifact and writes the lock; the second may only touch out_dir (and rebuild).
  REQUIRE(run_process(argv).exit_code == 0);
  fs::remove_all(out_dir);
  const std::set<fs::path> before = files_under(tmp.path());
  const ProcessResult r = run_process(argv);
  INFO(r.stderr_text);
  REQUIRE(r.exit_code == 0);

  std::set<fs::path> outside;
  for (const fs::path& p : files_under(tmp.path()))
    if (p.string().rfind(out_dir.string(), 0) != 0) outside.insert(p);
  CHECK(outside == before);
  std::set<fs::path> written;
  for (const auto& e : fs::directory_iterator(out_dir)) written.insert(e.path());
  CHECK(written.size() == names.size());

  std::ifstream in(tmp.path() / "build" / "host" / "manifest.json");
  const nlohmann::json manifest = nlohmann::json::parse(in);
  std::istringstream printed(r.stdout_text);
  std::string line;
  for (size_t i = 0; i < names.size(); ++i) {
    REQUIRE(std::getline(printed, line));
    const fs::path file = line;
    CHECK(file.parent_path() == out_dir);
    CHECK(file.filename() == manifest["outputs"][i]["file"].get<std::string>());
    CHECK(written.count(file));
  }
}

TEST_CASE("a tensor name holding NUL is refused with the model file named, exit 2") {
  test::TempDir tmp;
  using namespace std::string_literals;
  const fs::path model =
      lang::testing::save(lang::testing::doubling_model({{"x", "y\0z"s}}, {2}), tmp.path() / "nul.onnx");
  const fs::path recipe = write_recipe(tmp, model);
  const ProcessResult r =
      run_process({test::modelc_binary().string(), "compile", recipe.string(), "-o", (tmp.path() / "out").string()});
  CHECK(r.exit_code == 2);
  CHECK(r.stderr_text.find(model.string() + ": error: output 0 is named \"y\\000z\", which holds a NUL byte") !=
        std::string::npos);
  CHECK_FALSE(fs::exists(tmp.path() / "out" / "host"));
}
