#include "lower/register_tile.h"

#include <algorithm>

namespace modelc::lower {
namespace {

// Fraction of the work computed that is wanted, when `extent` is covered by
// tiles of `tile` and the last one is shifted inwards (recomputing an overlap).
double edge_efficiency(int64_t extent, int64_t tile) {
  const int64_t tiles = (extent + tile - 1) / tile;
  return static_cast<double>(extent) / static_cast<double>(tiles * tile);
}

// Two FMA pipes with a latency of about four cycles need eight independent
// accumulators; each FMA wants at most ~0.6 loads (measured on Zen 3: a 3x4
// tile, 7 loads per 12 FMAs, runs at peak; 2x6, 8 loads per 12, does not).
constexpr double kAccumulatorsInFlight = 8;
constexpr double kLoadsPerFma = 1 / 1.6;

double loop_efficiency(int accumulators, int loads) {
  double e = std::min(1.0, accumulators / (static_cast<double>(loads) / kLoadsPerFma));
  if (accumulators < kAccumulatorsInFlight) e *= accumulators / kAccumulatorsInFlight;
  return e;
}

}  // namespace

std::string RegisterTile::str() const {
  return std::to_string(blocks) + "x" + std::to_string(pixels);
}

RegisterTile choose_register_tile(const RegisterFile& registers, int block_lanes, int64_t channel_blocks, int64_t pixels) {
  const int per_block = std::max(1, (block_lanes + registers.lanes - 1) / registers.lanes);
  RegisterTile best;
  for (int b = 1; b <= channel_blocks && b * per_block < registers.vector_registers; ++b) {
    for (int t = 1; t <= pixels; ++t) {
      const int accumulators = b * per_block * t;
      if (accumulators + b * per_block + 1 > registers.vector_registers) break;
      const double e = edge_efficiency(channel_blocks, b) * edge_efficiency(pixels, t) *
                       loop_efficiency(accumulators, b * per_block + t);
      const bool better = e > best.efficiency + 1e-9 ||
                          (e > best.efficiency - 1e-9 && accumulators > best.blocks * per_block * best.pixels);
      if (better) best = {b, t, e};
    }
  }
  return best;
}

}  // namespace modelc::lower
