// Did-you-mean suggestions for misspelled names (keys, enum values, ops).
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace modelc {

// Levenshtein distance.
size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `word`, or "" when none is close enough to be a
// plausible misspelling.
std::string closest_spelling(std::string_view word, std::span<const std::string> candidates);

// "'a', 'b', 'c'" (or "none"), for hints that list the names a user may write.
std::string quoted_list(std::span<const std::string> names);

}  // namespace modelc
