#!/bin/sh
# Builds the fast test suites with AddressSanitizer and UndefinedBehaviorSanitizer
# (gcc, meson's b_sanitize) in build-sanitize/ and runs them. Exits non-zero
# when a test fails or a sanitizer reports anything: UBSan halts on its first
# report instead of printing and going on.
#
#   scripts/sanitize.sh                      support, spec and lang
#   SANITIZE_SUITES="lang" scripts/sanitize.sh
#
# Only the suites' own test programs are built (ninja targets, then meson test
# --no-rebuild): lang/ and below need neither Halide nor LLVM, so the build
# stays a few minutes even without ccache. The lower, targets and driver
# suites JIT or AOT-compile through Halide, whose LLVM-generated code ASan
# cannot see, and take many times longer under it; they are left out.
set -eu
cd "$(dirname "$0")/.."
suites="${SANITIZE_SUITES:-support spec lang}"
dir=build-sanitize
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" --buildtype=debugoptimized -Db_sanitize=address,undefined
fi
programs=""
for s in $suites; do programs="$programs tests/$s/test_$s"; done
# shellcheck disable=SC2086
ninja -C "$dir" -j "${MODELC_JOBS:-2}" $programs
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export MODELC_CACHE="${MODELC_CACHE:-$PWD/$dir/cache}"
# shellcheck disable=SC2086
meson test -C "$dir" --no-rebuild --num-processes 2 --print-errorlogs --timeout-multiplier 4 $suites
