// Helpers shared by the lang tests: shared-model lookup, .npy tensors, random
// inputs and error metrics.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "lang/module.h"

namespace modelc::lang::testing {

// $MODELC_SHARED_MODELS when it names an existing folder.
std::optional<std::filesystem::path> shared_models_dir();

Tensor tensor_from_npy(const std::filesystem::path& path);
// Uniform in [-1, 1), reproducible from `seed`.
Tensor random_tensor(const TensorType& type, unsigned seed);
// Random values for every parameter of @main.
std::vector<Tensor> random_inputs(const Module& module, unsigned seed);

struct Closeness {
  double max_abs = 0;     // largest |a - b|
  bool within = true;     // every |a - b| <= atol + rtol * |b|
};
Closeness compare(const Tensor& actual, const Tensor& expected, double rtol, double atol);

// Parses IR text (failing the test with the parser's message on error).
Module parse(const std::string& text);
// A temporary folder removed at the end of the scope.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace modelc::lang::testing
