// recipe.lock: what a build of a recipe depended on and what it produced.
//
// Written by `modelc compile` next to the recipe (<recipe stem>.lock, JSON
// with sorted keys): per variant the sha256 of the resolved recipe, the
// sha256 of every input file (the ONNX model, .npy weights, the tuning log),
// the toolchain versions, per target the concrete Halide target, and the
// sha256 of every artifact file. `--locked` compares the current inputs with
// the lock before building (and refuses, saying what differs), then the
// artifacts after: the same lock on the same toolchain gives bit-identical
// artifacts.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec/recipe.h"

namespace modelc::spec {

struct LockedTarget {
  std::string device;
  std::string halide_target;
  std::map<std::string, std::string> artifacts;  // file name -> sha256

  bool operator==(const LockedTarget&) const = default;
};

struct LockedVariant {
  std::string resolved_sha256;                  // of the resolved recipe of this variant
  std::map<std::string, std::string> inputs;    // file (relative to the recipe's folder) -> sha256
  std::map<std::string, LockedTarget> targets;  // by target name

  bool operator==(const LockedVariant&) const = default;
};

struct Lock {
  static constexpr int kVersion = 1;
  std::string recipe_name;
  std::string recipe_version;
  std::map<std::string, std::string> toolchain;  // modelc, halide, llvm, onnx
  std::map<std::string, LockedVariant> variants;

  bool operator==(const Lock&) const = default;
};

std::filesystem::path lock_path(const Recipe& recipe);

nlohmann::json lock_to_json(const Lock& lock);
// Throws modelc::Error naming the file and the field when it is malformed.
Lock lock_from_json(const nlohmann::json& json, const std::string& file);
Lock read_lock(const std::filesystem::path& path);
void write_lock(const std::filesystem::path& path, const Lock& lock);

// sha256 of the resolved recipe, and the files it names (model, weights, tuning log).
std::string resolved_recipe_sha256(const Recipe& recipe);
std::map<std::string, std::string> recipe_input_digests(const Recipe& recipe);

// What differs between the lock and the current build, one readable line per
// difference ("model.onnx: sha256 3f1c... in the lock, 9a2b... now").
// Artifacts are compared only when `compare_artifacts`; variants and targets
// absent from `current` are ignored (a build of a subset).
std::vector<std::string> lock_differences(const Lock& locked, const Lock& current, bool compare_artifacts);

}  // namespace modelc::spec
