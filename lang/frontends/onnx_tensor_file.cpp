#include "lang/frontends/onnx_tensor_file.h"

#include "lang/frontends/onnx_node.h"
#include "support/diagnostic.h"

namespace modelc::lang {

NamedTensor read_onnx_tensor(const std::filesystem::path& file, const spec::ModelLimits& limits) {
  onnx::TensorProto proto;
  if (!frontends::parse_protobuf_file(file, proto, "the tensor"))
    fail({file.string()}, "is not a serialized ONNX TensorProto");
  try {
    return NamedTensor{proto.name(), frontends::tensor_from_onnx(proto, "the tensor", limits)};
  } catch (const Error& e) {
    fail({file.string()}, e.diagnostics().front().message);
  }
}

}  // namespace modelc::lang
