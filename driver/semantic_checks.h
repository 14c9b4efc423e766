// The recipe checks that need the model: the schema and spec/ see the recipe
// alone, so whether the inputs and outputs it names exist, whether its targets
// can be built, and whether its layout fits the model's layers can only be
// decided once the model is imported.
#pragma once

#include "lang/module.h"
#include "spec/recipe.h"

namespace modelc::driver {

// Checks `recipe` against `imported` (the model it names, as import_model
// returns it: typed, before any pass) and throws modelc::Error with every
// problem found, each located in the recipe (file:line:column and pointer):
//  - model.inputs: each name is an input of the model, with the model's rank,
//    shape and dtype (the ONNX importer already refuses these for ONNX models;
//    a graph model is imported from graph.inputs, so model.inputs is checked
//    here);
//  - model.outputs: each name is an output of the model;
//  - targets: each device names a profile this modelc can build for (the
//    schema lists every device modelc knows of; fewer may be built in);
//  - layout.activations: a layout other than NCHW needs convolution or pooling
//    layers to apply to; a blocked NCHW<k>c needs k to be a power of two (the
//    blocks ConvertLayout uses) and at least one such layer whose channel
//    count is a multiple of k (the others get smaller blocks, as the pass
//    intends; the message lists the layers when none fits).
void check_recipe_against_model(const spec::Recipe& recipe, const lang::Module& imported);

// model.outputs: `imported` with @main returning only the outputs the recipe
// names, in the recipe's order (the rest becomes dead code that the passes
// remove). When the recipe names none, or names one the model lacks (which
// check_recipe_against_model reports, with a suggestion), `imported` is
// returned as it is.
lang::Module keep_recipe_outputs(lang::Module imported, const spec::Recipe& recipe);

}  // namespace modelc::driver
