// model.h and plan.c for tensors with hostile names: they compile as strict
// C99 with trigraphs on, and the names model.h gives are the model's bytes.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "support/file_io.h"
#include "support/process.h"
#include "support/utf8.h"
#include "targets/c_codegen.h"
#include "tests/targets/hostile_names.h"

namespace fs = std::filesystem;
using namespace modelc;
using namespace modelc::targets;

namespace {

struct TempFolder {
  TempFolder() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("modelc-codegen-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

fs::path runtime_folder() {
  const char* root = std::getenv("MODELC_SOURCE_ROOT");
  REQUIRE(root);
  return fs::path(root) / "runtime";
}

ExecutorPlan hostile_plan(const fs::path& weights) {
  ExecutorPlan plan;
  plan.model_name = "*/ model \"??/\n";
  plan.prefix = "hostile";
  plan.weights_file = weights;
  for (const std::string& name : test::hostile_names()) {
    if (name.find('\0') != std::string::npos) continue;  // refused before code generation (artifact.cpp)
    plan.inputs.push_back({name, lang::TensorType{{2}, lang::DType::float32}});
    plan.outputs.push_back({"out " + name, lang::TensorType{{2}, lang::DType::float32}});
  }
  return plan;
}

ProcessResult gcc(const std::vector<std::string>& args) {
  const auto cc = find_executable("gcc");
  REQUIRE(cc);
  std::vector<std::string> argv{cc->string(), "-std=c99", "-Wall", "-Wextra", "-Werror", "-Wtrigraphs"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv);
}

}  // namespace

TEST_CASE("model.h: hostile names compile and the _NAME macros hold the names' bytes") {
  TempFolder tmp;
  const ExecutorPlan plan = hostile_plan(tmp.path / "weights.bin");
  write_file_atomic(tmp.path / "model.h", generate_model_header(plan));
  std::string program = "#include <stdio.h>\n#include \"model.h\"\n";
  std::string body, want;
  for (const char* kind : {"INPUT", "OUTPUT"}) {
    const auto& list = std::string(kind) == "INPUT" ? plan.inputs : plan.outputs;
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string var = std::string("s_") + kind + std::to_string(i);
      program += "static const char " + var + "[] = HOSTILE_" + kind + "_" + std::to_string(i) + "_NAME;\n";
      body += "  for (i = 0; i + 1 < sizeof " + var + "; ++i) printf(\"%02x\", (unsigned char)" + var +
              "[i]);\n  printf(\"\\n\");\n";
      want += hex_bytes(list[i].name) + "\n";
    }
  }
  program += "int main(void) {\n  size_t i;\n" + body + "  return HOSTILE_NUM_INPUTS == " +
             std::to_string(plan.inputs.size()) + " ? 0 : 1;\n}\n";
  write_file_atomic(tmp.path / "user.c", program);
  const ProcessResult build = gcc({"-I" + tmp.path.string(), "-I" + runtime_folder().string(),
                                   (tmp.path / "user.c").string(), "-o", (tmp.path / "user").string()});
  INFO(build.stderr_text);
  REQUIRE(build.exit_code == 0);
  const ProcessResult run = run_process({(tmp.path / "user").string()});
  CHECK(run.exit_code == 0);
  CHECK(run.stdout_text == want);
}

TEST_CASE("model.h of hostile names is also valid C++") {
  TempFolder tmp;
  write_file_atomic(tmp.path / "model.h", generate_model_header(hostile_plan(tmp.path / "w.bin")));
  write_file_atomic(tmp.path / "user.cpp", "#include \"model.h\"\nint main() { return 0; }\n");
  const auto cxx = find_executable("g++");
  REQUIRE(cxx);
  const ProcessResult build = run_process({cxx->string(), "-std=c++17", "-Wall", "-Werror", "-I" + tmp.path.string(),
                                           "-I" + runtime_folder().string(), (tmp.path / "user.cpp").string(), "-o",
                                           (tmp.path / "user").string()});
  INFO(build.stderr_text);
  CHECK(build.exit_code == 0);
}

TEST_CASE("plan.c of hostile names compiles; weights.c embeds a hostile path as one hidden symbol") {
  TempFolder tmp;
  const fs::path weird = tmp.path / "tmp \"dir\"\\ ??/\n";
  fs::create_directories(weird);
  write_file_atomic(weird / "weights.bin", std::string(64, 'w'));
  const ExecutorPlan plan = hostile_plan(weird / "weights.bin");
  write_file_atomic(tmp.path / "plan.c", generate_plan_c(plan));
  write_file_atomic(tmp.path / "weights.c", generate_weights_c(plan));
  const ProcessResult build = gcc({"-I" + runtime_folder().string(), "-c", (tmp.path / "plan.c").string(), "-o",
                                   (tmp.path / "plan.o").string()});
  INFO(build.stderr_text);
  CHECK(build.exit_code == 0);
  const ProcessResult weights = gcc({"-c", (tmp.path / "weights.c").string(), "-o", (tmp.path / "weights.o").string()});
  INFO(weights.stderr_text);
  REQUIRE(weights.exit_code == 0);
  // The symbol is global (the plan's object refers to it) and hidden (a
  // shared library does not export it); its 64 bytes and the trailing zero.
  const auto nm = find_executable("llvm-nm-14");
  REQUIRE(nm);
  const ProcessResult symbols = run_process({nm->string(), "-S", (tmp.path / "weights.o").string()});
  CHECK(symbols.stdout_text.find(" R hostile_weights") != std::string::npos);
  const auto readelf = find_executable("readelf");
  REQUIRE(readelf);
  const ProcessResult elf = run_process({readelf->string(), "-s", (tmp.path / "weights.o").string()});
  INFO(elf.stdout_text);
  CHECK(elf.stdout_text.find("GLOBAL HIDDEN") != std::string::npos);
}
