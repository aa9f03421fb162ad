# Golden numbers for TestDoPri5MatchesScipy: scipy's solve_ivp(method="RK45") on
# the probability-flow ODE (theory eq. 46) of Gaussian data N(mu, sd^2) under the
# toy VP (beta 0.001..15) and VE (sigma_max 12) processes, one flattened batch.
# Run: /usr/bin/python3 lib/sample/testdata/scipy_rk45_golden.py  (scipy 1.10.1, Debian bookworm)
import numpy as np
from scipy.integrate import solve_ivp

mu, sd, eps = 1.0, 0.5, 1e-3
xT = np.array([-2.0, -0.5, 0.3, 1.7, 0.05, -1.1])

def vp(t):
    B = 0.001 * t + 0.5 * (15 - 0.001) * t * t
    beta = 0.001 + t * (15 - 0.001)
    return np.exp(-B / 2), -np.expm1(-B), beta, beta  # m, s^2, beta, g2

def ve(t):
    ls = np.log(12.0)
    return 1.0, np.expm1(2 * t * ls) / (2 * ls), 0.0, np.exp(2 * t * ls)

for name, proc in [("vp", vp), ("ve", ve)]:
    def f(t, x):
        m, s2, beta, g2 = proc(t)
        v = m * m * sd * sd + s2
        score = -(x - m * mu) / v
        return -0.5 * beta * x - 0.5 * g2 * score
    sol = solve_ivp(f, (1.0, eps), xT, method="RK45", rtol=1e-5, atol=1e-5)
    print(name, "nfev", sol.nfev, "steps", len(sol.t) - 1, "y", repr(sol.y[:, -1].tolist()))
