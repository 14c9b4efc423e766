#include "driver/evaluate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <thread>

#include "driver/foreign_run.h"
#include "lang/frontends/weight_init.h"
#include "lang/interpreter.h"
#include "lang/pass.h"
#include "lang/passes/function_builder.h"
#include "lower/lowering.h"
#include "modelc_config.h"
#include "reports/accuracy.h"
#include "reports/artifact.h"
#include "reports/machine.h"
#include "support/diagnostic.h"
#include "support/npy.h"
#include "support/sha256.h"

namespace fs = std::filesystem;

namespace modelc::driver {
namespace {

std::string npy_descr(lang::DType dtype) {
  switch (dtype) {
    case lang::DType::float32: return "<f4";
    case lang::DType::float16: return "<f2";
    case lang::DType::int8: return "|i1";
    case lang::DType::uint8: return "|u1";
    case lang::DType::int32: return "<i4";
    case lang::DType::int64: return "<i8";
    case lang::DType::boolean: return "|b1";
    case lang::DType::int16: return "<i2";
    case lang::DType::uint16: return "<u2";
    case lang::DType::uint32: return "<u4";
    case lang::DType::uint64: return "<u8";
    case lang::DType::bfloat16:
    case lang::DType::string: break;
  }
  throw Error(std::string(lang::dtype_name(dtype)) + " tensors cannot be written as .npy");
}

std::optional<lang::DType> dtype_of_descr(const std::string& descr) {
  for (lang::DType d : {lang::DType::float32, lang::DType::float16, lang::DType::int8, lang::DType::uint8,
                        lang::DType::int32, lang::DType::int64, lang::DType::boolean, lang::DType::int16,
                        lang::DType::uint16, lang::DType::uint32, lang::DType::uint64})
    if (npy_descr(d) == descr) return d;
  return std::nullopt;
}

reports::OutputValues output_values(const lang::Tensor& t, std::string name) {
  reports::OutputValues v;
  v.name = std::move(name);
  v.dtype = std::string(lang::dtype_name(t.type().dtype));
  v.shape = t.type().shape;
  v.floating = lang::is_float(t.type().dtype);
  const size_t n = static_cast<size_t>(t.type().element_count());
  if (v.floating) {
    v.floats.reserve(n);
    for (size_t k = 0; k < n; ++k) v.floats.push_back(t.element_as_double(k));
  } else {
    v.integers.reserve(n);
    for (size_t k = 0; k < n; ++k) v.integers.push_back(t.element_as_int(k));
  }
  return v;
}

std::vector<reports::InputTensor> inputs_as_views(const reports::LoadedArtifact& a, const std::vector<lang::Tensor>& inputs) {
  std::vector<reports::InputTensor> views;
  for (size_t i = 0; i < inputs.size() && i < a.inputs().size(); ++i) views.push_back({a.inputs()[i].name, inputs[i].bytes()});
  return views;
}

std::vector<reports::OutputTensor> outputs_as_views(const reports::LoadedArtifact& a, std::vector<lang::Tensor>& outputs) {
  std::vector<reports::OutputTensor> views;
  for (size_t i = 0; i < outputs.size(); ++i) views.push_back({a.outputs()[i].name, outputs[i].mutable_bytes()});
  return views;
}

std::vector<lang::Tensor> allocate_outputs(const reports::LoadedArtifact& a) {
  std::vector<lang::Tensor> outputs;
  for (const modelc_tensor_info& info : a.outputs())
    outputs.emplace_back(lang::TensorType{std::vector<int64_t>(info.shape, info.shape + info.rank),
                                          *lang::parse_dtype(reports::dtype_name(info.dtype))});
  return outputs;
}

}  // namespace

lang::Tensor read_npy_tensor(const fs::path& path) {
  NpyArray a = read_npy(path);
  const auto dtype = dtype_of_descr(a.descr);
  if (!dtype) throw Error(Diagnostic{Severity::error, {path.string()}, {}, "unsupported .npy dtype '" + a.descr + "'", {}});
  return lang::Tensor(lang::TensorType{a.shape, *dtype}, std::move(a.data));
}

void write_npy_tensor(const fs::path& path, const lang::Tensor& tensor) {
  NpyArray a;
  a.descr = npy_descr(tensor.type().dtype);
  a.shape = tensor.type().shape;
  a.data.assign(tensor.bytes().begin(), tensor.bytes().end());
  write_npy(path, a);
}

std::vector<lang::Tensor> benchmark_inputs(const spec::Recipe& recipe, const lang::Module& module) {
  const lang::Function& main = module.main();
  std::vector<lang::Tensor> inputs;
  if (recipe.report.input) {
    if (main.params.size() != 1)
      throw Error(Diagnostic{Severity::error, recipe.locate("/report/input"), "/report/input",
                             "report.input gives one .npy file, the model has " + std::to_string(main.params.size()) + " inputs", {}});
    lang::Tensor t = read_npy_tensor(*recipe.report.input);
    if (t.type() != main.params[0].type)
      throw Error(Diagnostic{Severity::error, recipe.locate("/report/input"), "/report/input",
                             "the input file holds " + t.type().str() + ", the model's input '" + main.params[0].name +
                                 "' is " + main.params[0].type.str(), {}});
    inputs.push_back(std::move(t));
    return inputs;
  }
  for (size_t i = 0; i < main.params.size(); ++i) {
    const lang::TensorType& type = main.params[i].type;
    lang::frontends::WeightInit init;
    init.kind = lang::frontends::WeightInit::Kind::normal;
    init.std = 1.0;
    init.seed = 1234 + i;
    lang::Tensor t = lang::frontends::initialize_tensor(type.shape, init, 1, 1);
    if (type.dtype != lang::DType::float32) {
      lang::Tensor converted(type);
      for (size_t k = 0; k < static_cast<size_t>(type.element_count()); ++k) converted.set_element(k, std::round(t.element_as_double(k)));
      t = converted;
    }
    inputs.push_back(std::move(t));
  }
  return inputs;
}

std::vector<lang::Tensor> run_artifact(const fs::path& artifact_dir, const std::vector<lang::Tensor>& inputs, int threads) {
  const reports::LoadedArtifact artifact = reports::LoadedArtifact::open(artifact_dir);
  if (artifact.inputs().size() != inputs.size())
    throw Error("the artifact in " + artifact_dir.string() + " takes " + std::to_string(artifact.inputs().size()) +
                " inputs, given " + std::to_string(inputs.size()));
  reports::ModelInstance model = artifact.create(threads);
  std::vector<lang::Tensor> outputs = allocate_outputs(artifact);
  model.run(inputs_as_views(artifact, inputs), outputs_as_views(artifact, outputs));
  return outputs;
}

std::vector<std::vector<std::byte>> input_bytes(const std::vector<lang::Tensor>& inputs) {
  std::vector<std::vector<std::byte>> bytes;
  for (const lang::Tensor& t : inputs) bytes.emplace_back(t.bytes().begin(), t.bytes().end());
  return bytes;
}

int resolve_threads(int requested) {
  if (requested > 0) return requested;
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

reports::AccuracyResult compare_outputs(const std::vector<lang::Tensor>& got, const std::vector<std::string>& got_names,
                                        const std::vector<lang::Tensor>& want, const std::vector<std::string>& want_names,
                                        const std::string& against, std::string* disagreement) {
  reports::AccuracyResult acc;
  acc.reference = against;
  acc.rtol = 1e-3;
  acc.atol = 1e-4;
  std::vector<reports::OutputValues> a, b;
  for (size_t i = 0; i < got.size(); ++i) a.push_back(output_values(got[i], i < got_names.size() ? got_names[i] : ""));
  for (size_t i = 0; i < want.size(); ++i) b.push_back(output_values(want[i], i < want_names.size() ? want_names[i] : ""));
  const reports::ModelComparison c = reports::compare_model_outputs(a, b, reports::Tolerance{acc.rtol, acc.atol});
  acc.max_abs_error = c.max_abs_error;
  acc.max_rel_error = c.max_rel_error;
  acc.allclose = c.agree;
  if (disagreement) *disagreement = c.disagreement;
  return acc;
}

namespace {

// The indices of the k largest values of row `r` of a [rows, classes] tensor.
std::vector<int64_t> top_classes(const lang::Tensor& t, int64_t r, int64_t classes, int64_t k) {
  std::vector<int64_t> order(static_cast<size_t>(classes));
  for (int64_t c = 0; c < classes; ++c) order[static_cast<size_t>(c)] = c;
  const auto at = [&](int64_t c) { return t.element_as_double(static_cast<size_t>(r * classes + c)); };
  k = std::min(k, classes);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int64_t a, int64_t b) { return at(a) > at(b) || (at(a) == at(b) && a < b); });
  order.resize(static_cast<size_t>(k));
  return order;
}

}  // namespace

void OutputAgreement::add(const lang::Tensor& q, const lang::Tensor& f) {
  OutputAgreement& s = *this;
  double dot = 0, qq = 0, ff = 0;
  const auto n = static_cast<size_t>(f.type().element_count());
  for (size_t e = 0; e < n; ++e) {
    const double a = q.element_as_double(e), b = f.element_as_double(e), d = std::abs(a - b);
    s.max_abs = std::max(s.max_abs, d);
    s.sum_abs += d;
    s.sum_sq_diff += d * d;
    s.sum_sq_float += b * b;
    dot += a * b;
    qq += a * a;
    ff += b * b;
  }
  s.elements += n;
  const double cosine = qq > 0 && ff > 0 ? dot / std::sqrt(qq * ff) : (qq == ff ? 1.0 : 0.0);
  s.cosine_sum += cosine;
  s.cosine_min = std::min(s.cosine_min, cosine);
  ++s.samples;
  const auto& shape = f.type().shape;
  if (shape.size() == 2 && shape[1] >= 2) {
    for (int64_t r = 0; r < shape[0]; ++r) {
      const int64_t want = top_classes(f, r, shape[1], 1).front();
      const std::vector<int64_t> got = top_classes(q, r, shape[1], 5);
      s.top1 += got.front() == want;
      s.top5 += std::find(got.begin(), got.end(), want) != got.end();
      ++s.rows;
    }
  }
}

double OutputAgreement::relative_error() const {
  return sum_sq_float > 0 ? std::sqrt(sum_sq_diff / sum_sq_float) : 0.0;
}

namespace {

std::string format_g(const char* format, double value) {
  char text[48];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

}  // namespace

std::string quantization_error(const ReferenceRun& quantized, const ReferenceRun& float_model) {
  std::string text;
  for (size_t i = 0; i < quantized.outputs.size() && i < float_model.outputs.size(); ++i) {
    const lang::Tensor& q = quantized.outputs[i];
    const lang::Tensor& f = float_model.outputs[i];
    if (q.type() != f.type() || !lang::is_float(q.type().dtype)) continue;
    OutputAgreement s;
    s.add(q, f);
    text += (text.empty() ? "'" : "; '") + quantized.names[i] + "' max abs error " + format_g("%.3g", s.max_abs) +
            ", cosine " + format_g("%.5f", s.cosine_min);
  }
  return text.empty() ? text : "vs the float model: " + text;
}

std::string held_out_comparison(const fs::path& quantized_dir, const fs::path& float_dir, const std::string& float_variant,
                                const std::vector<std::vector<lang::Tensor>>& inputs, int threads) {
  const reports::LoadedArtifact quantized = reports::LoadedArtifact::open(quantized_dir);
  const reports::LoadedArtifact reference = reports::LoadedArtifact::open(float_dir);
  reports::ModelInstance q_model = quantized.create(threads), f_model = reference.create(threads);
  std::vector<lang::Tensor> q_out = allocate_outputs(quantized), f_out = allocate_outputs(reference);
  std::vector<OutputAgreement> stats(f_out.size());
  for (const std::vector<lang::Tensor>& sample : inputs) {
    q_model.run(inputs_as_views(quantized, sample), outputs_as_views(quantized, q_out));
    f_model.run(inputs_as_views(reference, sample), outputs_as_views(reference, f_out));
    for (size_t i = 0; i < f_out.size() && i < q_out.size(); ++i) {
      if (f_out[i].type() != q_out[i].type() || !lang::is_float(f_out[i].type().dtype)) continue;
      stats[i].name = reference.outputs()[i].name;
      stats[i].add(q_out[i], f_out[i]);
    }
  }
  std::string text;
  for (const OutputAgreement& s : stats) {
    if (s.samples == 0) continue;
    text += (text.empty() ? "" : "; ") + ("'" + s.name + "'");
    if (s.rows > 0)
      text += " top-1 agreement " + std::to_string(s.top1) + "/" + std::to_string(s.rows) + " (" +
              format_g("%.1f", 100.0 * static_cast<double>(s.top1) / static_cast<double>(s.rows)) + " %), top-5 " +
              std::to_string(s.top5) + "/" + std::to_string(s.rows) + ",";
    text += " cosine mean " + format_g("%.5f", s.cosine_mean()) + " (min " + format_g("%.5f", s.cosine_min) +
            "), abs error max " + format_g("%.3g", s.max_abs) + " mean " + format_g("%.3g", s.mean_abs()) +
            ", relative error " + format_g("%.3g", s.relative_error());
  }
  if (text.empty()) return text;
  return "on " + std::to_string(inputs.size()) + " held-out inputs vs the float build (variant '" + float_variant + "'): " + text;
}

bool reference_depends_on_layout(const spec::Recipe& recipe) {
  return recipe.quantization.mode == "bf16" || recipe.quantization.mode == "fp16";
}

lang::Module reference_module(const spec::Recipe& recipe, const lang::Module& imported, const std::string& layout) {
  if (recipe.quantization.mode == "none") return imported;
  return optimize(imported, recipe, reference_depends_on_layout(recipe) ? layout : "NCHW").module;
}

namespace {

// The largest ||a - r|| / ||r|| over the float outputs (infinity when a
// non-float output differs at all: integer outputs are held to exactness).
double worst_relative_error(const std::vector<lang::Tensor>& outputs, const ReferenceRun& reference) {
  double worst = 0;
  for (size_t i = 0; i < outputs.size() && i < reference.outputs.size(); ++i) {
    if (!lang::is_float(reference.outputs[i].type().dtype)) {
      if (outputs[i].bytes().size() != reference.outputs[i].bytes().size() ||
          !std::equal(outputs[i].bytes().begin(), outputs[i].bytes().end(), reference.outputs[i].bytes().begin()))
        return std::numeric_limits<double>::infinity();
      continue;
    }
    OutputAgreement a;
    a.add(outputs[i], reference.outputs[i]);
    const double e = a.relative_error();
    worst = std::isnan(e) ? std::numeric_limits<double>::infinity() : std::max(worst, e);
  }
  return worst;
}

// The module with each float value that a qnn.quantize reads from a float op
// (not a parameter, constant or dequantize, which kernels compute exactly as
// the reference does) multiplied by 1 + 2^-23: up by about one unit in the
// last place, as a compiled float op (a sigmoid, a sum in another order) may
// round it. nullopt when there is no such value.
std::optional<lang::Module> nudge_quantized_floats(const lang::Module& module) {
  lang::Module out = module;
  lang::Tensor factor(lang::TensorType{{}, lang::DType::float32});
  factor.set_element(0, 1.0 + std::ldexp(1.0, -23));
  const std::string one = out.add_constant("rounding_nudge", factor);
  bool nudged = false;
  for (lang::Function& fn : out.functions) {  // fused kernels' bodies included
    lang::FunctionBuilder b(fn);
    bool here = false;
    for (uint32_t i = 0; i < fn.body.size(); ++i) {
      const lang::Binding& q = fn.body[i];
      const bool from_float_op = q.is_op("qnn.quantize") && q.args.at(0).is_binding() &&
                                 !fn.body[q.args[0].index].is_op("qnn.dequantize") &&
                                 lang::is_float(out.type_of(fn, q.args[0]).dtype);
      if (!from_float_op) {
        b.keep(i);
        continue;
      }
      std::vector<lang::ValueRef> args = b.map_all(q.args);
      args[0] = b.emit(lang::make_op_call("multiply", {args[0], lang::ValueRef::constant_named(one)}, nullptr, q.origin));
      b.keep(i, args);
      here = true;
    }
    if (here) fn = b.finish();
    nudged = nudged || here;
  }
  if (!nudged) return std::nullopt;
  return lang::run_passes(out, {"InferType"}, lang::PassContext{});
}

}  // namespace

ReferenceRun run_reference(const lang::Module& reference_module, const std::vector<lang::Tensor>& inputs,
                           const spec::Recipe* recipe) {
  ReferenceRun run;
  if (recipe && recipe->quantization.mode == "int8") {
    run.rounding_tolerance = kInt8RoundingTolerance;
    run.rounding = "int8";
  } else if (recipe && recipe->quantization.mode == "bf16") {
    run.rounding_tolerance = kBfloat16RoundingTolerance;
    run.rounding = "bfloat16";
  }
  run.outputs = lang::evaluate_main(reference_module, inputs);
  for (size_t i = 0; i < reference_module.main().results.size(); ++i)
    run.names.push_back(lang::result_name(reference_module.main(), i));
  if (run.rounding == "int8") {
    if (const std::optional<lang::Module> nudged = nudge_quantized_floats(reference_module)) {
      run.sensitivity = worst_relative_error(lang::evaluate_main(*nudged, inputs), run);
      run.rounding_tolerance = std::max(run.rounding_tolerance, kInt8SensitivityFactor * run.sensitivity);
    }
  }
  return run;
}

reports::VariantResult check_artifact(const CompiledArtifact& artifact, const std::vector<lang::Tensor>& inputs,
                                      const ReferenceRun& reference, int threads) {
  reports::VariantResult result;
  result.variant = artifact.variant;
  result.target = artifact.target;
  result.device = artifact.device;
  result.threads = resolve_threads(threads);
  result.compile.seconds = artifact.seconds;
  result.compile.stages = artifact.stage_seconds;
  result.sizes = {artifact.summary.code_bytes, artifact.summary.weight_bytes, artifact.summary.arena_bytes};

  const targets::DeviceProfile& profile = artifact.device_profile();
  result.roofline = roofline_result(profile, artifact.summary.roofline);
  const targets::Availability here = targets::runs_here(profile);
  if (!here.available) {
    result.status = reports::RunStatus::compiled;
    result.note = "compile only: " + here.detail;
    return result;
  }
  std::vector<lang::Tensor> outputs;
  std::vector<std::string> output_names;
  if (targets::runs_natively_here(profile)) {
    outputs = run_artifact(artifact.directory, inputs, result.threads);
    const reports::LoadedArtifact loaded = reports::LoadedArtifact::open(artifact.directory);
    for (const modelc_tensor_info& info : loaded.outputs()) output_names.push_back(info.name);
  } else {
    // Another ISA, wasm or a GPU: one run through the runner built beside the
    // library. Under an emulator that run checks the outputs and is all:
    // emulated timings are not the device's (driver/measure.cpp times only
    // runners whose timings are, on a real GPU).
    // A runner that fails (an emulator's crash, no driver) fails this target's
    // row, with the runner's message; the other targets are still reported.
    try {
      ForeignRun run = run_foreign(profile, artifact.directory, inputs, targets::RunnerOptions{result.threads, 0, 0, 0});
      outputs = std::move(run.outputs);
    } catch (const Error& e) {
      result.status = reports::RunStatus::failed;
      result.note = e.diagnostics().front().message;
      return result;
    }
    for (const reports::ManifestTensor& t : reports::parse_manifest(artifact.summary.manifest, "manifest.json").outputs)
      output_names.push_back(t.name);
  }
  std::string disagreement;
  result.accuracy = compare_outputs(outputs, output_names, reference.outputs, reference.names, "reference", &disagreement);
  result.status = reports::RunStatus::ok;
  // An int8 or bf16 model's rounding moves (ReferenceRun::rounding_tolerance).
  const double rounded = !*result.accuracy->allclose && reference.rounding_tolerance > 0 &&
                                 outputs.size() == reference.outputs.size()
                             ? worst_relative_error(outputs, reference)
                             : std::numeric_limits<double>::infinity();
  if (rounded <= reference.rounding_tolerance) {
    const bool int8 = reference.rounding == "int8";
    result.note = "within " + reference.rounding + " rounding of the reference interpreter (" + disagreement +
                  "; relative error of each output at most " + format_g("%.3g", rounded) +
                  ", accepted up to " + format_g("%.3g", reference.rounding_tolerance) +
                  (reference.sensitivity > 0 ? ", the larger of " + format_g("%.3g", kInt8RoundingTolerance) + " and " +
                                                   format_g("%.3g", kInt8SensitivityFactor) + "x the " +
                                                   format_g("%.3g", reference.sensitivity) +
                                                   " the reference itself moves when the float values before its "
                                                   "quantizes round one unit up"
                                             : "") +
                  "): " +
                  (int8 ? "a float op before a quantize differs from the reference's in the last bit, and values on a "
                          "rounding boundary move one step"
                        : "float32 sums in another order than the reference's move a few activations across a "
                          "bfloat16 rounding boundary before a matrix product, by 2^-8 of their value");
  } else if (!*result.accuracy->allclose) {
    result.status = reports::RunStatus::failed;
    result.note = "outputs differ from the reference interpreter: " + disagreement;
    return result;
  }
  // Accepted, exactly or within rounding: an emulator's run checked the
  // outputs and is all (its timings are not the device's).
  if (!targets::runs_natively_here(profile) && !targets::timings_are_the_devices(profile)) {
    result.status = reports::RunStatus::emulated;
    result.note = "ran " + here.detail + (result.note.empty() ? "" : "; " + result.note);
  }
  return result;
}

reports::Results results_for(const spec::Recipe& recipe, const spec::BenchmarkSpec& benchmark) {
  reports::Results r;
  // As a person would give it: relative to where modelc runs, when it can be.
  std::error_code ec;
  const fs::path shown = fs::proximate(recipe.file, ec);
  r.recipe = {recipe.name, recipe.version, (ec ? recipe.file : shown).string(), sha256_file(recipe.file)};
  r.recipe.labels = recipe.resolved["metadata"].value("labels", nlohmann::json::object());
  r.environment.machine = reports::describe_machine();
  r.environment.timestamp = reports::utc_timestamp();
  r.environment.modelc_version = MODELC_VERSION;
  r.environment.halide_version = lower::halide_version();
  r.environment.llvm_version = lower::llvm_version();
  r.benchmark = benchmark;
  return r;
}

}  // namespace modelc::driver
