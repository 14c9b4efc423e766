#include "targets/toolchain.h"

#include <Halide.h>

#include "support/diagnostic.h"
#include "support/file_io.h"
#include "support/process.h"

namespace fs = std::filesystem;

namespace modelc::targets {
namespace {

std::string require_tool(const std::string& name, const std::string& package, const std::string& profile) {
  if (auto path = find_executable(name)) return path->string();
  throw Error(Diagnostic{Severity::error, {}, {},
                         "'" + name + "' is not installed; modelc needs it to build artifacts for " + profile,
                         "install it with: apt-get install " + package + " (scripts/install-deps.sh does)"});
}

// A command as a cache key's text: one argument per line.
std::string lines(const std::vector<std::string>& argv) {
  std::string text;
  for (const std::string& a : argv) text += a + "\n";
  return text;
}

}  // namespace

Toolchain::Toolchain(const DeviceProfile& profile) : profile_(profile) {
  wasm_ = Halide::Target(resolved_halide_target(profile)).arch == Halide::Target::WebAssembly;
  clang_ = require_tool("clang-14", "clang-14", profile.name);
  ar_ = require_tool("llvm-ar-14", "llvm-14", profile.name);
  if (wasm_) {
    linker_ = require_tool("wasm-ld-14", "lld-14", profile.name);
  } else {
    linker_ = require_tool("ld.lld-14", "lld-14", profile.name);
    objcopy_ = require_tool("llvm-objcopy-14", "llvm-14", profile.name);
  }
  if (profile.link) {
    cc_ = require_tool(profile.link->compiler, profile.link->package, profile.name);
    // The compiler driver looks lld up by its plain name, which Debian's lld brings.
    for (const std::string& f : profile.link->flags)
      if (f == "-fuse-ld=lld") require_tool("ld.lld", "lld", profile.name);
  }
}

void Toolchain::run(const std::vector<std::string>& argv, const std::string& what) const {
  const ProcessResult r = run_process(argv);
  if (r.started && r.exit_code == 0) return;
  std::string command;
  for (const std::string& a : argv) command += (command.empty() ? "" : " ") + a;
  std::string detail = !r.started ? r.start_error : r.stderr_text + r.stdout_text;
  if (detail.size() > 4000) detail = detail.substr(0, 4000) + "\n...";
  throw Error(Diagnostic{Severity::error, {}, {}, what + " for " + profile_.name + " failed: " + command + "\n" + detail, {}});
}

std::vector<std::string> Toolchain::c_compile_command() const {
  std::vector<std::string> argv{clang_, "-std=c99", "-O2", "-fPIC", "-ffreestanding", "-nostdlibinc", "-fno-stack-protector",
                                "-Wall", "-Werror=implicit-function-declaration"};
  if (!profile_.llvm_triple.empty()) argv.insert(argv.begin() + 1, "--target=" + profile_.llvm_triple);
  return argv;
}

std::string Toolchain::c_compiler_identity() const { return lines(c_compile_command()); }

std::string Toolchain::relocatable_link_identity() const { return lines({linker_, "-r", wasm_ ? "" : objcopy_}); }

std::string Toolchain::library_link_identity() const {
  std::vector<std::string> parts{ar_, "rcsD", cc_, "-shared", "--build-id", "-rpath=$ORIGIN"};
  if (profile_.link) {
    parts.insert(parts.end(), profile_.link->flags.begin(), profile_.link->flags.end());
    for (const std::string& l : profile_.link->libraries) parts.push_back("-l" + l);
  }
  return lines(parts);
}

void Toolchain::compile_c(const fs::path& source, const fs::path& object, const std::vector<fs::path>& include_dirs) const {
  std::vector<std::string> argv = c_compile_command();
  for (const std::string& a : {std::string("-c"), source.string(), std::string("-o"), object.string()}) argv.push_back(a);
  for (const fs::path& d : include_dirs) argv.push_back("-I" + d.string());
  run(argv, "compiling " + source.filename().string());
}

void Toolchain::link_relocatable(const std::vector<fs::path>& objects, const std::vector<std::string>& keep,
                                 const fs::path& out) const {
  std::vector<std::string> argv{linker_, "-r", "-o", out.string()};
  for (const fs::path& o : objects) argv.push_back(o.string());
  run(argv, "partial link");
  if (wasm_) return;
  std::vector<std::string> hide{objcopy_};
  for (const std::string& k : keep) hide.push_back("--keep-global-symbol=" + k);
  hide.push_back(out.string());
  run(hide, "hiding internal symbols");
}

void Toolchain::archive(const std::vector<fs::path>& objects, const fs::path& library) const {
  std::vector<std::string> argv{ar_, "rcsD", library.string()};
  for (const fs::path& o : objects) argv.push_back(o.string());
  run(argv, "archiving " + library.filename().string());
}

void Toolchain::link_shared(const std::vector<fs::path>& objects, const fs::path& library) const {
  if (!profile_.has_shared_library()) throw Error("the device " + profile_.name + " has no shared libraries");
  std::vector<std::string> argv{cc_};
  argv.insert(argv.end(), profile_.link->flags.begin(), profile_.link->flags.end());
  // The linker's own kind of build ID: SHA-1 with GNU ld, a 64-bit xxHash with
  // lld (SHA-1 over 95 MB of ResNet-18 weights was a tenth of a warm compile).
  for (const std::string& a : {std::string("-shared"), std::string("-o"), library.string(),
                               "-Wl,-soname," + library.filename().string(), std::string("-Wl,--build-id")})
    argv.push_back(a);
  for (const fs::path& o : objects) argv.push_back(o.string());
  for (const std::string& l : profile_.link->libraries) argv.push_back("-l" + l);
  run(argv, "linking " + library.filename().string());
}

std::vector<std::string> Toolchain::program_compile_command() const {
  if (!profile_.link) throw Error("the device " + profile_.name + " has no C library here to link programs with");
  std::vector<std::string> argv{cc_};
  argv.insert(argv.end(), profile_.link->flags.begin(), profile_.link->flags.end());
  argv.push_back("-std=c99");
  argv.push_back("-O2");
  return argv;
}

std::string Toolchain::program_compiler_identity() const { return lines(program_compile_command()); }

void Toolchain::compile_program_object(const fs::path& source, const std::vector<std::string>& defines,
                                       const std::vector<fs::path>& include_dirs, const fs::path& object) const {
  std::vector<std::string> argv = program_compile_command();
  for (const std::string& d : defines) argv.push_back("-D" + d);
  for (const fs::path& d : include_dirs) argv.push_back("-I" + d.string());
  for (const std::string& a : {std::string("-c"), source.string(), std::string("-o"), object.string()}) argv.push_back(a);
  run(argv, "compiling " + source.filename().string());
}

void Toolchain::link_executable(const std::vector<fs::path>& objects, const fs::path& out,
                                const fs::path& shared_library) const {
  std::vector<std::string> argv = program_compile_command();
  argv.push_back("-o");
  argv.push_back(out.string());
  for (const fs::path& o : objects) argv.push_back(o.string());
  if (!shared_library.empty()) {
    argv.push_back(shared_library.string());
    argv.push_back("-Wl,-rpath,$ORIGIN");
  }
  for (const std::string& l : profile_.link->libraries) argv.push_back("-l" + l);
  run(argv, "linking " + out.filename().string());
}

}  // namespace modelc::targets
