#include "driver/sensitivity.h"

#include <algorithm>

#include "driver/calibration.h"
#include "driver/evaluate.h"
#include "lower/jit_module.h"
#include "support/diagnostic.h"
#include "targets/recipe_device.h"

namespace modelc::driver {

namespace {

// The first float output of each input's run of `module`, through `runner`.
std::vector<lang::Tensor> first_float_outputs(lower::JitModuleRunner& runner, const lang::Module& module,
                                              const std::vector<std::vector<lang::Tensor>>& inputs, size_t output) {
  std::vector<lang::Tensor> out;
  for (const std::vector<lang::Tensor>& sample : inputs) out.push_back(runner.run_main(module, sample).at(output));
  return out;
}

reports::LayerAgreement agreement(const std::vector<lang::Tensor>& quantized, const std::vector<lang::Tensor>& float_model,
                                  std::string layer, std::string op) {
  OutputAgreement a;
  for (size_t i = 0; i < quantized.size(); ++i) a.add(quantized[i], float_model[i]);
  return {std::move(layer), std::move(op), a.cosine_mean(), a.cosine_min, a.max_abs, a.relative_error(),
          static_cast<int64_t>(a.top1), static_cast<int64_t>(a.rows)};
}

}  // namespace

reports::SensitivityResult layer_sensitivity(const spec::Variant& variant, size_t max_inputs, const ProgressFn& progress) {
  const spec::Recipe& recipe = variant.recipe;
  if (recipe.quantization.mode != "int8")
    throw Error(Diagnostic{Severity::error, recipe.locate("/quantization/mode"), "/quantization/mode",
                           "layer sensitivity compares int8 layers with the float model: the recipe does not quantize to int8",
                           "set quantization.mode: int8 (or choose a variant that does with --variant)"});
  const lang::Module imported = import_model(recipe);
  std::vector<std::vector<lang::Tensor>> inputs = held_out_inputs(recipe, imported);
  if (inputs.empty())
    throw Error(Diagnostic{Severity::error, recipe.locate("/quantization"), "/quantization",
                           "layer sensitivity runs on held-out inputs: the recipe names none",
                           "set quantization.evaluation: {samples: N, data: FOLDER} (or random_seed)"});
  if (inputs.size() > max_inputs) inputs.resize(max_inputs);
  const std::string layout = activation_layout(recipe, targets::find_device_profile("host"));

  reports::SensitivityResult table;
  table.inputs = static_cast<int64_t>(inputs.size());
  lower::JitModuleRunner runner;
  if (progress) progress("running the float model on " + std::to_string(inputs.size()) + " held-out inputs");
  spec::Recipe float_recipe = recipe;
  float_recipe.quantization.mode = "none";
  const lang::Module float_module = optimize(imported, float_recipe, layout).module;
  const lang::Function& main = float_module.main();
  size_t output = main.results.size();
  for (size_t i = 0; i < main.results.size(); ++i)
    if (lang::is_float(float_module.result_types(main).at(i).dtype)) {
      output = i;
      break;
    }
  if (output == main.results.size()) throw Error("layer sensitivity: the model has no float output to compare");
  table.output = lang::result_name(main, output);
  const std::vector<lang::Tensor> reference = first_float_outputs(runner, float_module, inputs, output);

  // The whole quantized model: calibrates every value once, and names the layers.
  if (progress) progress("calibrating and running the quantized model");
  lang::QuantizeOptions options = quantize_options(recipe, imported);
  options.range_cache = std::make_shared<std::map<std::string, lang::ValueRange>>();
  std::vector<std::pair<std::string, std::string>> layers;  // origin, op
  const lang::Module quantized =
      optimize(imported, recipe, layout,
               [&](const std::string& pass, const lang::Module& m) {
                 if (pass != "Quantize") return;
                 for (const lang::Binding& b : m.main().body)
                   if ((b.is_op("qnn.conv2d") || b.is_op("qnn.dense")) && !b.origin.empty() &&
                       std::none_of(layers.begin(), layers.end(), [&](const auto& l) { return l.first == b.origin; }))
                     layers.emplace_back(b.origin, b.op->name);  // origin: what `only` matches
               },
               &options)
          .module;
  table.all = agreement(first_float_outputs(runner, quantized, inputs, output), reference, "", "");

  for (size_t i = 0; i < layers.size(); ++i) {
    if (progress) progress("layer " + std::to_string(i + 1) + "/" + std::to_string(layers.size()) + ": " + layers[i].first);
    lang::QuantizeOptions only = options;
    only.only = layers[i].first;
    const lang::Module one = optimize(imported, recipe, layout, {}, &only).module;
    table.layers.push_back(agreement(first_float_outputs(runner, one, inputs, output), reference,
                                     lang::origin_name(layers[i].first), layers[i].second));
  }
  std::stable_sort(table.layers.begin(), table.layers.end(),
                   [](const reports::LayerAgreement& a, const reports::LayerAgreement& b) { return a.cosine_mean < b.cosine_mean; });
  return table;
}

}  // namespace modelc::driver
