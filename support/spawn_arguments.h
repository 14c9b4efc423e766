// What posix_spawn takes, built once for run_process (support/process.h) and
// ChildProcess (support/child_process.h): this process's environment with
// ProcessOptions::environment set over it, and NULL-terminated C string arrays.
#pragma once

#include <string>
#include <vector>

#include "support/process.h"

namespace modelc {

// NAME=value entries: every variable of this process not named in
// options.environment, then those of options.environment.
std::vector<std::string> child_environment(const ProcessOptions& options);

// Pointers into `strings` (which must outlive them), then NULL.
std::vector<char*> c_strings(std::vector<std::string>& strings);

}  // namespace modelc
