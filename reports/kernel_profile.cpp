#include "reports/kernel_profile.h"

#include <algorithm>
#include <map>

#include "reports/format.h"
#include "reports/statistics.h"
#include "support/diagnostic.h"

namespace modelc::reports {
namespace {

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return percentile_of_sorted(v, 50);
}

std::string pad_left(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

// A run's time over the time in place ("1.25x"), "" when either is 0.
std::string in_place_ratio(double ms, double in_place_ms) {
  return ms > 0 && in_place_ms > 0 ? format_fixed(ms / in_place_ms, 2) + "x" : "";
}

}  // namespace

int profile_runs_for(ArtifactTimer& timer, double seconds) {
  const std::vector<double> probe = timer.run_batch(3);
  const double ms = std::max(*std::min_element(probe.begin(), probe.end()), 1e-3);
  return static_cast<int>(std::clamp(seconds * 1000.0 / ms, 10.0, 2000.0));
}

KernelProfile profile_kernels(ArtifactTimer& timer, int runs, bool in_place) {
  const ArtifactManifest& manifest = timer.artifact().manifest();
  const auto steps = static_cast<size_t>(std::max(timer.artifact().api().num_steps, 0));
  if (manifest.step_kernels.size() != steps)
    throw Error("the manifest of " + timer.artifact().folder().string() + " names the kernels of " +
                std::to_string(manifest.step_kernels.size()) + " steps, the artifact runs " + std::to_string(steps) +
                " (rebuild it with this modelc)");
  std::map<std::string, size_t> index;
  KernelProfile profile;
  profile.runs = runs;
  for (const ManifestKernel& k : manifest.kernels) {
    index[k.name] = profile.kernels.size();
    profile.kernels.push_back({k.name, k.ops, 0, 0, 0, 0, 0});
  }
  std::vector<size_t> kernel_of_step(steps);
  for (size_t i = 0; i < steps; ++i) {
    auto found = index.find(manifest.step_kernels[i]);
    if (found == index.end())
      throw Error("the manifest of " + timer.artifact().folder().string() + ": step " + std::to_string(i) +
                  " calls kernel '" + manifest.step_kernels[i] + "', which its kernel list lacks");
    kernel_of_step[i] = found->second;
    KernelTiming& k = profile.kernels[found->second];
    const ManifestKernel& listed = manifest.kernels[found->second];
    ++k.calls;
    k.multiply_adds += listed.multiply_adds;
    k.integer_multiply_adds += listed.integer_multiply_adds;
    k.bytes += listed.bytes;
  }

  // Per kernel the median over runs of its steps' sum; the median of each run's sum of steps.
  struct Medians {
    std::vector<double> kernel_ms;
    double kernels_ms = 0, run_ms = 0, outside_ms = 0;
  };
  const auto medians = [&](const StepSamples& samples) {
    std::vector<std::vector<double>> per_kernel(profile.kernels.size());
    std::vector<double> totals, outside;
    for (size_t r = 0; r < samples.step_ms.size(); ++r) {
      const std::vector<double>& run = samples.step_ms[r];
      std::vector<double> sums(profile.kernels.size(), 0.0);
      double total = 0;
      for (size_t i = 0; i < run.size(); ++i) {
        sums[kernel_of_step[i]] += run[i];
        total += run[i];
      }
      for (size_t k = 0; k < sums.size(); ++k) per_kernel[k].push_back(sums[k]);
      totals.push_back(total);
      outside.push_back(samples.run_ms[r] - total);
    }
    Medians m;
    for (const std::vector<double>& v : per_kernel) m.kernel_ms.push_back(median_of(v));
    m.kernels_ms = median_of(totals);
    m.run_ms = median_of(samples.run_ms);
    m.outside_ms = median_of(outside);
    return m;
  };
  const StepSamples samples = timer.run_steps(runs);
  profile.thread_cpu_time = samples.thread_cpu_time;
  const Medians plain = medians(samples);
  for (size_t k = 0; k < profile.kernels.size(); ++k) profile.kernels[k].ms = plain.kernel_ms[k];
  profile.kernels_ms = plain.kernels_ms;
  profile.run_ms = plain.run_ms;
  profile.outside_ms = plain.outside_ms;
  if (in_place) {
    const Medians placed = medians(timer.run_steps(runs, true));
    for (size_t k = 0; k < profile.kernels.size(); ++k) profile.kernels[k].in_place_ms = placed.kernel_ms[k];
    profile.in_place = true;
    profile.in_place_kernels_ms = placed.kernels_ms;
  }
  std::erase_if(profile.kernels, [](const KernelTiming& k) { return k.calls == 0; });
  std::sort(profile.kernels.begin(), profile.kernels.end(),
            [](const KernelTiming& a, const KernelTiming& b) { return a.ms > b.ms; });
  return profile;
}

void add_stream_times(KernelProfile& profile, StreamTimes& streams) {
  for (KernelTiming& k : profile.kernels)
    if (k.calls > 0 && k.bytes > 0) k.stream_ms = k.calls * streams.ms(k.bytes / static_cast<uint64_t>(k.calls));
}

std::string render_kernel_profile(const KernelProfile& p, double peak_gflops, double peak_int8_gops, size_t max_rows) {
  const bool percent = peak_gflops > 0 || peak_int8_gops > 0;
  const bool streamed =
      std::any_of(p.kernels.begin(), p.kernels.end(), [](const KernelTiming& k) { return k.stream_ms > 0; });
  std::string out = "   ms/run  share  calls  GFLOP/s" + std::string(percent ? "  % peak" : "") + "    GB/s" +
                    (streamed ? "  x copy" : "") + (p.in_place ? "  in place  ratio" : "") + "  kernel: ops\n";
  double listed_ms = 0;
  size_t rows = 0;
  bool integer_rows = false;
  for (const KernelTiming& k : p.kernels) {
    if (rows++ == max_rows) break;
    listed_ms += k.ms;
    std::string ops;
    for (const std::string& o : k.ops) ops += (ops.empty() ? "" : " + ") + o;
    if (ops.size() > 70) ops = ops.substr(0, 67) + "...";
    // A kernel of integer products (qnn.*) gives GOP/s against the int8 peak, marked "i".
    const bool integer = k.integer_multiply_adds > k.multiply_adds;
    integer_rows = integer_rows || integer;
    const bool computes = k.multiply_adds > 0 || k.integer_multiply_adds > 0;
    const double rate = integer ? k.gops() : k.gflops(), peak = integer ? peak_int8_gops : peak_gflops;
    out += pad_left(format_fixed(k.ms, 3), 9) + pad_left(format_fixed(p.kernels_ms > 0 ? 100 * k.ms / p.kernels_ms : 0, 1) + "%", 7) +
           pad_left(std::to_string(k.calls), 7) + pad_left(computes ? format_fixed(rate, 1) + (integer ? "i" : "") : "", 9);
    if (percent) out += pad_left(computes && peak > 0 ? format_fixed(100 * rate / peak, 0) + "%" : "", 8);
    out += pad_left(format_fixed(k.gbytes_per_s(), 1), 8);
    if (streamed) out += pad_left(k.stream_ms > 0 ? format_fixed(k.ms / k.stream_ms, 2) : "", 8);
    if (p.in_place) out += pad_left(format_fixed(k.in_place_ms, 3), 10) + pad_left(in_place_ratio(k.ms, k.in_place_ms), 7);
    out += "  " + k.kernel + ": " + ops + "\n";
  }
  if (rows > max_rows && p.kernels.size() > max_rows)
    out += pad_left(format_fixed(p.kernels_ms - listed_ms, 3), 9) + "         (" +
           std::to_string(p.kernels.size() - max_rows) + " more kernels)\n";
  uint64_t multiply_adds = 0, integer_multiply_adds = 0;
  for (const KernelTiming& k : p.kernels) multiply_adds += k.multiply_adds, integer_multiply_adds += k.integer_multiply_adds;
  if (integer_rows) out += "   (i: GOP/s of 8-bit integer multiply-adds, % of the int8 peak)\n";
  if (streamed)
    out += "   (x copy: the kernel's time over a copy of its bytes, operands read once and results written once,\n"
           "    measured here now on as many threads: near 1 for a memory-bound kernel at the rate of memory)\n";
  const std::string integer_rate =
      integer_multiply_adds > 0 && p.kernels_ms > 0
          ? ", " + format_fixed(2.0 * static_cast<double>(integer_multiply_adds) / (p.kernels_ms * 1e6), 1) + " int8 GOP/s"
          : "";
  out += "medians of " + std::to_string(p.runs) + " runs, " +
         (p.thread_cpu_time ? "CPU time of the running thread" : "wall time") + ": a run " + format_fixed(p.run_ms, 3) +
         " ms, its kernels " + format_fixed(p.kernels_ms, 3) + " ms (" +
         format_fixed(p.kernels_ms > 0 ? 2.0 * static_cast<double>(multiply_adds) / (p.kernels_ms * 1e6) : 0, 1) +
         " GFLOP/s" + integer_rate + " over the whole model), outside kernels " + format_fixed(p.outside_ms * 1000, 1) + " us\n";
  if (p.in_place)
    out += "in place (each kernel called once more just before its timed call, so that its inputs lie where its own\n"
           "parallel loop left them): its kernels " + format_fixed(p.in_place_kernels_ms, 3) + " ms; in a run they take " +
           in_place_ratio(p.kernels_ms, p.in_place_kernels_ms) +
           " as long, the difference being where the kernels before left their inputs (on several threads: in other "
           "cores' caches)\n";
  return out;
}

}  // namespace modelc::reports
