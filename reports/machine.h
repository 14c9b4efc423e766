// The machine a report was measured on: what someone needs to judge whether
// two reports are comparable (CPU, cores, the ISA extensions schedules use, OS,
// memory).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace modelc::reports {

struct CpuDescription {
  std::string model_name;              // "" when /proc/cpuinfo does not say
  std::vector<std::string> isa_flags;  // the relevant ones, in kRelevantIsaFlags order
};

struct MachineInfo {
  std::string cpu_model;
  std::string architecture;            // uname machine: x86_64, aarch64, ...
  int logical_cores = 0;               // online logical CPUs
  int available_cores = 0;             // CPUs this process may run on (affinity mask)
  std::vector<std::string> isa_flags;  // e.g. avx2 fma avx512f avx512_vnni amx_tile, or neon dotprod
  std::string os;                      // uname: "Linux 6.1.0-18-amd64"
  uint64_t memory_bytes = 0;           // physical memory

  bool operator==(const MachineInfo&) const = default;
};

// The ISA extensions a report mentions, in display order. ARM features are
// given their common names (neon for asimd, dotprod for asimddp, fp16 for
// asimdhp).
const std::vector<std::string>& relevant_isa_flags();

// Reads the text of /proc/cpuinfo (x86 "model name"/"flags", ARM
// "Features"/"CPU part"); only the first processor's block counts.
CpuDescription parse_cpuinfo(std::string_view cpuinfo_text);

// Never throws: what cannot be read stays empty/zero.
MachineInfo describe_machine();

// The CPUs this process may run on (its affinity mask), in order; empty when
// the mask cannot be read.
std::vector<int> allowed_cpus();

}  // namespace modelc::reports
