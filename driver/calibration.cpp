#include "driver/calibration.h"

#include <algorithm>
#include <filesystem>

#include "driver/evaluate.h"
#include "lang/frontends/weight_init.h"
#include "support/diagnostic.h"

namespace modelc::driver {
namespace fs = std::filesystem;

namespace {

constexpr const char* kData = "/quantization/activations/calibration/data";

// Splits `t` along its first axis into samples of `type` (whose first axis is the batch).
void split_samples(const lang::Tensor& t, const lang::TensorType& type, const fs::path& file, size_t limit,
                   std::vector<std::vector<lang::Tensor>>& out) {
  const auto& s = t.type().shape;
  const bool fits = t.type().dtype == type.dtype && !s.empty() && !type.shape.empty() && type.shape[0] > 0 &&
                    s.size() == type.shape.size() && std::equal(s.begin() + 1, s.end(), type.shape.begin() + 1) &&
                    s[0] % type.shape[0] == 0;
  if (!fits)
    throw Error(Diagnostic{Severity::error, {file.string()}, {}, "the calibration file holds " + t.type().str() +
                               ", expected samples of the model's input " + type.str() + " stacked along the first axis", {}});
  const size_t bytes = type.bytes();
  for (int64_t i = 0; i < s[0] / type.shape[0] && out.size() < limit; ++i) {
    const auto begin = t.bytes().begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(i) * bytes);
    out.push_back({lang::Tensor(type, std::vector<std::byte>(begin, begin + static_cast<std::ptrdiff_t>(bytes)))});
  }
}

}  // namespace

bool calibrates_on_random_data(const spec::Recipe& recipe) {
  const auto& c = recipe.quantization.options["activations"]["calibration"];
  return recipe.quantization.mode == "int8" && c.contains("random_seed") && !c.contains("data");
}

lang::QuantizeOptions quantize_options(const spec::Recipe& recipe, const lang::Module& module) {
  lang::QuantizeOptions o;
  o.mode = recipe.quantization.mode;
  if (o.mode != "int8") return o;
  const nlohmann::json& q = recipe.quantization.options;
  o.per_channel_weights = q["weights"]["granularity"].get<std::string>() == "per-channel";
  o.symmetric_activations = q["activations"]["symmetric"].get<bool>();
  const nlohmann::json& c = q["activations"]["calibration"];
  o.method = c["method"].get<std::string>();
  o.percentile = c["percentile"].get<double>();
  o.skip = q["skip"].get<std::vector<std::string>>();
  const auto limit = static_cast<size_t>(c["samples"].get<int64_t>());
  const lang::Function& main = module.main();
  if (main.params.size() != 1)
    throw Error(Diagnostic{Severity::error, recipe.locate("/quantization/activations/calibration"),
                           "/quantization/activations/calibration",
                           "calibration of a model with " + std::to_string(main.params.size()) + " inputs is not supported (one input)", {}});
  const lang::TensorType& type = main.params[0].type;
  if (calibrates_on_random_data(recipe)) {
    const auto seed = c["random_seed"].get<int64_t>();
    for (size_t s = 0; s < limit; ++s) {
      lang::frontends::WeightInit init;
      init.kind = lang::frontends::WeightInit::Kind::normal;
      init.std = 1.0;
      init.seed = static_cast<uint64_t>(seed) + s;
      o.calibration.push_back({lang::frontends::initialize_tensor(type.shape, init, 1, 1)});
    }
    return o;
  }
  const fs::path data = recipe.resolve_path(kData);
  std::vector<fs::path> files;
  if (fs::is_directory(data)) {
    for (const auto& e : fs::directory_iterator(data))
      if (e.path().extension() == ".npy") files.push_back(e.path());
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(data);
  }
  for (const fs::path& f : files) {
    if (o.calibration.size() >= limit) break;
    split_samples(read_npy_tensor(f), type, f, limit, o.calibration);
  }
  if (o.calibration.empty())
    throw Error(Diagnostic{Severity::error, recipe.locate(kData), kData, "the calibration data holds no .npy samples", {}});
  return o;
}

}  // namespace modelc::driver
