#!/bin/sh
# Benchmarks every shared model (../shared/models/<name>.onnx with its
# <name>.input.npy and <name>.output.npy) against ONNX Runtime on this
# machine, at 1 and 2 threads, and prints one table. Not a test: the figures
# are only comparable within one run, on one machine (rerun both sides there).
#
# Per model: a recipe with two host targets (1 and 2 threads) is written to a
# temporary folder; modelc compiles it, runs it on the reference input and
# checks the output against <name>.output.npy (a mismatch fails the script,
# loudly); then `modelc report` times modelc and ONNX Runtime (and ONNX
# Runtime's one-op model, its per-call cost) in interleaved rounds on that
# input, and measures this core's fp32 peak in the same run.
#
#   sh scripts/bench-models.sh [--rounds N] [--seconds S] [--tune] [MODEL ...]
#
# --rounds: rounds per model (default 8); --seconds: timed work per
# implementation and thread count, all rounds together (default 1.0);
# --tune: first `modelc tune` each model at 1 and 2 threads on this machine
# (minutes per model), then build with the tuned strategy and its log.
# MODEL: names to run (default: every model in the folder).
# $MODELC_SHARED_MODELS overrides the models folder.
set -eu
cd "$(dirname "$0")/.."
rounds=8
seconds=1.0
tune=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --tune) tune=1; shift ;;
    -*) echo "bench-models: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
models="${MODELC_SHARED_MODELS:-../shared/models}"
if [ ! -d "$models" ]; then
  echo "bench-models: $models is absent (the shared ONNX models)" >&2
  exit 1
fi
models=$(cd "$models" && pwd)
scripts/build.sh >/dev/null
modelc="$PWD/build/driver/modelc"
cache="${MODELC_CACHE:-$HOME/.cache/modelc}"
if [ ! -f "$cache/node_modules/onnxruntime-node/package.json" ]; then
  sh scripts/install-onnxruntime.sh >/dev/null || echo "bench-models: ONNX Runtime unavailable; measuring without it" >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ $# -eq 0 ]; then
  set -- $(cd "$models" && ls *.onnx | sed 's/\.onnx$//')
fi
failed=0
for name in "$@"; do
  onnx="$models/$name.onnx"
  input="$models/$name.input.npy"
  expected="$models/$name.output.npy"
  if [ ! -f "$onnx" ] || [ ! -f "$input" ] || [ ! -f "$expected" ]; then
    echo "bench-models: $name: needs $name.onnx, $name.input.npy and $name.output.npy in $models" >&2
    failed=1
    continue
  fi
  dir="$work/$name"
  mkdir -p "$dir"
  recipe_name=$(echo "bench-$name" | tr 'A-Z_' 'a-z-')
  cat > "$dir/recipe.yaml" <<RECIPE
apiVersion: modelc/v1
kind: Recipe
metadata: {name: $recipe_name, version: 1.0.0}
model: {onnx: $onnx}
targets:
  t1: {device: host, threads: 1}
  t2: {device: host, threads: 2}
report:
  baselines: [onnxruntime]
  input: $input
  formats: [json]
  benchmark: {warmup: 5, repeats: 20, min_seconds: $seconds, rounds: $rounds}
RECIPE
  if [ "$tune" = 1 ]; then
    echo "bench-models: $name: tuning schedules at 1 and 2 threads (modelc tune)" >&2
    if ! "$modelc" -q tune "$dir/recipe.yaml" --log "$dir/tuning.jsonl" >"$dir/tune.txt"; then
      echo "bench-models: $name: FAILED: modelc tune failed" >&2
      failed=1
      continue
    fi
    grep -E 'written to|nothing measured' "$dir/tune.txt" | sed "s/^/bench-models: $name: /" >&2 || true
    grep 'whole model' "$dir/tune.txt" | sed "s/^ */bench-models: $name: /" >&2 || true
    if [ -f "$dir/tuning.jsonl" ]; then
      echo "optimize: {schedule: {strategy: tuned, log: tuning.jsonl}}" >>"$dir/recipe.yaml"
    fi
  fi
  echo "bench-models: $name: compiling and checking against $name.output.npy" >&2
  if ! "$modelc" -q run "$dir/recipe.yaml" --target t1 --input "$input" --output-dir "$dir/out" -o "$dir/build" >/dev/null ||
     ! python3 scripts/bench_models_table.py --check "$dir/out" "$expected"; then
    echo "bench-models: $name: FAILED: modelc's output disagrees with $name.output.npy (or did not build); not timed" >&2
    failed=1
    continue
  fi
  echo "bench-models: $name: timing modelc and ONNX Runtime in $rounds interleaved rounds" >&2
  if ! "$modelc" -q report "$dir/recipe.yaml" --no-reference -o "$dir/build" >/dev/null; then
    echo "bench-models: $name: FAILED: modelc report failed" >&2
    failed=1
    continue
  fi
  cp "$dir/build/results.json" "$work/$name.results.json"
done
python3 scripts/bench_models_table.py --table "$work"/*.results.json
exit $failed
