// Device profiles: what modelc needs to know to build for, and run on, a
// device. Each built-in profile is a YAML file under targets/devices/
// (validated against schemas/target.schema.json) compiled into the binary; a
// recipe may bring its own (parse_device_profile).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lower/lowering.h"

namespace modelc::spec {
struct Document;
}

namespace modelc::targets {

// How artifacts of a profile run on this machine (schemas/target.schema.json `run`).
enum class RunMethod { native, qemu_user, node, opencl, cuda, none };
const char* to_string(RunMethod method);

// Which schedule templates a profile's kernels get.
enum class ScheduleFamily { x86, arm, riscv, wasm, gpu, hvx };
const char* to_string(ScheduleFamily family);

struct QemuSettings {
  std::string binary;   // e.g. qemu-aarch64
  std::string sysroot;  // -L
  std::string cpu;      // -cpu; empty: the emulator's default
};

struct LinkSettings {
  std::string compiler = "cc";  // C compiler driver with the target's C library
  std::vector<std::string> flags;
  std::vector<std::string> libraries{"pthread", "dl", "m"};
  bool shared = true;           // the target has shared libraries
  std::string package;          // the Debian package(s) that bring the compiler
};

// Peak figures of the device a profile stands for, for roofline estimates.
struct PeakFigures {
  double gflops = 0;         // float32, a multiply-add counted as two
  double bandwidth_gbs = 0;  // memory
  std::string source;        // the device and how the figures were derived
};

struct DeviceProfile {
  std::string name;
  std::string description;
  std::string halide_target;  // "host": detected on the machine that compiles; "host-<features>": plus those
  std::string llvm_triple;    // "": the host's
  std::optional<int> vector_bits;  // absent: the Halide target's natural vector
  int cores = 0;
  ScheduleFamily family = ScheduleFamily::x86;
  RunMethod run = RunMethod::none;
  QemuSettings qemu;
  std::optional<LinkSettings> link;  // absent: no C library here, the static library only
  std::optional<PeakFigures> peak;
  std::string notes;
  std::string origin;  // where the profile was defined (targets/devices/<name>.yaml, a recipe)

  // Whether the artifact gets a runner executable (it needs the target's C library).
  bool has_runner() const { return link.has_value(); }
  bool has_shared_library() const { return link.has_value() && link->shared; }
};

// Throws modelc::Error listing the known profiles when `name` is unknown.
const DeviceProfile& find_device_profile(const std::string& name);
std::vector<std::string> device_profile_names();

// A profile from a validated-or-not document (a recipe's inline profile, or a
// file it names): validated against the target schema, errors located in it.
DeviceProfile parse_device_profile(const spec::Document& document);

// The concrete Halide target string for a profile ("host" resolved to this
// machine's features).
std::string resolved_halide_target(const DeviceProfile& profile);
// What the profile's kernels are compiled for: its resolved Halide target,
// and AMX tiles where it is this machine ("host", "host-<features>") and this
// machine has them (lower::amx_for_host), and likewise bfloat16 pair dot
// products where they are fast (lower::bf16_dot_for_host, not with AMX). A
// named x86 target never gets either: the machine that runs it may lack them.
lower::KernelTarget kernel_target(const DeviceProfile& profile);
// float32 lanes the schedules and the `auto` layout use on the profile's device.
int float_lanes(const DeviceProfile& profile);
// A family without schedules of its own (riscv without vectors, hvx) gets
// the generic CPU templates: not an error, but worth a warning that says so.
std::optional<std::string> generic_schedule_warning(const DeviceProfile& profile);
// Whether this machine can run code built for the profile natively.
bool runs_natively_here(const DeviceProfile& profile);

// Whether something is possible here; `detail` says how, or why not and what to install.
struct Availability {
  bool available = false;
  std::string detail;
};

// Whether this machine has the tools to build the profile's artifact.
Availability compiles_here(const DeviceProfile& profile);
// Whether, and how, this machine runs the profile's artifacts.
Availability runs_here(const DeviceProfile& profile);
// Whether timings taken here stand for the device (native code, or a real GPU),
// rather than an emulator or a stand-in driver whose outputs are only checked.
bool timings_are_the_devices(const DeviceProfile& profile);

}  // namespace modelc::targets
