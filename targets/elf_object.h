// A relocatable ELF object holding one block of read-only data under one
// hidden global symbol, written directly: the weights of a model. An
// assembler's .incbin does the same, but reads the data from a file and
// writes it again (95 MB for ResNet-18, a fifth of a warm compile).
//
// Only for machines whose objects need no ELF flags (x86-64, AArch64): a
// RISC-V object carries its float ABI in e_flags, which the linker checks,
// so those keep the assembler (targets/c_codegen.h, generate_weights_c).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>

namespace modelc::targets {

// The ELF machine (EM_X86_64, EM_AARCH64) of an LLVM triple this writer
// serves ("": the host's); nullopt for any other.
std::optional<uint16_t> elf_data_object_machine(const std::string& llvm_triple);

// Writes `object`: a .rodata section aligned to 64 bytes holding `size`
// bytes, which `write_data` streams (it must write exactly that many), then
// one zero byte, so that the symbol stays inside its section when `size` is
// 0. `symbol` is global, hidden, and spans the section. Throws modelc::Error
// when it cannot write (`object` is then incomplete: it belongs in a scratch
// folder).
void write_elf_data_object(const std::filesystem::path& object, uint16_t machine, const std::string& symbol,
                           uint64_t size, const std::function<void(std::ostream&)>& write_data);

}  // namespace modelc::targets
