#!/usr/bin/python3
"""Times POT 0.8.2's ot.sinkhorn2 on the 10,000 x 1,000 benchmark (reg 0.01,
1-D samples, Euclidean cost) and saves the samples for `pdediff ot sinkhorn`.

    /usr/bin/python3 lib/ot/testdata/bench_pot.py OUTDIR [REPEATS]

Samples: numpy default_rng(7), x = gamma(1, 0.3, 10000), y = gamma(1, 0.3, 1000)
(the shape of the paper's Tanh case conditionals), saved as OUTDIR/bench_x.npy,
OUTDIR/bench_y.npy. Run by hand; not part of the test suite.
"""
import os
import sys
import time
import warnings

import numpy as np
import ot

out = sys.argv[1]
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
rng = np.random.default_rng(7)
x = rng.gamma(1.0, 0.3, 10000)
y = rng.gamma(1.0, 0.3, 1000)
np.save(os.path.join(out, "bench_x.npy"), x)
np.save(os.path.join(out, "bench_y.npy"), y)
a = np.ones(len(x)) / len(x)
b = np.ones(len(y)) / len(y)
print(f"POT {ot.__version__}, numpy {np.__version__}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}")
for r in range(reps):
    t0 = time.perf_counter()
    M = ot.dist(x[:, None], y[:, None], metric="euclidean")
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        val, log = ot.sinkhorn2(a, b, M, 0.01, log=True)
    t2 = time.perf_counter()
    print(f"run {r}: value {val!r} niter {log['niter']} dist {t1 - t0:.3f} s sinkhorn2 {t2 - t1:.3f} s total {t2 - t0:.3f} s")
