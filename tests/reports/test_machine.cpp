#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "reports/machine.h"

using namespace modelc::reports;

namespace {

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

TEST_CASE("parse_cpuinfo: x86 model name and relevant flags in display order") {
  const char* text =
      "processor\t: 0\n"
      "vendor_id\t: GenuineIntel\n"
      "model name\t: Intel(R) Xeon(R) Platinum 8480+\n"
      "flags\t\t: fpu vme sse4_2 avx2 fma avx512f avx512_vnni amx_tile amx_int8 avx512_bf16 hypervisor\n"
      "\n"
      "processor\t: 1\n"
      "model name\t: Another CPU\n"
      "flags\t\t: fpu sve\n";
  const CpuDescription cpu = parse_cpuinfo(text);
  CHECK(cpu.model_name == "Intel(R) Xeon(R) Platinum 8480+");
  const std::vector<std::string> expected{"sse4_2", "fma", "avx2", "avx512f", "avx512_vnni", "avx512_bf16",
                                          "amx_tile", "amx_int8"};
  CHECK(cpu.isa_flags == expected);
}

TEST_CASE("parse_cpuinfo: ARM features get their common names") {
  const char* text =
      "processor\t: 0\n"
      "BogoMIPS\t: 108.00\n"
      "Features\t: fp asimd evtstrm aes crc32 asimdhp asimddp i8mm bf16 sve\n"
      "CPU implementer\t: 0x41\n"
      "CPU part\t: 0xd0c\n";
  const CpuDescription cpu = parse_cpuinfo(text);
  CHECK(cpu.model_name == "ARM CPU part 0xd0c");
  CHECK(contains(cpu.isa_flags, "neon"));
  CHECK(contains(cpu.isa_flags, "dotprod"));
  CHECK(contains(cpu.isa_flags, "fp16"));
  CHECK(contains(cpu.isa_flags, "i8mm"));
  CHECK_FALSE(contains(cpu.isa_flags, "asimd"));
}

TEST_CASE("parse_cpuinfo: empty text gives an empty description") {
  const CpuDescription cpu = parse_cpuinfo("");
  CHECK(cpu.model_name.empty());
  CHECK(cpu.isa_flags.empty());
}

TEST_CASE("describe_machine reads this machine") {
  const MachineInfo machine = describe_machine();
  CHECK(machine.logical_cores >= 1);
  CHECK(machine.available_cores >= 1);
  CHECK(machine.available_cores <= machine.logical_cores);
  CHECK(machine.memory_bytes > 0);
  CHECK_FALSE(machine.os.empty());
  CHECK_FALSE(machine.architecture.empty());
}
