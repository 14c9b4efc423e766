#!/bin/sh
# Where ONNX Runtime's time goes, per node, from its own profiler: runs
# MODEL.onnx on INPUT.npy through reports/baselines/ort_bench.js (the
# baseline modelc's reports time) with profiling on, then
# scripts/ort_profile.py over the profile. Not a test: compare it with
# `modelc bench RECIPE --kernels` (docs/performance.md). The profiler adds
# about 5 % to the nodes' own times.
#
#   sh scripts/ort-profile.sh MODEL.onnx INPUT.npy [--threads N] [--runs N] [--top N]
set -eu
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
  echo "usage: sh scripts/ort-profile.sh MODEL.onnx INPUT.npy [--threads N] [--runs N] [--top N]" >&2
  exit 2
fi
model="$1"
input="$2"
shift 2
threads=1
runs=50
top=0
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --top) top="$2"; shift 2 ;;
    *) echo "ort-profile.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'run %s\nprofile\nquit\n' "$runs" |
  node reports/baselines/ort_bench.js --model "$model" --input "$input" --threads "$threads" --profile "$work/ort" > "$work/replies" || true
if ! grep -q '"file"' "$work/replies"; then
  echo "ort-profile.sh: ONNX Runtime did not profile:" >&2
  cat "$work/replies" >&2
  exit 1
fi
file=$(sed -n 's/.*"file":"\([^"]*\)".*/\1/p' "$work/replies")
python3 scripts/ort_profile.py "$file" --skip 5 --top "$top"
