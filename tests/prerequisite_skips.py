#!/usr/bin/env python3
"""The skip mechanism of tests/prerequisites.h, end to end: a doctest binary
run where a prerequisite is missing (here the shared models, by pointing
MODELC_SHARED_MODELS at nothing) counts the tests that need it as skipped and
exits 0; with MODELC_REQUIRE_ALL=1 the same run fails, so CI cannot pass by
skipping.

  prerequisite_skips.py BINARY EXPECTED_SKIPS"""
import os
import re
import subprocess
import sys

binary, expected = sys.argv[1], int(sys.argv[2])
env = dict(os.environ, MODELC_SHARED_MODELS="/nonexistent/modelc-shared-models")
env.pop("MODELC_REQUIRE_ALL", None)
summary = re.compile(r"\[doctest\] test cases:\s*\d+ \|\s*\d+ passed \|\s*(\d+) failed \|\s*(\d+) skipped")

lenient = subprocess.run([binary], env=env, capture_output=True, text=True)
found = summary.findall(lenient.stdout)
if lenient.returncode != 0 or not found or found[-1] != ("0", str(expected)):
    sys.exit(f"without the prerequisite: expected exit 0 and {expected} skipped, got exit {lenient.returncode}, "
             f"summary {found}\n{lenient.stdout[-2000:]}")

strict = subprocess.run([binary], env=dict(env, MODELC_REQUIRE_ALL="1"), capture_output=True, text=True)
found = summary.findall(strict.stdout)
if strict.returncode == 0 or not found or found[-1] != (str(expected), "0"):
    sys.exit(f"with MODELC_REQUIRE_ALL=1: expected a failure of the {expected} tests, got exit {strict.returncode}, "
             f"summary {found}\n{strict.stdout[-2000:]}")
print(f"{expected} tests skipped without the shared models, failed with MODELC_REQUIRE_ALL=1")
