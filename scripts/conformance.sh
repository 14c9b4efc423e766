#!/bin/sh
# Runs the ONNX backend test data (Debian's libonnx-testdata) through modelc:
# writes conformance.tsv and conformance.md (test, status, seconds, message)
# and prints totals per folder. Exits 1 when a test of
# tests/conformance/expected_pass.txt no longer passes.
#
#   sh scripts/conformance.sh [--jobs N] [--filter TEXT] [--write-expected]
#   (output folder: $MODELC_CONFORMANCE_OUT, default build/conformance)
set -eu
cd "$(dirname "$0")/.."
out="${MODELC_CONFORMANCE_OUT:-build/conformance}"
jobs=2
extra=""
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) jobs="$2"; shift 2 ;;
    --filter) extra="$extra --filter $2"; shift 2 ;;
    --write-expected) extra="$extra --write-expected tests/conformance/expected_pass.txt"; shift ;;
    *) echo "conformance.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
scripts/build.sh >/dev/null
mkdir -p "$out"
# shellcheck disable=SC2086
build/tests/conformance/conformance --jobs "$jobs" --table "$out/conformance.tsv" --table "$out/conformance.md" \
  --expected tests/conformance/expected_pass.txt $extra
