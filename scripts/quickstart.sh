#!/bin/sh
# The main job on a fresh machine: install what is missing, build modelc,
# compile examples/quickstart for this machine, run it, benchmark it against
# the reference interpreter, write the report and print its path.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
modelc=build/driver/modelc
recipe=examples/quickstart/cnn.yaml

$modelc --version
$modelc validate "$recipe"
$modelc compile "$recipe" --emit ir,memory
$modelc run "$recipe"
$modelc report "$recipe"
