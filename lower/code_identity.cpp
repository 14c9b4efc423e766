// What, besides a kernel's own text and target, decides the code it compiles
// to: the sources of lower/ (their digest is generated at build time) and the
// code generator, Halide and the LLVM inside it.
#include <link.h>
#include <llvm/Config/llvm-config.h>

#include <cstring>
#include <set>

#include "lower/lowering.h"
#include "modelc_config.h"

namespace modelc::lower {
namespace {

std::string hex(const unsigned char* bytes, size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  return out;
}

// "libHalide14.so.0=<build id>" for each loaded shared object whose file name
// contains Halide or LLVM, in name order; the GNU build id note identifies the
// exact build of a library, where a version string does not.
std::string code_generator_build_ids() {
  std::set<std::string> found;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        const char* path = info->dlpi_name ? info->dlpi_name : "";
        const char* slash = std::strrchr(path, '/');
        const std::string name = slash ? slash + 1 : path;
        if (name.find("Halide") == std::string::npos && name.find("LLVM") == std::string::npos) return 0;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_NOTE) continue;
          const auto* p = reinterpret_cast<const unsigned char*>(info->dlpi_addr + ph.p_vaddr);
          const unsigned char* end = p + ph.p_memsz;
          while (p + sizeof(ElfW(Nhdr)) <= end) {
            const auto* note = reinterpret_cast<const ElfW(Nhdr)*>(p);
            const unsigned char* name_bytes = p + sizeof(ElfW(Nhdr));
            const unsigned char* desc = name_bytes + ((note->n_namesz + 3) & ~3u);
            if (desc + note->n_descsz > end) break;
            if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 && std::memcmp(name_bytes, "GNU", 4) == 0)
              static_cast<std::set<std::string>*>(data)->insert(name + "=" + hex(desc, note->n_descsz));
            p = desc + ((note->n_descsz + 3) & ~3u);
          }
        }
        return 0;
      },
      &found);
  std::string out;
  for (const std::string& f : found) out += (out.empty() ? "" : ",") + f;
  return out;
}

}  // namespace

std::string halide_version() { return MODELC_HALIDE_VERSION; }

std::string llvm_version() { return LLVM_VERSION_STRING; }

std::string code_generator_identity() {
  static const std::string identity =
      "halide=" + halide_version() + "\nllvm=" + llvm_version() + "\nlibraries=" + code_generator_build_ids();
  return identity;
}

std::string kernel_code_identity() {
  return "sources=" + std::string(kernel_source_digest()) + "\n" + code_generator_identity();
}

}  // namespace modelc::lower
