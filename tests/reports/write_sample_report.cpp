// Writes report.html of the sample results (tests/reports/sample_results.h),
// with a failed artifact and a second machine merged in, for the headless
// browser test (html_screenshot.py): one page that uses every part of the
// renderer.
//
//   write_sample_report OUT.html
#include <iostream>

#include "reports/merge.h"
#include "reports/render_html.h"
#include "sample_results.h"
#include "support/file_io.h"

using namespace modelc::reports;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: write_sample_report OUT.html\n";
    return 2;
  }
  Results here = testing::sample_results();
  Results there = testing::sample_results();
  there.environment.machine.cpu_model = "Ampere Altra";
  there.results[0].samples_ms = testing::rounds_around(0.021, 5, 20, 0.002);
  there.results[0].latency = summarize_rounds(there.results[0].samples_ms, 10);
  there.results[1].status = RunStatus::failed;
  there.results[1].note = "outputs differ from the reference interpreter: output 'y' (float32): 3 of 10 elements differ";
  const Results merged = merge_results({{"x86/results.json", here}, {"arm/results.json", there}});
  modelc::write_file_atomic(argv[1], render_html(merged));
  return 0;
}
