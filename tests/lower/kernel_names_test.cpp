// A kernel's object depends on the kernel alone: not on what the process
// compiled before it, nor on which thread (lower/kernel_names.h).
#include <doctest/doctest.h>

#include <unistd.h>

#include <Halide.h>

#include <filesystem>
#include <string>
#include <thread>

#include "lang/pass.h"
#include "lang/text.h"
#include "lower/kernel_names.h"
#include "lower/lowering.h"
#include "support/file_io.h"

using namespace modelc;
using namespace modelc::lang;

namespace {

// A convolution with bias and ReLU whose parallel loops become closures:
// functions of the object named by Halide.
const char* const kConvolution = R"(
def @main(%x: Tensor[(1, 16, 30, 30), float32], %w: Tensor[(32, 16, 3, 3), float32], %b: Tensor[(32), float32]) {
  %0 = nn.conv2d(%x, %w, strides=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1);
  %1 = nn.bias_add(%0, %b, axis=1);
  %2 = nn.relu(%1);
  %2
})";

const char* const kPooling = R"(
def @main(%x: Tensor[(1, 32, 30, 30), float32]) {
  %0 = nn.max_pool2d(%x, pool_size=[3, 3], strides=[2, 2], padding=[1, 1, 1, 1]);
  %1 = nn.relu(%0);
  %1
})";

Module fused(const char* text) { return run_passes(parse_module(text, "case.ir"), {"InferType", "FuseOps", "InferType"}, PassContext{}); }

const Function& primitive(const Module& m) {
  for (const Function& fn : m.functions)
    if (fn.primitive) return fn;
  FAIL("no primitive function");
  return m.functions.front();
}

struct Scratch {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("modelc_kernel_names_" + std::to_string(::getpid()));
  Scratch() { std::filesystem::create_directories(dir); }
  ~Scratch() { std::filesystem::remove_all(dir); }
};

}  // namespace

TEST_CASE("Halide's names inside a kernel name scope depend on the scope alone") {
  // Halide's own calls (a Func's constructor, an unnamed Var's) reach the
  // scope's counters: the same names in two scopes, one after the other.
  std::string first_func, first_var, second_func, second_var;
  {
    const lower::KernelNameScope scope;
    first_func = Halide::Func("kernel_names_probe").name();
    first_var = Halide::Var().name();
    CHECK(Halide::Func("kernel_names_probe").name() != first_func);  // unique within the scope
  }
  {
    const lower::KernelNameScope scope;
    second_func = Halide::Func("kernel_names_probe").name();
    second_var = Halide::Var().name();
  }
  CHECK(first_func == "kernel_names_probe");
  CHECK(second_func == first_func);
  CHECK(second_var == first_var);
  // Outside a scope Halide names as before, unique in the process.
  const std::string outside = Halide::Func("kernel_names_outside").name();
  CHECK(Halide::Func("kernel_names_outside").name() != outside);
}

TEST_CASE("Halide's names keep its three families apart inside a scope") {
  const lower::KernelNameScope scope;
  // A name that looks generated is never returned verbatim, so it cannot meet one that was.
  CHECK(Halide::Internal::unique_name("t0") != "t0");
  CHECK(Halide::Internal::unique_name('t') == "t0");
  CHECK(Halide::Internal::unique_name("f$3") != "f$3");
  CHECK(Halide::Internal::unique_name("f") == "f");
  CHECK(Halide::Internal::unique_name("f") == "f$1");
  CHECK(Halide::Internal::unique_name("f$2") == "f_2$0");
  CHECK(Halide::Internal::unique_name("f$x") == "f$x");  // a '$' not before a number: verbatim the first time
  CHECK(Halide::Internal::unique_name("f_x") == "f_x$1");  // then counted with it
  {
    const lower::KernelNameScope inner;  // an inner scope counts on with the outer one
    CHECK(Halide::Internal::unique_name('t') == "t1");
  }
  CHECK(Halide::Internal::unique_name('t') == "t2");
}

TEST_CASE("a kernel's object is the same whatever the process compiled before it and on any thread") {
  const Scratch scratch;
  const Module conv = fused(kConvolution), pool = fused(kPooling);
  lower::KernelTarget target;
  target.halide_target = "x86-64-linux-avx2-fma-sse41";
  const auto compile = [&](const Module& m, const std::string& name) {
    const auto object = scratch.dir / (name + ".o");
    lower::compile_kernel_object(m, primitive(m), "kernel", target, object, nullptr);
    return read_text_file(object);  // the object's bytes
  };
  const std::string first = compile(conv, "first");
  REQUIRE(first.find("par_for") != std::string::npos);  // closures, named by Halide, are in it
  compile(pool, "between");
  CHECK(compile(conv, "second") == first);
  std::string threaded[2];
  std::thread a([&] { threaded[0] = compile(conv, "thread_a"); });
  std::thread b([&] { threaded[1] = compile(conv, "thread_b"); });
  a.join();
  b.join();
  CHECK(threaded[0] == first);
  CHECK(threaded[1] == first);
}
