// Halide's two naming functions, Halide::Internal::unique_name(char) and
// unique_name(const std::string&), are defined again here. libHalide14 calls
// both through its procedure linkage table (every one of its call sites; the
// counters they keep are touched nowhere else in it), so the dynamic linker
// binds Halide's own calls to these definitions, which the executable exports.
// Outside a KernelNameScope they hand the call to libHalide's definitions.
// tests/lower/kernel_names_test.cpp checks that Halide's calls do arrive here.
#include "lower/kernel_names.h"

#include <dlfcn.h>

#include <Halide.h>

#include <array>
#include <cctype>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace modelc::lower {
namespace {

struct NameCounters {
  std::array<int, 256> characters{};
  std::unordered_map<std::string, int> strings;
};

thread_local std::unique_ptr<NameCounters> active;

// libHalide's definition of a function this file defines again.
template <typename Fn>
Fn halide_definition(const char* mangled) {
  void* symbol = dlsym(RTLD_NEXT, mangled);
  return reinterpret_cast<Fn>(symbol);
}

using CharNamer = std::string (*)(char);
using StringNamer = std::string (*)(const std::string&);

CharNamer halide_char_namer() {
  static const CharNamer fn = halide_definition<CharNamer>("_ZN6Halide8Internal11unique_nameB5cxx11Ec");
  return fn;
}

StringNamer halide_string_namer() {
  static const StringNamer fn =
      halide_definition<StringNamer>("_ZN6Halide8Internal11unique_nameERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE");
  return fn;
}

// Halide's first family: a character other than '$' and a number.
std::string character_name(NameCounters& counters, char prefix) {
  if (prefix == '$') prefix = '_';
  return prefix + std::to_string(counters.characters[static_cast<unsigned char>(prefix)]++);
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// The second family, a string without '$', then '$' and a number; the third,
// the prefix itself, the first time its '$'-free form is asked for and only
// when it cannot be mistaken for a name of the first two families.
std::string string_name(NameCounters& counters, const std::string& prefix) {
  if (prefix.empty()) return character_name(counters, '_');
  std::string sanitized = prefix;
  size_t dollars = 0;
  for (char& c : sanitized)
    if (c == '$') {
      c = '_';
      ++dollars;
    }
  const bool like_first = prefix.size() > 1 && all_digits(std::string_view(prefix).substr(1));
  const size_t dollar = prefix.find('$');
  const bool like_second = dollars == 1 && all_digits(std::string_view(prefix).substr(dollar + 1));
  const int count = counters.strings[sanitized]++;
  if (count == 0 && !like_first && !like_second) return prefix;
  return sanitized + "$" + std::to_string(count);
}

}  // namespace

KernelNameScope::KernelNameScope() {
  // A scope inside a scope on the same thread names with the outer one's
  // counters: both scopes' names may meet in one pipeline.
  if (active) owner_ = false;
  else active = std::make_unique<NameCounters>();
}

KernelNameScope::~KernelNameScope() {
  if (owner_) active.reset();
}

}  // namespace modelc::lower

namespace Halide::Internal {

std::string unique_name(char prefix) {
  using modelc::lower::active;
  if (active) return modelc::lower::character_name(*active, prefix);
  if (const auto halide = modelc::lower::halide_char_namer()) return halide(prefix);
  // libHalide not found under that name (another Halide): this process's
  // names all come from here, so a scope-free count of our own is unique.
  static modelc::lower::NameCounters process;
  static std::mutex lock;
  const std::lock_guard<std::mutex> guard(lock);
  return modelc::lower::character_name(process, prefix);
}

std::string unique_name(const std::string& prefix) {
  using modelc::lower::active;
  if (active) return modelc::lower::string_name(*active, prefix);
  if (const auto halide = modelc::lower::halide_string_namer()) return halide(prefix);
  static modelc::lower::NameCounters process;
  static std::mutex lock;
  const std::lock_guard<std::mutex> guard(lock);
  return modelc::lower::string_name(process, prefix);
}

}  // namespace Halide::Internal
