#include "targets/device_profile.h"

#include <Halide.h>
#include <dlfcn.h>

#include <map>

#include "lower/lowering.h"
#include "spec/builtin_schemas.h"
#include "spec/document.h"
#include "support/diagnostic.h"
#include "support/embedded_file.h"
#include "support/process.h"
#include "support/spelling.h"

namespace modelc {
extern const EmbeddedFile device_profile_files[];
extern const size_t device_profile_files_count;
}  // namespace modelc

namespace fs = std::filesystem;

namespace modelc::targets {
namespace {

RunMethod parse_run(const std::string& s) {
  if (s == "native") return RunMethod::native;
  if (s == "qemu-user") return RunMethod::qemu_user;
  if (s == "node") return RunMethod::node;
  if (s == "opencl") return RunMethod::opencl;
  if (s == "cuda") return RunMethod::cuda;
  return RunMethod::none;
}

ScheduleFamily parse_family(const std::string& s) {
  if (s == "arm") return ScheduleFamily::arm;
  if (s == "riscv") return ScheduleFamily::riscv;
  if (s == "wasm") return ScheduleFamily::wasm;
  if (s == "gpu") return ScheduleFamily::gpu;
  if (s == "hvx") return ScheduleFamily::hvx;
  return ScheduleFamily::x86;
}

// The family a profile that names none belongs to, from its Halide target.
ScheduleFamily family_of_target(const std::string& halide_target) {
  const Halide::Target t = halide_target.rfind("host", 0) == 0 ? Halide::Target(lower::host_halide_target())
                                                               : Halide::Target(halide_target);
  if (t.has_gpu_feature()) return ScheduleFamily::gpu;
  switch (t.arch) {
    case Halide::Target::ARM: return ScheduleFamily::arm;
    case Halide::Target::RISCV: return ScheduleFamily::riscv;
    case Halide::Target::WebAssembly: return ScheduleFamily::wasm;
    case Halide::Target::Hexagon: return ScheduleFamily::hvx;
    default: return ScheduleFamily::x86;
  }
}

// Halide's parser aborts the process on a bad target string in some builds;
// check it first so a recipe's typo is an error at its place.
void check_halide_target(const std::string& text, const spec::Document& doc) {
  if (text == "host") return;
  const std::string features = text.rfind("host-", 0) == 0 ? "x86-64-linux-" + text.substr(5) : text;
  if (Halide::Target::validate_target_string(features)) return;
  throw Error(Diagnostic{Severity::error, doc.marks.locate("/halide_target"), "/halide_target",
                         "'" + text + "' is not a Halide 14 target string",
                         "arch-bits-os followed by features, e.g. arm-64-linux-arm_dot_prod or "
                         "x86-64-linux-avx2-fma-sse41-cuda-cuda_capability_80 (Halide 14 knows CUDA capabilities "
                         "up to 8.6)"});
}

const std::map<std::string, DeviceProfile>& profiles() {
  static const std::map<std::string, DeviceProfile> all = [] {
    std::map<std::string, DeviceProfile> m;
    for (size_t i = 0; i < device_profile_files_count; ++i) {
      const spec::Document doc =
          spec::parse_yaml(device_profile_files[i].text, std::string("targets/devices/") + device_profile_files[i].name);
      DeviceProfile p = parse_device_profile(doc);
      m.emplace(p.name, std::move(p));
    }
    return m;
  }();
  return all;
}

// Halide features that name a GPU API or device capability, not the host CPU.
bool is_device_feature(Halide::Target::Feature f) {
  using T = Halide::Target;
  switch (f) {
    case T::CUDA: case T::CUDACapability30: case T::CUDACapability32: case T::CUDACapability35:
    case T::CUDACapability50: case T::CUDACapability61: case T::CUDACapability70: case T::CUDACapability75:
    case T::CUDACapability80: case T::CUDACapability86: case T::OpenCL: case T::CLDoubles: case T::CLHalf:
    case T::CLAtomics64: case T::Metal: case T::OpenGLCompute: case T::D3D12Compute: case T::NoRuntime:
      return true;
    default: return false;
  }
}

std::string arch_name(const Halide::Target& t) {
  switch (t.arch) {
    case Halide::Target::X86: return t.bits == 64 ? "x86-64" : "x86-32";
    case Halide::Target::ARM: return t.bits == 64 ? "arm64" : "arm32";
    case Halide::Target::RISCV: return "riscv" + std::to_string(t.bits);
    case Halide::Target::WebAssembly: return "wasm" + std::to_string(t.bits);
    case Halide::Target::Hexagon: return "hexagon";
    default: return "another architecture";
  }
}

// Why the CPU side of `profile` cannot run natively here ("" when it can).
std::string native_mismatch(const DeviceProfile& profile) {
  const Halide::Target host(lower::host_halide_target());
  const Halide::Target want(resolved_halide_target(profile));
  if (host.arch != want.arch || host.bits != want.bits) return "it is " + arch_name(want) + " code, this machine is " + arch_name(host);
  if (host.os != want.os) return "it is built for another operating system";
  std::string missing;
  for (int f = 0; f < static_cast<int>(Halide::Target::FeatureEnd); ++f) {
    const auto feature = static_cast<Halide::Target::Feature>(f);
    if (want.has_feature(feature) && !host.has_feature(feature) && !is_device_feature(feature))
      missing += (missing.empty() ? "" : ", ") + Halide::Target::feature_to_name(feature);
  }
  return missing.empty() ? "" : "this CPU lacks " + missing;
}

bool loadable(const char* library) {
  void* handle = dlopen(library, RTLD_LAZY | RTLD_LOCAL);
  if (!handle) return false;
  dlclose(handle);
  return true;
}

std::string missing_tool(const std::string& tool, const std::string& package) {
  return find_executable(tool) ? "" : tool + " is missing (apt-get install " + package + "; scripts/install-deps.sh does)";
}

}  // namespace

const char* to_string(RunMethod method) {
  switch (method) {
    case RunMethod::native: return "native";
    case RunMethod::qemu_user: return "qemu-user";
    case RunMethod::node: return "node";
    case RunMethod::opencl: return "opencl";
    case RunMethod::cuda: return "cuda";
    case RunMethod::none: break;
  }
  return "none";
}

const char* to_string(ScheduleFamily family) {
  switch (family) {
    case ScheduleFamily::x86: return "x86";
    case ScheduleFamily::arm: return "arm";
    case ScheduleFamily::riscv: return "riscv";
    case ScheduleFamily::wasm: return "wasm";
    case ScheduleFamily::gpu: return "gpu";
    case ScheduleFamily::hvx: return "hvx";
  }
  return "x86";
}

std::optional<std::string> generic_schedule_warning(const DeviceProfile& profile) {
  switch (profile.family) {
    case ScheduleFamily::x86:
    case ScheduleFamily::arm:
    case ScheduleFamily::wasm:
    case ScheduleFamily::gpu: return std::nullopt;
    case ScheduleFamily::riscv:
    case ScheduleFamily::hvx: break;
  }
  return "device " + profile.name + ": no schedules of its own for the " + to_string(profile.family) +
         " family; its kernels get the generic CPU templates at " + std::to_string(float_lanes(profile)) +
         " float32 lane(s)";
}

DeviceProfile parse_device_profile(const spec::Document& document) {
  spec::Document doc = document;
  spec::validate_document("target", doc);
  const nlohmann::json& v = doc.value;
  DeviceProfile p;
  p.origin = doc.marks.locate("").file;
  p.name = v.at("name").get<std::string>();
  p.description = v.value("description", "");
  p.halide_target = v.at("halide_target").get<std::string>();
  check_halide_target(p.halide_target, doc);
  p.llvm_triple = v.at("llvm_triple").get<std::string>();
  if (p.llvm_triple == "host") p.llvm_triple.clear();
  if (v.contains("vector_bits")) p.vector_bits = v["vector_bits"].get<int>();
  p.cores = v.value("cores", 0);
  p.family = v.contains("family") ? parse_family(v["family"].get<std::string>()) : family_of_target(p.halide_target);
  p.run = parse_run(v.at("run").get<std::string>());
  if (v.contains("qemu")) {
    p.qemu.binary = v["qemu"].at("binary").get<std::string>();
    p.qemu.sysroot = v["qemu"].value("sysroot", "");
    p.qemu.cpu = v["qemu"].value("cpu", "");
  }
  if (v.contains("link")) {
    LinkSettings l;
    const nlohmann::json& j = v["link"];
    l.compiler = j.at("compiler").get<std::string>();
    l.flags = j.value("flags", std::vector<std::string>{});
    l.libraries = j.value("libraries", l.libraries);
    l.shared = j.value("shared", true);
    l.package = j.value("package", l.compiler == "cc" ? std::string("gcc") : l.compiler);
    p.link = std::move(l);
  }
  if (v.contains("peak_gflops"))
    p.peak = PeakFigures{v["peak_gflops"].get<double>(), v.at("peak_bandwidth_gbs").get<double>(),
                         v.at("peak_source").get<std::string>()};
  p.notes = v.value("notes", "");
  if (p.run != RunMethod::none && p.run != RunMethod::native && !p.link)
    throw Error(Diagnostic{Severity::error, doc.marks.locate("/run"), "/run",
                           std::string("a profile run with ") + to_string(p.run) +
                               " needs `link`: its runner is linked against the target's C library",
                           "add link: {compiler: ...}, or set run: none"});
  return p;
}

const DeviceProfile& find_device_profile(const std::string& name) {
  auto it = profiles().find(name);
  if (it != profiles().end()) return it->second;
  const std::vector<std::string> names = device_profile_names();
  std::string known;
  for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
  const std::string guess = closest_spelling(name, names);
  throw Error(Diagnostic{Severity::error, {}, {},
                         "no device profile '" + name + "' can be built by this modelc (available: " + known + ")",
                         guess.empty() ? "" : "did you mean '" + guess + "'?"});
}

std::vector<std::string> device_profile_names() {
  std::vector<std::string> names;
  for (const auto& [n, _] : profiles()) names.push_back(n);
  return names;
}

std::string resolved_halide_target(const DeviceProfile& profile) {
  if (profile.halide_target == "host") return lower::host_halide_target();
  if (profile.halide_target.rfind("host-", 0) == 0) {
    Halide::Target t(lower::host_halide_target());
    const Halide::Target extra("x86-64-linux-" + profile.halide_target.substr(5));
    for (int f = 0; f < static_cast<int>(Halide::Target::FeatureEnd); ++f)
      if (extra.has_feature(static_cast<Halide::Target::Feature>(f))) t = t.with_feature(static_cast<Halide::Target::Feature>(f));
    return t.to_string();
  }
  return Halide::Target(profile.halide_target).to_string();
}

lower::KernelTarget kernel_target(const DeviceProfile& profile) {
  lower::KernelTarget t;
  t.halide_target = resolved_halide_target(profile);
  const bool host = profile.halide_target == "host" || profile.halide_target.rfind("host-", 0) == 0;
  t.amx = host && profile.family == ScheduleFamily::x86 && lower::amx_for_host();
  t.bf16_dot = host && profile.family == ScheduleFamily::x86 && !t.amx && lower::bf16_dot_for_host();
  return t;
}

int float_lanes(const DeviceProfile& profile) {
  if (profile.family == ScheduleFamily::gpu) return 1;  // one thread per element: no channel blocks
  if (profile.vector_bits) return std::max(1, *profile.vector_bits / 32);
  return lower::float_lanes(resolved_halide_target(profile));
}

bool runs_natively_here(const DeviceProfile& profile) {
  return profile.run == RunMethod::native && native_mismatch(profile).empty();
}

Availability compiles_here(const DeviceProfile& profile) {
  const Halide::Target t(resolved_halide_target(profile));
  std::vector<std::string> problems;
  auto need = [&](const std::string& tool, const std::string& package) {
    if (std::string m = missing_tool(tool, package); !m.empty()) problems.push_back(m);
  };
  need("clang-14", "clang-14");
  need("llvm-ar-14", "llvm-14");
  if (t.arch == Halide::Target::WebAssembly) {
    need("wasm-ld-14", "lld-14");
  } else {
    need("ld.lld-14", "lld-14");
    need("llvm-objcopy-14", "llvm-14");
  }
  if (profile.link) need(profile.link->compiler, profile.link->package);
  if (t.arch == Halide::Target::WebAssembly && profile.link) {
    std::error_code ec;
    if (!fs::exists("/usr/lib/wasm32-wasi/libc.a", ec))
      problems.push_back("the WASI C library is missing (apt-get install wasi-libc)");
    if (!fs::exists("/usr/lib/llvm-14/lib/clang/14.0.6/lib/wasi/libclang_rt.builtins-wasm32.a", ec) &&
        !fs::exists("/usr/lib/llvm-14/lib/clang/14/lib/wasi/libclang_rt.builtins-wasm32.a", ec))
      problems.push_back("clang's wasm32 builtins are missing (apt-get install libclang-rt-14-dev-wasm32)");
  }
  if (problems.empty()) {
    std::string what = profile.has_shared_library() ? "static and shared library" : "static library";
    if (profile.has_runner()) what += ", runner";
    return {true, what};
  }
  std::string detail;
  for (const std::string& p : problems) detail += (detail.empty() ? "" : "; ") + p;
  return {false, detail};
}

Availability runs_here(const DeviceProfile& profile) {
  const std::string mismatch = native_mismatch(profile);
  switch (profile.run) {
    case RunMethod::native:
      if (mismatch.empty()) return {true, "natively"};
      return {false, mismatch};
    case RunMethod::qemu_user: {
      if (std::string m = missing_tool(profile.qemu.binary, "qemu-user"); !m.empty()) return {false, m};
      std::error_code ec;
      if (!profile.qemu.sysroot.empty() && !fs::is_directory(profile.qemu.sysroot, ec))
        return {false, "its C library (" + profile.qemu.sysroot + ") is missing (apt-get install " +
                           (profile.link ? profile.link->package : std::string("the target's libc6 cross package")) + ")"};
      return {true, "emulated by " + profile.qemu.binary + " (correctness only)"};
    }
    case RunMethod::node:
      if (std::string m = missing_tool("node", "nodejs"); !m.empty()) return {false, m};
      return {true, "under node's WASI (correctness only)"};
    case RunMethod::opencl: {
      if (!mismatch.empty()) return {false, "its host code cannot run here: " + mismatch};
      if (!loadable("libOpenCL.so.1")) return {false, "no OpenCL ICD loader (apt-get install ocl-icd-libopencl1 pocl-opencl-icd)"};
      std::error_code ec;
      bool has_driver = false;
      if (fs::is_directory("/etc/OpenCL/vendors", ec))
        for (const auto& e : fs::directory_iterator("/etc/OpenCL/vendors", ec)) has_driver = has_driver || e.path().extension() == ".icd";
      if (!has_driver) return {false, "no OpenCL driver is registered (apt-get install pocl-opencl-icd)"};
      return {true, "on this machine's OpenCL driver (PoCL runs it on the CPU: correctness only)"};
    }
    case RunMethod::cuda:
      if (!mismatch.empty()) return {false, "its host code cannot run here: " + mismatch};
      if (!loadable("libcuda.so.1")) return {false, "no NVIDIA driver here (libcuda.so.1 is missing)"};
      return {true, "on this machine's NVIDIA GPU"};
    case RunMethod::none: break;
  }
  return {false, "no way to run " + arch_name(Halide::Target(resolved_halide_target(profile))) + " code here (compile only)"};
}

bool timings_are_the_devices(const DeviceProfile& profile) {
  return profile.run == RunMethod::native || profile.run == RunMethod::cuda;
}

}  // namespace modelc::targets
