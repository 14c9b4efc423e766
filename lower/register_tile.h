// Internal to lower/: how many accumulators a CPU kernel keeps in vector
// registers, and over which axes.
//
// The inner loop of a convolution or matrix product is an outer product: a
// few vectors of weights (B of them, consecutive output channels) times a few
// broadcast input values (T of them, consecutive output pixels or rows) added
// into B x T accumulators. It runs at the FMA units' peak only when
//  - B x T accumulators + B weight vectors + 1 broadcast fit in the vector
//    registers (a spill inside the loop costs more than it saves),
//  - there are enough independent accumulators to hide the FMA latency, and
//  - the loads (B vectors + T broadcasts) stay well below the FMAs.
// A tile that does not divide the output is recomputed at the edge (Halide's
// ShiftInwards), so the tile is also chosen to waste little at the edges.
// This header is free of Halide so that tests can check the choice directly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace modelc::lower {

struct RegisterFile {
  int vector_registers = 16;  // architectural vector registers (AVX2: 16, AVX-512 and NEON: 32)
  int lanes = 8;              // float32 lanes of one register
};

struct RegisterTile {
  int blocks = 1;  // B: vector-wide blocks of output channels (or columns)
  int pixels = 1;  // T: output pixels (or rows) sharing each weight vector
  double efficiency = 0;  // the model's estimate of the fraction of FMA peak, edges included
  int rows = 1;  // output rows the T pixels span (T / rows consecutive pixels in each)
  std::string str() const;
};

// The tile for an output of `channel_blocks` blocks of `block_lanes` output
// channels by `pixels` output positions along the unrolled axis, with
// `reserved` vector registers left to values the model does not count.
RegisterTile choose_register_tile(const RegisterFile& registers, int block_lanes, int64_t channel_blocks,
                                  int64_t pixels, int reserved = 0);

// choose_register_tile's pick for an output `width` pixels wide and `height`
// rows high, its T pixels taken from two rows (T / 2 of each) where that
// covers the output with fewer recomputed pixels: 14 x 14 in tiles of 2 x 2
// pixels instead of 4 + 4 + 4 + 4 per row, the last shifted onto two pixels
// already computed. The same blocks and T (the register shape measured),
// only arranged over two rows.
RegisterTile choose_register_tile_rows(const RegisterFile& registers, int block_lanes, int64_t channel_blocks,
                                       int64_t width, int64_t height, int reserved = 0);
// The same, for a tile already picked over a row `width` pixels wide (the
// template's, through lower/tensor_func.h register_tile).
RegisterTile over_two_rows(RegisterTile tile, int64_t width, int64_t height);

// Every tile that fits the registers and the output: first the one
// choose_register_tile picks with `reserved` registers left to values the
// model does not count, then the others by the model's estimate (best
// first): what a tuner measures when the model's ranking is not this machine's.
std::vector<RegisterTile> register_tile_candidates(const RegisterFile& registers, int block_lanes,
                                                   int64_t channel_blocks, int64_t pixels, int reserved = 0);

}  // namespace modelc::lower
