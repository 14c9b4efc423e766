// The external tools that turn kernel objects into a library: clang-14 for
// the generated C (any LLVM triple, no sysroot needed), ld.lld-14 for the
// partial link, llvm-objcopy-14 to hide every symbol but the model's API,
// llvm-ar-14 for the static library, and the profile's C compiler driver for
// the shared library (it needs the target's C library).
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

  void compile_c(const std::filesystem::path& source, const std::filesystem::path& object,
                 const std::vector<std::filesystem::path>& include_dirs) const;
  // One relocatable object from many, exporting only `keep` symbols.
  void link_relocatable(const std::vector<std::filesystem::path>& objects, const std::vector<std::string>& keep,
                        const std::filesystem::path& out) const;
  void archive(const std::filesystem::path& object, const std::filesystem::path& library) const;
  void link_shared(const std::filesystem::path& object, const std::filesystem::path& library) const;
  void link_executable(const std::vector<std::filesystem::path>& inputs, const std::filesystem::path& out) const;

 private:
  void run(const std::vector<std::string>& argv, const std::string& what) const;

  const DeviceProfile& profile_;
  std::string clang_, lld_, objcopy_, ar_, cc_;
};

}  // namespace modelc::targets
