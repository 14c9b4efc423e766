// How fast a core reads what another core just wrote, beside how fast it
// reads what it wrote itself: the cost a parallel kernel pays when the
// kernel before it split the same tensor another way (docs/performance.md,
// "Partitions across kernels"). On virtual machines it depends on where the
// hypervisor placed the virtual CPUs at that moment (seen on one 2-core VM
// within an hour: 35 and 85 GB/s for 600 KB), so figures at several threads
// are only comparable beside it, measured in the same run.
#pragma once

#include <cstddef>
#include <optional>

#include "reports/results.h"

namespace modelc::reports {

// A buffer of `bytes` is written by one thread and read by another, then
// written and read by the reader alone, in alternation: the median rate of
// each kind of read over the repetitions. The two threads are pinned to two
// distinct CPUs of this process's affinity mask (reports/machine.h
// allowed_cpus) where the OS allows it. nullopt when fewer than two CPUs
// are available.
std::optional<CoreTransferFigures> measure_core_transfer(size_t bytes = 512 * 1024);

}  // namespace modelc::reports
