"""Equilibrium solver against the paper's solver (scipy fsolve, numerical Jacobian).

Workload: the 2+5+2 network over the /a/-/i/ vowel training inputs, as in one
epoch of training: for each sample a free solve warm-started from the previous
sample's equilibrium, then a nudged solve (beta 0.1, targets -+0.2) warm-started
from the free one. Both solvers must reach the same max residual; fsolve is given
xtol small enough for that and its achieved residuals are reported.

Batch 1 is seed 0 through the public ``kurahw.Solver``; batch 100 is seeds 0..99 in
lockstep, one ``Solver.solve`` call per sample for the whole batch. The fsolve time per
solve does not depend on the batch, so it is measured once per seed on a subset of
seeds and reported per solve.

Run: python benchmarks/solver.py [--seeds-fsolve 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from scipy.optimize import fsolve

import kurahw as kh
from kurahw.data import load_vowels, vowel_split

TOL = 1e-10
BETA = 0.1
MARGIN = 0.2


def sequence(seed: int, features, labels):
    split = vowel_split(features, labels, seed)
    return split.x_train, split.y_train


def targets_for(label: int) -> np.ndarray:
    t = np.full(2, MARGIN)
    t[label] = -MARGIN
    return t


def prepare(nets, xs, ys):
    """Per-step frequencies and nudges, built before any timing starts."""
    b = len(nets)
    base = np.array([net.omega for net in nets])
    inputs = list(nets[0].inputs)
    steps = []
    for step in range(xs.shape[1]):
        omega = base.copy()
        omega[:, inputs] = nets[0].input_gain * xs[:, step]
        tgt = np.where(ys[:, step, None] == np.arange(2), -MARGIN, MARGIN)
        if b == 1:
            steps.append((omega[0], kh.Nudge(tgt[0], BETA)))
        else:
            steps.append((omega, kh.Nudge(tgt, BETA)))
    return steps


def run_fsolve(net: kh.Network, steps):
    """The paper's per-sample loop: dense numpy residual, fsolve, warm starts."""
    k = net.coupling_matrix()
    n = net.n
    out = list(net.outputs)

    def residual(phi, omega_c, tgt, beta):
        theta = np.zeros(n)
        theta[1:] = phi
        f = omega_c + np.sum(k * np.sin(theta[None, :] - theta[:, None]), axis=1)
        if beta:
            f[out] -= beta * (theta[out] - tgt)
        return f[1:]

    warm = np.zeros(n - 1)
    fvecs = []
    for omega, nudge in steps:
        oc = omega - omega.mean()
        phi, info, _, _ = fsolve(
            residual, warm, args=(oc, None, 0.0), xtol=TOL, full_output=True
        )
        fvecs.append(info["fvec"])
        _, info, _, _ = fsolve(
            residual, phi, args=(oc, nudge.targets, BETA), xtol=TOL, full_output=True
        )
        fvecs.append(info["fvec"])
        warm = phi
    return fvecs


def run_kurahw(solver: kh.Solver, steps):
    """One `Solver.solve` call per sample and phase, for the whole batch."""
    theta = None
    results = []
    for omega, nudge in steps:
        free = solver.solve(theta, omega=omega)
        nudged = solver.solve(free.theta, omega=omega, nudge=nudge)
        results.append((free, nudged))
        theta = free.theta
    return results


def summarise_kurahw(results):
    worst = max(max(np.max(f.residual), np.max(g.residual)) for f, g in results)
    failed = sum(
        int(np.sum(~np.asarray(f.ok))) + int(np.sum(~np.asarray(g.ok)))
        for f, g in results
    )
    count = 2 * len(results) * np.size(results[0][0].residual)
    return count, worst, failed


def best_time(fn, repeat):
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds-fsolve", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()

    features, labels = load_vowels()
    seqs = [sequence(s, features, labels) for s in range(100)]
    nets = [kh.layered_network(seed=s) for s in range(100)]
    xs = np.stack([s[0] for s in seqs])
    ys = np.stack([s[1] for s in seqs])

    single = kh.Solver(nets[0], tol=TOL)
    batch = kh.Solver(kh.NetworkBatch.stack(nets), tol=TOL)
    steps1 = prepare(nets[:1], xs[:1], ys[:1])
    steps100 = prepare(nets, xs, ys)

    # Compile once outside the timing (the compiled kernel is cached on disk).
    run_kurahw(single, steps1[:2])
    run_kurahw(batch, steps100[:2])

    fs_total, fs_solves, fs_worst = 0.0, 0, 0.0
    for s in range(args.seeds_fsolve):
        steps = prepare(nets[s : s + 1], xs[s : s + 1], ys[s : s + 1])
        t, fvecs = best_time(
            lambda steps=steps, s=s: run_fsolve(nets[s], steps), args.repeat
        )
        fs_total += t
        fs_solves += len(fvecs)
        fs_worst = max(fs_worst, max(np.abs(f).max() for f in fvecs))
    fs_per = fs_total / fs_solves

    t1, res1 = best_time(lambda: run_kurahw(single, steps1), args.repeat)
    t100, res100 = best_time(lambda: run_kurahw(batch, steps100), args.repeat)
    c1, w1, f1 = summarise_kurahw(res1)
    c100, w100, f100 = summarise_kurahw(res100)
    per1, per100 = t1 / c1, t100 / c100

    rows = [
        ("fsolve (numerical Jacobian)", fs_per, 1.0, fs_worst, "-"),
        ("kurahw.Solver, batch 1", per1, fs_per / per1, w1, f1),
        ("kurahw.Solver, batch 100", per100, fs_per / per100, w100, f100),
    ]
    print(f"2+5+2 network, {xs.shape[1]} vowel samples x (free + nudged), tol {TOL:g}")
    print(
        f"{'solver':30s} {'us/solve':>10s} {'speed-up':>9s} {'max residual':>13s} "
        f"{'failed':>7s}"
    )
    for name, per, ratio, worst, fails in rows:
        print(f"{name:30s} {1e6 * per:10.2f} {ratio:8.1f}x {worst:13.1e} {fails!s:>7s}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(
                {
                    "fsolve_us": 1e6 * fs_per,
                    "batch1_us": 1e6 * per1,
                    "batch100_us": 1e6 * per100,
                    "ratio_batch1": fs_per / per1,
                    "ratio_batch100": fs_per / per100,
                },
                handle,
                indent=2,
            )


if __name__ == "__main__":
    main()
