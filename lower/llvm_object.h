// Object files from Halide's LLVM bitcode, for CPUs that Halide 14 describes
// with more extensions than they have (lower/kernel_builder.cpp).
#pragma once

#include <filesystem>
#include <string>

namespace modelc::lower {

// The extensions of LLVM 14's "sapphirerapids" CPU, the one Halide 14
// compiles for whenever a CPU has AVX512-VNNI and AVX512-BF16, that LLVM uses
// on its own (without intrinsics) and this machine lacks, as LLVM feature
// negations (",-avx512fp16,-avxvnni"); empty on a Sapphire Rapids or a
// machine that is not x86.
const std::string& missing_sapphirerapids_features();

// Compiles the LLVM bitcode file `bitcode` to the object file `object` for the
// target and CPU it names, with `extra_features` appended to every function's
// target features. Throws modelc::Error on failure.
void emit_object_from_bitcode(const std::filesystem::path& bitcode, const std::filesystem::path& object,
                              const std::string& extra_features);

}  // namespace modelc::lower
