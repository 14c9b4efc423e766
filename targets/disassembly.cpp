#include "targets/disassembly.h"

#include <llvm-c/Core.h>
#include <llvm-c/Disassembler.h>
#include <llvm-c/Object.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "support/diagnostic.h"

namespace modelc::targets {
namespace {

std::string hex(uint64_t v) {
  char text[32];
  std::snprintf(text, sizeof text, "%llx", static_cast<unsigned long long>(v));
  return text;
}

// One code section: its bytes, function symbols and relocations by offset.
struct CodeSection {
  std::string name;
  std::string bytes;
  std::multimap<uint64_t, std::string> symbols;
  std::map<uint64_t, std::string> relocations;  // offset of the patched bytes -> symbol
};

// What the disassembler's symbol callback needs: the section being read and
// the branch targets it met (collected on the first pass, labelled on the second).
struct Lookup {
  const CodeSection* section = nullptr;
  std::set<uint64_t> targets;
  std::string name;  // the callback returns a pointer into this
};

// A branch or call: a relocation within the instruction names its symbol
// (an unrelocated call's target is the next instruction, value - pc bytes
// after it starts), otherwise the target's label.
const char* symbolize(void* info, uint64_t value, uint64_t* type, uint64_t pc, const char** reference_name) {
  auto& lookup = *static_cast<Lookup*>(info);
  *reference_name = nullptr;
  if (*type != LLVMDisassembler_ReferenceType_In_Branch) {
    *type = LLVMDisassembler_ReferenceType_InOut_None;
    return nullptr;
  }
  *type = LLVMDisassembler_ReferenceType_InOut_None;
  if (value > pc && value - pc <= 16) {
    auto r = lookup.section->relocations.lower_bound(pc);
    if (r != lookup.section->relocations.end() && r->first < value) return (lookup.name = r->second).c_str();
  }
  lookup.targets.insert(value);
  lookup.name = ".L" + hex(value);
  return lookup.name.c_str();
}

std::vector<CodeSection> code_sections(LLVMBinaryRef binary) {
  std::vector<CodeSection> out;
  std::unique_ptr<LLVMOpaqueSectionIterator, void (*)(LLVMSectionIteratorRef)> s(
      LLVMObjectFileCopySectionIterator(binary), LLVMDisposeSectionIterator);
  for (; !LLVMObjectFileIsSectionIteratorAtEnd(binary, s.get()); LLVMMoveToNextSection(s.get())) {
    const char* name = LLVMGetSectionName(s.get());
    // Halide and LLVM put code in .text and .text.<function> (ELF's executable sections).
    if (!name || std::string(name).rfind(".text", 0) != 0 || LLVMGetSectionSize(s.get()) == 0) continue;
    CodeSection section;
    section.name = name;
    section.bytes.assign(LLVMGetSectionContents(s.get()), LLVMGetSectionSize(s.get()));
    std::unique_ptr<LLVMOpaqueSymbolIterator, void (*)(LLVMSymbolIteratorRef)> sym(
        LLVMObjectFileCopySymbolIterator(binary), LLVMDisposeSymbolIterator);
    for (; !LLVMObjectFileIsSymbolIteratorAtEnd(binary, sym.get()); LLVMMoveToNextSymbol(sym.get())) {
      const char* symbol = LLVMGetSymbolName(sym.get());
      if (!symbol || !*symbol || std::string(symbol) == section.name) continue;
      if (LLVMGetSectionContainsSymbol(s.get(), sym.get()) && LLVMGetSymbolSize(sym.get()) > 0)
        section.symbols.emplace(LLVMGetSymbolAddress(sym.get()) - LLVMGetSectionAddress(s.get()), symbol);
    }
    out.push_back(std::move(section));
  }
  // ELF keeps a section's relocations in .rela<name> (or .rel<name>).
  std::unique_ptr<LLVMOpaqueSectionIterator, void (*)(LLVMSectionIteratorRef)> rs(
      LLVMObjectFileCopySectionIterator(binary), LLVMDisposeSectionIterator);
  for (; !LLVMObjectFileIsSectionIteratorAtEnd(binary, rs.get()); LLVMMoveToNextSection(rs.get())) {
    const char* name = LLVMGetSectionName(rs.get());
    const std::string relocations = name ? name : "";
    CodeSection* section = nullptr;
    for (CodeSection& c : out)
      if (relocations == ".rela" + c.name || relocations == ".rel" + c.name) section = &c;
    if (!section) continue;
    std::unique_ptr<LLVMOpaqueRelocationIterator, void (*)(LLVMRelocationIteratorRef)> r(
        LLVMGetRelocations(rs.get()), LLVMDisposeRelocationIterator);
    for (; !LLVMIsRelocationIteratorAtEnd(rs.get(), r.get()); LLVMMoveToNextRelocation(r.get())) {
      std::unique_ptr<LLVMOpaqueSymbolIterator, void (*)(LLVMSymbolIteratorRef)> target(
          LLVMGetRelocationSymbol(r.get()), LLVMDisposeSymbolIterator);
      const char* symbol = target ? LLVMGetSymbolName(target.get()) : nullptr;
      if (symbol && *symbol) section->relocations.emplace(LLVMGetRelocationOffset(r.get()), symbol);
    }
  }
  return out;
}

// The extensions the disassembler decodes: AArch64's are off unless named,
// and without them sdot (the dot-product extension, which int8 kernels for
// arm64-dotprod use) printed as four .byte lines.
const char* disassembler_features(const std::string& llvm_triple) {
  if (llvm_triple.rfind("aarch64", 0) == 0 || llvm_triple.rfind("arm64", 0) == 0)
    return "+dotprod,+fullfp16,+fp16fml,+bf16,+i8mm,+sve,+sve2";
  return "";
}

// The section's instructions in two passes over the bytes: the first finds
// the branch targets, the second prints with their labels.
std::string listing(const CodeSection& section, const std::string& llvm_triple) {
  Lookup lookup;
  lookup.section = &section;
  std::string text;
  for (int pass = 0; pass < 2; ++pass) {
    std::unique_ptr<void, void (*)(LLVMDisasmContextRef)> dc(
        LLVMCreateDisasmCPUFeatures(llvm_triple.c_str(), "", disassembler_features(llvm_triple), &lookup, 0, nullptr,
                                    symbolize),
        LLVMDisasmDispose);
    if (!dc) throw Error("LLVM has no disassembler for " + llvm_triple);
    LLVMSetDisasmOptions(dc.get(), LLVMDisassembler_Option_PrintImmHex);
    auto* bytes = reinterpret_cast<uint8_t*>(const_cast<char*>(section.bytes.data()));
    const uint64_t size = section.bytes.size();
    auto symbol = section.symbols.begin();
    for (uint64_t pc = 0; pc < size;) {
      for (; symbol != section.symbols.end() && symbol->first <= pc; ++symbol)
        if (pass == 1) text += "\n" + symbol->second + ":\n";
      if (pass == 1 && lookup.targets.count(pc)) text += ".L" + hex(pc) + ":\n";
      char instruction[256];
      size_t length = LLVMDisasmInstruction(dc.get(), bytes + pc, size - pc, pc, instruction, sizeof instruction);
      if (length == 0) {  // data in code, or an encoding LLVM does not know: one byte at a time
        if (pass == 1) text += "  " + hex(pc) + ":\t.byte\t0x" + hex(bytes[pc]) + "\n";
        ++pc;
        continue;
      }
      if (pass == 1) text += "  " + hex(pc) + ":" + instruction + "\n";
      pc += length;
    }
  }
  return text;
}

}  // namespace

std::string disassemble_object(std::span<const std::byte> object, const std::string& llvm_triple) {
  static std::once_flag ready;
  std::call_once(ready, [] {
    LLVMInitializeAllTargetInfos();
    LLVMInitializeAllTargetMCs();
    LLVMInitializeAllDisassemblers();
  });
  std::unique_ptr<LLVMOpaqueMemoryBuffer, void (*)(LLVMMemoryBufferRef)> buffer(
      LLVMCreateMemoryBufferWithMemoryRangeCopy(reinterpret_cast<const char*>(object.data()), object.size(), "kernel"), LLVMDisposeMemoryBuffer);
  char* message = nullptr;
  std::unique_ptr<LLVMOpaqueBinary, void (*)(LLVMBinaryRef)> binary(LLVMCreateBinary(buffer.get(), nullptr, &message),
                                                                    LLVMDisposeBinary);
  if (!binary) {
    const std::string why = message ? message : "unknown format";
    if (message) LLVMDisposeMessage(message);
    throw Error("disassembling a kernel object: LLVM cannot read it (" + why + ")");
  }
  std::string triple = llvm_triple;
  if (triple.empty()) {
    char* host = LLVMGetDefaultTargetTriple();
    triple = host;
    LLVMDisposeMessage(host);
  }
  std::string text = "# " + triple + ", LLVM's disassembler; offsets are within each section\n";
  for (const CodeSection& section : code_sections(binary.get()))
    text += "\n# section " + section.name + " (" + std::to_string(section.bytes.size()) + " bytes)\n" +
            listing(section, triple);
  return text;
}

}  // namespace modelc::targets
