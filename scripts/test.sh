#!/bin/sh
# The whole test suite on a fresh machine: install what is missing, build,
# run every suite. Exits non-zero when any test fails.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# Kernels compiled by the tests are cached here between runs.
export MODELC_CACHE="${MODELC_CACHE:-$PWD/build/cache}"
# The ONNX Runtime baseline's tests run against the package in that cache.
if [ ! -f "$MODELC_CACHE/node_modules/onnxruntime-node/package.json" ]; then
  sh scripts/install-onnxruntime.sh ||
    echo "test.sh: ONNX Runtime could not be installed; its tests are skipped (they fail under MODELC_REQUIRE_ALL=1)" >&2
fi
status=0
meson test -C build --num-processes 2 --print-errorlogs "$@" || status=$?
python3 scripts/test_summary.py build/meson-logs/testlog.json
exit $status
