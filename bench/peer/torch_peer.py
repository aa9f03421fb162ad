#!/usr/bin/env python3
"""PyTorch reference side of pdediff's side-by-side benchmark (bench/peer).

Run by `go run ./bench/peer` (make bench-peer), never by the tests. It needs
python3-torch (with libopenblas0-pthread) and, for the sampling task,
python3-scipy. One task per call; the spec arrives as JSON on argv[1] and the
measurement leaves as one JSON line on stdout.

Tasks (the same work as the Go side, written as a PyTorch user would):
  train    the MLP score network of the paper (theory section 4.1: input
           concat(x_t, y, mask, e(t)), ReLU hidden layers, linear output), Adam,
           batch B, denoising score matching (theory eq. 61) under the VE
           process, batches shuffled per epoch, t and z drawn in torch.
  forward  one batched forward pass (torch.no_grad) over R rows.
  sample   the probability-flow ODE of the VE process (theory eq. 66 with
           alpha = 0) over all rows at once with scipy's RK45 (rtol = atol =
           1e-5), as score_sde and the paper do, with weights exported by the Go
           side, from the starting state it wrote.
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch


def embed(t):
    """e(t) = [t - 1/2, cos 2 pi t, sin 2 pi t, -cos 4 pi t] (theory eq. 64); t: [n, 1]."""
    return torch.cat([t - 0.5, torch.cos(2 * math.pi * t), torch.sin(2 * math.pi * t),
                      -torch.cos(4 * math.pi * t)], dim=1)


def mlp(in_dim, width, layers, out_dim):
    mods, d = [], in_dim
    for _ in range(layers):
        mods += [torch.nn.Linear(d, width), torch.nn.ReLU()]
        d = width
    mods.append(torch.nn.Linear(d, out_dim))
    return torch.nn.Sequential(*mods)


def ve_std(t, sigma_max):
    """s(t) = sqrt((sigma_max^(2t) - 1) / (2 ln sigma_max)) (theory eqs. 5, 35)."""
    ls = math.log(sigma_max)
    return torch.sqrt(torch.expm1(2 * t * ls) / (2 * ls))


def task_train(spec):
    xd, cd = spec["x_dim"], spec["cond_dim"]
    n, b = spec["rows"], spec["batch"]
    g = torch.Generator().manual_seed(1)
    x0 = torch.randn(n, xd, generator=g)
    cond = torch.randn(n, cd, generator=g)
    net = mlp(xd + cd + 4, spec["width"], spec["layers"], xd)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    sigma_max = spec["sigma_max"]

    def step(idx):
        xb, cb = x0[idx], cond[idx]
        t = torch.rand(b, 1)
        z = torch.randn(b, xd)
        s = ve_std(t, sigma_max)
        xt = xb + s * z
        out = net(torch.cat([xt, cb, embed(t)], dim=1))
        loss = ((s * out + z) ** 2).mean()  # theory eq. 61, score output
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def run(steps):
        done = 0
        while done < steps:
            perm = torch.randperm(n)
            for k in range(n // b):
                if done == steps:
                    break
                step(perm[k * b:(k + 1) * b])
                done += 1

    run(spec["warmup"])
    t0 = time.perf_counter()
    c0 = time.process_time()
    run(spec["steps"])
    wall = time.perf_counter() - t0
    return {"steps_per_s": spec["steps"] / wall, "cpu_ms_per_step": 1e3 * (time.process_time() - c0) / spec["steps"]}


def task_forward(spec):
    xd, cd, r = spec["x_dim"], spec["cond_dim"], spec["rows"]
    g = torch.Generator().manual_seed(1)
    x = torch.randn(r, xd, generator=g)
    cond = torch.randn(r, cd, generator=g)
    net = mlp(xd + cd + 4, spec["width"], spec["layers"], xd)
    t = torch.full((r, 1), 0.5)
    times = []
    with torch.no_grad():
        for i in range(spec["warmup"] + spec["reps"]):
            t0 = time.perf_counter()
            net(torch.cat([x, cond, embed(t)], dim=1))
            if i >= spec["warmup"]:
                times.append(time.perf_counter() - t0)
    return {"ms": 1e3 * float(np.median(times)), "ms_min": 1e3 * min(times)}


def task_sample(spec):
    from scipy.integrate import solve_ivp

    d = spec["dir"]
    meta = json.load(open(os.path.join(d, "net.json")))
    xd, cd, width, layers = meta["x_dim"], meta["cond_dim"], meta["width"], meta["layers"]
    net = mlp(xd + cd + 4, width, layers, xd)
    lin = [m for m in net if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for l, m in enumerate(lin):
            m.weight.copy_(torch.from_numpy(np.load(os.path.join(d, "w%d.npy" % l)).astype(np.float32)))
            m.bias.copy_(torch.from_numpy(np.load(os.path.join(d, "b%d.npy" % l)).astype(np.float32).ravel()))
    xT = np.load(os.path.join(d, "xT.npy"))
    cond = torch.from_numpy(np.load(os.path.join(d, "cond.npy")).astype(np.float32))
    rows = xT.shape[0]
    sigma_max, T, eps = meta["sigma_max"], meta["T"], meta["eps"]
    ls = math.log(sigma_max)
    noise = meta["output"] == "noise"
    nfe = [0]

    def drift(t, x):
        # dx/dt = f - g^2/2 * score with f = 0, g^2 = sigma_max^(2t) (theory eqs. 35, 66).
        nfe[0] += 1
        with torch.no_grad():
            xt = torch.from_numpy(x.reshape(rows, xd).astype(np.float32))
            tt = torch.full((rows, 1), float(t))
            out = net(torch.cat([xt, cond, embed(tt)], dim=1)).numpy().astype(np.float64)
        if noise:
            out = out / -math.sqrt(math.expm1(2 * t * ls) / (2 * ls))  # score = -eps_hat / s(t)
        return (-0.5 * math.exp(2 * t * ls) * out).ravel()

    t0 = time.perf_counter()
    sol = solve_ivp(drift, (T, eps), xT.ravel(), method="RK45", rtol=meta["rtol"], atol=meta["atol"])
    wall = time.perf_counter() - t0
    x = sol.y[:, -1].reshape(rows, xd)
    np.save(os.path.join(d, "x_torch.npy"), x)
    return {"wall_s": wall, "nfe": int(nfe[0]), "rows_nfe_per_s": rows * nfe[0] / wall}


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(spec.get("threads", 2))
    torch.manual_seed(1)
    out = {"train": task_train, "forward": task_forward, "sample": task_sample}[spec["task"]](spec)
    out["torch"] = torch.__version__
    print(json.dumps(out))


if __name__ == "__main__":
    main()
