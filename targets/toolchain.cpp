#include "targets/toolchain.h"

#include "support/process.h"
#include "support/diagnostic.h"
#include "support/file_io.h"

namespace fs = std::filesystem;

namespace modelc::targets {
namespace {

std::string require_tool(const std::string& name, const std::string& package) {
  if (auto path = find_executable(name)) return path->string();
  throw Error(Diagnostic{Severity::error, {}, {}, "'" + name + "' is not installed; modelc needs it to build artifacts",
                         "install it with: apt-get install " + package + " (scripts/install-deps.sh does)"});
}

}  // namespace

Toolchain::Toolchain(const DeviceProfile& profile)
    : profile_(profile),
      clang_(require_tool("clang-14", "clang-14")),
      lld_(require_tool("ld.lld-14", "lld-14")),
      objcopy_(require_tool("llvm-objcopy-14", "llvm-14")),
      ar_(require_tool("llvm-ar-14", "llvm-14")),
      cc_(require_tool(profile.link_compiler, profile.link_compiler == "cc" ? "gcc" : profile.link_compiler)) {}

void Toolchain::run(const std::vector<std::string>& argv, const std::string& what) const {
  const ProcessResult r = run_process(argv);
  if (r.started && r.exit_code == 0) return;
  std::string command;
  for (const std::string& a : argv) command += (command.empty() ? "" : " ") + a;
  std::string detail = !r.started ? r.start_error : r.stderr_text + r.stdout_text;
  if (detail.size() > 4000) detail = detail.substr(0, 4000) + "\n...";
  throw Error(Diagnostic{Severity::error, {}, {}, what + " failed: " + command + "\n" + detail, {}});
}

void Toolchain::compile_c(const fs::path& source, const fs::path& object, const std::vector<fs::path>& include_dirs) const {
  std::vector<std::string> argv{clang_, "-std=c99", "-O2", "-fPIC", "-ffreestanding", "-fno-stack-protector",
                                "-Wall", "-Werror=implicit-function-declaration", "-c", source.string(), "-o", object.string()};
  if (!profile_.llvm_triple.empty()) argv.insert(argv.begin() + 1, "--target=" + profile_.llvm_triple);
  for (const fs::path& d : include_dirs) argv.push_back("-I" + d.string());
  run(argv, "compiling " + source.filename().string());
}

void Toolchain::link_relocatable(const std::vector<fs::path>& objects, const std::vector<std::string>& keep,
                                 const fs::path& out) const {
  std::vector<std::string> argv{lld_, "-r", "-o", out.string()};
  for (const fs::path& o : objects) argv.push_back(o.string());
  run(argv, "partial link");
  std::vector<std::string> hide{objcopy_};
  for (const std::string& k : keep) hide.push_back("--keep-global-symbol=" + k);
  hide.push_back(out.string());
  run(hide, "hiding internal symbols");
}

void Toolchain::archive(const fs::path& object, const fs::path& library) const {
  run({ar_, "rcsD", library.string(), object.string()}, "archiving " + library.filename().string());
}

void Toolchain::link_shared(const fs::path& object, const fs::path& library) const {
  std::vector<std::string> argv{cc_, "-shared", "-o", library.string(), object.string(), "-Wl,--build-id=sha1"};
  for (const std::string& l : profile_.link_libraries) argv.push_back("-l" + l);
  run(argv, "linking " + library.filename().string());
}

void Toolchain::link_executable(const std::vector<fs::path>& inputs, const fs::path& out) const {
  std::vector<std::string> argv{cc_, "-O2", "-o", out.string()};
  for (const fs::path& i : inputs) argv.push_back(i.string());
  for (const std::string& l : profile_.link_libraries) argv.push_back("-l" + l);
  run(argv, "linking " + out.filename().string());
}

}  // namespace modelc::targets
