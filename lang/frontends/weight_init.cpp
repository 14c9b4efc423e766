#include "lang/frontends/weight_init.h"

#include <cmath>

namespace modelc::lang::frontends {
namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t fnv1a(std::string_view text, uint64_t hash) {
  for (char ch : text) hash = (hash ^ static_cast<unsigned char>(ch)) * 0x100000001b3ULL;
  return hash;
}

}  // namespace

WeightRng::WeightRng(uint64_t seed) {
  for (uint64_t& s : state_) s = splitmix64(seed);
}

uint64_t WeightRng::next() {
  const uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

double WeightRng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double WeightRng::normal() {
  double sum = 0;
  for (int i = 0; i < 12; ++i) sum += uniform();
  return sum - 6.0;
}

uint64_t derive_seed(uint64_t graph_seed, std::string_view layer, std::string_view role) {
  uint64_t x = fnv1a(role, fnv1a("/", fnv1a(layer, 0xcbf29ce484222325ULL))) ^ graph_seed;
  return splitmix64(x);
}

bool parse_init_kind(std::string_view name, WeightInit::Kind& kind) {
  for (size_t i = 0; i < kInitNames.size(); ++i)
    if (name == kInitNames[i]) {
      kind = static_cast<WeightInit::Kind>(i);
      return true;
    }
  return false;
}

Tensor initialize_tensor(std::vector<int64_t> shape, const WeightInit& init, int64_t fan_in, int64_t fan_out) {
  Tensor t(TensorType{std::move(shape), DType::float32});
  auto values = t.mutable_values<float>();
  WeightRng rng(init.seed);
  using Kind = WeightInit::Kind;
  const double he_std = std::sqrt(2.0 / static_cast<double>(std::max<int64_t>(fan_in, 1)));
  const double xavier_limit = std::sqrt(6.0 / static_cast<double>(std::max<int64_t>(fan_in + fan_out, 1)));
  for (float& v : values) {
    double x = 0;
    switch (init.kind) {
      case Kind::he_normal: x = rng.normal() * he_std; break;
      case Kind::xavier_uniform: x = (2 * rng.uniform() - 1) * xavier_limit; break;
      case Kind::normal: x = rng.normal() * init.std; break;
      case Kind::uniform: x = (2 * rng.uniform() - 1) * init.limit; break;
      case Kind::zeros: x = 0; break;
      case Kind::ones: x = 1; break;
    }
    v = static_cast<float>(x + init.offset);
  }
  return t;
}

}  // namespace modelc::lang::frontends
