#!/bin/sh
# The main job on a fresh machine: install what is missing (ONNX Runtime for
# Node included, so the report compares with it out of the box), build
# modelc, compile examples/quickstart/mlp.yaml for this machine, run it,
# benchmark it against the reference interpreter and ONNX Runtime, write the
# report and print its path (the last line).
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cache="${MODELC_CACHE:-$HOME/.cache/modelc}"
if [ ! -f "$cache/node_modules/onnxruntime-node/package.json" ]; then
  sh scripts/install-onnxruntime.sh ||
    echo "quickstart: ONNX Runtime could not be installed; the report lists it as unavailable, with why" >&2
fi
modelc=build/driver/modelc
recipe=examples/quickstart/mlp.yaml

$modelc --version
$modelc validate "$recipe"
$modelc compile "$recipe" --emit ir,memory
$modelc run "$recipe"
$modelc report "$recipe"
