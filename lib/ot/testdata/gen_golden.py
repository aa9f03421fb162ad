#!/usr/bin/python3
"""Golden values for lib/ot from POT 0.8.2 (Debian python3-pot).

Run by hand, never by the test suite:
    cd lib/ot/testdata && /usr/bin/python3 gen_golden.py
Writes golden.json (cases with their samples, POT's sinkhorn2 value and
log['niter']) and gamma_x.npy / gamma_y.npy (the 800-vs-600 Gamma samples).
Every case uses uniform weights a = ones(n)/n, b = ones(m)/m and
M = ot.dist(x, y, metric=cost), like pdediff's `pot` method.
"""
import json
import warnings

import numpy as np
import ot

assert ot.__version__ == "0.8.2", ot.__version__


def run(name, x, y, cost, reg, numItermax=1000, note=""):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    X = x.reshape(len(x), -1)
    Y = y.reshape(len(y), -1)
    n, m, d = X.shape[0], Y.shape[0], X.shape[1]
    a = np.ones(n) / n
    b = np.ones(m) / m
    M = ot.dist(X, Y, metric=cost)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        val, log = ot.sinkhorn2(a, b, M, reg, numItermax=numItermax, stopThr=1e-9, log=True)
    msgs = [str(x.message) for x in w]
    numerr = any("numerical errors" in s for s in msgs)
    capped = any("did not converge" in s for s in msgs)
    return {
        "name": name, "note": note, "n": n, "m": m, "d": d, "cost": cost, "reg": reg,
        "max_iter": numItermax, "value": float(val), "niter": int(log["niter"]),
        "capped": capped, "numerical_error": numerr,
        "last_err": float(log["err"][-1]) if log["err"] else None,
        "x": X.ravel().tolist() if n * d <= 200 else None,
        "y": Y.ravel().tolist() if m * d <= 200 else None,
    }


cases = []
# POT's documented example: sinkhorn2([.5,.5],[.5,.5],[[0,1],[1,0]],1) = 0.26894142136999516
cases.append(run("doc", [0.0, 1.0], [0.0, 1.0], "euclidean", 1.0, note="POT docstring example"))

rng = np.random.default_rng(2024)
x1 = rng.normal(0.0, 1.0, 50)
y1 = rng.normal(0.3, 0.8, 40)
for cost in ("euclidean", "sqeuclidean"):
    for reg in (1.0, 0.1, 0.05):
        cases.append(run(f"1d_{cost}_reg{reg}", x1, y1, cost, reg))
x2 = rng.normal(0.0, 1.0, (30, 2))
y2 = rng.normal(0.5, 1.0, (25, 2))
for cost in ("euclidean", "sqeuclidean"):
    for reg in (0.5, 0.1):
        cases.append(run(f"2d_{cost}_reg{reg}", x2, y2, cost, reg))
cases.append(run("1d_capped_50", x1, y1, "euclidean", 0.01, numItermax=50, note="stops at the cap"))
cases.append(run("2d_capped_30", x2, y2, "sqeuclidean", 0.05, numItermax=30, note="stops at the cap"))
# Ties between x and y points and duplicates.
xt = [0.0, 0.5, 0.5, 1.0, 2.0]
yt = [0.5, 1.0, 1.0, 3.0]
cases.append(run("1d_ties", xt, yt, "euclidean", 0.2))
# Kernel underflow: exp(-M/reg) is 0 for every pair (|x-y|/reg > 745):
# POT stops at iteration 0 with "numerical errors" and the initial u, v.
cases.append(run("underflow_all", [0.0, 0.1], [10.0, 10.05], "euclidean", 0.01))
# One x point farther than 7.46 from every y point at reg 0.01: its row of K is 0.
xo = np.concatenate([x1[:20], [12.0]])
cases.append(run("underflow_row", xo, y1, "euclidean", 0.01))

# The 800-vs-600 Gamma case (shape 1, scale 0.3, seed 1).
g = np.random.default_rng(1)
gx = g.gamma(1.0, 0.3, 800)
gy = g.gamma(1.0, 0.3, 600)
np.save("gamma_x.npy", gx)
np.save("gamma_y.npy", gy)
cases.append(run("gamma_800_600_capped", gx, gy, "euclidean", 0.01, note="1000-iteration cap"))
cases.append(run("gamma_800_600_converged", gx, gy, "euclidean", 0.01, numItermax=100000,
                 note="POT converges after ~7000 iterations"))
cases.append(run("gamma_800_600_sq_converged", gx, gy, "sqeuclidean", 0.01, numItermax=100000))

with open("golden.json", "w") as f:
    json.dump({"generator": "gen_golden.py", "pot": ot.__version__, "numpy": np.__version__,
               "cases": cases}, f, indent=1)
for c in cases:
    print(f'{c["name"]:32s} value={c["value"]!r:24s} niter={c["niter"]:6d} capped={c["capped"]} numerr={c["numerical_error"]}')
