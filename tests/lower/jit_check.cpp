#include "tests/lower/jit_check.h"

#include <doctest/doctest.h>

#include <cmath>

#include "lang/interpreter.h"
#include "lower/lowering.h"

namespace modelc::test {

using namespace modelc::lang;

Tensor random_tensor(const TensorType& type, std::mt19937& rng) {
  Tensor t(type);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  for (size_t i = 0; i < static_cast<size_t>(type.element_count()); ++i)
    t.set_element(i, type.dtype == DType::float32 ? dist(rng)
                     : type.dtype == DType::boolean ? dist(rng) > 0
                     : type.dtype == DType::uint8  ? std::floor((dist(rng) + 1) * 4)
                                                   : std::floor(dist(rng) * 8));
  return t;
}

int check_primitives_against_reference(const Module& m, double rtol, double atol, unsigned seed, bool bf16_dot) {
  std::mt19937 rng(seed);
  int checked = 0;
  for (const Function& fn : m.functions) {
    if (!fn.primitive) continue;
    CAPTURE(fn.name);
    std::vector<Tensor> args;
    for (const Param& p : fn.params) args.push_back(random_tensor(p.type, rng));
    const std::vector<Tensor> want = evaluate(m, fn, args);
    const std::vector<Tensor> got = lower::run_kernel_jit(m, fn, args, bf16_dot);
    REQUIRE(got.size() == want.size());
    for (size_t r = 0; r < want.size(); ++r) {
      REQUIRE(got[r].type() == want[r].type());
      double worst = 0;
      for (size_t i = 0; i < static_cast<size_t>(want[r].type().element_count()); ++i) {
        const double w = want[r].element_as_double(i), g = got[r].element_as_double(i);
        if (std::isnan(w) || std::isnan(g)) {
          if (std::isnan(w) != std::isnan(g)) worst = INFINITY;  // NaN where the other is a number
          continue;
        }
        if (w == g) continue;  // equal infinities
        worst = std::max(worst, std::fabs(w - g) / (atol + rtol * std::fabs(w)));
      }
      INFO("function @" << fn.name << ", result " << r << ": worst error / tolerance = " << worst);
      CHECK(worst <= 1.0);
    }
    ++checked;
  }
  return checked;
}

}  // namespace modelc::test
