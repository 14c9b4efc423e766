#include "lang/size_limits.h"

#include <string>

#include "support/checked_math.h"
#include "support/diagnostic.h"

namespace modelc::lang {
namespace {

std::string count_str(std::optional<int64_t> n) { return n ? std::to_string(*n) : "more than 2^63"; }

[[noreturn]] void too_big(std::string_view what, const TensorType& type, const std::string& size, const char* limit,
                          int64_t allowed) {
  throw Error(Diagnostic{Severity::error, {}, {},
                         std::string(what) + " " + type.str() + " is too big: " + size + ", over the limit of " +
                             std::to_string(allowed) + " (model.limits." + limit + ")",
                         std::string("if the model really needs it, raise model.limits.") + limit + " in the recipe"});
}

}  // namespace

void check_tensor_size(const TensorType& type, const spec::ModelLimits& limits, std::string_view what) {
  for (const int64_t d : type.shape)
    if (d < 0) throw Error(std::string(what) + " " + type.str() + " has a negative dimension");
  // The extent (non-zero dimensions only): a zero dimension must not hide
  // others whose product overflows the strides computed from them.
  const std::optional<int64_t> extent = checked_extent(type.shape);
  if (!extent || *extent > limits.max_tensor_elements)
    too_big(what, type, count_str(extent) + " elements", "max_tensor_elements", limits.max_tensor_elements);
  const std::optional<size_t> bytes = checked_byte_size(*extent, dtype_bytes(type.dtype));
  if (!bytes || *bytes > static_cast<uint64_t>(limits.max_model_bytes))
    too_big(what, type, (bytes ? std::to_string(*bytes) : "more than 2^64") + " bytes", "max_model_bytes",
            limits.max_model_bytes);
}

void ConstantBytes::add(const TensorType& type, std::string_view what) {
  check_tensor_size(type, limits_, what);
  const auto bytes = static_cast<int64_t>(type.bytes());  // fits: check_tensor_size bounds it by max_model_bytes
  const std::optional<int64_t> total = checked_add(used_, bytes);
  if (!total || *total > limits_.max_model_bytes)
    throw Error(Diagnostic{Severity::error, {}, {},
                           std::string(what) + " " + type.str() + " (" + std::to_string(bytes) +
                               " bytes) brings the model's constants to " + count_str(total) +
                               " bytes, over the limit of " + std::to_string(limits_.max_model_bytes) +
                               " (model.limits.max_model_bytes)",
                           "if the model really needs it, raise model.limits.max_model_bytes in the recipe"});
  used_ = *total;
}

}  // namespace modelc::lang
