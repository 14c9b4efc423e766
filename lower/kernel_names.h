// Reproducible names inside a compiled kernel.
//
// Halide 14 makes every name it generates unique (a Func's, an unnamed loop
// variable's, a parallel loop's closure, which becomes a symbol of the object,
// a buffer's, which its assertions' messages and metadata carry) with counters
// shared by the whole process, kept in 16K hash buckets. So a kernel's bytes
// depended on what the process had named before: on which kernels another
// thread compiled first, on bucket collisions between unrelated names. Two
// cold builds of one recipe could differ (a closure `..._s0_c` in one,
// `..._s0_c__1` in the other), which `--locked` reports as a build that is not
// reproducible and which changes the kernel cache's bytes.
//
// While a KernelNameScope is alive on a thread, Halide's names made on that
// thread come from counters of that scope alone (exact per prefix, no
// buckets), with Halide's own three families of names (a character and a
// number; a string, '$' and a number; a string verbatim), so they are as
// unique within the scope as Halide's are in a process. Everything a kernel's
// pipeline names is made inside one scope (lower/kernel_builder.cpp), so a
// kernel compiled twice, in any process, on any thread, gives the same
// object. Outside a scope Halide names as before.
#pragma once

namespace modelc::lower {

class KernelNameScope {
 public:
  KernelNameScope();
  ~KernelNameScope();
  KernelNameScope(const KernelNameScope&) = delete;
  KernelNameScope& operator=(const KernelNameScope&) = delete;

 private:
  bool owner_ = true;  // false for a scope inside another on its thread
};

}  // namespace modelc::lower
