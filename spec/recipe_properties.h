// Every property a recipe can set, and which stage of modelc reads it.
//
// A recipe field that validates and then changes nothing is worse than an
// error: a team asks for int8 and ships fp32 without knowing. So the schema
// (schemas/recipe.schema.json) may describe more than this version builds,
// and this list says, for each property, who consumes it, or that it is
// planned and refused until a stage implements it. load_recipe refuses a
// recipe (and each variant of one) that sets a refused property or value,
// with the place it was written. tests/spec/recipe_properties_test.cpp walks
// the schema and fails when a property is missing here.
//
// When a stage lands, its entry changes from `planned(...)` or `only(...)` to
// `reads(...)` in recipe_properties.cpp: one line, and the golden of the
// refusal (tests/golden/spec/unimplemented_*.err) flips.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec/document.h"
#include "support/diagnostic.h"

namespace modelc::spec {

enum class PropertySupport {
  consumed,     // a stage reads it: `reader` says which
  some_values,  // a stage reads it, but only `values` build; other values are refused
  for_people,   // kept for people reading the recipe; no stage needs it
  planned,      // no stage reads it yet: refused when a recipe writes it (or anything below it)
};

struct RecipeProperty {
  // JSON pointer into the resolved recipe; '*' stands for any key or index
  // (/targets/*/threads).
  std::string pointer;
  PropertySupport support = PropertySupport::consumed;
  // consumed, some_values: the stage that reads it ("lang/passes ConvertLayout").
  // planned: what it is for, said in the refusal ("it configures int8 quantization").
  std::string reader;
  std::vector<std::string> values;  // some_values: the values this version implements
  // The entry stands for every property below `pointer` as well (the inline
  // model graph; a planned block such as quantization.weights).
  bool subtree = false;
};

// The list, in the order of the schema.
const std::vector<RecipeProperty>& recipe_properties();

// The entry for a concrete pointer (/targets/host/threads), directly or
// through a subtree entry above it; nullptr when the list has none.
const RecipeProperty* find_recipe_property(std::string_view pointer);

// Whether this version builds `value` at `pointer` (a consumed property, or
// one of the values of a some_values property).
bool implemented(std::string_view pointer, const nlohmann::json& value);

// The refusals for a validated, resolved recipe: one diagnostic per planned
// property the recipe writes and per value of a some_values property this
// version does not build, located where it was written (for a variant: at the
// variants line that set it). Defaults the schema filled in are never refused.
std::vector<Diagnostic> unimplemented_settings(const nlohmann::json& resolved, const SourceMap& marks);

}  // namespace modelc::spec
