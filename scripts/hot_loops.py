#!/usr/bin/env python3
"""The innermost loops of compiled kernels, from `modelc compile --emit asm`.

For each kernels/<symbol>.s under the folders given, finds the innermost
loops (a backward branch to a label, containing no other such loop), takes
as the kernel's hot loop the one with the most vector arithmetic (multiply-
adds and dot products), and prints one row per kernel: its instructions,
how many are vector multiply-adds or dot products and at which width, its
loads and stores, and its accesses to the stack (spilled registers). A
kernel whose hot loop has stack accesses, no vector arithmetic, or a
narrower width than other kernels of the same build is flagged. Not a test:
what to expect of a kernel is for a person to judge (docs/performance.md,
"Reading the hot loops").

  python3 scripts/hot_loops.py [--show SYMBOL] FOLDER...

FOLDER: an artifact folder (or any folder above one); --show prints that
kernel's hot loop. scripts/hot-loops.sh compiles a recipe and runs this.
"""
import argparse
import os
import re
import sys

LINE = re.compile(r"^\s+([0-9a-f]+):\t(\S+)\s*(.*)$")
LABEL = re.compile(r"^(\.L[0-9a-f]+|[A-Za-z_][\w.$]*):$")
BRANCH_TARGET = re.compile(r"\.L([0-9a-f]+)\b")
# x86 (AT&T) and AArch64 multiply-adds and dot products on vectors.
FMA = re.compile(r"^(vf(n)?m(add|sub)(sub|add)?(132|213|231)p[sdh]|fmla|fmls|bfmla)")
DOT = re.compile(r"^(vpdpbusds?|vpdpwssds?|vdpbf16ps|vpmaddwd|vpmaddubsw|tdp\w+|sdot|udot|usdot|bfdot)$")
X86_WIDTH = (("zmm", 512), ("ymm", 256), ("xmm", 128))


def vector_width(operands):
    for prefix, bits in X86_WIDTH:
        if "%" + prefix in operands:
            return bits
    if re.search(r"\b(v\d+\.\d*[bhsd]|q\d+)\b", operands):  # AArch64 NEON
        return 128
    return 0


def is_branch(mnemonic):
    # x86 jumps; AArch64 b, b.<cond>, cbz/cbnz, tbz/tbnz
    return mnemonic.startswith(("j", "b.")) or mnemonic in ("b", "cbz", "cbnz", "tbz", "tbnz")


def parse(path):
    """(ops, [(offset, mnemonic, operands)]) in file order."""
    ops = ""
    code = []
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not ops and line.startswith("# mc_k_"):
                ops = line.split(": ", 1)[1] if ": " in line else ""
            m = LINE.match(line)
            if m:
                code.append((int(m.group(1), 16), m.group(2), m.group(3)))
    return ops, code


def innermost_loops(code):
    """[(start, end)] by offsets: backward branches to a label, innermost only."""
    loops = []
    for offset, mnemonic, operands in code:
        if not is_branch(mnemonic):
            continue
        t = BRANCH_TARGET.search(operands)
        if t and int(t.group(1), 16) <= offset:
            loops.append((int(t.group(1), 16), offset))
    return [l for l in loops if not any(o != l and l[0] <= o[0] and o[1] <= l[1] for o in loops)]


def measure(code, loop):
    body = [(o, m, a) for o, m, a in code if loop[0] <= o <= loop[1]]
    fmas = dots = loads = stores = stack = 0
    widths = set()
    for _, mnemonic, operands in body:
        arithmetic = FMA.match(mnemonic) or DOT.match(mnemonic)
        if FMA.match(mnemonic):
            fmas += 1
        elif DOT.match(mnemonic):
            dots += 1
        if arithmetic:
            w = vector_width(operands)
            if w:
                widths.add(w)
        parts = [p.strip() for p in re.split(r",\s*(?![^()]*\))", operands) if p.strip()]
        memory = [i for i, p in enumerate(parts) if "(" in p or "[" in p]
        if memory:
            if "(%rsp)" in operands or "(%rbp)" in operands or "[sp" in operands:
                stack += 1
            if "[" in operands:  # AArch64: the mnemonic says which (ldr, ldp, ld1 / str, stp, st1)
                store = mnemonic.startswith("st")
            else:  # x86, AT&T: the destination is last
                store = memory[-1] == len(parts) - 1 and len(parts) > 1 and not mnemonic.startswith(("cmp", "test"))
            if store:
                stores += 1
            else:
                loads += 1
    return {"start": loop[0], "end": loop[1], "instructions": len(body), "fma": fmas, "dot": dots,
            "width": max(widths) if widths else 0, "loads": loads, "stores": stores, "stack": stack, "body": body}


def hot_loop(code):
    loops = [measure(code, l) for l in innermost_loops(code)]
    if not loops:
        return None
    return max(loops, key=lambda l: (l["fma"] + l["dot"], l["instructions"]))


def kernel_files(folders):
    for folder in folders:
        for root, _, files in os.walk(folder):
            for name in sorted(files):
                if name.startswith("mc_k_") and name.endswith(".s"):
                    yield os.path.join(root, name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", metavar="SYMBOL", help="print this kernel's hot loop")
    parser.add_argument("folders", nargs="+")
    args = parser.parse_args()
    rows = []
    for path in kernel_files(args.folders):
        ops, code = parse(path)
        symbol = os.path.basename(path)[:-2]
        rows.append((symbol, ops, hot_loop(code)))
    if not rows:
        print("hot_loops: no kernels/*.s under " + ", ".join(args.folders) +
              " (compile with --emit asm)", file=sys.stderr)
        return 1
    widest = max((r[2]["width"] for r in rows if r[2]), default=0)
    print(f"{'kernel':<30} {'instr':>5} {'fma':>4} {'dot':>4} {'arith%':>6} {'bits':>4} {'loads':>5} {'stores':>6} "
          f"{'stack':>5}  flags  ops")
    for symbol, ops, loop in rows:
        if args.show and symbol != args.show:
            continue
        if loop is None:
            print(f"{symbol:<30} {'-':>5} {'':>4} {'':>4} {'':>6} {'':>4} {'':>5} {'':>6} {'':>5}  no-loop  {ops}")
            continue
        arith = loop["fma"] + loop["dot"]
        flags = []
        if arith == 0:
            flags.append("no-vector-arith")
        elif loop["width"] < widest:
            flags.append("narrow")
        if loop["stack"]:
            flags.append("stack")
        share = 100.0 * arith / loop["instructions"]
        print(f"{symbol:<30} {loop['instructions']:>5} {loop['fma']:>4} {loop['dot']:>4} {share:>5.0f}% "
              f"{loop['width'] or '-':>4} {loop['loads']:>5} {loop['stores']:>6} {loop['stack']:>5}  "
              f"{','.join(flags) or '-':<6} {ops}")
        if args.show:
            print(f"\nhot loop of {symbol}: offsets {loop['start']:x}..{loop['end']:x}")
            for offset, mnemonic, operands in loop["body"]:
                print(f"  {offset:x}:\t{mnemonic}\t{operands}")
    print("\ninstr: instructions in the kernel's hot loop (its innermost loop with the most vector multiply-adds "
          "and dot products); arith%: their share; bits: their widest vector; stack: accesses to spilled values")
    return 0


if __name__ == "__main__":
    sys.exit(main())
