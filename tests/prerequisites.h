// Tests that need something a machine may lack: the shared ONNX models
// (../shared/models) or ONNX Runtime for node. Where it is missing, such a
// test is skipped and counted as skipped, never run as an empty pass:
//
//   TEST_CASE("resnet18 matches PyTorch" * doctest::skip(test::skip_without_shared_models())) {
//     const std::filesystem::path dir = test::require_shared_models();
//
// doctest 2.4.9 decides skips when the test cases register, so the decorator
// asks before main() runs; its summary line then says "N skipped", which
// scripts/test_summary.py adds up.
//
// MODELC_REQUIRE_ALL=1 (.ci/run sets it, where every prerequisite is
// installed) turns each such skip into a run that fails on the missing
// prerequisite, so CI cannot pass by skipping.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include <doctest/doctest.h>

namespace modelc::test {

inline bool require_all_prerequisites() {
  const char* v = std::getenv("MODELC_REQUIRE_ALL");
  return v && *v && std::string(v) != "0";
}

// For doctest::skip(...): true when a test needing it should be skipped.
inline bool skip_unless(bool available) { return !available && !require_all_prerequisites(); }

// $MODELC_SHARED_MODELS (set by tests/meson.build to ../shared/models) when it is a folder.
inline std::optional<std::filesystem::path> shared_models_folder() {
  const char* dir = std::getenv("MODELC_SHARED_MODELS");
  std::error_code ec;
  if (!dir || !*dir || !std::filesystem::is_directory(dir, ec)) return std::nullopt;
  return std::filesystem::path(dir);
}

inline bool skip_without_shared_models() { return skip_unless(shared_models_folder().has_value()); }

// The shared models folder; a failed requirement (not a pass) when it is missing.
inline std::filesystem::path require_shared_models() {
  const auto dir = shared_models_folder();
  REQUIRE_MESSAGE(dir.has_value(), "the shared ONNX models are missing: set MODELC_SHARED_MODELS to ../shared/models");
  return *dir;
}

}  // namespace modelc::test
