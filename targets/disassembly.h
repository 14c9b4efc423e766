// The assembly of a kernel object as it is linked into an artifact
// (`modelc compile --emit asm`): LLVM's disassembler over the object's code
// sections, so what is read is what runs (a cached kernel included, and on a
// CPU where modelc compiles Halide's bitcode itself, the instructions of that
// compilation, not Halide's own assembly output for its CPU).
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace modelc::targets {

// The listing of every executable section of the relocatable object `object`
// (an ELF file's bytes) for `llvm_triple` ("": the host's): a line per function symbol
// ("name:"), a label before each branch target (".L<offset>:"), then one
// instruction per line with its offset in the section; branches name their
// label, calls through a relocation the symbol they call. AT&T syntax on x86.
// Throws Error when the bytes are not an object LLVM reads or LLVM has no
// disassembler for the triple.
std::string disassemble_object(std::span<const std::byte> object, const std::string& llvm_triple);

}  // namespace modelc::targets
