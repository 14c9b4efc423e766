#!/bin/sh
# Compile times on this machine (issue 15's goals: ResNet-18 cold <= 5 s and
# warm <= 0.5 s, DenseNet-121 cold <= 15 s, on 2 cores): for ResNet-18 from
# the shared models and a DenseNet-121 with seeded random weights
# (scripts/family_models.cpp --densenet121), `modelc compile` of a one-target
# recipe three times:
#   cold     an empty kernel cache (every kernel, the Halide runtime, the
#            executor and the runner object compiled)
#   kernels  an empty kernel cache but the per-target objects cached (what a
#            new model costs once a machine has built any model: the model's
#            plan, code object and libraries are not cached either)
#   warm     everything cached (a recompile of the same model, e.g. after a
#            recipe field that the artifact does not depend on changed)
#   relink   every kernel and the model's code cached, its libraries not (a
#            recompile after a change that leaves the kernels as they were:
#            the weights' values)
# Wall-clock seconds of the whole command. Not a test: run it on a quiet
# machine; the figures are this machine's.
#
#   sh scripts/compile-times.sh [MODEL.onnx ...]
set -eu
cd "$(dirname "$0")/.."
modelc="${MODELC:-build/driver/modelc}"
models="${MODELC_SHARED_MODELS:-$PWD/../shared/models}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ $# -eq 0 ]; then
  c++ -std=c++20 -O1 -DONNX_ML=1 -DONNX_NAMESPACE=onnx scripts/family_models.cpp -o "$work/family_models" \
    -lonnx -lonnx_proto -lprotobuf
  "$work/family_models" "$work" --densenet121
  set -- "$models/resnet18.onnx" "$work/densenet121.onnx"
fi
seconds() {  # the wall-clock seconds of a command, its output kept in $work/log
  start=$(date +%s.%N)
  "$@" > "$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
  end=$(date +%s.%N)
  echo "$end - $start" | bc | awk '{printf "%.2f", $1}'
}
printf '%-16s %8s %8s %8s %8s %8s\n' model cold kernels warm relink kernels
for onnx in "$@"; do
  name=$(basename "$onnx" .onnx)
  recipe="$work/$name.yaml"
  printf 'apiVersion: modelc/v1\nkind: Recipe\nmetadata: {name: %s, version: 1.0.0}\nmodel:\n  onnx: %s\ntargets:\n  host: {device: host}\n' \
    "$name" "$onnx" > "$recipe"
  cache="$work/cache-$name"
  cold=$(MODELC_CACHE="$cache" seconds "$modelc" compile "$recipe" -o "$work/out" --force)
  rm -rf "$cache/kernels" "$cache/models" "$cache/libraries"
  kernels=$(MODELC_CACHE="$cache" seconds "$modelc" compile "$recipe" -o "$work/out" --force)
  warm=$(MODELC_CACHE="$cache" seconds "$modelc" compile "$recipe" -o "$work/out" --force)
  rm -rf "$cache/libraries"
  relink=$(MODELC_CACHE="$cache" seconds "$modelc" compile "$recipe" -o "$work/out" --force)
  count=$(sed -n 's/.*: \([0-9]*\) kernels (.*/\1/p' "$work/log" | head -n 1)
  printf '%-16s %8s %8s %8s %8s %8s\n' "$name" "$cold" "$kernels" "$warm" "$relink" "$count"
done
