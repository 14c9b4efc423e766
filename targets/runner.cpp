#include "targets/runner.h"

#include <nlohmann/json.hpp>

#include "support/diagnostic.h"
#include "support/file_io.h"
#include "support/process.h"

namespace fs = std::filesystem;

namespace modelc::targets {
namespace {

std::string manifest_file(const fs::path& artifact_dir, const char* key) {
  const fs::path manifest = artifact_dir / "manifest.json";
  nlohmann::json m;
  try {
    m = nlohmann::json::parse(read_text_file(manifest));
  } catch (const nlohmann::json::exception& e) {
    throw Error(Diagnostic{Severity::error, {manifest.string()}, {}, std::string("unreadable manifest: ") + e.what(), {}});
  }
  const auto files = m.find("files");
  if (files == m.end() || !files->is_object() || !files->contains(key) || !(*files)[key].is_string()) return "";
  return (*files)[key].get<std::string>();
}

std::string joined(const std::vector<std::string>& argv) {
  std::string s;
  for (const std::string& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

}  // namespace

std::vector<std::string> runner_command(const DeviceProfile& profile, const fs::path& artifact_dir) {
  const Availability here = runs_here(profile);
  if (!here.available)
    throw Error(Diagnostic{Severity::error, {artifact_dir.string()}, {},
                           "this machine cannot run artifacts for " + profile.name + ": " + here.detail, {}});
  const std::string runner = manifest_file(artifact_dir, "runner");
  if (runner.empty())
    throw Error(Diagnostic{Severity::error, {(artifact_dir / "manifest.json").string()}, "/files/runner",
                           "the artifact has no runner", "compile it again with this modelc"});
  const fs::path program = fs::absolute(artifact_dir / runner);
  switch (profile.run) {
    case RunMethod::qemu_user: {
      std::vector<std::string> argv{find_executable(profile.qemu.binary)->string()};
      if (!profile.qemu.sysroot.empty()) argv.insert(argv.end(), {"-L", profile.qemu.sysroot});
      if (!profile.qemu.cpu.empty()) argv.insert(argv.end(), {"-cpu", profile.qemu.cpu});
      argv.push_back(program.string());
      return argv;
    }
    case RunMethod::node: {
      const std::string host = manifest_file(artifact_dir, "runner_host");
      if (host.empty())
        throw Error(Diagnostic{Severity::error, {(artifact_dir / "manifest.json").string()}, "/files/runner_host",
                               "the wasm artifact has no node host for its runner", "compile it again with this modelc"});
      return {find_executable("node")->string(), "--no-warnings", fs::absolute(artifact_dir / host).string(), program.string()};
    }
    case RunMethod::native:
    case RunMethod::opencl:
    case RunMethod::cuda:
      return {program.string()};
    case RunMethod::none: break;
  }
  throw Error("the device " + profile.name + " is compile only");
}

RunnerResult run_with_runner(const DeviceProfile& profile, const fs::path& artifact_dir, const std::vector<fs::path>& inputs,
                             const fs::path& output_dir, const RunnerOptions& options) {
  std::vector<std::string> argv = runner_command(profile, artifact_dir);
  for (const std::string& a : {std::string("--threads"), std::to_string(options.threads), std::string("--warmup"),
                               std::to_string(options.warmup), std::string("--repeats"), std::to_string(options.repeats),
                               std::string("--min-ms"), std::to_string(static_cast<long long>(options.min_ms)),
                               std::string("--outputs"), fs::absolute(output_dir).string()})
    argv.push_back(a);
  for (const fs::path& in : inputs) argv.push_back(fs::absolute(in).string());
  fs::create_directories(output_dir);

  RunnerResult result;
  result.command = joined(argv);
  ProcessOptions po;
  po.timeout = std::chrono::minutes(30);  // a large model under emulation, timed
  const ProcessResult r = run_process(argv, po);
  if (!r.started || r.exit_code != 0) {
    std::string why = !r.started ? r.start_error
                      : r.timed_out ? "timed out"
                      : r.signal ? "killed by signal " + std::to_string(r.signal)
                                 : "exit code " + std::to_string(r.exit_code);
    std::string detail = r.stderr_text;
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
    if (detail.size() > 2000) detail = detail.substr(0, 2000) + "...";
    throw Error(Diagnostic{Severity::error, {artifact_dir.string()}, {},
                           "the runner of " + profile.name + " failed (" + why + ")" + (detail.empty() ? "" : ": " + detail),
                           "command: " + result.command});
  }
  try {
    const nlohmann::json report = nlohmann::json::parse(r.stdout_text);
    result.samples_ms = report.at("samples_ms").get<std::vector<double>>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(Diagnostic{Severity::error, {artifact_dir.string()}, {},
                           "the runner of " + profile.name + " printed no timings: " + e.what(), "command: " + result.command});
  }
  for (size_t i = 0;; ++i) {
    const fs::path out = output_dir / ("output_" + std::to_string(i) + ".npy");
    std::error_code ec;
    if (!fs::exists(out, ec)) break;
    result.outputs.push_back(out);
  }
  return result;
}

}  // namespace modelc::targets
