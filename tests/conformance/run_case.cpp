#include "tests/conformance/run_case.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <unistd.h>

#include <onnx/onnx_pb.h>

#include "lang/frontends/onnx.h"
#include "lang/frontends/onnx_tensor_file.h"
#include "lang/pass.h"
#include "support/diagnostic.h"

namespace modelc::conformance {

const char* status_name(Status status) {
  switch (status) {
    case Status::pass: return "pass";
    case Status::mismatch: return "mismatch";
    case Status::unsupported: return "unsupported";
    case Status::error: return "error";
  }
  return "error";
}

namespace {

constexpr double kRtol = 1e-3;
constexpr double kAtol = 1e-5;

std::string format_number(double v) {
  std::ostringstream s;
  s.precision(7);
  s << v;
  return s.str();
}

// The ONNX test data stores bfloat16 tensors as uint16 bit patterns: read
// such data as the bfloat16 the model declares.
lang::Tensor as_declared(const lang::Tensor& data, const lang::TensorType& declared) {
  if (data.type().dtype == lang::DType::uint16 && declared.dtype == lang::DType::bfloat16 &&
      data.type().shape == declared.shape) {
    const auto bytes = data.bytes();
    return lang::Tensor(declared, std::vector<std::byte>(bytes.begin(), bytes.end()));
  }
  return data;
}

// Empty when `actual` matches `expected` within tolerance; else what differs.
std::string compare(const lang::Tensor& actual, const lang::Tensor& expected_data) {
  const lang::Tensor expected = as_declared(expected_data, actual.type());
  if (actual.type().shape != expected.type().shape || actual.type().dtype != expected.type().dtype)
    return "expected " + expected.type().str() + ", got " + actual.type().str();
  const auto n = static_cast<size_t>(expected.type().element_count());
  if (expected.type().dtype == lang::DType::string) {
    for (size_t i = 0; i < n; ++i)
      if (actual.strings()[i] != expected.strings()[i])
        return "element " + std::to_string(i) + ": expected \"" + expected.strings()[i] + "\", got \"" + actual.strings()[i] + "\"";
    return {};
  }
  size_t bad = 0, first = 0;
  double worst = 0;
  for (size_t i = 0; i < n; ++i) {
    const double a = actual.element_as_double(i), e = expected.element_as_double(i);
    if (std::isnan(e) && std::isnan(a)) continue;
    if (std::isinf(e) && a == e) continue;
    const double d = std::fabs(a - e);
    if (d <= kAtol + kRtol * std::fabs(e)) continue;
    if (bad++ == 0) first = i;
    worst = std::max(worst, std::isnan(d) ? INFINITY : d);
  }
  if (bad == 0) return {};
  return std::to_string(bad) + " of " + std::to_string(n) + " elements differ, max abs error " + format_number(worst) +
         "; first at " + std::to_string(first) + ": expected " + format_number(expected.element_as_double(first)) +
         ", got " + format_number(actual.element_as_double(first));
}

std::vector<std::filesystem::path> sorted_entries(const std::filesystem::path& dir, const std::string& prefix) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
  // input_10.pb after input_9.pb: order by the number after the prefix.
  std::sort(out.begin(), out.end(), [&](const auto& a, const auto& b) {
    const std::string sa = a.filename().string().substr(prefix.size()), sb = b.filename().string().substr(prefix.size());
    return std::stoi(sa) < std::stoi(sb);
  });
  return out;
}

// The inputs of one data set in @main's parameter order (by name when the
// files name them, else in file order), leaving out the frozen ones.
std::vector<lang::Tensor> load_inputs(const lang::Function& main, const std::filesystem::path& data_set,
                                      const std::set<std::string>& frozen) {
  std::vector<lang::NamedTensor> files;
  for (const auto& p : sorted_entries(data_set, "input_")) {
    lang::NamedTensor t = lang::read_onnx_tensor(p);
    if (!frozen.count(t.name)) files.push_back(std::move(t));
  }
  if (files.size() != main.params.size())
    throw Error("the data set has " + std::to_string(files.size()) + " inputs, the model " +
                std::to_string(main.params.size()));
  std::vector<lang::Tensor> inputs;
  for (size_t i = 0; i < main.params.size(); ++i) {
    auto named = std::find_if(files.begin(), files.end(), [&](const auto& f) { return f.name == main.params[i].name; });
    const lang::Tensor t = as_declared(named != files.end() ? named->value : files[i].value, main.params[i].type);
    if (t.type() != main.params[i].type)
      throw Error("input '" + main.params[i].name + "' is " + t.type().str() + " in the data set, " +
                  main.params[i].type.str() + " in the model");
    inputs.push_back(t);
  }
  return inputs;
}

std::string first_message(const Error& e) {
  const auto& d = e.diagnostics();
  if (d.empty()) return e.what();
  std::string out = d.front().message;
  if (d.size() > 1) out += " (and " + std::to_string(d.size() - 1) + " more)";
  return out;
}

bool says_unsupported(const Error& e) {
  for (const Diagnostic& d : e.diagnostics())
    if (d.message.find("not supported") != std::string::npos) return true;
  return false;
}

// Checks one data set's outputs against `optimized` run on `inputs`.
Outcome check_outputs(const lang::Module& optimized, std::span<const lang::Tensor> inputs,
                      const std::filesystem::path& data_set, KernelCache& kernels) {
  const std::vector<lang::Tensor> outputs = kernels.run_main(optimized, inputs);
  const auto expected = sorted_entries(data_set, "output_");
  if (expected.size() != outputs.size())
    return {Status::mismatch, data_set.filename().string() + ": " + std::to_string(expected.size()) +
                                  " expected outputs, the model has " + std::to_string(outputs.size())};
  for (size_t o = 0; o < outputs.size(); ++o) {
    const std::string diff = compare(outputs[o], lang::read_onnx_tensor(expected[o]).value);
    if (!diff.empty()) return {Status::mismatch, data_set.filename().string() + " output " + std::to_string(o) + ": " + diff};
  }
  return {Status::pass, {}};
}

lang::Module optimize(const std::filesystem::path& model, const std::vector<spec::InputSpec>& shapes = {}) {
  const lang::Module imported = lang::import_onnx(model, shapes);
  lang::PassContext context;
  context.opt_level = 2;
  context.enabled.insert("FuseOps");
  return lang::run_passes(imported, lang::default_pipeline(), context);
}

// The graph inputs an import error says must be known at import time (a
// Reshape's shape, a Slice's starts given as model inputs).
std::set<std::string> inputs_needed_as_constants(const Error& e) {
  std::set<std::string> names;
  const std::string marker = "') must be known at import time";
  for (const Diagnostic& d : e.diagnostics()) {
    const size_t end = d.message.find(marker);
    if (end == std::string::npos) continue;
    const size_t begin = d.message.rfind('\'', end - 1);
    if (begin != std::string::npos) names.insert(d.message.substr(begin + 1, end - begin - 1));
  }
  return names;
}

onnx::ModelProto read_test_model(const std::filesystem::path& test_dir) {
  onnx::ModelProto model;
  std::ifstream in(test_dir / "model.onnx", std::ios::binary);
  if (!model.ParseFromIstream(&in)) throw Error("model.onnx does not parse");
  return model;
}

std::set<std::string> initializer_names(const onnx::ModelProto& model) {
  std::set<std::string> names;
  for (const auto& init : model.graph().initializer()) names.insert(init.name());
  return names;
}

// model.onnx with the inputs `frozen` turned into initializers holding the
// data set's values, written next to nothing the test owns (a temporary file).
// A name that is not a graph input (a value computed from integer inputs,
// such as a window length) freezes every integer input instead; `frozen`
// is updated to the inputs actually frozen.
std::filesystem::path freeze_inputs(const std::filesystem::path& test_dir, const std::filesystem::path& data_set,
                                    std::set<std::string>& frozen) {
  onnx::ModelProto model = read_test_model(test_dir);
  const std::set<std::string> initializers = initializer_names(model);
  const auto files = sorted_entries(data_set, "input_");
  std::set<std::string> graph_inputs;
  for (const auto& in : model.graph().input()) graph_inputs.insert(in.name());
  std::set<std::string> resolved;
  bool integer_inputs = false;
  for (const std::string& name : frozen) {
    if (graph_inputs.count(name)) resolved.insert(name);
    else integer_inputs = true;
  }
  if (integer_inputs)
    for (const auto& file : files) {
      const lang::NamedTensor t = lang::read_onnx_tensor(file);
      if (!lang::is_float(t.value.type().dtype) && graph_inputs.count(t.name)) resolved.insert(t.name);
    }
  frozen = resolved;
  auto* inputs = model.mutable_graph()->mutable_input();
  size_t position = 0;  // index among the inputs the data set provides
  for (int i = 0; i < inputs->size();) {
    const std::string name = inputs->Get(i).name();
    if (initializers.count(name)) {
      ++i;
      continue;
    }
    if (!frozen.count(name)) {
      ++i;
      ++position;
      continue;
    }
    if (position >= files.size()) throw Error("the data set has no value for input '" + name + "'");
    onnx::TensorProto value;
    std::ifstream in(files[position], std::ios::binary);
    if (!value.ParseFromIstream(&in)) throw Error(files[position].string() + " does not parse");
    value.set_name(name);
    *model.mutable_graph()->add_initializer() = value;
    inputs->erase(inputs->begin() + i);
    ++position;
  }
  const std::filesystem::path out = std::filesystem::temp_directory_path() /
                                    ("modelc-conformance-" + std::to_string(getpid()) + ".onnx");
  std::ofstream file(out, std::ios::binary);
  if (!model.SerializeToOstream(&file)) throw Error("cannot write " + out.string());
  return out;
}

bool says_dynamic(const Error& e) {
  for (const Diagnostic& d : e.diagnostics())
    if (d.message.find("with dynamic dimension") != std::string::npos) return true;
  return false;
}

// The data set's input shapes, as a recipe's model.inputs gives them for a
// model with dynamic dimensions (inputs in `frozen` left out).
std::vector<spec::InputSpec> data_set_shapes(const std::filesystem::path& test_dir, const std::filesystem::path& data_set,
                                             const std::set<std::string>& frozen) {
  onnx::ModelProto model = read_test_model(test_dir);
  const std::set<std::string> initializers = initializer_names(model);
  const auto files = sorted_entries(data_set, "input_");
  std::vector<spec::InputSpec> shapes;
  size_t position = 0;
  for (const auto& in : model.graph().input()) {
    if (initializers.count(in.name())) continue;
    if (position >= files.size()) break;
    const lang::NamedTensor t = lang::read_onnx_tensor(files[position++]);
    if (frozen.count(in.name())) continue;
    shapes.push_back({in.name(), t.value.type().shape, std::string(lang::dtype_name(t.value.type().dtype)), {}});
  }
  return shapes;
}

// Imports with inputs frozen to the data set's values until the importer asks
// for no more; each data set then compiles its own specialised model.
// With `dynamic`, each data set's input shapes are given as a recipe would.
Outcome check_frozen(const std::filesystem::path& test_dir, const std::vector<std::filesystem::path>& data_sets,
                     std::set<std::string> frozen, bool dynamic, KernelCache& kernels) {
  for (const auto& data_set : data_sets) {
    lang::Module optimized;
    for (int attempt = 0;; ++attempt) {
      const std::filesystem::path model = freeze_inputs(test_dir, data_set, frozen);
      try {
        optimized = optimize(model, dynamic ? data_set_shapes(test_dir, data_set, frozen) : std::vector<spec::InputSpec>{});
        std::filesystem::remove(model);
        break;
      } catch (const Error& e) {
        std::filesystem::remove(model);
        const std::set<std::string> more = inputs_needed_as_constants(e);
        const std::set<std::string> before = frozen;
        frozen.insert(more.begin(), more.end());
        if (!dynamic && says_dynamic(e)) {
          dynamic = true;
          continue;
        }
        if (frozen == before || attempt > 8) throw;
      }
    }
    const std::vector<lang::Tensor> inputs = load_inputs(optimized.main(), data_set, frozen);
    Outcome o = check_outputs(optimized, inputs, data_set, kernels);
    if (o.status != Status::pass) return o;
  }
  std::string names;
  for (const std::string& n : frozen) names += (names.empty() ? "" : ", ") + n;
  std::string note = dynamic ? "input shapes given per data set" : "";
  if (!names.empty()) note += (note.empty() ? "" : "; ") + std::string("inputs frozen to the data set's values: ") + names;
  return {Status::pass, note};
}

Outcome check_test(const std::filesystem::path& test_dir, KernelCache& kernels) {
  const auto data_sets = sorted_entries(test_dir, "test_data_set_");
  if (data_sets.empty()) return {Status::error, "no test_data_set_N folder"};
  lang::Module optimized;
  try {
    optimized = optimize(test_dir / "model.onnx");
  } catch (const Error& e) {
    const std::set<std::string> frozen = inputs_needed_as_constants(e);
    const bool dynamic = says_dynamic(e);
    if (frozen.empty() && !dynamic) throw;
    return check_frozen(test_dir, data_sets, frozen, dynamic, kernels);
  }
  for (const auto& data_set : data_sets) {
    const std::vector<lang::Tensor> inputs = load_inputs(optimized.main(), data_set, {});
    Outcome o = check_outputs(optimized, inputs, data_set, kernels);
    if (o.status != Status::pass) return o;
  }
  return {Status::pass, {}};
}

}  // namespace

Outcome run_case(const std::filesystem::path& test_dir, KernelCache& kernels) {
  try {
    return check_test(test_dir, kernels);
  } catch (const Error& e) {
    return {says_unsupported(e) ? Status::unsupported : Status::error, first_message(e)};
  } catch (const std::exception& e) {
    return {Status::error, e.what()};
  }
}

}  // namespace modelc::conformance
