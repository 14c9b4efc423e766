#include "reports/merge.h"

#include "reports/comparison.h"
#include "support/diagnostic.h"

namespace modelc::reports {

Results merge_results(const std::vector<ResultsFile>& files) {
  if (files.empty()) throw Error("nothing to merge: give two or more results.json files");
  // One file of one machine: nothing to join; it is rendered again as it is.
  if (files.size() == 1 && files.front().results.machines.empty()) {
    Results same = files.front().results;
    same.comparisons = compare_rows(same);
    return same;
  }
  Results merged;
  const Results& first = files.front().results;
  merged.recipe = first.recipe;
  merged.environment = first.environment;
  merged.benchmark = first.benchmark;
  for (const ResultsFile& file : files) {
    const Results& r = file.results;
    if (r.recipe.sha256 != first.recipe.sha256) {
      Diagnostic d;
      d.location.file = file.name;
      d.pointer = "/recipe/sha256";
      d.message = "measured from another recipe than " + files.front().name + " (sha256 " + r.recipe.sha256.substr(0, 12) +
                  " instead of " + first.recipe.sha256.substr(0, 12) + ")";
      d.hint = "merge results of the same recipe: compare hardware with one recipe and its lockfile";
      throw Error(std::move(d));
    }
    const int base = static_cast<int>(merged.machines.size());
    if (r.machines.empty()) {
      merged.machines.push_back({file.name, r.environment});
    } else {
      merged.machines.insert(merged.machines.end(), r.machines.begin(), r.machines.end());
    }
    for (VariantResult v : r.results) {
      v.machine += base;
      merged.results.push_back(std::move(v));
    }
  }
  merged.compare_to = first.compare_to;
  merged.comparisons = compare_rows(merged);
  return merged;
}

}  // namespace modelc::reports
