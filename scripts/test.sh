#!/bin/sh
# The whole test suite on a fresh machine: install what is missing, build,
# run every suite. Exits non-zero when any test fails.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# Kernels compiled by the tests are cached here between runs.
export MODELC_CACHE="${MODELC_CACHE:-$PWD/build/cache}"
status=0
meson test -C build --num-processes 2 --print-errorlogs "$@" || status=$?
python3 scripts/test_summary.py build/meson-logs/testlog.json
exit $status
