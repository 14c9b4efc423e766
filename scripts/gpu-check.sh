#!/bin/sh
# Runs CUDA artifacts on a machine with an NVIDIA GPU and checks their outputs.
# Usage: scripts/gpu-check.sh DIR  (DIR/<model>/runner, DIR/<model>/input.npy,
# DIR/<model>/expected.npy, as prepared on the compiling machine; results go to
# $OUT or DIR). For each model: one checked run, then timed runs by the runner.
set -u
dir="$1"
out="${OUT:-$dir}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -2
for m in "$dir"/*/; do
  name=$(basename "$m")
  mkdir -p "$out/$name"
  start=$(date +%s%N)
  timeout 120 "$m/runner" --warmup 5 --repeats 50 --min-ms 500 --outputs "$out/$name" "$m/input.npy" \
    > "$out/$name/timings.json" 2> "$out/$name/stderr.txt"
  rc=$?
  end=$(date +%s%N)
  echo "$name: exit $rc, wall $(( (end - start) / 1000000 )) ms"
  tail -3 "$out/$name/stderr.txt"
  python3 "$(dirname "$0")/npy_compare.py" "$out/$name/output_0.npy" "$m/expected.npy" "$out/$name/timings.json" 2>&1
done
