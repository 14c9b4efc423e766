// A compiled artifact, opened for running: the manifest.json that targets/
// writes next to the libraries, and the shared library loaded with dlopen().
//
// LoadedArtifact owns the library handle; every ModelInstance created from it
// shares that ownership, so an instance never outlives the code it runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/modelc.h"

namespace modelc::reports {

struct ManifestTensor {
  std::string name;
  std::string dtype;  // "float32", "int8", ...
  std::vector<int64_t> shape;
};

struct ManifestKernel {
  std::string name;
  std::string hash;
  std::vector<std::string> ops;
  int calls = 0;
  uint64_t multiply_adds = 0;          // per call, float (lang/cost.h)
  uint64_t integer_multiply_adds = 0;  // per call, integer operands (qnn.*)
  uint64_t bytes = 0;                  // per call: parameters read + results written
};

struct ManifestTarget {
  std::string name;
  std::string device;
  std::string halide_target;
  std::string triple;
};

struct ArtifactManifest {
  int manifest_version = 1;
  std::string model;
  std::string prefix;
  std::string api_symbol;
  ManifestTarget target;
  std::string static_library;  // file names, relative to the artifact folder
  std::string shared_library;
  std::string header;
  std::map<std::string, std::string> sha256;  // file name -> hex digest
  std::vector<ManifestTensor> inputs;
  std::vector<ManifestTensor> outputs;
  std::vector<ManifestKernel> kernels;
  std::vector<std::string> step_kernels;  // the kernel each step of a run calls, in order
  uint64_t arena_bytes = 0;
  uint64_t weight_bytes = 0;
  uint64_t code_bytes = 0;
  std::string modelc_version;
  std::string halide_version;
  std::string llvm_version;
};

inline constexpr int kManifestVersion = 1;

// Throws modelc::Error naming `file_name` and the JSON pointer of the first
// missing or mistyped field.
ArtifactManifest parse_manifest(const nlohmann::json& manifest, const std::string& file_name);
// Reads and parses <path>; bad JSON or a missing file is a modelc::Error naming it.
ArtifactManifest read_manifest(const std::filesystem::path& path);

// One input or output of a run, matched by name to the model's tensors.
struct InputTensor {
  std::string name;
  std::span<const std::byte> bytes;
};
struct OutputTensor {
  std::string name;
  std::span<std::byte> bytes;
};

// A model created by <prefix>_api()->create; destroyed with it.
class ModelInstance {
 public:
  ModelInstance(ModelInstance&&) noexcept;
  ModelInstance& operator=(ModelInstance&&) noexcept;
  ModelInstance(const ModelInstance&) = delete;
  ModelInstance& operator=(const ModelInstance&) = delete;
  ~ModelInstance();

  // Checks names and sizes against the model's tensors first; a failed run is a
  // modelc::Error carrying the artifact's last_error() message.
  void run(std::span<const InputTensor> inputs, std::span<const OutputTensor> outputs);
  // No checks and no allocation, for timing loops; returns the C status.
  modelc_status run_unchecked(std::span<const modelc_buffer> inputs, std::span<const modelc_buffer> outputs);
  // The same through run_observed (modelc.h): `observer` hears each step start
  // and end; flags: MODELC_OBSERVE_*. Throws modelc::Error when the artifact
  // has no run_observed.
  modelc_status run_observed_unchecked(std::span<const modelc_buffer> inputs, std::span<const modelc_buffer> outputs,
                                       modelc_step_observer observer, void* user, uint32_t flags = 0);

  const modelc_model_api& api() const { return *api_; }
  // The message of the instance's last failed run ("" when it gives none).
  std::string last_error() const;

 private:
  friend class LoadedArtifact;
  ModelInstance(std::shared_ptr<void> library, const modelc_model_api* api, modelc_model* model);

  std::shared_ptr<void> library_;  // keeps the code of `model_` loaded
  const modelc_model_api* api_ = nullptr;
  modelc_model* model_ = nullptr;
};

struct OpenOptions {
  // Compare the shared library with the manifest's sha256 before loading it.
  bool verify_sha256 = true;
};

class LoadedArtifact {
 public:
  // Reads <folder>/manifest.json, dlopen()s its shared library (RTLD_NOW |
  // RTLD_LOCAL), looks up api_symbol and checks the ABI version and that the
  // library's tensors match the manifest's. Errors name the offending file.
  static LoadedArtifact open(const std::filesystem::path& folder, const OpenOptions& options = {});

  const std::filesystem::path& folder() const { return folder_; }
  const ArtifactManifest& manifest() const { return manifest_; }
  const modelc_model_api& api() const { return *api_; }
  std::span<const modelc_tensor_info> inputs() const;
  std::span<const modelc_tensor_info> outputs() const;

  // threads <= 0: all cores. Throws modelc::Error when create() fails.
  ModelInstance create(int threads) const;

 private:
  LoadedArtifact(std::filesystem::path folder, ArtifactManifest manifest, std::shared_ptr<void> library,
                 const modelc_model_api* api);

  std::filesystem::path folder_;
  ArtifactManifest manifest_;
  std::shared_ptr<void> library_;
  const modelc_model_api* api_;
};

// "float32" etc. for a C dtype; "unknown" for values outside the enum.
const char* dtype_name(modelc_dtype dtype);

}  // namespace modelc::reports
