// lower/llvm_object.h: kernels that Halide 14 writes for LLVM's
// "sapphirerapids" CPU, compiled from their bitcode with that CPU's
// extensions switched off, so that they run on AMD Zen 4 and Zen 5.
#include <doctest/doctest.h>

#include <Halide.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <unistd.h>

#include "lower/llvm_object.h"
#include "support/diagnostic.h"

namespace {

namespace fs = std::filesystem;

const char* const kSapphireRapids =
    "x86-64-linux-avx-avx2-avx512-avx512_cannonlake-avx512_sapphirerapids-avx512_skylake-f16c-fma-sse41-no_runtime-"
    "no_asserts";

// How many instructions of `mnemonic` objdump finds in an object file.
int count_instructions(const fs::path& object, const std::string& mnemonic) {
  const std::string command = "objdump -d --no-show-raw-insn " + object.string();
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  REQUIRE(pipe);
  int count = 0;
  char line[512];
  while (fgets(line, sizeof line, pipe.get()))
    if (std::string(line).find("\t" + mnemonic + " ") != std::string::npos) ++count;
  return count;
}

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("modelc-llvm-object-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir / name;
}

}  // namespace

TEST_CASE("a Sapphire Rapids kernel compiled without AVX512-FP16 has none of its instructions") {
  // Strided 16-bit loads: for "sapphirerapids" LLVM inserts the lanes with
  // vmovw, an AVX512-FP16 instruction (a SIGILL on Zen 4 and 5).
  Halide::ImageParam in(Halide::UInt(16), 1, "in");
  Halide::Var x("x");
  Halide::Func f("f");
  f(x) = in(x * 3) + in(x * 5 + 1);
  f.vectorize(x, 8);
  const fs::path bitcode = scratch("f.bc"), with = scratch("with.o"), without = scratch("without.o");
  f.compile_to({{Halide::OutputFileType::bitcode, bitcode.string()}}, {in}, "f", Halide::Target(kSapphireRapids));
  modelc::lower::emit_object_from_bitcode(bitcode, with, "");
  modelc::lower::emit_object_from_bitcode(bitcode, without, ",-avx512fp16,-avxvnni");
  CHECK(count_instructions(with, "vmovw") > 0);  // the test would notice the extension
  CHECK(count_instructions(without, "vmovw") == 0);
  CHECK(count_instructions(without, "vpaddw") > 0);  // the kernel is there
  fs::remove_all(bitcode.parent_path());
}

TEST_CASE("a missing or unreadable bitcode file is an error that names it") {
  const fs::path missing = scratch("missing.bc"), garbage = scratch("garbage.bc"), object = scratch("out.o");
  CHECK_THROWS_WITH_AS(modelc::lower::emit_object_from_bitcode(missing, object, ""),
                       doctest::Contains(missing.string().c_str()), modelc::Error);
  std::ofstream(garbage) << "not bitcode";
  CHECK_THROWS_WITH_AS(modelc::lower::emit_object_from_bitcode(garbage, object, ""),
                       doctest::Contains("could not read the bitcode"), modelc::Error);
  CHECK_FALSE(fs::exists(object));
  fs::remove_all(garbage.parent_path());
}

TEST_CASE("the extensions switched off are the ones this CPU lacks") {
  const std::string& off = modelc::lower::missing_sapphirerapids_features();
#if defined(__x86_64__)
  __builtin_cpu_init();
  const bool halide_calls_it_sapphire_rapids = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bf16");
  CHECK((off.find("-avx512fp16") != std::string::npos) ==
        (halide_calls_it_sapphire_rapids && !__builtin_cpu_supports("avx512fp16")));
  CHECK((off.find("-avxvnni") != std::string::npos) == (halide_calls_it_sapphire_rapids && !__builtin_cpu_supports("avxvnni")));
#else
  CHECK(off.empty());
#endif
}
