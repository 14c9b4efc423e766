// A structure-aware mutator for the ONNX fuzzer: parses the input as an
// onnx::ModelProto and changes one thing in it through protobuf reflection,
// so that most mutants still parse and reach the importer's converters and
// the passes. What it changes, chosen at random:
//   - an integer anywhere (a dimension, an attribute, tensor data, an opset)
//     to a boundary value: 0, +-1, 2^31, 2^32, 2^62, INT64_MAX, INT64_MIN...
//   - a float to 0, -1, 1e30, inf, NaN...
//   - an op type to another op modelc imports, an enum to another value
//   - a name (an input, an output) to another name of the model
//   - raw tensor data shortened, lengthened or bit-flipped
//   - an element of a repeated field removed or duplicated (a node, a dim...)
// and otherwise (or when the input does not parse) libFuzzer's byte mutation.
#pragma once

#include <cstddef>
#include <cstdint>

namespace modelc::fuzz {

// LLVMFuzzerCustomMutator's contract: mutates data[0, size) in place, returns
// the new size (at most max_size).
size_t mutate_onnx_model(uint8_t* data, size_t size, size_t max_size, unsigned int seed);

}  // namespace modelc::fuzz
