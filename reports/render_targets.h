// The cross-hardware table of a report: every variant x target in one table,
// with what can be said of each target on this machine. A native run gives a
// measured latency; an emulated run (qemu-user, node, PoCL) only checks the
// outputs, so it shows "emulated" and no figure; a compile-only target shows
// its code size. Every row with a device profile that has peak figures gets
// the roofline estimate, so targets that cannot run here still compare on
// paper. Measured and emulated figures are never put in one ratio.
#pragma once

#include <string>

#include "reports/results.h"

namespace modelc::reports {

// Whether a report needs the table: its results name more than one device,
// or a target that did not run natively here (emulated, compile only).
bool has_cross_targets(const Results& results);

// A Markdown section ("## Targets" and the table); empty when there are no results.
std::string render_targets_table(const Results& results);

}  // namespace modelc::reports
