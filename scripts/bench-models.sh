#!/bin/sh
# Benchmarks every shared model against ONNX Runtime and the reference
# interpreter, in one run per model on this machine, and prints the ratios.
# Never compare these figures with another machine's: rerun both here.
#
#   sh scripts/bench-models.sh [--threads N] [--repeats N]
set -eu
cd "$(dirname "$0")/.."
if [ ! -d ../shared/models ]; then
  echo "bench-models: ../shared/models is absent" >&2
  exit 1
fi
scripts/build.sh >/dev/null
if ! build/driver/modelc --version >/dev/null; then exit 1; fi
cache="${MODELC_CACHE:-$HOME/.cache/modelc}"
if [ ! -f "$cache/node_modules/onnxruntime-node/package.json" ]; then
  sh scripts/install-onnxruntime.sh || echo "bench-models: ONNX Runtime unavailable; measuring without it" >&2
fi
for recipe in examples/quickstart/mlp.yaml examples/mobilenet_v2/recipe.yaml examples/resnet18/recipe.yaml \
              examples/transformer_enc2_d128/recipe.yaml; do
  echo "== $recipe"
  build/driver/modelc -q report "$recipe" "$@" || echo "bench-models: $recipe failed" >&2
done
