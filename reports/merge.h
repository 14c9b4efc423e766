// `modelc report --merge`: one comparison from results measured on several
// machines from the same recipe, which is how a team compares hardware it
// cannot put in one room. Each row keeps the machine it was measured on
// (its index into Results::machines, in the order the files were given), and
// each machine keeps its fingerprint. Rows of different machines were never
// measured in the same rounds, so their ratios are unpaired.
#pragma once

#include <string>
#include <vector>

#include "reports/results.h"

namespace modelc::reports {

struct ResultsFile {
  std::string name;  // as given on the command line
  Results results;
};

// Throws modelc::Error naming the file when the recipe hashes differ (or
// nothing is given). An already merged file contributes all its machines; a
// single results file of one machine comes back as it is (a re-render).
// The reference row is the first file's, on its first machine; the
// comparisons are computed anew.
Results merge_results(const std::vector<ResultsFile>& files);

}  // namespace modelc::reports
