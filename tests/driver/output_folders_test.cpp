// A build replaces only folders modelc made: a folder of the user's where an
// artifact or an IR dump would go is kept and the build refused (exit 2, the
// folder named) unless --force; names that would share a folder are refused.
#include <doctest/doctest.h>

#include "driver/pipeline.h"
#include "support/file_io.h"
#include "support/process.h"
#include "tests/driver/test_util.h"

namespace fs = std::filesystem;
using namespace modelc;

namespace {

ProcessResult modelc_cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv{test::modelc_binary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessResult r = run_process(argv);
  REQUIRE(r.started);
  return r;
}

std::string mlp_recipe(const std::string& targets = "  host: {device: host}\n", const std::string& extra = "") {
  return "apiVersion: modelc/v1\nkind: Recipe\nmetadata: {name: folders, version: 1.0.0}\nmodel:\n  onnx: " +
         (test::source_root() / "examples/quickstart/mlp.onnx").string() + "\ntargets:\n" + targets + extra;
}

}  // namespace

TEST_CASE("a folder of the user's where the artifact goes is kept, and the build refused") {
  test::TempDir tmp;
  const fs::path recipe = tmp.write("recipe.yaml", mlp_recipe());
  const fs::path out = tmp.path() / "out";
  const fs::path notes = tmp.write("out/host/notes.txt", "mine");
  const ProcessResult r = modelc_cli({"compile", recipe.string(), "-o", out.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.stderr_text.find((out / "host").string() + ": error: the output folder exists and modelc did not make it") !=
        std::string::npos);
  CHECK(r.stderr_text.find("--force") != std::string::npos);
  CHECK(read_text_file(notes) == "mine");
  CHECK_FALSE(fs::exists(out / "host" / "manifest.json"));
}

TEST_CASE("`-o DIR --emit ir` keeps a DIR/ir of the user's") {
  test::TempDir tmp;
  const fs::path recipe = tmp.write("recipe.yaml", mlp_recipe());
  const fs::path notes = tmp.write("home/ir/notes.txt", "mine");
  const ProcessResult r = modelc_cli({"compile", recipe.string(), "-o", (tmp.path() / "home").string(), "--emit", "ir"});
  CHECK(r.exit_code == 2);
  CHECK(r.stderr_text.find((tmp.path() / "home" / "ir").string() + ": error: the output folder exists") != std::string::npos);
  CHECK(read_text_file(notes) == "mine");
  // Nothing was built: the refusal comes before any work.
  CHECK_FALSE(fs::exists(tmp.path() / "home" / "host"));
}

TEST_CASE("a folder modelc made is replaced by the next build; --force replaces one it did not") {
  test::TempDir tmp;
  const fs::path recipe = tmp.write("recipe.yaml", mlp_recipe());
  const fs::path out = tmp.path() / "out";
  REQUIRE(modelc_cli({"compile", recipe.string(), "-o", out.string(), "--emit", "ir"}).exit_code == 0);
  CHECK(output_folder_kind(out / "host") == "artifact");
  CHECK(output_folder_kind(out / "ir") == "ir");
  write_file_atomic(out / "host" / "stale.txt", "from before");
  REQUIRE(modelc_cli({"compile", recipe.string(), "-o", out.string(), "--emit", "ir"}).exit_code == 0);
  CHECK_FALSE(fs::exists(out / "host" / "stale.txt"));
  CHECK(fs::exists(out / "host" / "manifest.json"));

  fs::remove_all(out / "host");
  tmp.write("out/host/notes.txt", "mine");
  CHECK(modelc_cli({"compile", recipe.string(), "-o", out.string()}).exit_code == 2);
  const ProcessResult forced = modelc_cli({"compile", recipe.string(), "-o", out.string(), "--force"});
  INFO(forced.stderr_text);
  CHECK(forced.exit_code == 0);
  CHECK_FALSE(fs::exists(out / "host" / "notes.txt"));
  CHECK(fs::exists(out / "host" / "manifest.json"));
}

TEST_CASE("a target called ir is refused: `--emit ir` writes that folder") {
  test::TempDir tmp;
  const fs::path recipe = tmp.write("recipe.yaml", mlp_recipe("  host: {device: host}\n  ir: {device: host}\n"));
  const ProcessResult r = modelc_cli({"validate", recipe.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.stderr_text.find("recipe.yaml:8:3: error: the target name 'ir' is reserved") != std::string::npos);
  CHECK(modelc_cli({"compile", recipe.string(), "-o", (tmp.path() / "out").string()}).exit_code == 2);
  CHECK_FALSE(fs::exists(tmp.path() / "out"));
}

TEST_CASE("two variants that would share a folder are refused") {
  test::TempDir tmp;
  // "a" and "A" give the same slug, and the numbering that tells them apart
  // then collides with the third value's name.
  const fs::path recipe =
      tmp.write("recipe.yaml", mlp_recipe("  host: {device: host}\n", "variants:\n  metadata.description: [a, A, a-2]\n"));
  const ProcessResult r = modelc_cli({"validate", recipe.string()});
  INFO(r.stderr_text);
  CHECK(r.exit_code == 2);
  CHECK(r.stderr_text.find("would both build into the folder") != std::string::npos);
}

TEST_CASE("an artifact of a build without variants gives way to a variant's folder of the same name") {
  test::TempDir tmp;
  const fs::path out = tmp.path() / "out";
  const fs::path plain = tmp.write("plain.yaml", mlp_recipe());
  REQUIRE(modelc_cli({"compile", plain.string(), "-o", out.string()}).exit_code == 0);
  REQUIRE(output_folder_kind(out / "host") == "artifact");
  // variants over the target axis are named after the targets: out/host/host.
  const fs::path varied = tmp.write("varied.yaml", mlp_recipe("  host: {device: host}\n  other: {device: host}\n",
                                                              "variants:\n  target: [host, other]\n"));
  const ProcessResult r = modelc_cli({"compile", varied.string(), "-o", out.string()});
  INFO(r.stderr_text);
  REQUIRE(r.exit_code == 0);
  CHECK(output_folder_kind(out / "host") == "variant");
  CHECK(output_folder_kind(out / "host" / "host") == "artifact");
  CHECK(output_folder_kind(out / "other" / "other") == "artifact");
}
