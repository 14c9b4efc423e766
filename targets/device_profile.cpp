#include "targets/device_profile.h"

#include <Halide.h>

#include <map>

#include "lower/lowering.h"
#include "spec/builtin_schemas.h"
#include "spec/document.h"
#include "support/diagnostic.h"
#include "support/embedded_file.h"
#include "support/spelling.h"

namespace modelc {
extern const EmbeddedFile device_profile_files[];
extern const size_t device_profile_files_count;
}  // namespace modelc

namespace modelc::targets {
namespace {

RunMethod parse_run(const std::string& s) {
  if (s == "native") return RunMethod::native;
  if (s == "qemu-user") return RunMethod::qemu_user;
  if (s == "node") return RunMethod::node;
  return RunMethod::none;
}

DeviceProfile load_profile(const EmbeddedFile& file) {
  spec::Document doc = spec::parse_yaml(file.text, std::string("targets/devices/") + file.name);
  spec::validate_document("target", doc);
  const nlohmann::json& v = doc.value;
  DeviceProfile p;
  p.name = v.at("name").get<std::string>();
  p.description = v.value("description", "");
  p.halide_target = v.at("halide_target").get<std::string>();
  p.llvm_triple = v.at("llvm_triple").get<std::string>();
  if (p.llvm_triple == "host") p.llvm_triple.clear();
  p.vector_bits = v.value("vector_bits", 0);
  p.run = parse_run(v.at("run").get<std::string>());
  if (v.contains("link")) {
    p.link_compiler = v["link"].value("compiler", p.link_compiler);
    if (v["link"].contains("libraries")) p.link_libraries = v["link"]["libraries"].get<std::vector<std::string>>();
  }
  return p;
}

const std::map<std::string, DeviceProfile>& profiles() {
  static const std::map<std::string, DeviceProfile> all = [] {
    std::map<std::string, DeviceProfile> m;
    for (size_t i = 0; i < device_profile_files_count; ++i) {
      DeviceProfile p = load_profile(device_profile_files[i]);
      m.emplace(p.name, std::move(p));
    }
    return m;
  }();
  return all;
}

}  // namespace

const DeviceProfile& find_device_profile(const std::string& name) {
  auto it = profiles().find(name);
  if (it != profiles().end()) return it->second;
  const std::vector<std::string> names = device_profile_names();
  std::string known;
  for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
  const std::string guess = closest_spelling(name, names);
  throw Error(Diagnostic{Severity::error, {}, {},
                         "no device profile '" + name + "' can be built by this modelc (available: " + known + ")",
                         guess.empty() ? "" : "did you mean '" + guess + "'?"});
}

std::vector<std::string> device_profile_names() {
  std::vector<std::string> names;
  for (const auto& [n, _] : profiles()) names.push_back(n);
  return names;
}

std::string resolved_halide_target(const DeviceProfile& profile) {
  if (profile.halide_target == "host") return lower::host_halide_target();
  return Halide::Target(profile.halide_target).to_string();
}

bool runs_natively_here(const DeviceProfile& profile) {
  if (profile.run != RunMethod::native) return false;
  const Halide::Target host(lower::host_halide_target());
  const Halide::Target want(resolved_halide_target(profile));
  if (host.arch != want.arch || host.bits != want.bits || host.os != want.os) return false;
  // Every ISA feature the profile asks for must be present here.
  for (int f = 0; f < static_cast<int>(Halide::Target::FeatureEnd); ++f) {
    const auto feature = static_cast<Halide::Target::Feature>(f);
    if (want.has_feature(feature) && !host.has_feature(feature) && feature != Halide::Target::NoRuntime) return false;
  }
  return true;
}

}  // namespace modelc::targets
