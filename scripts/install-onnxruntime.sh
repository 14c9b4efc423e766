#!/bin/sh
# Installs ONNX Runtime for Node (the `onnxruntime` baseline of reports) into
# modelc's cache folder: $MODELC_CACHE, or ~/.cache/modelc when unset.
#
# --ignore-scripts: the package's install script downloads optional CUDA
# binaries; the CPU library the baseline needs ships inside the package itself.
set -eu

version="${ONNXRUNTIME_NODE_VERSION:-1.30.0}"
cache="${MODELC_CACHE:-${HOME}/.cache/modelc}"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "install-onnxruntime.sh: node and npm are needed (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi

mkdir -p "$cache"
npm install --ignore-scripts --no-audit --no-fund --prefix "$cache" "onnxruntime-node@${version}"
echo "onnxruntime-node ${version} installed under ${cache}/node_modules"
