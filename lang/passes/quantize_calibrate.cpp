// Calibration for the Quantize pass: the float model, run by the reference
// interpreter over the calibration samples, with the values to be quantized
// added to @main's results so that one run observes all of them.
#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "lang/interpreter.h"
#include "lang/passes/quantize.h"
#include "support/diagnostic.h"

namespace modelc::lang {
namespace {

// |x| of one value over the calibration set, in kBins equal bins from 0 to
// `edge` (the largest |x| so far); a sample with a larger |x| widens the
// edge and moves the counts so far into the wider bins. Exact zeros (half of
// a ReLU's outputs) are left out: every range quantizes them exactly (the
// zero point), and as a spike in the first bin they would make every wider
// range look lossy.
constexpr int kBins = 2048;

struct Histogram {
  double edge = 0;
  std::vector<double> bins = std::vector<double>(kBins, 0.0);

  void add(std::span<const float> data) {
    double largest = 0;
    for (float x : data) largest = std::max(largest, std::fabs(static_cast<double>(x)));
    if (largest > edge) {
      std::vector<double> wider(kBins, 0.0);
      for (int b = 0; b < kBins && edge > 0; ++b) {
        const double center = (b + 0.5) * edge / kBins;
        wider[static_cast<size_t>(std::min(kBins - 1, static_cast<int>(center / largest * kBins)))] += bins[static_cast<size_t>(b)];
      }
      bins = std::move(wider);
      edge = largest;
    }
    if (edge <= 0) return;
    for (float x : data)
      if (x != 0)
        bins[static_cast<size_t>(std::min(kBins - 1, static_cast<int>(std::fabs(static_cast<double>(x)) / edge * kBins)))] += 1;
  }
};

}  // namespace

double entropy_threshold(std::span<const double> bins, double edge, int levels) {
  const int n = static_cast<int>(bins.size());
  if (n == 0 || edge <= 0 || levels >= n) return edge;
  double best_kl = std::numeric_limits<double>::infinity();
  int best = n;
  double total = 0;
  for (const double b : bins) total += b;
  double kept = 0;
  for (int b = 0; b < levels - 1; ++b) kept += bins[static_cast<size_t>(b)];
  for (int i = levels; i <= n; ++i) {
    // P: the first i bins, with the mass beyond them folded into the last.
    kept += bins[static_cast<size_t>(i - 1)];
    if (kept <= 0) continue;
    const double beyond = total - kept;
    // Q: the first i bins merged into `levels` groups, each group's mass
    // spread evenly over its non-empty bins: what `levels` steps keep of the
    // clipped range. The clipped mass is not in Q, so clipping costs.
    double kl = 0;
    for (int g = 0; g < levels; ++g) {
      const int start = static_cast<int>(static_cast<int64_t>(g) * i / levels);
      const int end = static_cast<int>(static_cast<int64_t>(g + 1) * i / levels);
      double mass = 0;
      int nonempty = 0;
      for (int b = start; b < end; ++b)
        if (bins[static_cast<size_t>(b)] > 0) mass += bins[static_cast<size_t>(b)], ++nonempty;
      for (int b = start; b < end; ++b) {
        const double pb = (bins[static_cast<size_t>(b)] + (b == i - 1 ? beyond : 0)) / total;
        if (pb <= 0) continue;
        const double qb = bins[static_cast<size_t>(b)] > 0 ? mass / nonempty / total : 1e-12;
        kl += pb * std::log(pb / qb);
      }
    }
    if (kl < best_kl - 1e-12) best_kl = kl, best = i;
  }
  return edge * best / n;
}

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
  const bool entropy = options.method == "entropy";
  std::vector<Histogram> histograms(entropy ? values.size() : 0);
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
      if (entropy) histograms[v].add(data);
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
  if (entropy) {
    for (size_t v = 0; v < values.size(); ++v) {
      // Steps of the quantized type over the histogram's span: uint8 spends
      // all 256 on a value that is never negative, else about half per side.
      const bool non_negative = ranges[v].lo >= 0;
      const int levels = non_negative && !options.symmetric_activations ? 256 : 128;
      const double t = entropy_threshold(histograms[v].bins, histograms[v].edge, levels);
      ranges[v] = {std::clamp(ranges[v].lo, -t, t), std::clamp(ranges[v].hi, -t, t)};
    }
  }
  return ranges;
}

}  // namespace modelc::lang
