#include "lang/frontends/onnx_tensor_file.h"

#include "lang/frontends/onnx_node.h"
#include "support/diagnostic.h"
#include "support/file_io.h"

namespace modelc::lang {

NamedTensor read_onnx_tensor(const std::filesystem::path& file) {
  const std::vector<std::byte> bytes = read_binary_file(file);
  onnx::TensorProto proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    fail({file.string()}, "is not a serialized ONNX TensorProto");
  try {
    return NamedTensor{proto.name(), frontends::tensor_from_onnx(proto, "the tensor")};
  } catch (const Error& e) {
    fail({file.string()}, e.diagnostics().front().message);
  }
}

}  // namespace modelc::lang
