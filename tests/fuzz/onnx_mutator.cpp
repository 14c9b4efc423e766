#include "tests/fuzz/onnx_mutator.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <onnx/onnx_pb.h>

#include "lang/frontends/onnx.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace modelc::fuzz {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using Random = std::minstd_rand;

// One value in a message: a singular field (index -1) or one element of a repeated one.
struct Slot {
  Message* message;
  const FieldDescriptor* field;
  int index;
};

struct Model {
  std::vector<Slot> values;    // scalars and strings
  std::vector<Slot> repeated;  // repeated fields (index -1), for removing and duplicating elements
  std::vector<std::string> names;
};

void collect(Message& m, Model& out) {
  const Reflection* r = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const FieldDescriptor* f : fields) {
    const bool message = f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
    const bool is_name = f->name() == "name" || f->name() == "input" || f->name() == "output";
    if (!f->is_repeated()) {
      if (message) collect(*r->MutableMessage(&m, f), out);
      else out.values.push_back({&m, f, -1});
      if (is_name) out.names.push_back(r->GetString(m, f));
      continue;
    }
    out.repeated.push_back({&m, f, -1});
    for (int i = 0; i < r->FieldSize(m, f); ++i) {
      if (message) collect(*r->MutableRepeatedMessage(&m, f, i), out);
      else out.values.push_back({&m, f, i});
      if (is_name && f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) out.names.push_back(r->GetRepeatedString(m, f, i));
    }
  }
}

template <typename T>
T pick(Random& rng, const std::vector<T>& from) {
  return from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng)];
}

int64_t boundary_int(Random& rng, int64_t old) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max(), kMin = std::numeric_limits<int64_t>::min();
  const std::vector<int64_t> values{0, 1, -1, 2, 3, 4, 7, 16, 255, 256, 65535, int64_t{1} << 31, (int64_t{1} << 31) - 1,
                                    int64_t{1} << 32, (int64_t{1} << 32) + 1, int64_t{1} << 62, kMax, kMin, -2,
                                    old == kMax ? old : old + 1, old == kMin ? old : old - 1,
                                    old > kMax / 2 || old < kMin / 2 ? old : old * 2, old == kMin ? old : -old};
  return pick(rng, values);
}

double boundary_float(Random& rng, double old) {
  const std::vector<double> values{0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-30, 1e30, 3.4e38, -3.4e38,
                                   std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                                   std::numeric_limits<double>::quiet_NaN(), old * 2, -old};
  return pick(rng, values);
}

const std::vector<std::string>& op_types() {
  static const std::vector<std::string> ops = [] {
    std::vector<std::string> out;
    for (const std::string& op : lang::supported_onnx_ops())
      if (op.find('.') == std::string::npos) out.push_back(op);
    return out;
  }();
  return ops;
}

std::string mutate_bytes(Random& rng, std::string s) {
  const size_t max = s.size() * 2 + 16;
  s.resize(max);
  const size_t n = LLVMFuzzerMutate(reinterpret_cast<uint8_t*>(s.data()), std::uniform_int_distribution<size_t>(0, max / 2)(rng), max);
  s.resize(n);
  return s;
}

std::string mutate_string(Random& rng, const Slot& slot, const std::string& old, const std::vector<std::string>& names) {
  const std::string& field = slot.field->name();
  if (field == "op_type") return pick(rng, op_types());
  if ((field == "name" || field == "input" || field == "output") && !names.empty())
    return std::uniform_int_distribution<int>(0, 7)(rng) == 0 ? std::string() : pick(rng, names);
  if (field == "raw_data") {
    std::string s = old;
    switch (std::uniform_int_distribution<int>(0, 2)(rng)) {
      case 0: s.resize(std::uniform_int_distribution<size_t>(0, s.size())(rng)); break;
      case 1: s.append(std::uniform_int_distribution<size_t>(1, 64)(rng), '\x7f'); break;
      default:
        if (!s.empty()) s[std::uniform_int_distribution<size_t>(0, s.size() - 1)(rng)] ^= 0x5a;
    }
    return s;
  }
  if (field == "domain") return pick(rng, std::vector<std::string>{"", "ai.onnx", "ai.onnx.ml", "ai.onnx.preview.training", "x"});
  return mutate_bytes(rng, old);
}

void mutate_value(Random& rng, const Slot& s, const std::vector<std::string>& names) {
  const Reflection* r = s.message->GetReflection();
  const bool rep = s.index >= 0;
  switch (s.field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT64: {
      const int64_t v = boundary_int(rng, rep ? r->GetRepeatedInt64(*s.message, s.field, s.index) : r->GetInt64(*s.message, s.field));
      rep ? r->SetRepeatedInt64(s.message, s.field, s.index, v) : r->SetInt64(s.message, s.field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_INT32: {
      const auto v = static_cast<int32_t>(boundary_int(rng, rep ? r->GetRepeatedInt32(*s.message, s.field, s.index) : r->GetInt32(*s.message, s.field)));
      rep ? r->SetRepeatedInt32(s.message, s.field, s.index, v) : r->SetInt32(s.message, s.field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      const auto v = static_cast<uint64_t>(boundary_int(rng, 0));
      rep ? r->SetRepeatedUInt64(s.message, s.field, s.index, v) : r->SetUInt64(s.message, s.field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      const auto v = static_cast<uint32_t>(boundary_int(rng, 0));
      rep ? r->SetRepeatedUInt32(s.message, s.field, s.index, v) : r->SetUInt32(s.message, s.field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_FLOAT: {
      const auto v = static_cast<float>(boundary_float(rng, rep ? r->GetRepeatedFloat(*s.message, s.field, s.index) : r->GetFloat(*s.message, s.field)));
      rep ? r->SetRepeatedFloat(s.message, s.field, s.index, v) : r->SetFloat(s.message, s.field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      const double v = boundary_float(rng, rep ? r->GetRepeatedDouble(*s.message, s.field, s.index) : r->GetDouble(*s.message, s.field));
      rep ? r->SetRepeatedDouble(s.message, s.field, s.index, v) : r->SetDouble(s.message, s.field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      rep ? r->SetRepeatedBool(s.message, s.field, s.index, !r->GetRepeatedBool(*s.message, s.field, s.index))
          : r->SetBool(s.message, s.field, !r->GetBool(*s.message, s.field));
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const google::protobuf::EnumDescriptor* e = s.field->enum_type();
      const google::protobuf::EnumValueDescriptor* v = e->value(std::uniform_int_distribution<int>(0, e->value_count() - 1)(rng));
      rep ? r->SetRepeatedEnum(s.message, s.field, s.index, v) : r->SetEnum(s.message, s.field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      const std::string old = rep ? r->GetRepeatedString(*s.message, s.field, s.index) : r->GetString(*s.message, s.field);
      const std::string v = mutate_string(rng, s, old, names);
      rep ? r->SetRepeatedString(s.message, s.field, s.index, v) : r->SetString(s.message, s.field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: break;
  }
}

// Removes or duplicates one element of a repeated field (a node, a dim, an attribute...).
void mutate_repeated(Random& rng, const Slot& s) {
  const Reflection* r = s.message->GetReflection();
  const int n = r->FieldSize(*s.message, s.field);
  if (n == 0) return;
  const int i = std::uniform_int_distribution<int>(0, n - 1)(rng);
  switch (std::uniform_int_distribution<int>(0, 2)(rng)) {
    case 0:  // remove element i
      r->SwapElements(s.message, s.field, i, n - 1);
      r->RemoveLast(s.message, s.field);
      return;
    case 1:  // move element i to the end (reorders nodes, dims, inputs)
      for (int k = i; k + 1 < n; ++k) r->SwapElements(s.message, s.field, k, k + 1);
      return;
    default: break;  // duplicate element i at the end
  }
  switch (s.field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Message& from = r->GetRepeatedMessage(*s.message, s.field, i);
      std::unique_ptr<Message> copy(from.New());
      copy->CopyFrom(from);
      r->AddMessage(s.message, s.field)->CopyFrom(*copy);
      return;
    }
    case FieldDescriptor::CPPTYPE_INT64: r->AddInt64(s.message, s.field, r->GetRepeatedInt64(*s.message, s.field, i)); return;
    case FieldDescriptor::CPPTYPE_INT32: r->AddInt32(s.message, s.field, r->GetRepeatedInt32(*s.message, s.field, i)); return;
    case FieldDescriptor::CPPTYPE_FLOAT: r->AddFloat(s.message, s.field, r->GetRepeatedFloat(*s.message, s.field, i)); return;
    case FieldDescriptor::CPPTYPE_STRING: r->AddString(s.message, s.field, r->GetRepeatedString(*s.message, s.field, i)); return;
    default: return;
  }
}

}  // namespace

size_t mutate_onnx_model(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  Random rng(seed);
  onnx::ModelProto model;
  if (std::uniform_int_distribution<int>(0, 4)(rng) == 0 || !model.ParseFromArray(data, static_cast<int>(size)))
    return LLVMFuzzerMutate(data, size, max_size);
  const int rounds = std::uniform_int_distribution<int>(1, 3)(rng);
  for (int round = 0; round < rounds; ++round) {
    Model parts;
    collect(model, parts);
    const bool structural = !parts.repeated.empty() && std::uniform_int_distribution<int>(0, 3)(rng) == 0;
    if (structural) mutate_repeated(rng, pick(rng, parts.repeated));
    else if (!parts.values.empty()) mutate_value(rng, pick(rng, parts.values), parts.names);
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes) || bytes.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, bytes.data(), bytes.size());
  return bytes.size();
}

}  // namespace modelc::fuzz
