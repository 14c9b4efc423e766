#!/bin/sh
# A PNG of a report.html as headless Chromium renders it (Debian package
# chromium): how docs/compare-report.png is made, from examples/compare:
#
#   build/driver/modelc report examples/compare/recipe.yaml
#   sh scripts/screenshot-report.sh examples/compare/out/compare-mlp/report.html docs/compare-report.png
#
#   sh scripts/screenshot-report.sh REPORT.html OUT.png [WIDTH HEIGHT]
set -eu
if [ $# -lt 2 ]; then
  echo "usage: screenshot-report.sh REPORT.html OUT.png [WIDTH HEIGHT]" >&2
  exit 2
fi
page=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
out=$2
width=${3:-1300}
height=${4:-2600}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars \
  --screenshot="$out" --window-size="$width,$height" "file://$page" 2>/dev/null
echo "$out"
