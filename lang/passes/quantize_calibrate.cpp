// Calibration for the Quantize pass: the float model, run by the reference
// interpreter over the calibration samples, with the values to be quantized
// added to @main's results so that one run observes all of them.
#include <algorithm>
#include <cmath>

#include "lang/interpreter.h"
#include "lang/passes/quantize.h"
#include "support/diagnostic.h"

namespace modelc::lang {
namespace {

// The p-th percentile (0..100) of `v` (reordered), by nearest rank.
double percentile_of(std::vector<float>& v, double p) {
  if (v.empty()) return 0;
  const auto rank = static_cast<size_t>(std::clamp(std::llround(p / 100.0 * static_cast<double>(v.size() - 1)), 0LL,
                                                   static_cast<long long>(v.size() - 1)));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(rank), v.end());
  return v[rank];
}

}  // namespace

std::vector<ValueRange> calibrate(const Module& module, const std::vector<ValueRef>& values, const QuantizeOptions& options) {
  if (options.calibration.empty())
    throw Error("int8 quantization needs calibration samples (quantization.activations.calibration.data)");
  Module observed = module;
  Function& main = observed.main();
  main.results = values;
  main.result_names.clear();
  const bool percentile = options.method == "percentile";
  std::vector<ValueRange> ranges(values.size());
  std::vector<double> lo_sum(values.size(), 0), hi_sum(values.size(), 0);
  bool first = true;
  for (size_t s = 0; s < options.calibration.size(); ++s) {
    const std::vector<Tensor>& sample = options.calibration[s];
    if (sample.size() != main.params.size())
      throw Error("calibration sample " + std::to_string(s) + " has " + std::to_string(sample.size()) + " inputs, the model " +
                  std::to_string(main.params.size()));
    for (size_t i = 0; i < sample.size(); ++i)
      if (sample[i].type() != main.params[i].type)
        throw Error("calibration sample " + std::to_string(s) + " input '" + main.params[i].name + "' is " + sample[i].type().str() +
                    ", the model expects " + main.params[i].type.str());
    const std::vector<Tensor> outs = evaluate(observed, main, sample);
    for (size_t v = 0; v < values.size(); ++v) {
      const auto data = outs[v].values<float>();
      double lo = 0, hi = 0;
      if (percentile) {
        std::vector<float> copy(data.begin(), data.end());
        hi = percentile_of(copy, options.percentile);
        lo = percentile_of(copy, 100.0 - options.percentile);
      } else if (!data.empty()) {
        const auto [mn, mx] = std::minmax_element(data.begin(), data.end());
        lo = *mn;
        hi = *mx;
      }
      lo_sum[v] += lo;
      hi_sum[v] += hi;
      if (first || lo < ranges[v].lo) ranges[v].lo = lo;
      if (first || hi > ranges[v].hi) ranges[v].hi = hi;
    }
    first = false;
  }
  if (percentile) {
    const auto n = static_cast<double>(options.calibration.size());
    for (size_t v = 0; v < values.size(); ++v) ranges[v] = {lo_sum[v] / n, hi_sum[v] / n};
  }
  return ranges;
}

}  // namespace modelc::lang
