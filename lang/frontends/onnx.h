// ONNX import: reads a .onnx file (libonnx's protobuf types), checks it with
// the ONNX checker (not ONNX shape inference: modelc infers types itself),
// and builds an IR module whose @main takes the graph's inputs, holds its
// initializers as module constants and calls one IR op (or a few) per ONNX
// node.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "lang/module.h"
#include "spec/recipe.h"

namespace modelc::lang {

// `input_overrides` (the recipe's model.inputs) give the shapes of inputs whose
// ONNX shape has dynamic dimensions; a shape given for a static input must
// match it. Every problem is a modelc::Error: a file that is not a readable
// ONNX model names the file and what is wrong; all unsupported nodes of the
// model are listed at once, one Diagnostic each; errors about an override carry
// its JSON pointer (InputSpec::pointer) for the caller to locate in the recipe.
// The IR has no float64: float64 inputs, initializers and casts become float32,
// so a float64 model compiles to one that takes and computes float32.
//
// The file is untrusted input: every tensor size it states or implies (an
// initializer, a constant shape, a folded Range or Tile) is checked against
// `limits` before it is allocated, and a model over them is an Error naming
// the file, the node and what was too big.
Module import_onnx(const std::filesystem::path& file, const std::vector<spec::InputSpec>& input_overrides = {},
                   const spec::ModelLimits& limits = {});

// import_onnx, with the IR value each tensor name of the top-level graph
// became (graph inputs: parameters; initializers and outputs of nodes folded
// at import: constants; other node outputs: bindings of @main).
struct OnnxImport {
  Module module;
  std::map<std::string, ValueRef> values;
};
OnnxImport import_onnx_values(const std::filesystem::path& file, const std::vector<spec::InputSpec>& input_overrides = {},
                              const spec::ModelLimits& limits = {});

// The ONNX op types import_onnx converts (default domain), sorted.
std::vector<std::string> supported_onnx_ops();

// The version of libonnx modelc was built with (for lockfiles and --version).
std::string onnx_library_version();

}  // namespace modelc::lang
