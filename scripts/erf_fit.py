#!/usr/bin/env python3
"""The coefficients of erf_rational (lower/tensor_func.cpp): erf(x) ~ x P(x^2) / Q(x^2) on [0, 4].

A linearized least-squares fit, x P(t) - erf(x) Q(t) ~ 0 at 600 points with Q's constant term 1,
reweighted by 1 / (erf(x) Q(t)) for eight rounds (Loeb's iteration toward the relative minimax),
in 40-digit arithmetic (mpmath, Debian's python3-mpmath). Prints the float32 coefficients and the
largest error of their float32 Horner evaluation against math.erf on 40 000 points.

  python3 scripts/erf_fit.py [P_TERMS Q_TERMS]   # default 7 5: degree 6 and 4 in x^2
"""
import math
import struct
import sys

import mpmath as mp

mp.mp.dps = 40
NP, NQ = (int(sys.argv[1]), int(sys.argv[2])) if len(sys.argv) == 3 else (7, 5)
X = [mp.mpf(4) * i / 600 for i in range(1, 601)]


def f32(v):
    return struct.unpack('f', struct.pack('f', float(v)))[0]


def solve(weights):
    rows, rhs = [], []
    for x, w in zip(X, weights):
        e, t = mp.erf(x), x * x
        rows.append([w * x * t**k for k in range(NP)] + [-w * e * t**j for j in range(1, NQ)])
        rhs.append(w * e)
    sol = mp.qr_solve(mp.matrix(rows), mp.matrix(rhs))[0]
    return [sol[k] for k in range(NP)], [mp.mpf(1)] + [sol[NP + j - 1] for j in range(1, NQ)]


weights = [1 / mp.erf(x) for x in X]
for _ in range(8):
    P, Q = solve(weights)
    weights = [1 / (mp.erf(x) * mp.polyval(Q[::-1], x * x)) for x in X]
Pf, Qf = [f32(p) for p in P], [f32(q) for q in Q]


def horner(coefficients, t):
    acc = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        acc = f32(f32(acc * t) + c)
    return acc


worst = 0.0
for i in range(1, 40001):
    x = f32(4.0 * i / 40000)
    t = f32(x * x)
    got = f32(f32(x * horner(Pf, t)) / horner(Qf, t))
    worst = max(worst, abs(got - math.erf(x)))
print('P (x^0 first):', ', '.join(repr(p) for p in Pf))
print('Q (x^0 first):', ', '.join(repr(q) for q in Qf))
print('largest error in float32:', worst)
