// Halide 14 compiles any x86 CPU with AVX512-VNNI and AVX512-BF16 for LLVM's
// "sapphirerapids", and LLVM then uses that CPU's AVX512-FP16 (vmovw moves
// 16-bit integers too) and AVX-VNNI (the VEX form of 128- and 256-bit dot
// products) where it likes. AMD Zen 4 has neither, Zen 5 only AVX-VNNI: their
// kernels died with SIGILL, and dropping Halide's feature lost vpdpbusd (int8
// products became int16 pairs at half the rate). Instead, for such a machine
// Halide writes the kernel as bitcode, and this file compiles it with those
// extensions switched off, through LLVM's C API (the LLVM that Halide uses).
#include "lower/llvm_object.h"

#include <llvm-c/BitReader.h>
#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>

#include <memory>
#include <mutex>

#include "support/diagnostic.h"

namespace modelc::lower {
namespace {

std::string take_message(char* message) {
  std::string text = message ? message : "";
  if (message) LLVMDisposeMessage(message);
  return text;
}

void set_string_attribute(LLVMContextRef ctx, LLVMValueRef fn, const std::string& key, const std::string& value) {
  LLVMRemoveStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, key.data(), static_cast<unsigned>(key.size()));
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                          LLVMCreateStringAttribute(ctx, key.data(), static_cast<unsigned>(key.size()), value.data(),
                                                    static_cast<unsigned>(value.size())));
}

void keep_diagnostic(LLVMDiagnosticInfoRef info, void* context) {
  auto& text = *static_cast<std::string*>(context);
  char* description = LLVMGetDiagInfoDescription(info);
  const LLVMDiagnosticSeverity severity = LLVMGetDiagInfoSeverity(info);
  if (severity == LLVMDSError || severity == LLVMDSWarning) {
    if (!text.empty()) text += "; ";
    text += std::string(severity == LLVMDSError ? "error: " : "warning: ") + description;
  }
  LLVMDisposeMessage(description);
}

// A module flag's string (Halide's "halide_mcpu", "halide_mattrs"), "" when absent.
std::string module_flag(LLVMModuleRef module, const std::string& key) {
  LLVMMetadataRef md = LLVMGetModuleFlag(module, key.data(), key.size());
  if (!md) return "";
  LLVMValueRef value = LLVMMetadataAsValue(LLVMGetModuleContext(module), md);
  unsigned length = 0;
  const char* text = LLVMGetMDString(value, &length);
  return text ? std::string(text, length) : "";
}

}  // namespace

const std::string& missing_sapphirerapids_features() {
  static const std::string missing = [] {
    std::string s;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512vnni") || !__builtin_cpu_supports("avx512bf16")) return s;  // not Halide's case
    if (!__builtin_cpu_supports("avx512fp16")) s += ",-avx512fp16";
    if (!__builtin_cpu_supports("avxvnni")) s += ",-avxvnni";
#endif
    return s;
  }();
  return missing;
}

void emit_object_from_bitcode(const std::filesystem::path& bitcode, const std::filesystem::path& object,
                              const std::string& extra_features) {
  static std::once_flag targets_ready;
  std::call_once(targets_ready, [] {
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86Target();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86AsmPrinter();
  });
  const auto fail = [&](const std::string& what) {
    throw Error("compiling " + bitcode.string() + " to an object file: " + what);
  };
  std::unique_ptr<LLVMOpaqueContext, void (*)(LLVMContextRef)> ctx(LLVMContextCreate(), LLVMContextDispose);
  // LLVM's default handler ends the process on an error: keep the message.
  std::string diagnostics;
  LLVMContextSetDiagnosticHandler(ctx.get(), keep_diagnostic, &diagnostics);
  LLVMMemoryBufferRef buffer = nullptr;
  char* message = nullptr;
  if (LLVMCreateMemoryBufferWithContentsOfFile(bitcode.c_str(), &buffer, &message)) fail(take_message(message));
  LLVMModuleRef raw_module = nullptr;
  const bool unreadable = LLVMParseBitcodeInContext2(ctx.get(), buffer, &raw_module);
  LLVMDisposeMemoryBuffer(buffer);
  if (unreadable) fail("LLVM could not read the bitcode" + (diagnostics.empty() ? "" : " (" + diagnostics + ")"));
  std::unique_ptr<LLVMOpaqueModule, void (*)(LLVMModuleRef)> module(raw_module, LLVMDisposeModule);

  // Halide keeps the CPU, its features and its float options in module flags
  // and gives them to its target machine; here each function carries them as
  // attributes (which LLVM's code generator reads per function: the global
  // unsafe, no-infinities and no-NaNs float math that Halide sets unless it
  // marks instructions one by one, so the same FMA contraction).
  const std::string cpu = module_flag(module.get(), "halide_mcpu");
  const std::string features = module_flag(module.get(), "halide_mattrs") + extra_features;
  if (cpu.empty()) fail("the bitcode does not name its CPU (halide_mcpu)");
  for (LLVMValueRef fn = LLVMGetFirstFunction(module.get()); fn; fn = LLVMGetNextFunction(fn)) {
    if (LLVMIsDeclaration(fn)) continue;
    set_string_attribute(ctx.get(), fn, "target-cpu", cpu);
    set_string_attribute(ctx.get(), fn, "target-features", features);
    for (const char* option : {"unsafe-fp-math", "no-infs-fp-math", "no-nans-fp-math"})
      set_string_attribute(ctx.get(), fn, option, "true");
  }
  const std::string triple = LLVMGetTarget(module.get());
  LLVMTargetRef target = nullptr;
  if (LLVMGetTargetFromTriple(triple.c_str(), &target, &message)) fail(take_message(message));
  std::unique_ptr<LLVMOpaqueTargetMachine, void (*)(LLVMTargetMachineRef)> machine(
      LLVMCreateTargetMachine(target, triple.c_str(), cpu.c_str(), features.c_str(), LLVMCodeGenLevelAggressive, LLVMRelocPIC,
                              LLVMCodeModelDefault),
      LLVMDisposeTargetMachine);
  if (!machine) fail("LLVM has no target machine for " + triple);
  std::string path = object.string();
  if (LLVMTargetMachineEmitToFile(machine.get(), module.get(), path.data(), LLVMObjectFile, &message))
    fail(take_message(message) + diagnostics);
  if (!diagnostics.empty() && diagnostics.find("error:") != std::string::npos) fail(diagnostics);
}

}  // namespace modelc::lower
