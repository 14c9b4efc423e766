#include "reports/method_text.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "reports/comparison.h"
#include "reports/early_stopping.h"
#include "reports/format.h"

namespace modelc::reports {
namespace {

std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

std::string rounds_paragraph(const Results& results, int rounds, bool any_reference) {
  const spec::BenchmarkSpec& b = results.benchmark;
  std::string text = "The implementations took turns in " + std::to_string(rounds) + " round" + (rounds == 1 ? "" : "s") +
                     ": in each round every implementation ran one batch of back-to-back timed runs, in an order "
                     "rotated by one place per round, so that whatever the machine did meanwhile fell on all of them "
                     "alike. Before the first round each ran its warm-up runs (untimed, table below); their median "
                     "run time set its batch size, enough for at least " +
                     std::to_string(b.repeats) + " timed runs and " + number(b.min_seconds) +
                     " s of timed work over all rounds";
  if (any_reference) text += " (the reference interpreter, being slow, warms up with one run and runs once per round)";
  text += ". Each run is timed on its own with a steady clock (ONNX Runtime: Node's process.hrtime around "
          "session.run), at batch 1, on the same input for all.";
  return text;
}

std::string statistics_paragraph(bool merged) {
  std::string text =
      "Medians and percentiles are taken over all timed runs of a row (linear interpolation between ranks). "
      "Intervals are 95 % percentile-bootstrap intervals over rounds, the unit that varies independently: " +
      std::to_string(kBootstrapResamples) +
      " resamples of the rounds drawn with replacement (splitmix64, fixed seed, so the same runs give the same "
      "interval); rows measured in the same rounds are resampled with the same round indices (paired), so drift "
      "common to both cancels in their ratio. A speed-up is the median of the row it is measured against divided by "
      "the row's own median (above 1: the row is faster), and is \"within noise\" when its interval holds 1; a "
      "single round gives no interval.";
  if (merged) text += " Rows from different machines were measured in different runs, so their ratios are unpaired.";
  return text;
}

std::string early_stopping_paragraph() {
  const EarlyStoppingBound p90 = early_stopping_bound({}, 0.90);
  const EarlyStoppingBound p99 = early_stopping_bound({}, 0.99);
  return "Tail latencies also carry MLPerf LoadGen's early-stopping bound (SingleStream, " +
         number(kEarlyStoppingConfidence * 100) +
         " % confidence): the latency the percentile stays under given how many runs were taken, which is the "
         "figure to claim for it; p90 needs at least " +
         std::to_string(p90.samples_needed) + " runs, p99 at least " + std::to_string(p99.samples_needed) + ".";
}

}  // namespace

MethodDescription describe_method(const Results& results) {
  MethodDescription out;
  int rounds = 0;
  bool any_reference = false, any_onnxruntime = false;
  for (const ReportRow& row : report_rows(results)) {
    if (!row.latency->has_value()) continue;
    const LatencyStats& l = **row.latency;
    out.timings.push_back({row.id, row.threads, l.warmup, l.rounds, l.runs_per_round, l.repeats});
    rounds = std::max(rounds, l.rounds);
    any_reference = any_reference || row.id.implementation == "reference";
    any_onnxruntime = any_onnxruntime || row.id.implementation == "onnxruntime";
  }
  out.paragraphs.push_back(rounds_paragraph(results, std::max(rounds, 1), any_reference));
  out.paragraphs.push_back(statistics_paragraph(!results.machines.empty()));
  out.paragraphs.push_back(early_stopping_paragraph());
  if (any_onnxruntime) {
    out.paragraphs.push_back(
        "ONNX Runtime runs through Node (onnxruntime-node), whose every call costs a fixed time before any model "
        "work. That cost is measured the same way, in the same rounds, on a one-op model (an Add of a 1-element "
        "tensor) and shown beside every ONNX Runtime figure: for a small model it is much of the figure.");
  }
  out.paragraphs.push_back(
      "Errors are the largest absolute difference from the named reference output, over every output: an artifact "
      "fails when the counts, names, dtypes or shapes of its outputs differ, when a floating output is not allclose "
      "(rtol, atol as stated in results.json), or when an integer or bool output differs at all. A failed artifact is "
      "not timed.");
  return out;
}

std::string core_transfer_text(const CoreTransferFigures& t) {
  return format_fixed(t.other_gb_per_s, 1) + " GB/s reading " + format_bytes(static_cast<uint64_t>(t.bytes)) +
         " another core just wrote, " + format_fixed(t.own_gb_per_s, 1) + " GB/s its own (measured in this run)";
}

}  // namespace modelc::reports
