// Internal to lower/: the block/thread schedule of a kernel for a GPU target
// (CUDA, OpenCL). Includes Halide.h; never include this from a header
// outside lower/.
#pragma once

#include <Halide.h>

#include <vector>

namespace modelc::lower {

// Schedules the whole pipeline of one kernel for the GPU API of `target`,
// replacing the CPU schedules (kernel_builder.cpp does not apply them for a
// GPU target):
//  - every output, and every Func the compute rules put at root, runs as a
//    grid over its elements (all dimensions fused, kGpuThreadsPerBlock
//    threads per block), so consecutive threads write consecutive elements;
//  - a reduction (a Func with update definitions that write the element of
//    their pure variables) is computed by each thread for the elements it
//    needs, in registers, inside the one grid that consumes it; a reduction
//    that several grids consume becomes a grid of its own;
//  - an update that writes elements chosen by data (a scatter, a scan) runs
//    as a grid over the pure dimensions it keeps, or on one GPU thread, in
//    order, when it keeps none;
//  - pure Funcs are inlined (padding, layout changes, elementwise tails).
// `roots` are the Funcs the compute rules asked to compute at root.
void schedule_for_gpu(const std::vector<Halide::Func>& outputs, const std::vector<Halide::Func>& roots,
                      const Halide::Target& target);

inline constexpr int kGpuThreadsPerBlock = 128;

}  // namespace modelc::lower
