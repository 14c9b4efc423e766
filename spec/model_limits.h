// How big a model may make the tensors modelc computes while it compiles
// (the recipe's model.limits). Model files are untrusted input: a constant
// shape, a Range or a Tile read from a file can ask for any size, and the
// importer and the constant folder allocate what it asks. Every tensor type is
// checked against these limits before anything of that size is allocated, so
// a hostile or broken model is a located error, never an exhausted machine.
// Header-only, so that lang/ can take the limits without linking spec/.
#pragma once

#include <cstdint>

namespace modelc::spec {

struct ModelLimits {
  // Elements of any one tensor (constants, and the values computed from them).
  int64_t max_tensor_elements = int64_t{1} << 31;
  // Bytes of any one tensor, and of all the model's constants together.
  int64_t max_model_bytes = int64_t{4} << 30;
  // Operator calls and constants the importer may make: it unrolls loops,
  // scans and recurrent layers, so a small file can ask for any number.
  int64_t max_graph_nodes = int64_t{1} << 20;

  bool operator==(const ModelLimits&) const = default;
};

}  // namespace modelc::spec
