#!/bin/sh
# The hot loops of a recipe's kernels, as they are linked: `modelc compile
# RECIPE --emit asm` into a temporary folder (kernels from the cache where
# they are there), then scripts/hot_loops.py over the listings: per kernel,
# its innermost loop with the most vector multiply-adds and dot products,
# their share of its instructions, their width, its loads, stores and stack
# accesses, and flags (narrow, stack, no-vector-arith). Not a test: a
# person reads it (docs/performance.md, "Reading the hot loops").
#
#   sh scripts/hot-loops.sh RECIPE [--show SYMBOL] [modelc compile options]
#
# --show SYMBOL: also print that kernel's hot loop. Other options go to
# `modelc compile` (e.g. --variant int8 --target host).
set -eu
cd "$(dirname "$0")/.."
if [ $# -lt 1 ]; then
  echo "usage: sh scripts/hot-loops.sh RECIPE [--show SYMBOL] [modelc compile options]" >&2
  exit 2
fi
recipe="$1"
shift
# --show SYMBOL may stand anywhere after the recipe; every other argument
# goes to `modelc compile`, in its order.
show=""
n=$#
i=0
while [ "$i" -lt "$n" ]; do
  arg="$1"
  shift
  i=$((i + 1))
  if [ "$arg" = "--show" ]; then
    if [ "$i" -ge "$n" ]; then
      echo "hot-loops.sh: --show needs a kernel symbol" >&2
      exit 2
    fi
    show="--show $1"
    shift
    i=$((i + 1))
  else
    set -- "$@" "$arg"
  fi
done
scripts/build.sh >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build/driver/modelc compile "$recipe" -o "$work/out" --emit asm "$@" >&2
python3 scripts/hot_loops.py $show "$work/out"
