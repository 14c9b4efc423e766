// Device profiles: the built-in ones load and say what they are, a profile
// with a mistake is refused at its place, and the roofline arithmetic.
#include <doctest/doctest.h>

#include <algorithm>

#include "lang/text.h"
#include "spec/document.h"
#include "support/diagnostic.h"
#include "support/process.h"
#include "targets/device_profile.h"
#include "targets/roofline.h"
#include "tests/prerequisites.h"

using namespace modelc;
using namespace modelc::targets;

namespace {

std::string first_error(const std::string& yaml) {
  try {
    parse_device_profile(spec::parse_yaml(yaml, "p.yaml"));
  } catch (const Error& e) {
    return e.diagnostics().front().format();
  }
  return "";
}

bool cross_tools_installed() {
  for (const char* tool : {"clang-14", "ld.lld-14", "wasm-ld-14", "aarch64-linux-gnu-gcc", "riscv64-linux-gnu-gcc",
                           "qemu-aarch64", "qemu-riscv64", "node"})
    if (!find_executable(tool)) return false;
  return true;
}

}  // namespace

TEST_CASE("the built-in profiles cover every device family of the issue") {
  const std::vector<std::string> names = device_profile_names();
  for (const char* want : {"host", "x86-64-sse41", "x86-64-avx2", "x86-64-avx512", "x86-64-avx512-vnni", "arm64",
                           "arm64-dotprod", "riscv64", "wasm", "cuda-sm80", "cuda-sm90", "opencl", "hexagon-hvx"}) {
    CAPTURE(want);
    CHECK(std::find(names.begin(), names.end(), want) != names.end());
  }
  for (const std::string& name : names) {
    CAPTURE(name);
    const DeviceProfile& p = find_device_profile(name);
    CHECK(!p.description.empty());
    CHECK(p.origin == "targets/devices/" + name + ".yaml");
    // Every profile but the host (which is whatever machine runs modelc) has figures and says where they come from.
    CHECK((name == "host") != p.peak.has_value());
    if (p.peak) CHECK(p.peak->source.size() > 20);
    CHECK_NOTHROW(resolved_halide_target(p));
  }
}

TEST_CASE("schedule families and the lanes that decide the `auto` layout") {
  CHECK(find_device_profile("arm64").family == ScheduleFamily::arm);
  CHECK(float_lanes(find_device_profile("arm64")) == 4);
  CHECK(float_lanes(find_device_profile("wasm")) == 4);
  CHECK(float_lanes(find_device_profile("x86-64-avx512")) == 16);
  CHECK(float_lanes(find_device_profile("riscv64")) == 1);  // scalar RV64GC: NCHW
  CHECK(find_device_profile("cuda-sm80").family == ScheduleFamily::gpu);
  CHECK(float_lanes(find_device_profile("cuda-sm80")) == 1);  // a GPU thread per element: NCHW
  CHECK(float_lanes(find_device_profile("opencl")) == 1);
  CHECK(float_lanes(find_device_profile("hexagon-hvx")) == 1);  // Halide 14: no float32 HVX vectors
  CHECK(resolved_halide_target(find_device_profile("cuda-sm80")).find("cuda_capability_80") != std::string::npos);
}

TEST_CASE("what runs here, and why not") {
  CHECK(runs_here(find_device_profile("host")).available);
  CHECK(runs_here(find_device_profile("host")).detail == "natively");
  const Availability hexagon = runs_here(find_device_profile("hexagon-hvx"));
  CHECK_FALSE(hexagon.available);
  CHECK(hexagon.detail == "no way to run hexagon code here (compile only)");
  CHECK_FALSE(timings_are_the_devices(find_device_profile("arm64")));
  CHECK(timings_are_the_devices(find_device_profile("cuda-sm80")));
  // An x86 profile whose features this CPU lacks names them.
  const Availability vnni = runs_here(find_device_profile("x86-64-avx512-vnni"));
  if (!vnni.available) CHECK(vnni.detail.rfind("this CPU lacks ", 0) == 0);
}

TEST_CASE("every built-in profile compiles on a machine with the install script's packages" *
          doctest::skip(test::skip_unless(cross_tools_installed()))) {
  for (const std::string& name : device_profile_names()) {
    CAPTURE(name);
    const Availability a = compiles_here(find_device_profile(name));
    CHECK_MESSAGE(a.available, a.detail);
  }
  CHECK(runs_here(find_device_profile("arm64")).detail == "emulated by qemu-aarch64 (correctness only)");
  CHECK(runs_here(find_device_profile("wasm")).available);
}

TEST_CASE("a profile with a mistake is refused at its place") {
  CHECK(first_error("name: bad\nhalide_target: arm-64-linux-no_such_feature\nllvm_triple: aarch64-linux-gnu\nrun: none\n")
            .rfind("p.yaml:2:16: error: 'arm-64-linux-no_such_feature' is not a Halide 14 target string", 0) == 0);
  CHECK(first_error("name: q\nhalide_target: arm-64-linux\nllvm_triple: aarch64-linux-gnu\nrun: qemu-user\n"
                    "qemu: {binary: qemu-aarch64}\n")
            .rfind("p.yaml:4:6: error: a profile run with qemu-user needs `link`", 0) == 0);
  CHECK(first_error("name: p\nhalide_target: arm-64-linux\nllvm_triple: aarch64-linux-gnu\nrun: none\npeak_gflops: 10\n")
            .find("missing required property 'peak_bandwidth_gbs'") != std::string::npos);
  // Halide 14 has no compute capability 9.0: refused, with what it does know.
  const std::string cuda90 = first_error(
      "name: c\nhalide_target: x86-64-linux-cuda-cuda_capability_90\nllvm_triple: x86_64-linux-gnu\nrun: none\n");
  CHECK(cuda90.find("up to 8.6") != std::string::npos);
}

TEST_CASE("a recipe's own profile: family from its Halide target, figures carried through") {
  const DeviceProfile p = parse_device_profile(spec::parse_yaml(
      "name: board\nhalide_target: arm-64-linux-arm_dot_prod\nllvm_triple: aarch64-linux-gnu\nrun: none\n"
      "peak_gflops: 100\npeak_bandwidth_gbs: 10\npeak_source: a datasheet\n",
      "board.yaml"));
  CHECK(p.family == ScheduleFamily::arm);
  CHECK_FALSE(p.has_runner());
  REQUIRE(p.peak);
  CHECK(p.peak->gflops == 100);
  CHECK(p.origin == "board.yaml");
}

// 1x1 convolution of 8 -> 16 channels on 4x4 pixels: 16 output pixels each
// multiply the 16 x 8 weights; the kernel reads 512 + 128 + 16 floats and
// writes 256.
TEST_CASE("kernel cost and the roofline") {
  const lang::Module m = lang::parse_module(R"(
def @conv(%p0: Tensor[(1, 8, 4, 4), float32], %p1: Tensor[(16, 8, 1, 1), float32], %p2: Tensor[(16), float32]) -> Tensor[(1, 16, 4, 4), float32] primitive {
  %0 = nn.conv2d(%p0, %p1, strides=[1, 1], padding=[0, 0, 0, 0], dilation=[1, 1], groups=1, data_layout="NCHW", kernel_layout="OIHW", out_layout="NCHW") : Tensor[(1, 16, 4, 4), float32];
  %1 = nn.bias_add(%0, %p2, axis=1) : Tensor[(1, 16, 4, 4), float32];
  %1
}
)",
                                            "cost.ir");
  const KernelCost cost = lang::function_cost(m, *m.find_function("conv"));
  CHECK(cost.multiply_adds == 16 * 16 * 8);
  CHECK(cost.bytes == (128 + 128 + 16 + 256) * 4);

  // 1 GFLOP/s and 1 GB/s: 1e6 FLOPs and 1e6 bytes per ms.
  const PeakFigures peak{1, 1, "test"};
  const RooflineEstimate e = estimate_roofline({{KernelCost{1'000'000, 1'000'000}, 2}, {KernelCost{0, 3'000'000}, 1}}, peak);
  CHECK(e.compute_ms == doctest::Approx(4));  // 2 calls x 2e6 FLOPs
  CHECK(e.memory_ms == doctest::Approx(5));   // 2 x 1e6 + 3e6 bytes
  CHECK(e.milliseconds == doctest::Approx(2 * 2 + 3));
  CHECK(e.multiply_adds == 2'000'000);
  // Integer multiply-adds count at the profile's one (float) peak.
  const RooflineEstimate q = estimate_roofline({{KernelCost{0, 0, 1'000'000}, 1}}, peak);
  CHECK(q.compute_ms == doctest::Approx(2));
  CHECK(q.multiply_adds == 1'000'000);
}
