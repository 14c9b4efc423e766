// The device profile a recipe's target names: a built-in one
// (targets/devices/), or one the recipe brings, written in the recipe or in
// a file of its own (spec::TargetSpec::device_profile, device_file). Errors
// point into the recipe or that file.
#pragma once

#include "spec/recipe.h"
#include "targets/device_profile.h"

namespace modelc::targets {

// Profiles of recipes are loaded once per process; the reference stays valid.
const DeviceProfile& device_profile_of(const spec::Recipe& recipe, const spec::TargetSpec& target);

}  // namespace modelc::targets
