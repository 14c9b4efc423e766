// Deterministic weight initialisation for YAML graphs.
//
// The same recipe must give bit-identical weights on every machine, so nothing
// here depends on the standard library's distributions (whose algorithms
// differ between implementations) or on transcendental functions (whose last
// bits differ between math libraries): a xoshiro256** generator seeded through
// splitmix64, uniform doubles from its top 53 bits, and normal samples as the
// Irwin-Hall sum of twelve uniforms (mean 0, variance 1, only + and -), then
// scaled with IEEE-exact arithmetic (sqrt is correctly rounded).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "lang/tensor.h"

namespace modelc::lang::frontends {

class WeightRng {
 public:
  explicit WeightRng(uint64_t seed);
  uint64_t next();
  double uniform();  // [0, 1)
  double normal();   // approximately N(0, 1), within [-6, 6]

 private:
  std::array<uint64_t, 4> state_{};
};

// A seed for one tensor of one layer, from the graph's seed and names.
uint64_t derive_seed(uint64_t graph_seed, std::string_view layer, std::string_view role);

struct WeightInit {
  enum class Kind { he_normal, xavier_uniform, normal, uniform, zeros, ones } kind = Kind::he_normal;
  double std = 0.05;    // normal
  double limit = 0.05;  // uniform: [-limit, limit)
  double offset = 0;    // added to every value (batch-norm statistics centred on 1)
  uint64_t seed = 0;
};

// Names accepted in a recipe: he_normal, xavier_uniform, normal, uniform, zeros, ones.
bool parse_init_kind(std::string_view name, WeightInit::Kind& kind);
inline constexpr std::array<const char*, 6> kInitNames = {"he_normal", "xavier_uniform", "normal", "uniform", "zeros", "ones"};

// A float32 tensor of `shape` filled by `init`; fan_in/fan_out scale he_normal and xavier_uniform.
Tensor initialize_tensor(std::vector<int64_t> shape, const WeightInit& init, int64_t fan_in, int64_t fan_out);

}  // namespace modelc::lang::frontends
