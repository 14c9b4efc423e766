#!/usr/bin/env python3
"""Prints one closing line, 'N passed, N failed[, N skipped]', counting the
doctest test cases of every suite in meson's test log (a suite that crashed
or timed out before doctest's summary counts as one failure)."""
import json
import re
import sys

log = sys.argv[1] if len(sys.argv) > 1 else "build/meson-logs/testlog.json"
passed = failed = skipped = 0
summary = re.compile(r"\[doctest\] test cases:\s*(\d+) \|\s*(\d+) passed \|\s*(\d+) failed \|\s*(\d+) skipped")
with open(log, encoding="utf-8") as f:
    for line in f:
        entry = json.loads(line)
        found = summary.findall(entry.get("stdout", "") or "")
        if found:
            _, p, fl, s = map(int, found[-1])
            passed, failed, skipped = passed + p, failed + fl, skipped + s
        elif entry.get("result") == "OK":
            passed += 1
        elif entry.get("result") == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
