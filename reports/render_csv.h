// results.csv: one row per variant × target × implementation (modelc and each
// baseline), for spreadsheets and plotting scripts. RFC 4180 quoting; numbers
// in the shortest form that reads back exactly; empty cells where nothing was
// measured. Pure: returns the text.
#pragma once

#include <string>
#include <vector>

#include "reports/results.h"

namespace modelc::reports {

// The header row's column names, in order.
const std::vector<std::string>& csv_columns();

std::string render_csv(const Results& results);

}  // namespace modelc::reports
