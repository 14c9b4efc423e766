#!/bin/sh
# Configures (once) and builds modelc in build/ with two jobs.
set -eu
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release
fi
ninja -C build -j "${MODELC_JOBS:-2}"
