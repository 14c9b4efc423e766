#include "spec/lockfile.h"

#include "support/diagnostic.h"
#include "support/file_io.h"
#include "support/sha256.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace modelc::spec {
namespace {

std::string short_digest(const std::string& sha) { return sha.substr(0, 12); }

// Collects every `file` or `data`/`log` path the recipe names, with its pointer.
void collect_files(const json& node, const std::string& pointer, std::vector<std::string>& pointers) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      const std::string child = pointer_append(pointer, key);
      const bool is_path = value.is_string() && (key == "file" || key == "onnx" || key == "log" || key == "input");
      if (is_path) pointers.push_back(child);
      else collect_files(value, child, pointers);
    }
  } else if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) collect_files(node[i], pointer_append(pointer, i), pointers);
  }
}

void compare_maps(const std::map<std::string, std::string>& locked, const std::map<std::string, std::string>& now,
                  const std::string& what, std::vector<std::string>& out) {
  for (const auto& [key, value] : now) {
    auto it = locked.find(key);
    if (it == locked.end()) out.push_back(what + " " + key + ": not in the lock");
    else if (it->second != value)
      out.push_back(what + " " + key + ": " + short_digest(it->second) + " in the lock, " + short_digest(value) + " now");
  }
  for (const auto& [key, _] : locked)
    if (!now.count(key)) out.push_back(what + " " + key + ": in the lock, not used now");
}

}  // namespace

fs::path lock_path(const Recipe& recipe) {
  return recipe.file.parent_path() / (recipe.file.stem().string() + ".lock");
}

json lock_to_json(const Lock& lock) {
  json variants = json::object();
  for (const auto& [name, v] : lock.variants) {
    json targets = json::object();
    for (const auto& [t, lt] : v.targets)
      targets[t] = {{"device", lt.device}, {"halide_target", lt.halide_target}, {"artifacts", lt.artifacts}};
    variants[name] = {{"resolved_sha256", v.resolved_sha256}, {"inputs", v.inputs}, {"targets", targets}};
  }
  return {{"lock_version", Lock::kVersion},
          {"recipe", {{"name", lock.recipe_name}, {"version", lock.recipe_version}}},
          {"toolchain", lock.toolchain},
          {"variants", variants}};
}

Lock lock_from_json(const json& j, const std::string& file) {
  try {
    if (j.at("lock_version").get<int>() != Lock::kVersion)
      throw Error(Diagnostic{Severity::error, {file}, "/lock_version",
                             "lock version " + j.at("lock_version").dump() + " is not supported (expected 1)", {}});
    Lock lock;
    lock.recipe_name = j.at("recipe").at("name").get<std::string>();
    lock.recipe_version = j.at("recipe").at("version").get<std::string>();
    lock.toolchain = j.at("toolchain").get<std::map<std::string, std::string>>();
    for (const auto& [name, v] : j.at("variants").items()) {
      LockedVariant lv;
      lv.resolved_sha256 = v.at("resolved_sha256").get<std::string>();
      lv.inputs = v.at("inputs").get<std::map<std::string, std::string>>();
      for (const auto& [t, lt] : v.at("targets").items())
        lv.targets[t] = {lt.at("device").get<std::string>(), lt.at("halide_target").get<std::string>(),
                         lt.at("artifacts").get<std::map<std::string, std::string>>()};
      lock.variants[name] = std::move(lv);
    }
    return lock;
  } catch (const json::exception& e) {
    throw Error(Diagnostic{Severity::error, {file}, {}, std::string("malformed lockfile: ") + e.what(),
                           "delete it and run `modelc compile` without --locked to write a new one"});
  }
}

Lock read_lock(const fs::path& path) {
  if (!fs::exists(path))
    throw Error(Diagnostic{Severity::error, {path.string()}, {}, "no lockfile",
                           "run `modelc compile` without --locked once to write it"});
  json j;
  try {
    j = json::parse(read_text_file(path));
  } catch (const json::parse_error& e) {
    throw Error(Diagnostic{Severity::error, {path.string()}, {}, std::string("malformed lockfile: ") + e.what(), {}});
  }
  return lock_from_json(j, path.string());
}

void write_lock(const fs::path& path, const Lock& lock) { write_file_atomic(path, lock_to_json(lock).dump(2) + "\n"); }

std::string resolved_recipe_sha256(const Recipe& recipe) { return sha256_hex(recipe.resolved.dump()); }

std::map<std::string, std::string> recipe_input_digests(const Recipe& recipe) {
  std::vector<std::string> pointers;
  collect_files(recipe.resolved, "", pointers);
  std::map<std::string, std::string> digests;
  const fs::path base = recipe.file.parent_path();
  for (const std::string& pointer : pointers) {
    const fs::path file = recipe.resolve_path(pointer);
    if (!fs::is_regular_file(file)) continue;  // folders (calibration data) and missing files: validation's business
    digests[fs::relative(file, base).lexically_normal().string()] = sha256_file(file);
  }
  return digests;
}

std::vector<std::string> lock_differences(const Lock& locked, const Lock& current, bool compare_artifacts) {
  std::vector<std::string> out;
  if (locked.recipe_name != current.recipe_name || locked.recipe_version != current.recipe_version)
    out.push_back("recipe: " + locked.recipe_name + " " + locked.recipe_version + " in the lock, " + current.recipe_name +
                  " " + current.recipe_version + " now");
  for (const auto& [tool, version] : current.toolchain) {
    auto it = locked.toolchain.find(tool);
    if (it == locked.toolchain.end() || it->second != version)
      out.push_back(tool + ": " + (it == locked.toolchain.end() ? std::string("absent") : it->second) + " in the lock, " +
                    version + " now");
  }
  for (const auto& [name, v] : current.variants) {
    auto lv = locked.variants.find(name);
    if (lv == locked.variants.end()) {
      out.push_back("variant " + name + ": not in the lock");
      continue;
    }
    if (lv->second.resolved_sha256 != v.resolved_sha256)
      out.push_back("variant " + name + ": the resolved recipe changed (" + short_digest(lv->second.resolved_sha256) +
                    " in the lock, " + short_digest(v.resolved_sha256) + " now)");
    compare_maps(lv->second.inputs, v.inputs, "input file", out);
    for (const auto& [t, lt] : v.targets) {
      auto it = lv->second.targets.find(t);
      if (it == lv->second.targets.end()) {
        out.push_back("target " + t + " of variant " + name + ": not in the lock");
        continue;
      }
      if (it->second.device != lt.device || it->second.halide_target != lt.halide_target)
        out.push_back("target " + t + ": " + it->second.device + " (" + it->second.halide_target + ") in the lock, " +
                      lt.device + " (" + lt.halide_target + ") now");
      if (compare_artifacts) compare_maps(it->second.artifacts, lt.artifacts, "target " + t + " artifact", out);
    }
  }
  return out;
}

}  // namespace modelc::spec
