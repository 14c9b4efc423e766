#include "reports/machine.h"

#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace modelc::reports {
namespace {

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

// /proc/cpuinfo spelling -> report spelling, for ARM features with other common names.
const std::map<std::string, std::string, std::less<>>& feature_aliases() {
  static const std::map<std::string, std::string, std::less<>> aliases{
      {"asimd", "neon"}, {"asimddp", "dotprod"}, {"asimdhp", "fp16"}};
  return aliases;
}

std::string read_proc_file(const char* path) {
  std::ifstream in(path);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

const std::vector<std::string>& relevant_isa_flags() {
  static const std::vector<std::string> flags{
      // x86
      "sse4_2", "avx", "f16c", "fma", "avx2", "avx_vnni", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
      "avx512_bf16", "avx512_fp16", "amx_tile", "amx_int8", "amx_bf16",
      // ARM
      "neon", "fp16", "dotprod", "i8mm", "bf16", "sve", "sve2", "sme"};
  return flags;
}

CpuDescription parse_cpuinfo(std::string_view cpuinfo_text) {
  CpuDescription cpu;
  std::set<std::string, std::less<>> present;
  std::string arm_part;
  bool seen_processor = false;

  size_t start = 0;
  while (start <= cpuinfo_text.size()) {
    const size_t end = std::min(cpuinfo_text.find('\n', start), cpuinfo_text.size());
    const std::string_view line = cpuinfo_text.substr(start, end - start);
    start = end + 1;

    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = trim(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));

    if (key == "processor") {
      if (seen_processor) break;  // the first block describes the CPU well enough
      seen_processor = true;
    } else if (key == "model name" && cpu.model_name.empty()) {
      cpu.model_name = value;
    } else if (key == "CPU part" && arm_part.empty()) {
      arm_part = value;
    } else if (key == "flags" || key == "Features") {
      std::istringstream words{std::string(value)};
      for (std::string word; words >> word;) {
        const auto alias = feature_aliases().find(word);
        present.insert(alias == feature_aliases().end() ? word : alias->second);
      }
    }
  }
  if (cpu.model_name.empty() && !arm_part.empty()) cpu.model_name = "ARM CPU part " + arm_part;

  for (const std::string& flag : relevant_isa_flags()) {
    if (present.contains(flag)) cpu.isa_flags.push_back(flag);
  }
  return cpu;
}

MachineInfo describe_machine() {
  MachineInfo machine;
  const CpuDescription cpu = parse_cpuinfo(read_proc_file("/proc/cpuinfo"));
  machine.cpu_model = cpu.model_name;
  machine.isa_flags = cpu.isa_flags;

  if (utsname names{}; uname(&names) == 0) {
    machine.os = std::string(names.sysname) + " " + names.release;
    machine.architecture = names.machine;
  }
  machine.logical_cores = static_cast<int>(std::max(0L, sysconf(_SC_NPROCESSORS_ONLN)));
  machine.available_cores = static_cast<int>(allowed_cpus().size());
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page_size > 0) machine.memory_bytes = static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size);
  return machine;
}

}  // namespace modelc::reports
