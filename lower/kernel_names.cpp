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

// A name from the thread's scope; outside one, from libHalide's definition
// `halide`, or where that was not found (another Halide), from counters of
// this process, since then every name of the process is made here.
template <typename Namer, typename Prefix, typename Count>
std::string name_with(Namer halide, const Count& count, const Prefix& prefix) {
  if (active) return count(*active);
  if (halide) return halide(prefix);
  static NameCounters process;
  static std::mutex lock;
  const std::lock_guard<std::mutex> guard(lock);
  return count(process);
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
  using namespace modelc::lower;
  return name_with(halide_char_namer(), [&](NameCounters& counters) { return character_name(counters, prefix); }, prefix);
}

std::string unique_name(const std::string& prefix) {
  using namespace modelc::lower;
  return name_with(halide_string_namer(), [&](NameCounters& counters) { return string_name(counters, prefix); }, prefix);
}

}  // namespace Halide::Internal
