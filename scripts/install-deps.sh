#!/bin/sh
# Installs, with apt-get, exactly the Debian 12 packages modelc needs that are
# missing; a no-op when everything is there. Runs as root (or through sudo).
#
#   scripts/install-deps.sh          build + test dependencies (libclang-rt-14-dev:
#                                    the libFuzzer and sanitizer runtimes of scripts/fuzz.sh;
#                                    chromium: the headless browser that renders report.html
#                                    in tests/reports/html_screenshot.py)
#
# The cross-device toolchains (targets/devices/*.yaml, `modelc devices`) are
# Debian packages too: the C libraries and compiler drivers that link arm64
# and riscv64 runners (gcc-*-linux-gnu, libc6-*-cross), qemu-user to run them,
# wasi-libc and clang's wasm32 builtins for wasm (run with node's WASI), and
# PoCL behind the OpenCL ICD loader to run OpenCL kernels on this CPU.
#
# The ONNX Runtime baseline (and its tests) also need node and npm, then
# scripts/install-onnxruntime.sh. This image ships Node 20 with its own npm
# (not Debian's packages, which would conflict with it), so they are checked
# as commands and Debian's nodejs and npm are installed only when missing.
set -eu

packages="
  build-essential pkg-config python3 meson ninja-build
  libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev doctest-dev libcli11-dev libssl-dev
  libhalide14-0-dev llvm-14 llvm-14-dev clang-14 lld-14 lld
  libclang-rt-14-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  json-schema-test-suite python3-jsonschema libonnx-testdata
  chromium
  qemu-user gcc-aarch64-linux-gnu gcc-riscv64-linux-gnu libc6-arm64-cross libc6-riscv64-cross
  libc6-dev-arm64-cross libc6-dev-riscv64-cross
  wasi-libc libclang-rt-14-dev-wasm32
  ocl-icd-libopencl1 ocl-icd-opencl-dev pocl-opencl-icd

"

missing=""
for p in $packages; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
  esac
done

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing="$missing nodejs npm"
fi

if [ -z "$missing" ]; then
  echo "install-deps: all packages present"
  exit 0
fi

echo "install-deps: installing$missing"
if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  echo "install-deps: run as root to install:$missing" >&2
  exit 1
fi
$as_root apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends $missing
