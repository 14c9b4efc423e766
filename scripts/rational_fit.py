#!/usr/bin/env python3
"""Coefficients of the odd rational fits in lower/tensor_func.cpp: f(x) ~ x P(x^2) / Q(x^2) on [0, R].

  erf   (erf_rational):  R = 4, default degrees 6 and 4 in x^2 (P_TERMS 7, Q_TERMS 5)
  tanh  (tanh_rational): R = 9, default degrees 6 and 3 in x^2 (P_TERMS 7, Q_TERMS 4)

Beyond R both functions are +-1 in float32 (the kernels clamp x to [-R, R]). A linearized
least-squares fit, x P(t) - f(x) Q(t) ~ 0 at 600 points with Q's constant term 1, reweighted by
1 / (f(x) Q(t)) for eight rounds (Loeb's iteration toward the relative minimax), in 40-digit
arithmetic (mpmath, Debian's python3-mpmath). Prints the float32 coefficients and the largest
absolute and relative errors of their float32 Horner evaluation against math's f on 40 000 points.

  python3 scripts/rational_fit.py erf|tanh [P_TERMS Q_TERMS]
"""
import math
import struct
import sys

import mpmath as mp

FUNCTIONS = {'erf': (mp.erf, math.erf, 4, (7, 5)), 'tanh': (mp.tanh, math.tanh, 9, (7, 4))}
if len(sys.argv) not in (2, 4) or sys.argv[1] not in FUNCTIONS:
    sys.exit(__doc__)
F, F_FLOAT, R, (NP, NQ) = FUNCTIONS[sys.argv[1]]
if len(sys.argv) == 4:
    NP, NQ = int(sys.argv[2]), int(sys.argv[3])
mp.mp.dps = 40
X = [mp.mpf(R) * i / 600 for i in range(1, 601)]


def f32(v):
    return struct.unpack('f', struct.pack('f', float(v)))[0]


def solve(weights):
    rows, rhs = [], []
    for x, w in zip(X, weights):
        e, t = F(x), x * x
        rows.append([w * x * t**k for k in range(NP)] + [-w * e * t**j for j in range(1, NQ)])
        rhs.append(w * e)
    sol = mp.qr_solve(mp.matrix(rows), mp.matrix(rhs))[0]
    return [sol[k] for k in range(NP)], [mp.mpf(1)] + [sol[NP + j - 1] for j in range(1, NQ)]


weights = [1 / F(x) for x in X]
for _ in range(8):
    P, Q = solve(weights)
    weights = [1 / (F(x) * mp.polyval(Q[::-1], x * x)) for x in X]
Pf, Qf = [f32(p) for p in P], [f32(q) for q in Q]


def horner(coefficients, t):
    acc = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        acc = f32(f32(acc * t) + c)
    return acc


worst = worst_relative = 0.0
for i in range(1, 40001):
    x = f32(R * i / 40000)
    t = f32(x * x)
    got = f32(f32(x * horner(Pf, t)) / horner(Qf, t))
    worst = max(worst, abs(got - F_FLOAT(x)))
    worst_relative = max(worst_relative, abs(got - F_FLOAT(x)) / abs(F_FLOAT(x)))
print('P (x^0 first):', ', '.join(repr(p) for p in Pf))
print('Q (x^0 first):', ', '.join(repr(q) for q in Qf))
print('largest error in float32:', worst, 'relative:', worst_relative)
