// Device profiles: what modelc needs to know to build for, and run on, a
// device. Each is a YAML file under targets/devices/ (validated against
// schemas/target.schema.json) compiled into the binary.
#pragma once

#include <string>
#include <vector>

namespace modelc::targets {

enum class RunMethod { native, qemu_user, node, none };

struct DeviceProfile {
  std::string name;
  std::string description;
  std::string halide_target;  // "host": detected on the machine that compiles
  std::string llvm_triple;    // "": the host's
  int vector_bits = 0;        // 0: from the Halide target
  RunMethod run = RunMethod::none;
  std::string link_compiler = "cc";
  std::vector<std::string> link_libraries{"pthread", "dl", "m"};
};

// Throws modelc::Error listing the known profiles when `name` is unknown.
const DeviceProfile& find_device_profile(const std::string& name);
std::vector<std::string> device_profile_names();

// The concrete Halide target string for a profile ("host" resolved to this
// machine's features).
std::string resolved_halide_target(const DeviceProfile& profile);
// Whether this machine can run code built for the profile natively.
bool runs_natively_here(const DeviceProfile& profile);

}  // namespace modelc::targets
