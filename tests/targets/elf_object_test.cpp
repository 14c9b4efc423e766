// The weights' object written without an assembler (targets/elf_object.h):
// a program links it with GNU ld and with lld and reads back every byte from
// a 64-byte aligned, hidden symbol; a shared library does not export it.
#include <doctest/doctest.h>

#include <elf.h>

#include <filesystem>
#include <random>
#include <string>

#include "support/diagnostic.h"
#include "support/file_io.h"
#include "support/process.h"
#include "targets/elf_object.h"

namespace fs = std::filesystem;
using namespace modelc;
using namespace modelc::targets;

namespace {


// Prints the data's size, whether it is 64-byte aligned, a checksum of its bytes and its trailing byte.
constexpr const char* kReader = R"(#include <stdint.h>
#include <stdio.h>
extern const unsigned char t_weights[] __attribute__((visibility("hidden")));
int main(int argc, char** argv) {
  unsigned long n = 0, sum = 0;
  sscanf(argv[1], "%lu", &n);
  for (unsigned long i = 0; i < n; ++i) sum = sum * 31 + t_weights[i];
  printf("%d %lu %d\n", (int)((uintptr_t)t_weights % 64), sum, t_weights[n]);
  return argc == 2 ? 0 : 1;
}
)";

std::string expected(const std::string& data) {
  unsigned long sum = 0;
  for (const char c : data) sum = sum * 31 + static_cast<unsigned char>(c);
  return "0 " + std::to_string(sum) + " 0\n";
}

}  // namespace

TEST_CASE("a data object written directly links with GNU ld and lld, aligned, hidden, byte for byte") {
  const auto host = elf_data_object_machine("");
  REQUIRE(host);
  CHECK(elf_data_object_machine("x86_64-linux-gnu") == EM_X86_64);
  CHECK(elf_data_object_machine("aarch64-linux-gnu") == EM_AARCH64);
  CHECK_FALSE(elf_data_object_machine("riscv64-linux-gnu"));  // its float ABI lives in e_flags: the assembler's job
  CHECK_FALSE(elf_data_object_machine("wasm32-unknown-unknown"));
  const auto cc = find_executable("cc");
  REQUIRE(cc);
  const ScratchDirectory scratch("modelc-elf-test");
  const fs::path& dir = scratch.path();
  write_file_atomic(dir / "reader.c", std::string_view(kReader));
  std::mt19937 rng(7);
  for (const size_t size : {size_t{0}, size_t{1}, size_t{4099}}) {
    CAPTURE(size);
    std::string data(size, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    const fs::path object = dir / "weights.o";
    write_elf_data_object(object, *host, "t_weights", data.size(), [&](std::ostream& out) { out << data; });
    for (const std::string linker : {"-fuse-ld=bfd", "-fuse-ld=lld"}) {
      CAPTURE(linker);
      const fs::path program = dir / "reader";
      const ProcessResult link = run_process({cc->string(), linker, (dir / "reader.c").string(), object.string(), "-o",
                                              program.string()});
      INFO(link.stderr_text);
      REQUIRE(link.exit_code == 0);
      CHECK(link.stderr_text.empty());  // no warning (an executable stack, a bad section)
      const ProcessResult run = run_process({program.string(), std::to_string(size)});
      CHECK(run.stdout_text == expected(data));
    }
  }
  // Hidden: a shared library made of it exports nothing.
  const ProcessResult shared = run_process({cc->string(), "-fuse-ld=lld", "-shared", (dir / "weights.o").string(), "-o",
                                            (dir / "libw.so").string()});
  REQUIRE(shared.exit_code == 0);
  const auto nm = find_executable("llvm-nm-14");
  REQUIRE(nm);
  CHECK(run_process({nm->string(), "-D", "--defined-only", (dir / "libw.so").string()}).stdout_text.find("t_weights") ==
        std::string::npos);
  // A data stream that writes the wrong amount is an error, not a corrupt object.
  CHECK_THROWS_WITH_AS(write_elf_data_object(dir / "short.o", *host, "t_weights", 10,
                                             [](std::ostream& out) { out << "abc"; }),
                       doctest::Contains("received 3 bytes of data, expected 10"), Error);
}
