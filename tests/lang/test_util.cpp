#include "tests/lang/test_util.h"

#include <cmath>
#include <cstdlib>
#include <random>

#include "lang/text.h"
#include "support/npy.h"

namespace modelc::lang::testing {

std::optional<std::filesystem::path> shared_models_dir() {
  const char* dir = std::getenv("MODELC_SHARED_MODELS");
  if (!dir || !std::filesystem::is_directory(dir)) return std::nullopt;
  return std::filesystem::path(dir);
}

Tensor tensor_from_npy(const std::filesystem::path& path) {
  NpyArray array = read_npy(path);
  if (array.descr != "<f4") throw std::runtime_error(path.string() + ": expected float32 data, found " + array.descr);
  return Tensor(TensorType{array.shape, DType::float32}, std::move(array.data));
}

Tensor random_tensor(const TensorType& type, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  Tensor t(type);
  for (size_t i = 0; i < static_cast<size_t>(type.element_count()); ++i) t.set_element(i, dist(rng));
  return t;
}

std::vector<Tensor> random_inputs(const Module& module, unsigned seed) {
  std::vector<Tensor> out;
  for (const Param& p : module.main().params) out.push_back(random_tensor(p.type, seed++));
  return out;
}

Closeness compare(const Tensor& actual, const Tensor& expected, double rtol, double atol) {
  Closeness c;
  if (actual.type() != expected.type()) {
    c.within = false;
    c.max_abs = INFINITY;
    return c;
  }
  for (size_t i = 0; i < static_cast<size_t>(actual.type().element_count()); ++i) {
    const double a = actual.element_as_double(i), e = expected.element_as_double(i);
    const double d = std::fabs(a - e);
    c.max_abs = std::max(c.max_abs, d);
    if (!(d <= atol + rtol * std::fabs(e))) c.within = false;
  }
  return c;
}

Module parse(const std::string& text) { return parse_module(text, "test.ir"); }

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "modelc-lang-test-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create a temporary folder");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace modelc::lang::testing
