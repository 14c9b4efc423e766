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

namespace {

// Every tile that fits, in order of (blocks, pixels).
std::vector<RegisterTile> fitting_tiles(const RegisterFile& registers, int per_block, int64_t channel_blocks,
                                        int64_t pixels) {
  std::vector<RegisterTile> tiles;
  for (int b = 1; b <= channel_blocks && b * per_block < registers.vector_registers; ++b) {
    for (int t = 1; t <= pixels; ++t) {
      const int accumulators = b * per_block * t;
      if (accumulators + b * per_block + 1 > registers.vector_registers) break;
      double e = edge_efficiency(channel_blocks, b) * edge_efficiency(pixels, t) *
                 loop_efficiency(accumulators, b * per_block + t);
      // Each loaded vector feeds T multiply-adds: with T = 2 the loads sit at
      // the budget's edge (9 per 14 for 7 x 2), and the model's 7 x 2 tiles
      // ran 16-18 % slower than 7 x 3 on Zen 5 (`modelc tune`: EfficientNet-B0's
      // float projections into 7 blocks of 14 x 14 and 7 x 7 pixels, 0.392 ->
      // 0.330 and 0.140 -> 0.115 ms; ResNet-18's int8 stem, 7 vectors of
      // pixels x 64 channels, 0.545 -> 0.449 ms), which the model put at 0.97
      // and 0.93 of peak (the latter for its recomputed edge). So T counts
      // as T / 3 below 3 where the output has 3 or more.
      if (t < 3 && pixels >= 3) e *= t / 3.0;
      tiles.push_back({b, t, e});
    }
  }
  return tiles;
}

int lane_registers(const RegisterFile& registers, int block_lanes) {
  return std::max(1, (block_lanes + registers.lanes - 1) / registers.lanes);
}

}  // namespace

RegisterTile choose_register_tile(const RegisterFile& all, int block_lanes, int64_t channel_blocks, int64_t pixels,
                                  int reserved) {
  RegisterFile registers = all;
  registers.vector_registers -= reserved;
  const int per_block = lane_registers(registers, block_lanes);
  RegisterTile best;
  for (const RegisterTile& tile : fitting_tiles(registers, per_block, channel_blocks, pixels)) {
    // Near-ties go to the tile with more accumulators (more FMAs in flight).
    const bool better = tile.efficiency > best.efficiency + 1e-9 ||
                        (tile.efficiency > best.efficiency - 1e-9 && tile.blocks * tile.pixels > best.blocks * best.pixels);
    if (better) best = tile;
  }
  return best;
}

RegisterTile choose_register_tile_rows(const RegisterFile& registers, int block_lanes, int64_t channel_blocks,
                                       int64_t width, int64_t height, int reserved) {
  return over_two_rows(choose_register_tile(registers, block_lanes, channel_blocks, width, reserved), width, height);
}

RegisterTile over_two_rows(RegisterTile tile, int64_t width, int64_t height) {
  if (tile.pixels % 2 != 0 || height < 2) return tile;
  const double one_row = edge_efficiency(width, tile.pixels);
  const double two_rows = edge_efficiency(width, tile.pixels / 2) * edge_efficiency(height, 2);
  if (two_rows > one_row + 1e-9) {
    tile.efficiency *= two_rows / one_row;
    tile.rows = 2;
  }
  return tile;
}

std::vector<RegisterTile> register_tile_candidates(const RegisterFile& registers, int block_lanes,
                                                   int64_t channel_blocks, int64_t pixels, int reserved) {
  const RegisterTile chosen = choose_register_tile(registers, block_lanes, channel_blocks, pixels, reserved);
  std::vector<RegisterTile> tiles = fitting_tiles(registers, lane_registers(registers, block_lanes), channel_blocks, pixels);
  std::erase_if(tiles, [&](const RegisterTile& t) { return t.blocks == chosen.blocks && t.pixels == chosen.pixels; });
  std::stable_sort(tiles.begin(), tiles.end(), [](const RegisterTile& a, const RegisterTile& b) {
    if (a.efficiency != b.efficiency) return a.efficiency > b.efficiency;
    return a.blocks * a.pixels > b.blocks * b.pixels;
  });
  tiles.insert(tiles.begin(), chosen);
  return tiles;
}

}  // namespace modelc::lower
