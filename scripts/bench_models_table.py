#!/usr/bin/env python3
"""Helpers of scripts/bench-models.sh (Python 3 standard library only).

  bench_models_table.py --check OUTPUT_DIR EXPECTED.npy
      exit 1 (saying where) unless the one .npy in OUTPUT_DIR is allclose to
      EXPECTED.npy: rtol 1e-3, atol 1e-4, the tolerance modelc's own accuracy
      check applies to float32 outputs.
  bench_models_table.py --table RESULTS.json...
      the table: model, threads, modelc and ONNX Runtime median/p90, the ratio
      modelc/ORT with its 95 % interval, ORT's per-call overhead, the peak, the core-to-core rate."""
import glob
import json
import math
import os
import struct
import sys


def read_npy_float32(path):
    data = open(path, "rb").read()
    if data[:6] != b"\x93NUMPY":
        sys.exit(f"{path}: not a .npy file")
    header_length = struct.unpack("<H", data[8:10])[0] if data[6] == 1 else struct.unpack("<I", data[8:12])[0]
    start = (10 if data[6] == 1 else 12) + header_length
    header = data[start - header_length:start].decode("latin1")
    if "'<f4'" not in header:
        sys.exit(f"{path}: expected float32 data ({header.strip()})")
    return struct.unpack(f"<{(len(data) - start) // 4}f", data[start:])


def check(output_dir, expected_path):
    outputs = sorted(glob.glob(os.path.join(output_dir, "*.npy")))
    if len(outputs) != 1:
        print(f"check: expected one output in {output_dir}, found {len(outputs)}", file=sys.stderr)
        return 1
    got, want = read_npy_float32(outputs[0]), read_npy_float32(expected_path)
    if len(got) != len(want):
        print(f"check: {outputs[0]} has {len(got)} values, {expected_path} {len(want)}", file=sys.stderr)
        return 1
    worst, bad = 0.0, 0
    for a, b in zip(got, want):
        error = abs(a - b)
        if not error <= 1e-4 + 1e-3 * abs(b):  # NaN fails too
            bad += 1
        worst = max(worst, error) if not math.isnan(error) else math.inf
    if bad:
        print(f"check: {bad} of {len(got)} values differ from {expected_path} beyond rtol 1e-3, atol 1e-4 "
              f"(max abs error {worst:.3g})", file=sys.stderr)
        return 1
    print(f"check: {os.path.basename(expected_path)}: {len(got)} values agree (max abs error {worst:.2g})",
          file=sys.stderr)
    return 0


def ms(x):
    if x is None:
        return "–"
    return f"{x:.0f}" if x >= 100 else f"{x:.{max(0, 2 - math.floor(math.log10(x)))}f}" if x > 0 else "0"


def find_comparison(doc, row, against):
    for c in doc.get("comparisons", []):
        if c["row"] == row and c["against"] == against:
            return c
    return None


def table(files):
    header = ["model", "threads", "modelc median", "modelc p90", "ORT median", "ORT p90", "modelc/ORT [95% CI]",
              "ORT call overhead", "fp32 peak GFLOP/s", "core to core GB/s"]
    rows = []
    for path in files:
        doc = json.load(open(path))
        model = os.path.basename(path).replace(".results.json", "")
        peak = doc["environment"].get("fp32_peak")
        transfer = doc["environment"].get("core_transfer")
        for result in doc["results"]:
            threads = result.get("threads", 0)
            modelc = result.get("latency_ms")
            ort = next((b for b in result.get("baselines", []) if b["name"] == "onnxruntime"), None)
            ort_latency = ort.get("latency_ms") if ort else None
            ratio = "–"
            key = {"variant": result["variant"], "target": result["target"]}
            c = find_comparison(doc, dict(key, implementation="modelc"), dict(key, implementation="onnxruntime"))
            if c:  # speed-up of modelc over ORT = ORT / modelc; the ratio asked for is its inverse
                ratio = f"{1 / c['speedup']:.2f}"
                if "interval" in c:
                    low, high = 1 / c["interval"][1], 1 / c["interval"][0]
                    ratio += f" [{low:.2f}, {high:.2f}]" + (" noise" if low <= 1 <= high else "")
            elif result["status"] != "ok":
                ratio = result["status"]
            overhead = ort.get("call_overhead_ms", {}).get("median") if ort else None
            peak_text = "–"
            if peak:
                per_threads = peak["single_thread_gflops"] if threads == 1 else peak["all_threads_gflops"]
                peak_text = f"{per_threads:.0f} ({peak['isa']})"
            # Several threads' figures depend on how fast a core reads what another wrote (own cache beside it).
            transfer_text = "–"
            if transfer and threads > 1:
                transfer_text = f"{transfer['other_gb_per_s']:.0f} (own {transfer['own_gb_per_s']:.0f})"
            rows.append([model, str(threads), ms(modelc and modelc["median"]), ms(modelc and modelc["p90"]),
                         ms(ort_latency and ort_latency["median"]), ms(ort_latency and ort_latency["p90"]), ratio,
                         ms(overhead), peak_text, transfer_text])
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(r, widths)))
             for r in [header] + rows]
    print("\n".join(lines))
    print("\nms; modelc/ORT below 1: modelc faster; intervals: 95 % bootstrap over interleaved rounds (\"noise\": "
          "the interval holds 1).\nORT call overhead: ONNX Runtime's median on a one-op model through the same "
          "Node binding, timed in the same rounds; fp32 peak: this core's FMA loop, measured in the same run;\n"
          "core to core: GB/s at which a core reads 512 KiB another core just wrote (and its own), measured in the "
          "same run: on a virtual machine it changes with where the virtual CPUs run, and so do the 2-thread rows.")


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "--check" and len(sys.argv) == 4:
        return check(sys.argv[2], sys.argv[3])
    if len(sys.argv) >= 2 and sys.argv[1] == "--table":
        files = [f for f in sys.argv[2:] if os.path.exists(f)]
        if not files:
            print("bench-models: nothing was measured", file=sys.stderr)
            return 1
        table(files)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


sys.exit(main())
