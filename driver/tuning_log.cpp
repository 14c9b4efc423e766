#include "driver/tuning_log.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/diagnostic.h"
#include "support/file_io.h"

namespace modelc::driver {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json entry_json(const TuningEntry& e) {
  return {{"workload", e.workload},
          {"target", e.halide_target},
          {"knobs", {{"tile_blocks", e.knobs.tile_blocks}, {"tile_pixels", e.knobs.tile_pixels}}},
          {"ops", e.ops},
          {"template", e.template_knobs},
          {"ms", e.ms},
          {"template_ms", e.template_ms},
          {"threads", e.threads},
          {"machine", e.machine},
          {"date", e.date}};
}

// One line of a log; throws a message (without the location) when it is not an entry.
TuningEntry entry_from_json(const json& j) {
  if (!j.is_object()) throw std::invalid_argument("not a JSON object");
  auto text = [&](const char* key) {
    if (!j.contains(key) || !j.at(key).is_string() || j.at(key).get<std::string>().empty())
      throw std::invalid_argument(std::string("\"") + key + "\" must be a non-empty string");
    return j.at(key).get<std::string>();
  };
  auto optional_text = [&](const char* key) { return j.contains(key) && j.at(key).is_string() ? j.at(key).get<std::string>() : ""; };
  auto optional_number = [&](const char* key) { return j.contains(key) && j.at(key).is_number() ? j.at(key).get<double>() : 0.0; };
  TuningEntry e;
  e.workload = text("workload");
  e.halide_target = text("target");
  if (!j.contains("knobs") || !j.at("knobs").is_object()) throw std::invalid_argument("\"knobs\" must be an object");
  for (const auto& [key, value] : j.at("knobs").items()) {
    if (!value.is_number_integer() || value.get<int64_t>() < 1 || value.get<int64_t>() > 64)
      throw std::invalid_argument("knob \"" + key + "\" must be an integer from 1 to 64");
    if (key == "tile_blocks") e.knobs.tile_blocks = value.get<int>();
    else if (key == "tile_pixels") e.knobs.tile_pixels = value.get<int>();
    else throw std::invalid_argument("unknown knob \"" + key + "\" (known: tile_blocks, tile_pixels)");
  }
  if ((e.knobs.tile_blocks == 0) != (e.knobs.tile_pixels == 0))
    throw std::invalid_argument("\"knobs\" sets tile_blocks and tile_pixels together");
  e.ops = optional_text("ops");
  e.template_knobs = optional_text("template");
  e.ms = optional_number("ms");
  e.template_ms = optional_number("template_ms");
  if (!j.contains("threads") || !j.at("threads").is_number_integer() || j.at("threads").get<int64_t>() < 1 ||
      j.at("threads").get<int64_t>() > 4096)
    throw std::invalid_argument("\"threads\" must be an integer from 1 to 4096");
  e.threads = j.at("threads").get<int>();
  e.machine = optional_text("machine");
  e.date = optional_text("date");
  return e;
}

}  // namespace

std::vector<TuningEntry> read_tuning_log(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(Diagnostic{Severity::error, {path.string()}, {}, "cannot read the tuning log", {}});
  std::vector<TuningEntry> entries;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      entries.push_back(entry_from_json(json::parse(line)));
    } catch (const std::exception& e) {
      throw Error(Diagnostic{Severity::error, {path.string(), number}, {}, std::string("not a tuning log entry: ") + e.what(),
                             "each line is one JSON object written by `modelc tune`"});
    }
  }
  return entries;
}

void merge_tuning_log(const fs::path& path, const std::vector<TuningEntry>& entries, const std::set<TuningKey>& measured) {
  std::set<TuningKey> replaced = measured;
  for (const TuningEntry& e : entries) replaced.emplace(e.workload, e.halide_target, e.threads);
  std::string text;
  if (fs::exists(path))
    for (const TuningEntry& e : read_tuning_log(path))
      if (!replaced.count({e.workload, e.halide_target, e.threads})) text += entry_json(e).dump() + "\n";
  for (const TuningEntry& e : entries) text += entry_json(e).dump() + "\n";
  if (!path.parent_path().empty()) fs::create_directories(path.parent_path());
  write_file_atomic(path, text);
}

std::map<std::string, lower::ScheduleKnobs> knobs_for_target(const std::vector<TuningEntry>& entries,
                                                            const std::string& halide_target, int threads) {
  std::map<std::string, lower::ScheduleKnobs> out;
  for (const TuningEntry& e : entries)
    if (e.halide_target == halide_target && e.threads == threads) out[e.workload] = e.knobs;
  return out;
}

std::vector<TuningEntry> recipe_tuning_log(const spec::Recipe& recipe) {
  if (recipe.optimize.schedule != "tuned") return {};
  const char* pointer = "/optimize/schedule/log";
  if (!recipe.optimize.tuning_log)  // the schema requires it; a recipe built in code may lack it
    throw Error(Diagnostic{Severity::error, recipe.locate("/optimize/schedule"), "/optimize/schedule",
                           "the tuned strategy needs a tuning log", "set optimize.schedule.log (`modelc tune` writes one)"});
  const fs::path& log = *recipe.optimize.tuning_log;
  if (!fs::is_regular_file(log))
    throw Error(Diagnostic{Severity::error, recipe.locate(pointer), pointer, "tuning log " + log.string() + " does not exist",
                           "run `modelc tune " + recipe.file.string() + "` to measure one on this machine"});
  return read_tuning_log(log);
}

fs::path default_tuning_log(const spec::Recipe& recipe) {
  if (recipe.optimize.tuning_log) return *recipe.optimize.tuning_log;
  return recipe.file.parent_path() / "tuning.jsonl";
}

}  // namespace modelc::driver
