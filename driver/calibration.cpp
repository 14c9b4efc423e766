#include "driver/calibration.h"

#include <algorithm>
#include <filesystem>

#include "driver/evaluate.h"
#include "lang/frontends/weight_init.h"
#include "support/diagnostic.h"

namespace modelc::driver {
namespace fs = std::filesystem;

namespace {

constexpr const char* kCalibration = "/quantization/activations/calibration";
constexpr const char* kEvaluation = "/quantization/evaluation";

// Splits `t` along its first axis into samples of `type` (whose first axis is the batch).
void split_samples(const lang::Tensor& t, const lang::TensorType& type, const fs::path& file, size_t limit,
                   const std::string& what, std::vector<std::vector<lang::Tensor>>& out) {
  const auto& s = t.type().shape;
  const bool fits = t.type().dtype == type.dtype && !s.empty() && !type.shape.empty() && type.shape[0] > 0 &&
                    s.size() == type.shape.size() && std::equal(s.begin() + 1, s.end(), type.shape.begin() + 1) &&
                    s[0] % type.shape[0] == 0;
  if (!fits)
    throw Error(Diagnostic{Severity::error, {file.string()}, {}, "the " + what + " file holds " + t.type().str() +
                               ", expected samples of the model's input " + type.str() + " stacked along the first axis", {}});
  const size_t bytes = type.bytes();
  for (int64_t i = 0; i < s[0] / type.shape[0] && out.size() < limit; ++i) {
    const auto begin = t.bytes().begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(i) * bytes);
    out.push_back({lang::Tensor(type, std::vector<std::byte>(begin, begin + static_cast<std::ptrdiff_t>(bytes)))});
  }
}

// At most `limit` samples of the model's input `type` from the block at
// `pointer` (calibration or evaluation): seeded standard-normal ones when it
// has a random_seed and no data, else those of its data (a folder of .npy
// files in name order, or one file).
std::vector<std::vector<lang::Tensor>> load_samples(const spec::Recipe& recipe, const std::string& pointer,
                                                    const nlohmann::json& block, const lang::TensorType& type, size_t limit,
                                                    const std::string& what) {
  std::vector<std::vector<lang::Tensor>> out;
  if (block.contains("random_seed") && !block.contains("data")) {
    const auto seed = block["random_seed"].get<int64_t>();
    for (size_t s = 0; s < limit; ++s) {
      lang::frontends::WeightInit init;
      init.kind = lang::frontends::WeightInit::Kind::normal;
      init.std = 1.0;
      init.seed = static_cast<uint64_t>(seed) + s;
      out.push_back({lang::frontends::initialize_tensor(type.shape, init, 1, 1)});
    }
    return out;
  }
  const std::string data_pointer = pointer + "/data";
  if (!block.contains("data"))
    throw Error(Diagnostic{Severity::error, recipe.locate(pointer), pointer, what + " needs inputs: set data (.npy files) or random_seed", {}});
  const fs::path data = recipe.resolve_path(data_pointer);
  std::vector<fs::path> files;
  if (fs::is_directory(data)) {
    for (const auto& e : fs::directory_iterator(data))
      if (e.path().extension() == ".npy") files.push_back(e.path());
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(data);
  }
  for (const fs::path& f : files) {
    if (out.size() >= limit) break;
    split_samples(read_npy_tensor(f), type, f, limit, what, out);
  }
  if (out.empty())
    throw Error(Diagnostic{Severity::error, recipe.locate(data_pointer), data_pointer, "the " + what + " data holds no .npy samples", {}});
  return out;
}

const lang::TensorType& single_input(const spec::Recipe& recipe, const lang::Module& module, const std::string& pointer,
                                     const std::string& what) {
  const lang::Function& main = module.main();
  if (main.params.size() != 1)
    throw Error(Diagnostic{Severity::error, recipe.locate(pointer), pointer,
                           what + " of a model with " + std::to_string(main.params.size()) + " inputs is not supported (one input)", {}});
  return main.params[0].type;
}

}  // namespace

bool calibrates_on_random_data(const spec::Recipe& recipe) {
  const auto& c = recipe.quantization.options["activations"]["calibration"];
  return recipe.quantization.mode == "int8" && c.contains("random_seed") && !c.contains("data");
}

lang::QuantizeOptions quantize_options(const spec::Recipe& recipe, const lang::Module& module) {
  lang::QuantizeOptions o;
  o.mode = recipe.quantization.mode;
  const nlohmann::json& q = recipe.quantization.options;
  if (o.mode == "none") return o;
  o.skip = q["skip"].get<std::vector<std::string>>();  // Quantize and ReducePrecision
  if (o.mode != "int8") return o;
  o.per_channel_weights = q["weights"]["granularity"].get<std::string>() == "per-channel";
  o.weight_bits = q["weights"]["bits"].get<int>();
  o.symmetric_activations = q["activations"]["symmetric"].get<bool>();
  const nlohmann::json& c = q["activations"]["calibration"];
  o.method = c["method"].get<std::string>();
  o.percentile = c["percentile"].get<double>();
  const auto limit = static_cast<size_t>(c["samples"].get<int64_t>());
  o.calibration = load_samples(recipe, kCalibration, c, single_input(recipe, module, kCalibration, "calibration"), limit,
                               "calibration");
  return o;
}

std::vector<std::vector<lang::Tensor>> held_out_inputs(const spec::Recipe& recipe, const lang::Module& module) {
  if (recipe.quantization.mode == "none") return {};
  const nlohmann::json& e = recipe.quantization.options["evaluation"];
  const auto limit = static_cast<size_t>(e["samples"].get<int64_t>());
  if (limit == 0) return {};
  const nlohmann::json& c = recipe.quantization.options["activations"]["calibration"];
  // Held out means held out: seeded inputs must not repeat a calibration seed.
  if (e.contains("random_seed") && !e.contains("data") && calibrates_on_random_data(recipe)) {
    const auto first = e["random_seed"].get<int64_t>(), calibration_first = c["random_seed"].get<int64_t>();
    const auto count = static_cast<int64_t>(limit), calibration_count = c["samples"].get<int64_t>();
    if (first < calibration_first + calibration_count && calibration_first < first + count) {
      const std::string pointer = std::string(kEvaluation) + "/random_seed";
      throw Error(Diagnostic{Severity::error, recipe.locate(pointer), pointer,
                             "held-out seeds " + std::to_string(first) + ".." + std::to_string(first + count - 1) +
                                 " overlap the calibration seeds " + std::to_string(calibration_first) + ".." +
                                 std::to_string(calibration_first + calibration_count - 1),
                             "choose a random_seed outside that range"});
    }
  }
  return load_samples(recipe, kEvaluation, e, single_input(recipe, module, kEvaluation, "held-out evaluation"), limit,
                      "held-out evaluation");
}

lang::QdqSummary write_qdq_model(const spec::Recipe& recipe, const std::filesystem::path& out) {
  if (recipe.quantization.mode != "int8") throw Error("the QDQ form is for int8 variants; this one's quantization.mode is " + recipe.quantization.mode);
  if (!recipe.model.onnx) throw Error("the QDQ form is written for ONNX models; this recipe's model is a YAML graph");
  const lang::OnnxImport imported = lang::import_onnx_values(*recipe.model.onnx, recipe.model.inputs, recipe.model.limits);
  return lang::write_qdq_onnx(*recipe.model.onnx, imported, quantize_options(recipe, imported.module), out);
}

}  // namespace modelc::driver
