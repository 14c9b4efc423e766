#include "targets/elf_object.h"

#include <elf.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string_view>

#include "support/diagnostic.h"

namespace modelc::targets {

namespace {

// Section indices, in the order of the section header table.
enum Section : uint16_t { kNull, kRodata, kNoteStack, kSymtab, kStrtab, kShstrtab, kSections };

constexpr uint64_t kDataAlign = 64;

uint64_t align_up(uint64_t value, uint64_t alignment) { return (value + alignment - 1) / alignment * alignment; }

template <typename T>
void put(std::ostream& out, const T& value) {
  out.write(reinterpret_cast<const char*>(&value), sizeof value);
}

void pad_to(std::ostream& out, uint64_t& at, uint64_t offset) {
  static constexpr std::array<char, kDataAlign> zeros{};
  while (at < offset) {
    const uint64_t n = std::min<uint64_t>(offset - at, zeros.size());
    out.write(zeros.data(), static_cast<std::streamsize>(n));
    at += n;
  }
}

}  // namespace

std::optional<uint16_t> elf_data_object_machine(const std::string& llvm_triple) {
  if (llvm_triple.empty()) {  // the host's
#if defined(__x86_64__)
    return EM_X86_64;
#elif defined(__aarch64__)
    return EM_AARCH64;
#else
    return std::nullopt;
#endif
  }
  const std::string_view arch = std::string_view(llvm_triple).substr(0, llvm_triple.find('-'));
  if (arch == "x86_64") return EM_X86_64;
  if (arch == "aarch64") return EM_AARCH64;
  return std::nullopt;
}

void write_elf_data_object(const std::filesystem::path& object, uint16_t machine, const std::string& symbol,
                           uint64_t size, const std::function<void(std::ostream&)>& write_data) {
  // Names: the symbol's in .strtab, the sections' in .shstrtab (offset 0 is the empty name).
  const std::string strtab = std::string(1, '\0') + symbol + '\0';
  const std::string_view section_names[] = {"", ".rodata", ".note.GNU-stack", ".symtab", ".strtab", ".shstrtab"};
  std::string shstrtab;
  std::array<uint32_t, kSections> name_at{};
  for (uint16_t i = 0; i < kSections; ++i) {
    name_at[i] = static_cast<uint32_t>(shstrtab.size());
    shstrtab += section_names[i];
    shstrtab += '\0';
  }

  // File layout: header, data, symbols, names, section headers.
  const uint64_t data_at = align_up(sizeof(Elf64_Ehdr), kDataAlign);
  const uint64_t data_size = size + 1;
  const uint64_t symtab_at = align_up(data_at + data_size, 8);
  const uint64_t symtab_size = 2 * sizeof(Elf64_Sym);
  const uint64_t strtab_at = symtab_at + symtab_size;
  const uint64_t shstrtab_at = strtab_at + strtab.size();
  const uint64_t headers_at = align_up(shstrtab_at + shstrtab.size(), 8);

  std::ofstream out(object, std::ios::binary | std::ios::trunc);
  Elf64_Ehdr header{};
  std::memcpy(header.e_ident, ELFMAG, SELFMAG);
  header.e_ident[EI_CLASS] = ELFCLASS64;
  header.e_ident[EI_DATA] = ELFDATA2LSB;
  header.e_ident[EI_VERSION] = EV_CURRENT;
  header.e_ident[EI_OSABI] = ELFOSABI_SYSV;
  header.e_type = ET_REL;
  header.e_machine = machine;
  header.e_version = EV_CURRENT;
  header.e_shoff = headers_at;
  header.e_ehsize = sizeof(Elf64_Ehdr);
  header.e_shentsize = sizeof(Elf64_Shdr);
  header.e_shnum = kSections;
  header.e_shstrndx = kShstrtab;
  put(out, header);
  uint64_t at = sizeof header;

  pad_to(out, at, data_at);
  const std::streampos data_start = out.tellp();
  write_data(out);
  out.put('\0');
  if (out && static_cast<uint64_t>(out.tellp() - data_start) != data_size)
    throw Error("the weights object " + object.string() + " received " +
                std::to_string(static_cast<uint64_t>(out.tellp() - data_start) - 1) + " bytes of data, expected " +
                std::to_string(size));
  at = data_at + data_size;

  pad_to(out, at, symtab_at);
  put(out, Elf64_Sym{});
  Elf64_Sym sym{};
  sym.st_name = 1;
  sym.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT);
  sym.st_other = STV_HIDDEN;
  sym.st_shndx = kRodata;
  sym.st_size = data_size;
  put(out, sym);
  out.write(strtab.data(), static_cast<std::streamsize>(strtab.size()));
  out.write(shstrtab.data(), static_cast<std::streamsize>(shstrtab.size()));
  at = shstrtab_at + shstrtab.size();

  pad_to(out, at, headers_at);
  auto section = [&](uint16_t index, uint32_t type, uint64_t flags, uint64_t offset, uint64_t bytes, uint64_t align) {
    Elf64_Shdr s{};
    s.sh_name = name_at[index];
    s.sh_type = type;
    s.sh_flags = flags;
    s.sh_offset = offset;
    s.sh_size = bytes;
    s.sh_addralign = align;
    return s;
  };
  put(out, Elf64_Shdr{});
  put(out, section(kRodata, SHT_PROGBITS, SHF_ALLOC, data_at, data_size, kDataAlign));
  put(out, section(kNoteStack, SHT_PROGBITS, 0, data_at, 0, 1));  // no executable stack
  Elf64_Shdr symbols = section(kSymtab, SHT_SYMTAB, 0, symtab_at, symtab_size, 8);
  symbols.sh_link = kStrtab;
  symbols.sh_info = 1;  // the first global symbol
  symbols.sh_entsize = sizeof(Elf64_Sym);
  put(out, symbols);
  put(out, section(kStrtab, SHT_STRTAB, 0, strtab_at, strtab.size(), 1));
  put(out, section(kShstrtab, SHT_STRTAB, 0, shstrtab_at, shstrtab.size(), 1));
  out.close();
  if (!out) throw Error("cannot write " + object.string() + ": " + std::strerror(errno));
}

}  // namespace modelc::targets
