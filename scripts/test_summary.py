#!/usr/bin/env python3
"""Prints one closing line, 'N passed, N failed, N skipped', counting the
doctest test cases of every suite in meson's test log (a suite that crashed
or timed out before doctest's summary counts as one failure).

Skipped test cases are those whose prerequisite is missing here (the shared
models, ONNX Runtime, the ONNX test data; see tests/prerequisites.h): doctest
counts them in its summary and meson reports exit code 77 as SKIP. The suites
that skipped are named on the line before, so a skip is never read as a pass;
MODELC_REQUIRE_ALL=1 (as .ci/run sets) makes each of them a failure instead."""
import json
import re
import sys

log = sys.argv[1] if len(sys.argv) > 1 else "build/meson-logs/testlog.json"
passed = failed = skipped = 0
skipped_in = []
summary = re.compile(r"\[doctest\] test cases:\s*(\d+) \|\s*(\d+) passed \|\s*(\d+) failed \|\s*(\d+) skipped")
with open(log, encoding="utf-8") as f:
    for line in f:
        entry = json.loads(line)
        name = entry.get("name", "?")
        found = summary.findall(entry.get("stdout", "") or "")
        if found:
            _, p, fl, s = map(int, found[-1])
            passed, failed, skipped = passed + p, failed + fl, skipped + s
            if s:
                skipped_in.append(f"{name} ({s})")
        elif entry.get("result") in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif entry.get("result") == "SKIP":
            skipped += 1
            skipped_in.append(name)
        else:
            failed += 1
if skipped_in:
    print("skipped for a missing prerequisite: " + ", ".join(skipped_in))
print(f"{passed} passed, {failed} failed, {skipped} skipped")
