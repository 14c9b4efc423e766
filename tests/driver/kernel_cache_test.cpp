// The kernel cache shared by builders: four `modelc compile` processes started
// together into one empty cache (the same recipe twice, and two others) all
// build artifacts that compute what the reference interpreter does; a damaged
// cache entry is reported, compiled again and never linked; the lock knows
// which kernel sources made an artifact, and a rebuild without the cache
// gives the bytes it records.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <map>
#include <regex>
#include <thread>

#include "driver/evaluate.h"
#include "driver/pipeline.h"
#include "lang/interpreter.h"
#include "lower/lowering.h"
#include "reports/accuracy.h"
#include "spec/lockfile.h"
#include "support/file_io.h"
#include "support/process.h"
#include "support/sha256.h"
#include "targets/code_cache.h"
#include "tests/driver/test_util.h"

namespace fs = std::filesystem;
using namespace modelc;

namespace {

ProcessResult compile_with_cache(const fs::path& recipe, const fs::path& out, const fs::path& cache) {
  ProcessOptions options;
  options.environment = {{"MODELC_CACHE", cache.string()}};
  return run_process({test::modelc_binary().string(), "compile", recipe.string(), "-o", out.string()}, options);
}

// The artifact's outputs against the reference interpreter's on the recipe's
// inputs: rtol 1e-4 / atol 1e-5, the kernels reassociate float sums.
void check_against_reference(const fs::path& recipe_file, const fs::path& artifact) {
  const spec::Recipe recipe = spec::load_recipe(recipe_file);
  const lang::Module reference = driver::import_model(recipe);
  const std::vector<lang::Tensor> inputs = driver::benchmark_inputs(recipe, reference);
  const std::vector<lang::Tensor> want = lang::evaluate_main(reference, inputs);
  const std::vector<lang::Tensor> got = driver::run_artifact(artifact, inputs, 1);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    REQUIRE(got[i].type() == want[i].type());
    const auto s = reports::compare_outputs(got[i].values<float>(), want[i].values<float>(), reports::Tolerance{1e-4, 1e-5});
    INFO(artifact.string() << " output " << i << ": max abs error " << s.max_abs_error);
    CHECK(s.allclose);
  }
}

// "N kernels (M cached)" from `modelc compile`'s log.
std::pair<int, int> kernel_counts(const std::string& log) {
  std::smatch m;
  REQUIRE(std::regex_search(log, m, std::regex(R"((\d+) kernels \((\d+) cached\))")));
  return {std::stoi(m[1]), std::stoi(m[2])};
}

std::vector<fs::path> entries(const fs::path& folder) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(folder)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("four compiles at once into one empty cache all give correct artifacts") {
  test::TempDir tmp;
  const fs::path cache = tmp.path() / "cache";
  const std::string cnn = read_text_file(test::source_root() / "examples/quickstart/cnn.yaml");
  const fs::path same = tmp.write("cnn.yaml", cnn);
  std::string level1 = cnn;
  level1.replace(level1.find("level: 2"), 8, "level: 1");
  const fs::path other = tmp.write("cnn_o1.yaml", level1);
  std::string mlp = read_text_file(test::source_root() / "examples/quickstart/mlp.yaml");
  mlp.replace(mlp.find("onnx: mlp.onnx"), 14, "onnx: " + (test::source_root() / "examples/quickstart/mlp.onnx").string());
  mlp.replace(mlp.find("input: mlp.input.npy"), 20,
              "input: " + (test::source_root() / "examples/quickstart/mlp.input.npy").string());
  const fs::path third = tmp.write("mlp.yaml", mlp);

  const std::vector<fs::path> recipes{same, same, other, third};
  std::vector<ProcessResult> results(recipes.size());
  std::vector<std::thread> builders;
  for (size_t i = 0; i < recipes.size(); ++i)
    builders.emplace_back([&, i] { results[i] = compile_with_cache(recipes[i], tmp.path() / ("out" + std::to_string(i)), cache); });
  for (std::thread& t : builders) t.join();

  for (size_t i = 0; i < recipes.size(); ++i) {
    INFO("builder " << i << ": " << results[i].stderr_text);
    REQUIRE(results[i].exit_code == 0);
    CHECK(results[i].stderr_text.find("warning") == std::string::npos);
    const fs::path artifact = results[i].stdout_text.substr(0, results[i].stdout_text.find('\n'));
    check_against_reference(recipes[i], artifact);
  }
  // Every entry is whole, and no temporary file is left.
  std::vector<std::string> warnings;
  const targets::CodeCache kernels(cache, "kernel", [&](const std::string& w) { warnings.push_back(w); });
  size_t count = 0;
  for (const fs::path& e : entries(cache / "kernels")) {
    INFO(e.string());
    REQUIRE(e.extension() == ".entry");
    CHECK(kernels.load(e.stem().string(), false));
    ++count;
  }
  CHECK(count > 0);
  CHECK(warnings.empty());
  // A fifth compile finds everything in the cache.
  const ProcessResult again = compile_with_cache(other, tmp.path() / "out4", cache);
  REQUIRE(again.exit_code == 0);
  const auto [total, cached] = kernel_counts(again.stderr_text);
  CHECK(cached == total);
}

TEST_CASE("a recompile with the same code and weights copies the libraries from the cache, as they were linked") {
  test::TempDir tmp;
  const fs::path cache = tmp.path() / "cache";
  const fs::path recipe = tmp.write("cnn.yaml", read_text_file(test::source_root() / "examples/quickstart/cnn.yaml"));
  ProcessOptions options;
  options.environment = {{"MODELC_CACHE", cache.string()}};
  auto compile = [&](const std::string& out) {
    return run_process({test::modelc_binary().string(), "-v", "compile", recipe.string(), "-o", (tmp.path() / out).string()},
                       options);
  };
  const ProcessResult first = compile("first");
  REQUIRE(first.exit_code == 0);
  CHECK(first.stderr_text.find("from the cache (the same code and weights)") == std::string::npos);
  const ProcessResult second = compile("second");
  INFO(second.stderr_text);
  REQUIRE(second.exit_code == 0);
  CHECK(second.stderr_text.find("from the cache (the same code and weights)") != std::string::npos);
  CHECK(second.stderr_text.find("warning") == std::string::npos);
  const nlohmann::json m1 = nlohmann::json::parse(read_text_file(tmp.path() / "first/host/manifest.json"));
  const nlohmann::json m2 = nlohmann::json::parse(read_text_file(tmp.path() / "second/host/manifest.json"));
  CHECK(m1["sha256"] == m2["sha256"]);
  for (const auto& [file, digest] : m2["sha256"].items())
    CHECK(sha256_file(tmp.path() / "second/host" / file) == digest.get<std::string>());
  check_against_reference(recipe, tmp.path() / "second" / "host");
}

TEST_CASE("a device without a runner or shared library (Hexagon) caches its static library too") {
  test::TempDir tmp;
  const fs::path cache = tmp.path() / "cache";
  fs::copy_file(test::source_root() / "examples/quickstart/mlp.onnx", tmp.path() / "mlp.onnx");
  const fs::path recipe = tmp.write("hvx.yaml", "apiVersion: modelc/v1\nkind: Recipe\nmetadata: {name: hvx, version: 1.0.0}\n"
                                                "model:\n  onnx: mlp.onnx\ntargets:\n  dsp: {device: hexagon-hvx}\n");
  for (const char* out : {"first", "second"}) {
    const ProcessResult r = compile_with_cache(recipe, tmp.path() / out, cache);
    INFO(r.stderr_text);
    REQUIRE(r.exit_code == 0);
    const nlohmann::json manifest = nlohmann::json::parse(read_text_file(tmp.path() / out / "dsp" / "manifest.json"));
    CHECK(manifest["files"]["static_library"] == "libhvx.a");
    CHECK_FALSE(manifest["files"].contains("runner"));
    CHECK(sha256_file(tmp.path() / out / "dsp" / "libhvx.a") == manifest["sha256"]["libhvx.a"].get<std::string>());
  }
  CHECK(read_text_file(tmp.path() / "first/dsp/libhvx.a") == read_text_file(tmp.path() / "second/dsp/libhvx.a"));
}

TEST_CASE("a truncated or altered cache entry is compiled again, with a warning, and the artifact is right") {
  test::TempDir tmp;
  const fs::path cache = tmp.path() / "cache";
  const fs::path recipe = tmp.write("cnn.yaml", read_text_file(test::source_root() / "examples/quickstart/cnn.yaml"));
  REQUIRE(compile_with_cache(recipe, tmp.path() / "first", cache).exit_code == 0);

  const std::vector<fs::path> kernels = entries(cache / "kernels");
  REQUIRE(kernels.size() >= 2);
  const std::string whole = read_text_file(kernels[0]);
  write_file_atomic(kernels[0], whole.substr(0, whole.size() / 2));  // truncated
  std::string altered = read_text_file(kernels[1]);
  altered[altered.size() - 10] ^= 0x20;  // one bit in the object code
  write_file_atomic(kernels[1], altered);
  // The code every model of the target shares: Halide's runtime, the
  // executor, the AMX tile kernel (x86-64 Linux) and the runner's object.
  const std::vector<fs::path> runtimes = entries(cache / "runtimes");
  REQUIRE(runtimes.size() == 4);
  for (const fs::path& e : runtimes) write_file_atomic(e, "");
  // The linked libraries of the last build (without this, the second build
  // would copy them, and never read the runner's object).
  std::vector<fs::path> libraries;
  for (const fs::path& e : entries(cache / "libraries"))
    if (fs::is_directory(e)) libraries.push_back(e);
  REQUIRE(libraries.size() == 1);
  fs::path shared;
  for (const fs::path& f : entries(libraries[0]))
    if (f.extension() == ".so") shared = f;
  REQUIRE_FALSE(shared.empty());
  std::string library = read_text_file(shared);
  library[library.size() / 2] ^= 0x01;
  write_file_atomic(shared, library);

  const ProcessResult r = compile_with_cache(recipe, tmp.path() / "second", cache);
  INFO(r.stderr_text);
  REQUIRE(r.exit_code == 0);
  CHECK(r.stderr_text.find("[warning] the cached kernel " + kernels[0].string() + " is damaged (object is cut short)") !=
        std::string::npos);
  CHECK(r.stderr_text.find("[warning] the cached kernel " + kernels[1].string() +
                           " is damaged (the sha256 of object differs") != std::string::npos);
  for (const fs::path& e : runtimes)
    CHECK(r.stderr_text.find("[warning] the cached runtime " + e.string() + " is damaged") != std::string::npos);
  CHECK(r.stderr_text.find("[warning] the cached libraries " + libraries[0].string() + " are damaged (the sha256 of " +
                           shared.filename().string() + " differs") != std::string::npos);
  const auto [total, cached] = kernel_counts(r.stderr_text);
  CHECK(cached == total - 2);
  check_against_reference(recipe, tmp.path() / "second" / "host");
  // The two kernels compiled again, in a process that took the others from
  // the cache, are the bytes the first build made (lower/kernel_names.h).
  for (const std::string library : {"libquickstart_cnn.a", "libquickstart_cnn.so"})
    CHECK(sha256_file(tmp.path() / "second/host" / library) == sha256_file(tmp.path() / "first/host" / library));
  // The entries were replaced by good ones.
  const ProcessResult third = compile_with_cache(recipe, tmp.path() / "third", cache);
  CHECK(third.stderr_text.find("warning") == std::string::npos);
  const auto [total3, cached3] = kernel_counts(third.stderr_text);
  CHECK(cached3 == total3);
}

TEST_CASE("the lock records the digest of the kernel sources; --locked names it when modelc's lower/ changed") {
  test::TempDir tmp;
  fs::copy_file(test::source_root() / "examples/quickstart/mlp.onnx", tmp.path() / "mlp.onnx");
  const fs::path recipe_file = tmp.write("mlp.yaml", "apiVersion: modelc/v1\nkind: Recipe\nmetadata: {name: sources, "
                                                     "version: 1.0.0}\nmodel:\n  onnx: mlp.onnx\ntargets:\n  host: {device: host}\n");
  const spec::Recipe recipe = spec::load_recipe(recipe_file);
  driver::CompileOptions options;
  options.out_dir = tmp.path() / "out";
  driver::compile(recipe, options);
  const fs::path lock_file = tmp.path() / "mlp.lock";
  spec::Lock lock = spec::read_lock(lock_file);
  CHECK(lock.toolchain.at("kernel_sources") == lower::kernel_source_digest());
  lock.toolchain["kernel_sources"] = std::string(64, '0');
  spec::write_lock(lock_file, lock);
  options.locked = true;
  try {
    driver::compile(recipe, options);
    FAIL("--locked accepted a lock of other kernel sources");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("kernel_sources: " + std::string(64, '0') + " in the lock") != std::string::npos);
  }
}

// `--emit asm` disassembles the objects that are linked: one listing per
// kernel of the manifest, labelled with the kernel's symbol and ending its
// functions in returns, the same text whether the kernel was compiled or
// taken from the cache; on an x86 host with FMA the convolutions multiply-add.
TEST_CASE("--emit asm writes each linked kernel's instructions, compiled or cached alike") {
  test::TempDir tmp;
  const fs::path cache = tmp.path() / "cache";
  const fs::path recipe = tmp.write("cnn.yaml", read_text_file(test::source_root() / "examples/quickstart/cnn.yaml"));
  std::map<std::string, std::string> listings[2];
  for (int run = 0; run < 2; ++run) {
    CAPTURE(run);
    const fs::path out = tmp.path() / ("out" + std::to_string(run));
    ProcessOptions options;
    options.environment = {{"MODELC_CACHE", cache.string()}};
    const ProcessResult r = run_process(
        {test::modelc_binary().string(), "compile", recipe.string(), "-o", out.string(), "--emit", "asm"}, options);
    INFO(r.stderr_text);
    REQUIRE(r.exit_code == 0);
    CHECK(kernel_counts(r.stderr_text).second == (run == 0 ? 0 : kernel_counts(r.stderr_text).first));
    fs::path artifact;
    for (const auto& e : fs::recursive_directory_iterator(out))
      if (e.path().filename() == "manifest.json") artifact = e.path().parent_path();
    REQUIRE(!artifact.empty());
    const nlohmann::json manifest = nlohmann::json::parse(read_text_file(artifact / "manifest.json"));
    REQUIRE(!manifest["kernels"].empty());
    for (const auto& k : manifest["kernels"]) {
      const std::string symbol = k["name"];
      CAPTURE(symbol);
      const std::string text = read_text_file(artifact / "kernels" / (symbol + ".s"));
      CHECK(text.rfind("# " + symbol + ": ", 0) == 0);
      CHECK(text.find("\n" + symbol + ":\n") != std::string::npos);
      CHECK(std::regex_search(text, std::regex(R"(\n\s+[0-9a-f]+:\tret)")));
      CHECK(text.find(".byte") == std::string::npos);  // every byte of code decoded
      listings[run][symbol] = text;
    }
  }
  CHECK(listings[0] == listings[1]);
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("fma")) {
    int multiply_adds = 0;
    for (const auto& [symbol, text] : listings[0]) multiply_adds += text.find("\tvfmadd") != std::string::npos;
    CHECK(multiply_adds > 0);
  }
#endif
}

// Kernels compiled again, without the cache, in the process that compiled
// them first (where Halide's process-wide name counters used to give every
// name a new suffix) are the same bytes: `--locked` accepts the rebuild.
TEST_CASE("--locked accepts a second build without the cache in the same process") {
  test::TempDir tmp;
  const fs::path recipe_file = tmp.write("cnn.yaml", read_text_file(test::source_root() / "examples/quickstart/cnn.yaml"));
  const spec::Recipe recipe = spec::load_recipe(recipe_file);
  driver::CompileOptions options;
  options.out_dir = tmp.path() / "out";
  options.use_cache = false;
  driver::compile(recipe, options);
  options.locked = true;
  options.force = true;
  CHECK_NOTHROW(driver::compile(recipe, options));
}
