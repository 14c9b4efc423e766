#include "reports/artifact.h"

#include <dlfcn.h>

#include <algorithm>
#include <utility>

#include "reports/json_reader.h"
#include "support/diagnostic.h"
#include "support/file_io.h"
#include "support/sha256.h"
#include "support/utf8.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace modelc::reports {
namespace {

Diagnostic error_in(std::string file, std::string pointer, std::string message, std::string hint) {
  Diagnostic diagnostic;
  diagnostic.location.file = std::move(file);
  diagnostic.pointer = std::move(pointer);
  diagnostic.message = std::move(message);
  diagnostic.hint = std::move(hint);
  return diagnostic;
}

[[noreturn]] void artifact_error(const fs::path& file, std::string message, std::string hint = {}) {
  throw Error(error_in(file.string(), {}, std::move(message), std::move(hint)));
}

std::vector<ManifestTensor> read_tensors(const JsonFieldReader& read, const json& manifest, const char* key) {
  std::vector<ManifestTensor> tensors;
  const json& list = read.array(manifest, "", key);
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string pointer = std::string("/") + key + "/" + std::to_string(i);
    ManifestTensor tensor{read.string(list[i], pointer, "name"), read.string(list[i], pointer, "dtype"), {}};
    // A name that is not UTF-8 (JSON cannot hold it) has its exact bytes here.
    const std::string hex = read.optional_string(list[i], pointer, "name_hex");
    if (!hex.empty() && !parse_hex_bytes(hex, tensor.name)) read.fail(pointer + "/name_hex", "expected pairs of hex digits");
    const json& shape = read.array(list[i], pointer, "shape");
    for (size_t d = 0; d < shape.size(); ++d) {
      if (!shape[d].is_number_integer() || shape[d].get<int64_t>() < 0) {
        read.fail(pointer + "/shape/" + std::to_string(d), "expected a dimension >= 0, found " + shape[d].dump());
      }
      tensor.shape.push_back(shape[d].get<int64_t>());
    }
    tensors.push_back(std::move(tensor));
  }
  return tensors;
}

std::vector<ManifestKernel> read_kernels(const JsonFieldReader& read, const json& manifest) {
  std::vector<ManifestKernel> kernels;
  if (!read.has(manifest, "kernels")) return kernels;
  const json& list = read.array(manifest, "", "kernels");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string pointer = "/kernels/" + std::to_string(i);
    ManifestKernel kernel{read.string(list[i], pointer, "name"), read.optional_string(list[i], pointer, "hash"), {}, 0};
    if (read.has(list[i], "ops")) {
      const json& ops = read.array(list[i], pointer, "ops");
      for (size_t k = 0; k < ops.size(); ++k) {
        if (!ops[k].is_string()) read.fail(pointer + "/ops/" + std::to_string(k), "expected an op name");
        kernel.ops.push_back(ops[k].get<std::string>());
      }
    }
    if (read.has(list[i], "calls")) kernel.calls = static_cast<int>(read.count(list[i], pointer, "calls"));
    if (read.has(list[i], "multiply_adds")) kernel.multiply_adds = read.count(list[i], pointer, "multiply_adds");
    if (read.has(list[i], "integer_multiply_adds"))
      kernel.integer_multiply_adds = read.count(list[i], pointer, "integer_multiply_adds");
    if (read.has(list[i], "bytes")) kernel.bytes = read.count(list[i], pointer, "bytes");
    kernels.push_back(std::move(kernel));
  }
  return kernels;
}

std::string shape_text(std::span<const int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

// The library's own tensor table must agree with the manifest that describes it.
void check_tensors_match(const fs::path& library, const char* role, std::span<const modelc_tensor_info> actual,
                         const std::vector<ManifestTensor>& expected) {
  if (actual.size() != expected.size()) {
    artifact_error(library, std::string("the library has ") + std::to_string(actual.size()) + " " + role +
                                "s, the manifest lists " + std::to_string(expected.size()),
                   "rebuild the artifact; its files are from different compilations");
  }
  for (size_t i = 0; i < actual.size(); ++i) {
    const modelc_tensor_info& info = actual[i];
    const ManifestTensor& listed = expected[i];
    const std::span<const int64_t> shape(info.shape, static_cast<size_t>(std::max(info.rank, 0)));
    const bool same = info.name != nullptr && listed.name == info.name && listed.dtype == dtype_name(info.dtype) &&
                      std::equal(shape.begin(), shape.end(), listed.shape.begin(), listed.shape.end());
    if (!same) {
      artifact_error(library,
                     std::string(role) + " " + std::to_string(i) + " is '" + (info.name ? info.name : "") + "' " +
                         dtype_name(info.dtype) + shape_text(shape) + " in the library but '" + listed.name + "' " +
                         listed.dtype + shape_text(listed.shape) + " in the manifest",
                     "rebuild the artifact; its files are from different compilations");
    }
  }
}

const modelc_tensor_info* find_tensor(std::span<const modelc_tensor_info> tensors, const std::string& name) {
  for (const modelc_tensor_info& info : tensors) {
    if (info.name != nullptr && name == info.name) return &info;
  }
  return nullptr;
}

// Every tensor given exactly once, by a known name, with the dense size.
template <typename Tensor>
void check_buffers(const char* role, std::span<const modelc_tensor_info> tensors, std::span<const Tensor> given) {
  for (size_t i = 0; i < given.size(); ++i) {
    const modelc_tensor_info* info = find_tensor(tensors, given[i].name);
    if (info == nullptr) throw Error(std::string("the model has no ") + role + " named '" + given[i].name + "'");
    if (given[i].bytes.size() != info->bytes) {
      throw Error(std::string(role) + " '" + given[i].name + "' needs " + std::to_string(info->bytes) +
                  " bytes, the buffer has " + std::to_string(given[i].bytes.size()));
    }
    for (size_t j = 0; j < i; ++j) {
      if (given[j].name == given[i].name) throw Error(std::string(role) + " '" + given[i].name + "' is given twice");
    }
  }
  for (const modelc_tensor_info& info : tensors) {
    const bool present = std::any_of(given.begin(), given.end(), [&](const Tensor& t) { return t.name == info.name; });
    if (!present) throw Error(std::string("no buffer for ") + role + " '" + info.name + "'");
  }
}

}  // namespace

const char* dtype_name(modelc_dtype dtype) {
  switch (dtype) {
    case MODELC_FLOAT32: return "float32";
    case MODELC_FLOAT16: return "float16";
    case MODELC_BFLOAT16: return "bfloat16";
    case MODELC_INT8: return "int8";
    case MODELC_UINT8: return "uint8";
    case MODELC_INT32: return "int32";
    case MODELC_INT64: return "int64";
    case MODELC_BOOL: return "bool";
    case MODELC_INT16: return "int16";
    case MODELC_UINT16: return "uint16";
    case MODELC_UINT32: return "uint32";
    case MODELC_UINT64: return "uint64";
  }
  return "unknown";
}

ArtifactManifest parse_manifest(const json& manifest, const std::string& file_name) {
  const JsonFieldReader read(file_name);
  if (!manifest.is_object()) read.fail("", "expected a JSON object at the top level");

  ArtifactManifest out;
  const uint64_t version = read.count(manifest, "", "manifest_version");
  if (version != kManifestVersion) {
    read.fail("/manifest_version",
              "manifest version " + std::to_string(version) + " is not supported (expected " +
                  std::to_string(kManifestVersion) + ")",
              "recompile the artifact with this modelc");
  }
  out.manifest_version = static_cast<int>(version);
  out.model = read.string(manifest, "", "model");
  out.prefix = read.string(manifest, "", "prefix");
  out.api_symbol = read.string(manifest, "", "api_symbol");

  const json& target = read.object(manifest, "", "target");
  out.target = {read.string(target, "/target", "name"), read.optional_string(target, "/target", "device"),
                read.optional_string(target, "/target", "halide_target"),
                read.optional_string(target, "/target", "triple")};

  const json& files = read.object(manifest, "", "files");
  out.static_library = read.optional_string(files, "/files", "static_library");
  out.shared_library = read.optional_string(files, "/files", "shared_library");
  out.header = read.optional_string(files, "/files", "header");

  if (read.has(manifest, "sha256")) {
    const json& digests = read.object(manifest, "", "sha256");
    for (const auto& [file, digest] : digests.items()) out.sha256[file] = read.string(digests, "/sha256", file);
  }

  out.inputs = read_tensors(read, manifest, "inputs");
  out.outputs = read_tensors(read, manifest, "outputs");
  out.kernels = read_kernels(read, manifest);
  if (read.has(manifest, "step_kernels")) {
    const json& steps = read.array(manifest, "", "step_kernels");
    for (size_t i = 0; i < steps.size(); ++i) {
      if (!steps[i].is_string()) read.fail("/step_kernels/" + std::to_string(i), "expected a kernel name");
      out.step_kernels.push_back(steps[i].get<std::string>());
    }
  }
  out.arena_bytes = read.count(manifest, "", "arena_bytes");
  out.weight_bytes = read.count(manifest, "", "weight_bytes");
  out.code_bytes = read.has(manifest, "code_bytes") ? read.count(manifest, "", "code_bytes") : 0;

  if (read.has(manifest, "versions")) {
    const json& versions = read.object(manifest, "", "versions");
    out.modelc_version = read.optional_string(versions, "/versions", "modelc");
    out.halide_version = read.optional_string(versions, "/versions", "halide");
    out.llvm_version = read.optional_string(versions, "/versions", "llvm");
  }
  return out;
}

ArtifactManifest read_manifest(const fs::path& path) {
  return parse_manifest(parse_json_text(read_text_file(path), path.string()), path.string());
}

// ---- ModelInstance ----------------------------------------------------------

ModelInstance::ModelInstance(std::shared_ptr<void> library, const modelc_model_api* api, modelc_model* model)
    : library_(std::move(library)), api_(api), model_(model) {}

ModelInstance::ModelInstance(ModelInstance&& other) noexcept
    : library_(std::move(other.library_)), api_(other.api_), model_(std::exchange(other.model_, nullptr)) {}

ModelInstance& ModelInstance::operator=(ModelInstance&& other) noexcept {
  if (this != &other) {
    if (model_ != nullptr) api_->destroy(model_);
    library_ = std::move(other.library_);
    api_ = other.api_;
    model_ = std::exchange(other.model_, nullptr);
  }
  return *this;
}

ModelInstance::~ModelInstance() {
  if (model_ != nullptr) api_->destroy(model_);
}

modelc_status ModelInstance::run_unchecked(std::span<const modelc_buffer> inputs,
                                           std::span<const modelc_buffer> outputs) {
  return api_->run(model_, inputs.data(), static_cast<int32_t>(inputs.size()), outputs.data(),
                   static_cast<int32_t>(outputs.size()));
}

modelc_status ModelInstance::run_observed_unchecked(std::span<const modelc_buffer> inputs,
                                                    std::span<const modelc_buffer> outputs,
                                                    modelc_step_observer observer, void* user, uint32_t flags) {
  if (api_->run_observed == nullptr)
    throw Error("the artifact of model '" + std::string(api_->name) + "' cannot report its steps (no run_observed)");
  return api_->run_observed(model_, inputs.data(), static_cast<int32_t>(inputs.size()), outputs.data(),
                            static_cast<int32_t>(outputs.size()), observer, user, flags);
}

void ModelInstance::run(std::span<const InputTensor> inputs, std::span<const OutputTensor> outputs) {
  const std::span<const modelc_tensor_info> input_info(api_->inputs, static_cast<size_t>(api_->num_inputs));
  const std::span<const modelc_tensor_info> output_info(api_->outputs, static_cast<size_t>(api_->num_outputs));
  check_buffers("input", input_info, inputs);
  check_buffers("output", output_info, outputs);

  std::vector<modelc_buffer> in;
  std::vector<modelc_buffer> out;
  for (const InputTensor& t : inputs) {
    // The C ABI has one buffer type for both directions; inputs are only read.
    in.push_back({t.name.c_str(), const_cast<std::byte*>(t.bytes.data()), t.bytes.size()});
  }
  for (const OutputTensor& t : outputs) out.push_back({t.name.c_str(), t.bytes.data(), t.bytes.size()});

  const modelc_status status = run_unchecked(in, out);
  if (status == MODELC_OK) return;
  const std::string message = last_error();
  throw Error(std::string("model '") + (api_->name ? api_->name : "") + "' failed (status " +
              std::to_string(static_cast<int>(status)) + ")" + (message.empty() ? "" : ": " + message));
}

std::string ModelInstance::last_error() const {
  const char* message = api_->last_error != nullptr ? api_->last_error(model_) : nullptr;
  return message != nullptr ? message : "";
}

// ---- LoadedArtifact ---------------------------------------------------------

LoadedArtifact::LoadedArtifact(fs::path folder, ArtifactManifest manifest, std::shared_ptr<void> library,
                               const modelc_model_api* api)
    : folder_(std::move(folder)), manifest_(std::move(manifest)), library_(std::move(library)), api_(api) {}

LoadedArtifact LoadedArtifact::open(const fs::path& folder, const OpenOptions& options) {
  const fs::path manifest_path = folder / "manifest.json";
  ArtifactManifest manifest = read_manifest(manifest_path);
  if (manifest.shared_library.empty()) {
    JsonFieldReader(manifest_path.string()).fail("/files/shared_library", "this artifact has no shared library to load",
                   "compile it for a target that runs on this machine");
  }
  const fs::path library_path = fs::absolute(folder / manifest.shared_library);
  std::error_code ec;
  if (!fs::is_regular_file(library_path, ec)) artifact_error(library_path, "file does not exist");

  if (options.verify_sha256) {
    const auto expected = manifest.sha256.find(manifest.shared_library);
    if (expected != manifest.sha256.end() && sha256_file(library_path) != expected->second) {
      artifact_error(library_path, "sha256 differs from the one in manifest.json",
                     "the library changed after compilation; recompile the artifact");
    }
  }

  dlerror();
  void* handle = dlopen(library_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    artifact_error(library_path, std::string("cannot load the shared library: ") + (why ? why : "unknown error"));
  }
  std::shared_ptr<void> library(handle, [](void* h) { dlclose(h); });

  using ApiFunction = const modelc_model_api* (*)();
  dlerror();
  void* symbol = dlsym(handle, manifest.api_symbol.c_str());
  if (symbol == nullptr) {
    artifact_error(library_path, "symbol '" + manifest.api_symbol + "' not found",
                   "manifest.json's api_symbol must name the <prefix>_api function the library exports");
  }
  const modelc_model_api* api = reinterpret_cast<ApiFunction>(symbol)();
  if (api == nullptr) artifact_error(library_path, manifest.api_symbol + "() returned NULL");
  if (api->abi_version != MODELC_ABI_VERSION) {
    artifact_error(library_path,
                   "ABI version " + std::to_string(api->abi_version) + ", this modelc reads version " +
                       std::to_string(MODELC_ABI_VERSION),
                   "recompile the artifact with this modelc");
  }
  if (api->create == nullptr || api->run == nullptr || api->destroy == nullptr) {
    artifact_error(library_path, manifest.api_symbol + "() returned a table without create/run/destroy");
  }
  check_tensors_match(library_path, "input",
                      {api->inputs, static_cast<size_t>(std::max(api->num_inputs, 0))}, manifest.inputs);
  check_tensors_match(library_path, "output",
                      {api->outputs, static_cast<size_t>(std::max(api->num_outputs, 0))}, manifest.outputs);

  return LoadedArtifact(folder, std::move(manifest), std::move(library), api);
}

std::span<const modelc_tensor_info> LoadedArtifact::inputs() const {
  return {api_->inputs, static_cast<size_t>(api_->num_inputs)};
}

std::span<const modelc_tensor_info> LoadedArtifact::outputs() const {
  return {api_->outputs, static_cast<size_t>(api_->num_outputs)};
}

ModelInstance LoadedArtifact::create(int threads) const {
  modelc_model* model = api_->create(threads);
  if (model == nullptr) {
    artifact_error(folder_ / manifest_.shared_library,
                   "creating model '" + manifest_.model + "' failed (out of memory?)");
  }
  return ModelInstance(library_, api_, model);
}

}  // namespace modelc::reports
