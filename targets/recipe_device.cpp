#include "targets/recipe_device.h"

#include <map>
#include <memory>
#include <mutex>

#include "spec/document.h"
#include "support/diagnostic.h"

namespace modelc::targets {
namespace {

// Loaded profiles by their source (a file's path, or the inline text and
// where it was written), so that every part of modelc sees one object.
std::map<std::string, std::unique_ptr<DeviceProfile>>& loaded() {
  static std::map<std::string, std::unique_ptr<DeviceProfile>> profiles;
  return profiles;
}
std::mutex loaded_lock;

// An inline profile's errors, moved from the profile's own pointers to the recipe's.
DeviceProfile parse_inline(const spec::Recipe& recipe, const spec::TargetSpec& target) {
  const std::string at = spec::pointer_append(target.pointer, "device");
  spec::Document doc;
  doc.value = target.device_profile;
  doc.marks.add("", recipe.locate(at));
  try {
    DeviceProfile p = parse_device_profile(doc);
    p.origin = recipe.file.string();
    return p;
  } catch (const Error& e) {
    std::vector<Diagnostic> located = e.diagnostics();
    for (Diagnostic& d : located) {
      d.pointer = at + d.pointer;
      d.location = recipe.locate(d.pointer);
    }
    throw Error(std::move(located));
  }
}

DeviceProfile parse_file(const spec::Recipe& recipe, const spec::TargetSpec& target) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(target.device_file, ec)) {
    const std::string at = spec::pointer_append(target.pointer, "device");
    throw Error(Diagnostic{Severity::error, recipe.locate(at), at,
                           "the device profile file " + target.device_file.string() + " does not exist",
                           "a path ending in .yaml names a profile file, relative to the recipe; built-in profiles: " +
                               [] {
                                 std::string names;
                                 for (const std::string& n : device_profile_names()) names += (names.empty() ? "" : ", ") + n;
                                 return names;
                               }()});
  }
  return parse_device_profile(spec::load_yaml_file(target.device_file));
}

}  // namespace

const DeviceProfile& device_profile_of(const spec::Recipe& recipe, const spec::TargetSpec& target) {
  if (target.device_profile.is_null() && target.device_file.empty()) {
    try {
      return find_device_profile(target.device);
    } catch (const Error& e) {
      const std::string at = spec::pointer_append(target.pointer, "device");
      Diagnostic d = e.diagnostics().front();
      d.location = recipe.locate(at);
      d.pointer = at;
      throw Error(std::move(d));
    }
  }
  const std::string key = target.device_file.empty()
                              ? recipe.file.string() + "#" + target.pointer + "\n" + target.device_profile.dump()
                              : target.device_file.string();
  const std::lock_guard<std::mutex> hold(loaded_lock);
  auto& cache = loaded();
  if (auto it = cache.find(key); it != cache.end()) return *it->second;
  auto p = std::make_unique<DeviceProfile>(target.device_file.empty() ? parse_inline(recipe, target)
                                                                      : parse_file(recipe, target));
  return *cache.emplace(key, std::move(p)).first->second;
}

}  // namespace modelc::targets
