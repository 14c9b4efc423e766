"""Summarise an ONNX Runtime profile (the JSON its profiler writes): per node,
in the order the nodes ran, the median of its kernel times over the runs
after the first `skip`, its operator and output shape; then per operator the
sum of those medians and the median of whole runs. Not a test: a person
compares it with `modelc bench --kernels` (docs/performance.md)."""
import argparse
import collections
import json
import statistics
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile")
    parser.add_argument("--skip", type=int, default=5, help="first runs left out (warm-up)")
    parser.add_argument("--top", type=int, default=0, help="only the N slowest nodes (0: every node, in order)")
    args = parser.parse_args()
    with open(args.profile) as f:
        events = json.load(f)
    order, times, ops, shapes, runs = [], collections.defaultdict(list), {}, {}, []
    for e in events:
        if e.get("cat") == "Session" and e.get("name") == "model_run":
            runs.append(e["dur"])
        if e.get("cat") != "Node" or not e.get("name", "").endswith("_kernel_time"):
            continue
        node = e["name"][: -len("_kernel_time")]
        if node not in times:
            order.append(node)
        times[node].append(e["dur"])
        ops[node] = e.get("args", {}).get("op_name", "?")
        out = e.get("args", {}).get("output_type_shape") or []
        shapes[node] = "x".join(str(d) for d in next(iter(out[0].values()))) if out and out[0] else ""
    if not order:
        print(f"ort_profile: no node events in {args.profile}", file=sys.stderr)
        return 1
    median = {n: statistics.median(t[args.skip:] or t) / 1000 for n, t in times.items()}
    rows = sorted(order, key=lambda n: -median[n])[: args.top] if args.top else order
    print(f"{'ms':>8}  {'op':<22} {'output':<18} node")
    for n in rows:
        print(f"{median[n]:8.3f}  {ops[n]:<22} {shapes[n]:<18} {n}")
    per_op = collections.defaultdict(lambda: [0.0, 0])
    for n in order:
        per_op[ops[n]][0] += median[n]
        per_op[ops[n]][1] += 1
    print()
    print(f"{'ms':>8}  {'nodes':>5}  op")
    for op, (ms, count) in sorted(per_op.items(), key=lambda kv: -kv[1][0]):
        print(f"{ms:8.3f}  {count:5d}  {op}")
    kept = runs[args.skip:] or runs
    total = sum(median.values())
    print(f"\nnodes {total:.3f} ms (sum of medians); a whole run {statistics.median(kept) / 1000:.3f} ms "
          f"(median of {len(kept)} profiled runs, the profiler's own cost included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
