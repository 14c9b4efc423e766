// The register tile model (lower/register_tile.h): the tile it picks, and the
// candidates a tuner measures.
#include <doctest/doctest.h>

#include <set>

#include "lower/register_tile.h"

using namespace modelc::lower;

namespace {

bool fits(const RegisterFile& f, int block_lanes, const RegisterTile& t) {
  const int per_block = std::max(1, (block_lanes + f.lanes - 1) / f.lanes);
  return t.blocks * per_block * t.pixels + t.blocks * per_block + 1 <= f.vector_registers;
}

}  // namespace

TEST_CASE("register tiles: the pick keeps at least eight accumulators and fits the registers") {
  const RegisterFile avx2{16, 8}, avx512{32, 16};
  for (const RegisterFile& f : {avx2, avx512}) {
    const RegisterTile t = choose_register_tile(f, f.lanes, 8, 56);
    CAPTURE(t.str());
    CHECK(fits(f, f.lanes, t));
    CHECK(t.blocks * t.pixels >= 8);
    CHECK(t.efficiency > 0.8);
  }
  // One block of channels and three pixels: the tile cannot exceed the output.
  const RegisterTile small = choose_register_tile(avx2, 8, 1, 3);
  CHECK(small.blocks == 1);
  CHECK(small.pixels == 3);
}

TEST_CASE("register tile candidates: the pick first, then every other fitting tile once, best estimate first") {
  const RegisterFile avx2{16, 8};
  for (const auto& [blocks, pixels] : std::vector<std::pair<int64_t, int64_t>>{{8, 56}, {125, 13}, {1, 112}, {3, 7}}) {
    CAPTURE(blocks);
    CAPTURE(pixels);
    const RegisterTile pick = choose_register_tile(avx2, 8, blocks, pixels);
    const std::vector<RegisterTile> all = register_tile_candidates(avx2, 8, blocks, pixels);
    REQUIRE(all.size() > 1);
    CHECK(all.front().blocks == pick.blocks);
    CHECK(all.front().pixels == pick.pixels);
    std::set<std::pair<int, int>> seen;
    for (size_t i = 0; i < all.size(); ++i) {
      const RegisterTile& t = all[i];
      CAPTURE(t.str());
      CHECK(fits(avx2, 8, t));
      CHECK(t.blocks <= blocks);
      CHECK(t.pixels <= pixels);
      CHECK(seen.emplace(t.blocks, t.pixels).second);
      if (i > 1) CHECK(t.efficiency <= all[i - 1].efficiency);
      CHECK(t.efficiency <= pick.efficiency + 1e-9);
    }
  }
}

TEST_CASE("register tiles: each loaded vector feeds three multiply-adds where the output allows") {
  const RegisterFile avx512{32, 16};
  // EfficientNet-B0's projections into 7 blocks of 14 x 14 pixels, ResNet-18's
  // int8 stem (7 vectors of pixels x 64 channels): 7 x 3, not 7 x 2.
  CHECK(choose_register_tile(avx512, 16, 7, 14).str() == "7x3");
  CHECK(choose_register_tile(avx512, 16, 7, 64).str() == "7x3");
  CHECK(register_tile_candidates(avx512, 16, 7, 14).front().str() == "7x3");
  // Outputs of one or two pixels have no other choice.
  CHECK(choose_register_tile(avx512, 16, 7, 2).pixels == 2);
  CHECK(choose_register_tile(avx512, 16, 12, 1).pixels == 1);
}

TEST_CASE("register tiles over two rows: the same blocks and pixels, where two rows recompute fewer pixels") {
  const RegisterFile avx2{16, 8}, avx512{32, 16};
  // MobileNetV2's 14 x 14 projections (12 blocks of 8): 3 x 4 in one row
  // recomputes 2 of every 14 pixels; 2 x 2 pixels of two rows none.
  const RegisterTile t = choose_register_tile_rows(avx2, 8, 12, 14, 14);
  CHECK(t.str() == choose_register_tile(avx2, 8, 12, 14).str());
  CHECK(t.str() == "3x4");
  CHECK(t.rows == 2);
  CHECK(t.efficiency > choose_register_tile(avx2, 8, 12, 14).efficiency);
  // A width the one-row tile divides, 7 x 7 (two rows recompute more), one row high: one row.
  CHECK(choose_register_tile_rows(avx2, 8, 12, 28, 28).rows == 1);
  CHECK(choose_register_tile_rows(avx2, 8, 12, 7, 7).rows == 1);
  CHECK(choose_register_tile_rows(avx2, 8, 12, 14, 1).rows == 1);
  for (const RegisterFile& f : {avx2, avx512}) {
    for (int64_t w = 1; w <= 60; ++w) {
      CAPTURE(w);
      const RegisterTile one = choose_register_tile(f, 8, 5, w);
      const RegisterTile two = choose_register_tile_rows(f, 8, 5, w, 6);
      CHECK(two.blocks == one.blocks);
      CHECK(two.pixels == one.pixels);
      CHECK(two.efficiency >= one.efficiency);
      if (two.rows == 2) CHECK(two.pixels % 2 == 0);
    }
  }
}
