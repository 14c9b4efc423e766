#!/bin/sh
# int8 against float32 beyond examples/quantize: for every shared model, or
# with --families every model family of scripts/family_models.cpp (ResNeXt,
# RegNet, Inception, LSTM, ...), a recipe with the variants none and int8
# (per-channel weights, entropy calibration on 4 seeded samples) is built for
# the host, each int8 artifact checked against the quantized reference (the
# integer kernels must match it exactly; a float op that feeds a quantize
# may move a step, within the reported tolerance), and both timed in
# interleaved rounds. Prints, per model, modelc's float32 and int8 rows and
# int8's speed-up over float32. Not a test: figures compare only within one
# run on one machine. With --weight-bits 7 a third variant, int8 with 7-bit
# weights (quantization.weights.bits: 7: byte pairs on AVX2 without VNNI,
# docs/quantization.md), is built, checked and timed beside them.
#
#   sh scripts/bench-int8.sh [--families] [--threads N] [--rounds N] [--weight-bits 7] [MODEL ...]
#
# MODEL: names to run (default: every model of the set). A model that fails
# to build or to match its reference fails the script, after the others.
set -eu
cd "$(dirname "$0")/.."
families=0
threads=1
rounds=3
include=""
while [ $# -gt 0 ]; do
  case "$1" in
    --weight-bits)
      [ "$2" = 7 ] || { echo "bench-int8: --weight-bits takes 7 (8 is int8's default)" >&2; exit 2; }
      include="
  include: [{quantization.mode: int8, quantization.weights.bits: 7}]"; shift 2 ;;
    --families) families=1; shift ;;
    --threads) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    -*) echo "bench-int8: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
scripts/build.sh >/dev/null
modelc="$PWD/build/driver/modelc"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "$families" = 1 ]; then
  c++ -std=c++20 -O1 -DONNX_ML=1 -DONNX_NAMESPACE=onnx scripts/family_models.cpp -o "$work/family_models" \
    -lonnx -lonnx_proto -lprotobuf
  mkdir "$work/models"
  "$work/family_models" "$work/models"
  models="$work/models"
else
  models="${MODELC_SHARED_MODELS:-../shared/models}"
  [ -d "$models" ] || { echo "bench-int8: $models is absent (the shared ONNX models)" >&2; exit 1; }
  models=$(cd "$models" && pwd)
fi
if [ $# -eq 0 ]; then
  set -- $(cd "$models" && ls *.onnx | sed 's/\.onnx$//')
fi
failed=0
printf '%-22s %s\n' model "variant / target / implementation, threads, median ms [95% CI], p90, int8 over float32"
for name in "$@"; do
  onnx="$models/$name.onnx"
  if [ ! -f "$onnx" ]; then
    echo "bench-int8: $name: no $onnx" >&2
    failed=1
    continue
  fi
  dir="$work/$name"
  mkdir -p "$dir"
  cat > "$dir/recipe.yaml" <<RECIPE
apiVersion: modelc/v1
kind: Recipe
metadata: {name: int8-$(echo "$name" | tr 'A-Z_' 'a-z-'), version: 1.0.0}
model: {onnx: $onnx}
quantization:
  mode: none
  weights: {granularity: per-channel}
  activations:
    calibration: {method: entropy, samples: 4, random_seed: 1000}
targets:
  host: {device: host, threads: $threads}
variants:
  quantization.mode: [none, int8]$include
report:
  baselines: [reference]
  benchmark: {warmup: 3, repeats: 10, min_seconds: 0.3, rounds: $rounds}
RECIPE
  echo "bench-int8: $name: building none and int8${include:+ (and 7-bit weights)}, checking against the reference, timing" >&2
  if ! "$modelc" -q bench "$dir/recipe.yaml" --no-reference -o "$dir/build" >"$dir/bench.txt" 2>&1; then
    sed "s/^/bench-int8: $name: /" "$dir/bench.txt" >&2
    echo "bench-int8: $name: FAILED" >&2
    failed=1
    continue
  fi
  grep ' / modelc ' "$dir/bench.txt" | while IFS= read -r row; do printf '%-22s %s\n' "$name" "$row"; done
done
exit $failed
