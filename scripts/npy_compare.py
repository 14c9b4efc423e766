"""Compares two float32 .npy files (rtol 1e-3, atol 1e-4) and summarizes runner timings; no numpy needed."""
import array
import ast
import json
import statistics
import sys


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    header_len = int.from_bytes(data[8:10], "little")
    header = ast.literal_eval(data[10:10 + header_len].decode())
    assert header["descr"] == "<f4", header
    values = array.array("f")
    values.frombytes(data[10 + header_len:])
    return header["shape"], values


got_shape, got = read(sys.argv[1])
want_shape, want = read(sys.argv[2])
if got_shape != want_shape:
    print(f"  shape {got_shape} != {want_shape}")
    sys.exit(1)
max_abs = max(abs(a - b) for a, b in zip(got, want))
bad = sum(1 for a, b in zip(got, want) if abs(a - b) > 1e-4 + 1e-3 * abs(b) or a != a)
line = f"  max abs error {max_abs:.3g}, {bad} of {len(want)} outside rtol 1e-3/atol 1e-4"
if len(sys.argv) > 3:
    try:
        samples = json.loads(open(sys.argv[3]).read().strip().splitlines()[-1])["samples_ms"]
        line += f"; median {statistics.median(samples):.3f} ms, min {min(samples):.3f} ms over {len(samples)} runs"
    except Exception as e:  # noqa: BLE001
        line += f"; no timings ({e})"
print(line)
