// `bench` and `report` judge an artifact by its outputs: one that disagrees
// with the reference interpreter fails, with the reason, instead of being
// timed and reported as if it were right.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "driver/evaluate.h"
#include "driver/measure.h"
#include "driver/pipeline.h"
#include "driver/sensitivity.h"
#include "reports/render_markdown.h"
#include "spec/variants.h"
#include "support/file_io.h"
#include "targets/device_profile.h"
#include "tests/prerequisites.h"
#include "tests/driver/test_util.h"

namespace fs = std::filesystem;
using namespace modelc;

namespace {

// The quickstart CNN with its text `from` replaced by `to`, written as `file`.
spec::Recipe quickstart_cnn(const test::TempDir& tmp, const std::string& file, const std::string& from,
                            const std::string& to) {
  std::string text = read_text_file(test::source_root() / "examples/quickstart/cnn.yaml");
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  return spec::load_recipe(tmp.write(file, text));
}

// The quickstart CNN with its weights drawn from `seed`.
spec::Recipe cnn_with_seed(const test::TempDir& tmp, int seed) {
  return quickstart_cnn(tmp, "cnn" + std::to_string(seed) + ".yaml", "seed: 7", "seed: " + std::to_string(seed));
}

}  // namespace

TEST_CASE("an artifact whose outputs differ from the reference fails and says which output") {
  test::TempDir tmp;
  const spec::Recipe recipe = cnn_with_seed(tmp, 7);
  driver::CompileOptions options;
  options.out_dir = tmp.path() / "out";
  const driver::CompiledArtifact a = driver::compile(recipe, options).front();
  const lang::Module right = driver::import_model(recipe);
  const std::vector<lang::Tensor> inputs = driver::benchmark_inputs(recipe, right);

  const reports::Results measured = driver::measure_artifacts(recipe, {a}, test::quick_measure(2, 2));
  REQUIRE(measured.results.size() == 1);
  const reports::VariantResult& ok = measured.results.front();
  CHECK(ok.status == reports::RunStatus::ok);
  REQUIRE(ok.accuracy);
  CHECK(*ok.accuracy->allclose);
  REQUIRE(ok.latency);
  CHECK(ok.latency->rounds == 2);
  CHECK(ok.samples_ms.size() == 2);
  REQUIRE(ok.baselines.size() == 1);  // the reference interpreter, timed in the same rounds
  CHECK(ok.baselines[0].name == "reference");
  CHECK(ok.baselines[0].samples_ms.size() == 2);

  // The same network with other weights: same names, shapes and dtypes, other numbers.
  const lang::Module other = driver::import_model(cnn_with_seed(tmp, 8));
  const reports::VariantResult wrong = driver::check_artifact(a, inputs, driver::run_reference(other, inputs), 1);
  CHECK(wrong.status == reports::RunStatus::failed);
  REQUIRE(wrong.accuracy);
  CHECK_FALSE(*wrong.accuracy->allclose);
  CHECK_FALSE(wrong.latency);  // a wrong artifact's speed is not reported
  CHECK(wrong.note.rfind("outputs differ from the reference interpreter: output 'probabilities' (float32): ", 0) == 0);

  // An int8 reference accepts a relative error up to kInt8RoundingTolerance
  // (a value on a rounding boundary moved one step), saying so; beyond it, or
  // for a float model, the artifact fails.
  driver::ReferenceRun nudged = driver::run_reference(right, inputs);
  auto scaled = [&](double factor) {
    driver::ReferenceRun r = nudged;
    for (lang::Tensor& t : r.outputs)
      for (float& v : t.mutable_values<float>()) v = static_cast<float>(v * factor);
    return r;
  };
  driver::ReferenceRun close = scaled(1.004), far = scaled(1.05);
  CHECK(driver::check_artifact(a, inputs, close, 1).status == reports::RunStatus::failed);  // no tolerance: float model
  close.rounding_tolerance = far.rounding_tolerance = driver::kInt8RoundingTolerance;
  close.rounding = far.rounding = "int8";
  const reports::VariantResult rounded = driver::check_artifact(a, inputs, close, 1);
  CHECK(rounded.status == reports::RunStatus::ok);
  REQUIRE(rounded.accuracy);
  CHECK_FALSE(*rounded.accuracy->allclose);
  CHECK(rounded.note.rfind("within int8 rounding of the reference interpreter (output 'probabilities' (float32): ", 0) == 0);
  CHECK(rounded.note.find("relative error of each output at most 0.00398, accepted up to 0.01") != std::string::npos);  // 0.004 / 1.004
  CHECK(driver::check_artifact(a, inputs, far, 1).status == reports::RunStatus::failed);
  // A tolerance widened by the reference's own sensitivity says so.
  far.sensitivity = 0.02;
  far.rounding_tolerance = driver::kInt8SensitivityFactor * far.sensitivity;
  const reports::VariantResult sensitive = driver::check_artifact(a, inputs, far, 1);
  CHECK(sensitive.status == reports::RunStatus::ok);
  CHECK(sensitive.note.find("accepted up to 0.06, the larger of 0.01 and 3x the 0.02 the reference itself moves when the "
                            "float values before its quantizes round one unit up): ") != std::string::npos);
}

// An artifact for another ISA runs under an emulator (qemu-user): accepted
// within int8 rounding, as exactly, it stays an emulated row, its note
// saying both, and is never timed (an int8 build for arm64 whose outputs
// moved a step was timed under qemu and put in a ratio with the host's).
TEST_CASE("an emulated run accepted within int8 rounding stays emulated and untimed" *
          doctest::skip(test::skip_unless(targets::runs_here(targets::find_device_profile("arm64")).available))) {
  REQUIRE_MESSAGE(targets::runs_here(targets::find_device_profile("arm64")).available, "arm64 needs qemu-aarch64 here");
  test::TempDir tmp;
  const spec::Recipe recipe =
      quickstart_cnn(tmp, "cnn_arm64.yaml", "{device: host, threads: 0}", "{device: arm64, threads: 1}");
  driver::CompileOptions options;
  options.out_dir = tmp.path() / "out";
  const driver::CompiledArtifact a = driver::compile(recipe, options).front();
  const lang::Module model = driver::import_model(recipe);
  const std::vector<lang::Tensor> inputs = driver::benchmark_inputs(recipe, model);
  const driver::ReferenceRun exact = driver::run_reference(model, inputs);
  const reports::VariantResult same = driver::check_artifact(a, inputs, exact, 1);
  CHECK(same.status == reports::RunStatus::emulated);
  CHECK(same.note == "ran emulated by qemu-aarch64 (correctness only)");

  driver::ReferenceRun close = exact;
  for (lang::Tensor& t : close.outputs)
    for (float& v : t.mutable_values<float>()) v = static_cast<float>(v * 1.004);
  close.rounding_tolerance = driver::kInt8RoundingTolerance;
  close.rounding = "int8";
  const reports::VariantResult rounded = driver::check_artifact(a, inputs, close, 1);
  CHECK(rounded.status == reports::RunStatus::emulated);
  REQUIRE(rounded.accuracy);
  CHECK_FALSE(*rounded.accuracy->allclose);
  CHECK(rounded.note.rfind("ran emulated by qemu-aarch64 (correctness only); within int8 rounding of the reference "
                           "interpreter (",
                           0) == 0);

  // Measured as `bench` measures: the emulated row has no latency.
  const reports::Results measured = driver::measure_artifacts(recipe, {a}, test::quick_measure(2, 1));
  REQUIRE(measured.results.size() == 1);
  CHECK(measured.results.front().status == reports::RunStatus::emulated);
  CHECK_FALSE(measured.results.front().latency);
}

// An int8 model whose float ops feed quantizes (here swish: sigmoid times
// its input) measures how far the reference itself moves when those float
// values round one unit up, and accepts kInt8SensitivityFactor times that
// when it is more than kInt8RoundingTolerance (EfficientNet-B0 int8: 0.054,
// its artifact 0.064 from the reference); a model whose quantizes read only
// exact values (ReLU after requantize) measures nothing and keeps 1e-2.
TEST_CASE("an int8 reference measures its own sensitivity to the last bit of the floats it quantizes") {
  test::TempDir tmp;
  auto recipe_with = [&](const std::string& name, const std::string& layers) {
    return spec::load_recipe(tmp.write(
        name + ".yaml", "apiVersion: modelc/v1\nkind: Recipe\nmetadata: {name: " + name +
                            ", version: 1.0.0}\nmodel:\n  graph:\n    seed: 5\n    inputs:\n"
                            "      - {name: image, shape: [1, 16, 56, 56], dtype: float32}\n    layers:\n" +
                            layers +
                            "quantization:\n  mode: int8\n  activations:\n    calibration: {method: minmax, samples: 2, "
                            "random_seed: 3}\ntargets:\n  host: {device: host}\n"));
  };
  const spec::Recipe swish = recipe_with("swish", R"(      - {op: conv2d, name: c1, filters: 64, kernel: 3, padding: same}
      - {op: sigmoid, name: s1}
      - {op: mul, name: m1, inputs: [c1, s1]}
      - {op: conv2d, name: d1, filters: 64, kernel: 3, padding: same, groups: 64}
      - {op: sigmoid, name: s2}
      - {op: mul, name: m2, inputs: [d1, s2]}
      - {op: conv2d, name: c2, filters: 16, kernel: 1}
    outputs: [c2]
)");
  const lang::Module imported = driver::import_model(swish);
  const std::vector<lang::Tensor> inputs = driver::benchmark_inputs(swish, imported);
  const driver::ReferenceRun r = driver::run_reference(driver::reference_module(swish, imported, "NCHW"), inputs, &swish);
  CHECK(r.sensitivity > 0);
  CHECK(r.sensitivity < 0.05);
  CHECK(r.rounding_tolerance == std::max(driver::kInt8RoundingTolerance, driver::kInt8SensitivityFactor * r.sensitivity));
  // The float model's reference is not nudged.
  CHECK(driver::run_reference(imported, inputs).sensitivity == 0);

  const spec::Recipe relu = recipe_with("relu", R"(      - {op: conv2d, name: c1, filters: 16, kernel: 3, padding: same}
      - {op: relu, name: r1}
      - {op: conv2d, name: c2, filters: 16, kernel: 1}
    outputs: [c2]
)");
  const lang::Module plain = driver::import_model(relu);
  const driver::ReferenceRun exact =
      driver::run_reference(driver::reference_module(relu, plain, "NCHW"), driver::benchmark_inputs(relu, plain), &relu);
  CHECK(exact.sensitivity == 0);
  CHECK(exact.rounding_tolerance == driver::kInt8RoundingTolerance);
}

// An int8 variant is held to the quantized model's reference run (its
// integer kernels match those exactly), not to the float model it only
// approximates; how far it is from the float model is its row's note. So are
// bf16 and fp16 variants (weights stored in half precision, in the form the
// kernels read them), which also halve the weights' bytes.
TEST_CASE("a quantized variant is checked against the quantized reference and notes its distance from float") {
  test::TempDir tmp;
  std::string text = read_text_file(test::source_root() / "examples/quickstart/cnn.yaml");
  const size_t at = text.find("optimize:");
  REQUIRE(at != std::string::npos);
  text.insert(at, "quantization:\n  mode: none\n  activations:\n    calibration: {method: minmax, samples: 2, random_seed: 3}\n"
                  "  evaluation: {samples: 6, random_seed: 100, sensitivity: 2}\n"
                  "variants:\n  quantization.mode: [none, int8, bf16, fp16]\n");
  const spec::Recipe recipe = spec::load_recipe(tmp.write("cnn8.yaml", text));
  driver::CompileOptions options;
  options.out_dir = tmp.path() / "out";
  const std::vector<driver::CompiledArtifact> artifacts = driver::compile(recipe, options);
  REQUIRE(artifacts.size() == 4);
  for (const driver::CompiledArtifact& a : artifacts) {
    CAPTURE(a.variant);
    // Weights of the convolutions and the dense layer in 2 bytes; the biases stay float32.
    if (a.variant.find("16") != std::string::npos) CHECK(a.summary.weight_bytes < artifacts[0].summary.weight_bytes * 0.55);
  }
  driver::MeasureOptions quick = test::quick_measure(1, 1);
  quick.time_reference = false;
  quick.sensitivity = true;  // as `modelc report` measures
  const reports::Results measured = driver::measure_artifacts(recipe, artifacts, quick);
  REQUIRE(measured.results.size() == 4);
  for (const reports::VariantResult& r : measured.results) {
    CAPTURE(r.variant);
    CAPTURE(r.note);
    CHECK(r.status == reports::RunStatus::ok);
    REQUIRE(r.accuracy);
    CHECK(*r.accuracy->allclose);
    const bool reduced = r.variant.find("none") == std::string::npos;
    CHECK((r.note.rfind("vs the float model: 'probabilities' max abs error ", 0) == 0) == reduced);
    // The held-out comparison with the float build of the same target.
    const size_t held_out = r.note.find("; on 6 held-out inputs vs the float build (variant 'none'): "
                                        "'probabilities' top-1 agreement ");
    CHECK((held_out != std::string::npos) == reduced);
    // The per-layer table: int8 variants only, on the first 2 held-out inputs.
    CHECK(r.sensitivity.has_value() == (r.variant == "int8"));
    if (r.sensitivity) {
      CHECK(r.sensitivity->inputs == 2);
      CHECK(r.sensitivity->output == "probabilities");
      CHECK(r.sensitivity->layers.size() == 7);
      CHECK(r.sensitivity->all.rows == 2);
    }
    if (reduced) {
      CHECK(r.note.find("/6 (") != std::string::npos);
      CHECK(r.note.find(", top-5 6/6, cosine mean ") != std::string::npos);
      CHECK(r.note.find("relative error ") != std::string::npos);
    }
  }

  // Held-out seeds that repeat calibration seeds are refused, located at the recipe.
  std::string overlapping = text;
  overlapping.replace(overlapping.find("random_seed: 100"), 16, "random_seed: 4");
  const spec::Recipe bad = spec::load_recipe(tmp.write("cnn8_overlap.yaml", overlapping));
  try {
    driver::measure_artifacts(bad, artifacts, quick);
    FAIL("overlapping held-out seeds were accepted");
  } catch (const Error& e) {
    const Diagnostic& d = e.diagnostics().front();
    CHECK(d.message == "held-out seeds 4..9 overlap the calibration seeds 3..4");
    CHECK(d.pointer == "/quantization/evaluation/random_seed");
    CHECK(d.location.line > 0);
  }
}

namespace {

// The quickstart CNN quantized to int8, with `extra` lines in its quantization block.
fs::path int8_quickstart(const test::TempDir& tmp, const std::string& extra, bool evaluation = true) {
  std::string text = read_text_file(test::source_root() / "examples/quickstart/cnn.yaml");
  const size_t at = text.find("optimize:");
  REQUIRE(at != std::string::npos);
  text.insert(at, "quantization:\n  mode: int8\n  activations:\n    calibration: {method: minmax, samples: 2, random_seed: 3}\n" +
                      std::string(evaluation ? "  evaluation: {samples: 4, random_seed: 100}\n" : "") + extra);
  return tmp.write("cnn8.yaml", text);
}

std::set<std::string> layer_names(const reports::SensitivityResult& t) {
  std::set<std::string> names;
  for (const reports::LayerAgreement& l : t.layers) names.insert(l.layer);
  return names;
}

}  // namespace

TEST_CASE("layer sensitivity: one row per quantized layer, most sensitive first, and quantization.skip by layer name") {
  test::TempDir tmp;
  const spec::Recipe recipe = spec::load_recipe(int8_quickstart(tmp, ""));
  const reports::SensitivityResult table = driver::layer_sensitivity(spec::expand_variants(recipe).front(), 3, {});
  CHECK(table.inputs == 3);
  CHECK(layer_names(table) ==
        std::set<std::string>{"stem", "block_conv1", "block_conv2", "block2_conv1", "block2_conv2", "down", "logits"});
  double sum = 0;
  for (size_t i = 0; i < table.layers.size(); ++i) {
    const reports::LayerAgreement& l = table.layers[i];
    CAPTURE(l.layer);
    CHECK(l.rows == 3);  // the probabilities are a classifier's
    CHECK(l.top1 <= l.rows);
    CHECK(l.cosine_mean > 0.9);
    CHECK(l.cosine_min <= l.cosine_mean);
    if (i > 0) CHECK(l.cosine_mean >= table.layers[i - 1].cosine_mean);
    sum += l.cosine_mean;
  }
  CHECK(table.all.rows == 3);
  CHECK(table.all.layer.empty());
  // One layer alone is closer to the float model than all of them at once.
  CHECK(sum / static_cast<double>(table.layers.size()) > table.all.cosine_mean);
  const std::string text = reports::render_sensitivity_markdown(table, "default");
  CHECK(text.find("| stem | qnn.conv2d | ") != std::string::npos);
  CHECK(text.find("| logits | qnn.dense | ") != std::string::npos);
  CHECK(text.find("| (every layer) | | ") != std::string::npos);

  // Layers listed under skip (by name, or by op) stay in float: no row for them.
  test::TempDir tmp2;
  const spec::Recipe skipping = spec::load_recipe(int8_quickstart(tmp2, "  skip: [stem, nn.dense]\n"));
  CHECK(layer_names(driver::layer_sensitivity(spec::expand_variants(skipping).front(), 1, {})) ==
        std::set<std::string>{"block_conv1", "block_conv2", "block2_conv1", "block2_conv2", "down"});
}

TEST_CASE("quantization.skip entries that name nothing, and sensitivity without held-out inputs, are located errors") {
  test::TempDir tmp;
  const spec::Recipe misspelled = spec::load_recipe(int8_quickstart(tmp, "  skip: [stemm]\n"));
  try {
    driver::validate_recipe(misspelled);
    FAIL("a skip entry that names no layer was accepted");
  } catch (const Error& e) {
    const Diagnostic& d = e.diagnostics().front();
    CHECK(d.pointer == "/quantization/skip/0");
    CHECK(d.message == "quantization.skip names 'stemm', which is neither a layer nor an op of this model");
    CHECK(d.hint == "did you mean 'stem'?");
    CHECK(d.location.line > 0);
  }
  // A report that asks for the table without held-out inputs is refused before anything is built.
  test::TempDir tmp3;
  const spec::Recipe table_without_inputs =
      spec::load_recipe(int8_quickstart(tmp3, "  evaluation: {sensitivity: 4}\n", false));
  try {
    driver::validate_recipe(table_without_inputs);
    FAIL("a sensitivity table without held-out inputs was accepted");
  } catch (const Error& e) {
    const Diagnostic& d = e.diagnostics().front();
    CHECK(d.pointer == "/quantization/evaluation/sensitivity");
    CHECK(d.message.find("evaluation.samples is 0") != std::string::npos);
    CHECK(d.location.line > 0);
  }
  test::TempDir tmp2;
  const spec::Recipe no_inputs = spec::load_recipe(int8_quickstart(tmp2, "", false));
  try {
    driver::layer_sensitivity(spec::expand_variants(no_inputs).front(), 4, {});
    FAIL("sensitivity ran without held-out inputs");
  } catch (const Error& e) {
    CHECK(e.diagnostics().front().pointer == "/quantization");
    CHECK(e.diagnostics().front().message.find("held-out inputs") != std::string::npos);
  }
}

namespace {

// A recipe of `graph` (the model.graph block: inputs, layers, outputs) in
// quantization `mode` (int8: minmax calibration on two seeded samples), built
// with the AMX tiles asked for (MODELC_AMX=1: on any x86-64 machine; where
// the CPU lacks them the tile kernels run their plain C form) and without
// (MODELC_AMX=0); each artifact is checked against the reference: with the
// tiles, `tile_kernels` kernels call `symbol`; without, none. `exact`: the
// outputs equal the reference's bit for bit. Where the target has VNNI
// (Halide's avx512_sapphirerapids), `form_kernels` kernels' statements
// without the tiles name a Func ending in `form` (a lowering's own stage).
// `blocked` >= 0: that many convolutions get their weights in blocks of 16
// output channels without the tiles (lang::kQnnBlockedQuadWeightLayout), none
// with them (the tile kernel reads the other quad layout).
void check_with_and_without_tiles(const std::string& name, const std::string& graph, const std::string& mode,
                                  const std::string& symbol, int tile_kernels, bool exact, const std::string& form = "",
                                  int form_kernels = 0, int blocked = -1) {
  test::TempDir tmp;
  const std::string quantization =
      mode == "int8" ? "quantization:\n  mode: int8\n  activations:\n    calibration: {method: minmax, samples: 2, random_seed: 3}\n"
                     : "quantization: {mode: " + mode + "}\n";
  const spec::Recipe recipe = spec::load_recipe(tmp.write(
      name + ".yaml", "apiVersion: modelc/v1\nkind: Recipe\nmetadata: {name: " + name + ", version: 1.0.0}\nmodel:\n  graph:\n" +
                          graph + quantization + "targets:\n  host: {device: host, threads: 2}\nreport:\n  baselines: [reference]\n"));
  const lang::Module imported = driver::import_model(recipe);
  const std::vector<lang::Tensor> inputs = driver::benchmark_inputs(recipe, imported);
  const driver::ReferenceRun reference =
      driver::run_reference(driver::reference_module(recipe, imported, "NCHW"), inputs, &recipe);
  const char* before = std::getenv("MODELC_AMX");
  const char* before_dot = std::getenv("MODELC_BF16_DOT");
  const std::string saved = before ? before : "", saved_dot = before_dot ? before_dot : "";
  // bf16 without tiles: with pair dot products (vdpbf16ps where the CPU has
  // it; the same sums without) and with FMA.
  std::vector<std::pair<std::string, std::string>> settings{{"1", "0"}, {"0", "0"}};
  if (mode == "bf16") settings.emplace_back("0", "1");
  for (const auto& [amx, dot] : settings) {
    CAPTURE(amx);
    CAPTURE(dot);
    setenv("MODELC_AMX", amx.c_str(), 1);
    setenv("MODELC_BF16_DOT", dot.c_str(), 1);
    driver::CompileOptions options;
    options.out_dir = tmp.path() / (recipe.name + amx + dot);
    options.emit = {"stmt", "ir"};
    const std::vector<driver::CompiledArtifact> artifacts = driver::compile(recipe, options);
    REQUIRE(artifacts.size() == 1);
    const bool tiles = amx == "1";
    if (blocked >= 0) {
      std::string last_ir;  // the module after the last pass
      for (const auto& e : fs::directory_iterator(options.out_dir / driver::kReservedIrFolder))
        if (e.path().filename().string() > fs::path(last_ir).filename().string()) last_ir = e.path().string();
      REQUIRE(!last_ir.empty());
      const std::string ir = read_text_file(last_ir);
      const std::string attr = "kernel_layout=\"OIHW16o4i\"";
      int count = 0;
      for (size_t at = ir.find(attr); at != std::string::npos; at = ir.find(attr, at + 1)) ++count;
      // Blocks of 16 channels are one vector of sums only with 16 lanes (AVX-512; driver::optimize).
      const bool sixteen_lanes = driver::activation_layout(recipe, targets::find_device_profile("host")) == "NCHW16c";
      CHECK(count == (tiles || !sixteen_lanes ? 0 : blocked));
    }
    CHECK(artifacts[0].summary.manifest["target"]["amx"] == tiles);
    CHECK(artifacts[0].summary.manifest["target"]["bf16_dot"] == (!tiles && dot == "1"));
    // A Func's name in a statement, as Halide may suffix it ($N) when the
    // process built other Funcs of that name.
    const std::string halide_target = artifacts[0].summary.manifest["target"]["halide_target"];
    const bool check_form = !form.empty() && !tiles && halide_target.find("avx512_sapphirerapids") != std::string::npos;
    const std::regex stage(form + R"((\$[0-9]+)?\[)");
    int calling = 0, in_form = 0;
    for (const auto& e : fs::directory_iterator(artifacts[0].directory / "kernels")) {
      const std::string stmt = read_text_file(e.path());
      calling += stmt.find(symbol) != std::string::npos;
      if (check_form) in_form += std::regex_search(stmt, stage);
    }
    CHECK(calling == (tiles ? tile_kernels : 0));
    if (check_form) CHECK(in_form == form_kernels);
    const reports::VariantResult r = driver::check_artifact(artifacts[0], inputs, reference, 2);
    CAPTURE(r.note);
    CHECK(r.status == reports::RunStatus::ok);
    REQUIRE(r.accuracy);
    if (exact) CHECK(r.accuracy->max_abs_error == 0);
  }
  if (before) setenv("MODELC_AMX", saved.c_str(), 1);
  else unsetenv("MODELC_AMX");
  if (before_dot) setenv("MODELC_BF16_DOT", saved_dot.c_str(), 1);
  else unsetenv("MODELC_BF16_DOT");
}

}  // namespace

// A bf16 variant's matrix products (dense layers over several rows become
// nn.batch_matmul) multiply bfloat16 values: the activations are rounded to
// bfloat16 as the weights are, in the kernels and in the reference. With AMX
// they call runtime/modelc_amx.c (every dense layer); without, they compute
// on FMA, or in bfloat16 pairs (MODELC_BF16_DOT=1) where PackMatmulWeights
// stored the weight in row pairs (fc3: K even, N a multiple of the block).
// Rows, inputs and units off the tiles' multiples of 16 and 32.
TEST_CASE("bf16 matrix products run on AMX tiles or FMA and both match the reference") {
  check_with_and_without_tiles("bf16-mm", R"(
    seed: 3
    inputs:
      - {name: x, shape: [37, 40], dtype: float32}
    layers:
      - {op: dense, name: fc1, units: 70}
      - {op: relu, name: act}
      - {op: dense, name: fc2, units: 20}
      - {op: dense, name: fc3, units: 32}
    outputs: [fc3]
)", "bf16", "modelc_amx_matmul_bf16", 3, false);
}

// int8 convolutions with quad-packed weights call the AMX tile kernel where
// the target has AMX, and match the integer reference exactly either way:
// 64 -> 56 channels (the weight padded to 64 outputs) and 64 -> 48 (stride 2)
// on the tiles, and the 5x5 first layer of 3 channels too (a kernel row's
// taps in place of channels: modelc_amx_conv_u8s8_row_taps); 56 -> 64 (input
// channels off the blocks of 64) keeps the vector kernel.
TEST_CASE("int8 convolutions run on AMX tiles or vectors and both match the integer reference exactly") {
  check_with_and_without_tiles("int8-conv", R"(
    seed: 5
    inputs:
      - {name: image, shape: [1, 3, 13, 13], dtype: float32}
    layers:
      - {op: conv2d, name: stem, filters: 64, kernel: 5, padding: same}
      - {op: relu, name: stem_relu}
      - {op: conv2d, name: body, filters: 56, kernel: 3, padding: same}
      - {op: relu, name: mid_relu}
      - {op: conv2d, name: mid, filters: 64, kernel: 1}
      - {op: relu, name: body_relu}
      - {op: conv2d, name: down, filters: 48, kernel: 1, stride: 2}
    outputs: [down]
)", "int8", "modelc_amx_conv_u8s8", 3, true);
}

// An int8 classifier at batch 1 (qnn.dense over one row): AlterOpLayout
// folds its input zero point into the bias (the pooled values are signed:
// uint8 with a zero point), and on VNNI its row dot products take four K per
// lane (the lowering's `_quads` stage; 200 inputs: three steps of 64 and a
// tail of 8); exact against the integer reference either way.
TEST_CASE("an int8 classifier over one row runs as VNNI quads and matches the integer reference exactly") {
  check_with_and_without_tiles("int8-classifier", R"(
    seed: 13
    inputs:
      - {name: image, shape: [1, 60, 6, 6], dtype: float32}
    layers:
      - {op: conv2d, name: features, filters: 200, kernel: 3, padding: same}
      - {op: global_avg_pool, name: pool}
      - {op: flatten, name: flat}
      - {op: dense, name: logits, units: 19}
    outputs: [logits]
)", "int8", "modelc_amx_conv_u8s8", 0, true, "_quads", 1);
}

// int8 convolutions whose kernels vectorize output channels read their
// weights in blocks of 16 channels, a stream per block, and match the integer
// reference exactly: rows of 21 pixels over 64 input channels (576 products
// per output: blocked, not pixel vectors), stride 2 (taps unrolled over the
// column phases) into rows of 11 with 48 channels (a tile of 32 channels and
// one shifted in over it), a 1x1 layer over rows of 11; 40 output channels
// (no whole blocks) and rows of 21 over 64 products keep the other layout.
TEST_CASE("int8 convolutions over narrow rows read weights in blocks of 16 channels and match exactly") {
  check_with_and_without_tiles("int8-blocked", R"(
    seed: 9
    inputs:
      - {name: image, shape: [1, 64, 9, 21], dtype: float32}
    layers:
      - {op: conv2d, name: wide3, filters: 32, kernel: 3, padding: same}
      - {op: relu, name: r1}
      - {op: conv2d, name: wide1, filters: 32, kernel: 1}
      - {op: relu, name: r2}
      - {op: conv2d, name: down, filters: 48, kernel: 3, stride: 2, padding: same}
      - {op: relu, name: r3}
      - {op: conv2d, name: narrow1, filters: 64, kernel: 1}
      - {op: relu, name: r4}
      - {op: conv2d, name: odd, filters: 40, kernel: 1}
    outputs: [odd]
)", "int8", "modelc_amx_conv_u8s8", 2, true, "", 0, 3);
}

// int8 convolutions large enough to run in parallel tasks, on the vector
// kernels (no input channels in blocks of 64): a padded 3x3 layer (its input
// repacked first), 1x1 layers with rows of 16 pixels or more (tasks of whole
// image rows, each repacking its rows), and a 1x1 layer over 10 x 9 pixels
// (channels vectorized, tasks of whole channel blocks).
TEST_CASE("int8 convolutions in parallel tasks match the integer reference exactly") {
  check_with_and_without_tiles("int8-tasks", R"(
    seed: 7
    inputs:
      - {name: image, shape: [1, 16, 40, 36], dtype: float32}
    layers:
      - {op: conv2d, name: c3, filters: 40, kernel: 3, padding: same}
      - {op: relu, name: r3}
      - {op: conv2d, name: p1, filters: 48, kernel: 1}
      - {op: relu, name: r1}
      - {op: conv2d, name: down, filters: 32, kernel: 1, stride: 2}
      - {op: relu, name: r2}
      - {op: conv2d, name: down2, filters: 32, kernel: 1, stride: 2}
      - {op: relu, name: r4}
      - {op: conv2d, name: wide, filters: 256, kernel: 1}
    outputs: [wide]
)", "int8", "modelc_amx_conv_u8s8", 0, true);
}

// int8 3x3 convolutions over rows narrower than a vector (output channels
// vectorized in the register tile, which is kept in registers and stored
// along rows) match the integer reference exactly: odd widths, channel
// counts that leave a tail of the tile, stride 2, and a float output last.
// On a VNNI target all three read their tile transposed.
TEST_CASE("int8 convolutions over narrow rows store their register tiles along rows, exactly") {
  check_with_and_without_tiles("int8-narrow", R"(
    seed: 9
    inputs:
      - {name: image, shape: [1, 16, 13, 11], dtype: float32}
    layers:
      - {op: conv2d, name: c1, filters: 24, kernel: 3, padding: same}
      - {op: relu, name: r1}
      - {op: conv2d, name: c2, filters: 40, kernel: 3, stride: 2, padding: same}
      - {op: relu, name: r2}
      - {op: conv2d, name: c3, filters: 20, kernel: 3, padding: 1}
    outputs: [c3]
)", "int8", "modelc_amx_conv_u8s8", 0, true, "in Register\n[^\n]+\n +[^ ]+_acc", 3);
}

// int8 convolutions over 1-3 input channels, where VNNI's quads pack a
// kernel row's taps with the channels (lower/ops/qnn_conv2d.cpp, "taps in
// quads"), match the integer reference exactly: a 7x7 stride-2 stem over the
// quantized image (its zero point in the borders, an odd width), 3x3 taps
// dilated by 2 over 2 channels, 5x5 over one channel with unequal borders
// (after ReLU, zero point 0). On a VNNI target three kernels take the form;
// with AMX tiles the stem and the 5x5 take the tiles' row-taps form.
TEST_CASE("int8 convolutions with taps packed with few input channels match the integer reference exactly") {
  check_with_and_without_tiles("int8-taps", R"(
    seed: 5
    inputs:
      - {name: image, shape: [1, 3, 31, 41], dtype: float32}
    layers:
      - {op: conv2d, name: stem, filters: 8, kernel: 7, stride: 2, padding: 3}
      - {op: conv2d, name: two, filters: 2, kernel: 1}
      - {op: conv2d, name: dilated, filters: 12, kernel: 3, dilation: 2, padding: 2}
      - {op: conv2d, name: one, filters: 1, kernel: 1}
      - {op: relu, name: r1}
      - {op: conv2d, name: five, filters: 16, kernel: 5, padding: [2, 1, 2, 3]}
    outputs: [five]
)", "int8", "modelc_amx_conv_u8s8", 2, true, "_taps_padded", 3);
}

// int8 grouped convolutions whose groups hold whole quads of input channels
// (VNNI: the quads form with pixels vectorized, a register tile per group's
// channels, lower/ops/qnn_conv2d.cpp) match the integer reference exactly:
// groups of 24 channels over the quantized image (its zero point in the
// borders) in two tiles of 12 per group, groups of 4 channels with stride 2, rows
// narrower than a vector (half vectors, the last rounded up), a grouped 1x1
// with 5 channels per group, 2 per group on rows of 3 pixels; groups of 2
// channels keep the direct form. Five kernels take the form on VNNI.
TEST_CASE("int8 grouped convolutions over quads of channels match the integer reference exactly") {
  check_with_and_without_tiles("int8-grouped", R"(
    seed: 13
    inputs:
      - {name: image, shape: [1, 48, 23, 32], dtype: float32}
    layers:
      - {op: conv2d, name: g1, filters: 48, kernel: 3, padding: same, groups: 2}
      - {op: relu, name: r1}
      - {op: conv2d, name: g2, filters: 96, kernel: 3, stride: 2, padding: same, groups: 12}
      - {op: relu, name: r2}
      - {op: conv2d, name: g3, filters: 96, kernel: 3, stride: 2, padding: 1, groups: 4}
      - {op: conv2d, name: g4, filters: 40, kernel: 1, groups: 8}
      - {op: relu, name: r4}
      - {op: conv2d, name: g5, filters: 20, kernel: 3, stride: 2, groups: 10}
      - {op: conv2d, name: g6, filters: 20, kernel: 3, padding: same, groups: 10}
    outputs: [g6]
)", "int8", "modelc_amx_conv_u8s8", 0, true, "_group_acc", 5);
}

// int8 depthwise convolutions (VNNI quads of a kernel row's taps where the
// CPU has VNNI and the rows hold 8 outputs or more; the float direct form
// otherwise) match the integer reference exactly: 3x3 over rows wider than a
// vector and not a multiple of it, the first with the input's zero point
// (the quantized image) and the rest after ReLU (zero point 0); 5x5 (two
// quads per kernel row); stride 2 between rows only; stride 2 both ways (the
// quads from a padded row of bytes), after ReLU and on the image; rows
// narrower than a vector; two output channels per input channel.
TEST_CASE("int8 depthwise convolutions match the integer reference exactly") {
  check_with_and_without_tiles("int8-depthwise", R"(
    seed: 11
    inputs:
      - {name: image, shape: [1, 24, 21, 37], dtype: float32}
    layers:
      - {op: conv2d, name: dw1, filters: 24, kernel: 3, padding: same, groups: 24}
      - {op: relu, name: r1}
      - {op: conv2d, name: dw2, filters: 24, kernel: 5, padding: same, groups: 24}
      - {op: relu, name: r2}
      - {op: conv2d, name: dw3, filters: 24, kernel: 3, stride: [2, 1], padding: same, groups: 24}
      - {op: relu, name: r3}
      - {op: conv2d, name: dw4, filters: 24, kernel: 3, stride: 2, padding: same, groups: 24}
      - {op: relu, name: r4}
      - {op: conv2d, name: dw5, filters: 48, kernel: 3, padding: same, groups: 24}
    outputs: [dw5]
)", "int8", "modelc_amx_conv_u8s8", 0, true);
  // Stride 2 on the quantized image (its zero point in the padded row), an
  // odd width whose last window reads past the image.
  check_with_and_without_tiles("int8-depthwise-s2", R"(
    seed: 12
    inputs:
      - {name: image, shape: [1, 8, 9, 35], dtype: float32}
    layers:
      - {op: conv2d, name: dw1, filters: 8, kernel: 3, stride: 2, padding: same, groups: 8}
      - {op: conv2d, name: dw2, filters: 8, kernel: 5, stride: 2, padding: same, groups: 8}
    outputs: [dw2]
)", "int8", "modelc_amx_conv_u8s8", 0, true);
}

// int8 depthwise convolutions over whole planes (stride 1, as many output
// as input columns; with VNNI, the quads laid out over the plane's flat
// index: lower/ops/qnn_conv2d.cpp) match the integer reference exactly: 7 x 7
// planes (vectors of 16 pixels across rows) with the image's zero point and
// after ReLU, 5 x 5 windows (two quads per kernel row), dilation 2, no
// padding above and below (fewer output rows than input rows), asymmetric
// vertical padding, two output channels per input channel, channel counts
// off the blocks of 4, and a 13 x 27 plane (rows not a multiple of 16);
// then strided layers with rows of 7 and 4 outputs.
TEST_CASE("int8 depthwise convolutions over whole small planes match the integer reference exactly") {
  check_with_and_without_tiles("int8-depthwise-planes", R"(
    seed: 13
    inputs:
      - {name: image, shape: [1, 16, 7, 7], dtype: float32}
    layers:
      - {op: conv2d, name: dw1, filters: 16, kernel: 3, padding: same, groups: 16}
      - {op: relu, name: r1}
      - {op: conv2d, name: dw2, filters: 16, kernel: 5, padding: same, groups: 16}
      - {op: relu, name: r2}
      - {op: conv2d, name: dw3, filters: 16, kernel: 3, dilation: 2, padding: same, groups: 16}
      - {op: relu, name: r3}
      - {op: conv2d, name: dw4, filters: 16, kernel: 3, padding: [0, 1, 0, 1], groups: 16}
      - {op: relu, name: r4}
      - {op: conv2d, name: dw5, filters: 32, kernel: 3, padding: same, groups: 16}
    outputs: [dw5]
)", "int8", "modelc_amx_conv_u8s8", 0, true, "_inside", 5);
  check_with_and_without_tiles("int8-depthwise-planes-odd", R"(
    seed: 14
    inputs:
      - {name: image, shape: [1, 6, 13, 27], dtype: float32}
    layers:
      - {op: conv2d, name: dw1, filters: 6, kernel: 3, padding: same, groups: 6}
      - {op: relu, name: r1}
      - {op: conv2d, name: dw2, filters: 6, kernel: 3, padding: [2, 1, 0, 1], groups: 6}
    outputs: [dw2]
)", "int8", "modelc_amx_conv_u8s8", 0, true, "_inside", 2);
  // Strided, rows of 7 and 4 outputs: quads from rows of bytes (VNNI).
  check_with_and_without_tiles("int8-depthwise-narrow-s2", R"(
    seed: 15
    inputs:
      - {name: image, shape: [1, 8, 14, 13], dtype: float32}
    layers:
      - {op: conv2d, name: dw1, filters: 8, kernel: 3, stride: 2, padding: same, groups: 8}
      - {op: relu, name: r1}
      - {op: conv2d, name: dw2, filters: 8, kernel: 5, stride: 2, padding: same, groups: 8}
    outputs: [dw2]
)", "int8", "modelc_amx_conv_u8s8", 0, true, "_row", 2);
}

// int8 dense layers over rows (a transformer's projections): AlterOpLayout
// packs the weights in quads, and with AMX the tiles compute the product as
// a 1x1 convolution whose pixels are the rows (64 input features, 48 units:
// in place), the second layer (48 features, not a block of 64) on vectors.
TEST_CASE("int8 dense layers over rows run on AMX tiles or vectors and both match the integer reference exactly") {
  check_with_and_without_tiles("int8-dense", R"(
    seed: 9
    inputs:
      - {name: x, shape: [37, 64], dtype: float32}
    layers:
      - {op: dense, name: fc1, units: 48}
      - {op: relu, name: act}
      - {op: dense, name: fc2, units: 20}
    outputs: [fc2]
)", "int8", "modelc_amx_conv_u8s8", 1, true);
}
