// The variant matrix: `variants:` in a recipe lists axes (a dotted path into
// the recipe such as quantization.mode, or `target`) and the values to try.
// Every combination is one variant, minus the `exclude` entries, plus the
// `include` ones; each variant is a complete Recipe, validated again, so a
// value that does not fit (e.g. int8 without calibration data) is an error at
// the variants line that introduced it.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec/recipe.h"

namespace modelc::spec {

struct Variant {
  // Short, stable and file-name safe: "default" without a matrix, else the
  // values joined, e.g. "int8-nhwc" (axis names are added when values alone
  // would collide: "mode-int8_activations-nhwc").
  std::string name;
  // The settings for people: "quantization.mode=int8, layout.activations=NHWC".
  std::string description;
  std::vector<std::pair<std::string, nlohmann::json>> settings;  // axis -> value, in axis order
  Recipe recipe;  // the whole recipe with the settings applied and without `variants`
};

// Expands recipe.resolved["variants"]; a recipe without variants gives one
// variant named "default". Throws modelc::Error with every problem found.
std::vector<Variant> expand_variants(const Recipe& recipe);

}  // namespace modelc::spec
