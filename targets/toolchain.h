// The external tools that turn kernel objects into a library: clang-14 for
// the generated C (any LLVM triple, no sysroot needed), ld.lld-14 (wasm-ld-14
// for wasm) for the partial link, llvm-objcopy-14 to hide every symbol but
// the model's API, llvm-ar-14 for the static library, and the profile's C
// compiler driver, which brings the target's C library, for the shared
// library and the runner.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "targets/device_profile.h"

namespace modelc::targets {

class Toolchain {
 public:
  // Throws modelc::Error naming the missing tool and the package that brings it.
  explicit Toolchain(const DeviceProfile& profile);

  // Freestanding C for the profile's triple: only the include dirs given, no C library headers.
  void compile_c(const std::filesystem::path& source, const std::filesystem::path& object,
                 const std::vector<std::filesystem::path>& include_dirs) const;
  // One relocatable object from many, exporting only `keep` symbols where the
  // object format allows (wasm objects keep every symbol: llvm-objcopy 14
  // cannot change their symbols).
  void link_relocatable(const std::vector<std::filesystem::path>& objects, const std::vector<std::string>& keep,
                        const std::filesystem::path& out) const;
  void archive(const std::vector<std::filesystem::path>& objects, const std::filesystem::path& library) const;
  // Needs profile.has_shared_library(). Its soname is its file name.
  void link_shared(const std::vector<std::filesystem::path>& objects, const std::filesystem::path& library) const;
  // An object of a program for the target, compiled against the target's C
  // library (needs profile.link): the runner's.
  void compile_program_object(const std::filesystem::path& source, const std::vector<std::string>& defines,
                              const std::vector<std::filesystem::path>& include_dirs,
                              const std::filesystem::path& object) const;
  // A program from such objects and the target's C library. A
  // `shared_library`, when given, is linked too and found at run time in the
  // program's folder.
  void link_executable(const std::vector<std::filesystem::path>& objects, const std::filesystem::path& out,
                       const std::filesystem::path& shared_library = {}) const;

  // What compile_c's output depends on besides its sources: the compiler,
  // its flags and the triple (a cache key).
  std::string c_compiler_identity() const;
  std::string program_compiler_identity() const;
  // What link_relocatable's output depends on besides its objects and symbols.
  std::string relocatable_link_identity() const;
  // What archive's, link_shared's and link_executable's outputs depend on
  // besides their objects and file names.
  std::string library_link_identity() const;

  // Whether objects for this profile are wasm (not ELF).
  bool wasm() const { return wasm_; }

 private:
  void run(const std::vector<std::string>& argv, const std::string& what) const;
  std::vector<std::string> c_compile_command() const;
  std::vector<std::string> program_compile_command() const;

  const DeviceProfile& profile_;
  bool wasm_ = false;
  std::string clang_, linker_, objcopy_, ar_, cc_;
};

}  // namespace modelc::targets
