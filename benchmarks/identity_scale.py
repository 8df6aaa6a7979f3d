"""The phase-gradient identity at scale: a sparse network of 2,000 oscillators.

Erdos-Renyi graph with mean degree 10 (p = 10 / (N - 1)), couplings 5 U(0.5, 1.5),
frequencies 0.3 N(0, 1); the last N // 4 nodes are outputs with targets
theta* + U(-0.3, 0.3). Reports the wall time of each step, the cosine of two-phase
EP against the exact implicit gradient (all free nodes) and against central finite
differences on a random sample of nodes (each finite difference is two full
re-solves of the 2,000-node network).

Run: python benchmarks/identity_scale.py [--n 2000] [--fd-nodes 10]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import kurahw as kh


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--mean-degree", type=float, default=10.0)
    parser.add_argument("--beta", type=float, default=1e-4)
    parser.add_argument("--fd-nodes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    n = args.n

    clock = {}
    start = time.perf_counter()
    net = kh.erdos_renyi_network(
        n,
        p=args.mean_degree / (n - 1),
        k_mean=5.0,
        omega_std=0.3,
        n_output=n // 4,
        seed=args.seed,
    )
    clock["build"] = time.perf_counter() - start

    t = time.perf_counter()
    free = kh.solve(net, tol=1e-12).raise_for_status()
    clock["free solve"] = time.perf_counter() - t
    rng = np.random.default_rng(args.seed)
    out = list(net.outputs)
    targets = free.theta[out] + rng.uniform(-0.3, 0.3, len(out))

    t = time.perf_counter()
    ep, _, nudged = kh.ep_gradient(net, targets, args.beta, free=free, tol=1e-12)
    clock["nudged solve"] = time.perf_counter() - t
    t = time.perf_counter()
    exact = kh.exact_gradient(net, free.theta, targets)
    clock["exact gradient"] = time.perf_counter() - t
    total_identity = time.perf_counter() - start

    t = time.perf_counter()
    nodes = np.sort(rng.choice(np.arange(1, n), size=args.fd_nodes, replace=False))
    fd = kh.finite_difference_gradient(
        net, targets, theta=free.theta, nodes=nodes, wrt_coupling=False, tol=1e-12
    ).omega[nodes]
    clock[f"finite differences ({args.fd_nodes} nodes)"] = time.perf_counter() - t

    print(
        f"N = {n}, {net.n_edges} edges (mean degree {2 * net.n_edges / n:.2f}), "
        f"{len(out)} outputs, beta = {args.beta:g}"
    )
    for name, sec in clock.items():
        print(f"  {name:32s} {sec:8.3f} s")
    print(f"  {'identity check in total':32s} {total_identity:8.3f} s")
    print(
        f"free residual {free.residual:.1e}, nudged residual {nudged.residual:.1e}, "
        f"Newton iterations {free.iterations} + {nudged.iterations}"
    )
    print(
        f"cos(EP, exact)  over {n - 1} free nodes: "
        f"{kh.cosine(ep.omega[1:], exact.omega[1:]):.10f}"
    )
    print(
        f"cos(EP, FD)     over {args.fd_nodes} sampled nodes: "
        f"{kh.cosine(ep.omega[nodes], fd):.10f}"
    )
    print(
        f"cos(exact, FD)  over {args.fd_nodes} sampled nodes: "
        f"{kh.cosine(exact.omega[nodes], fd):.10f}"
    )
    # The two-phase estimate carries a bias of first order in beta (large here
    # with 500 nudged outputs); the centred (+-beta) estimate cancels it.
    centred, _, _ = kh.ep_gradient(
        net, targets, args.beta, free=free, tol=1e-12, centered=True
    )
    for name, g in (("two-phase", ep), ("centred", centred)):
        rel = np.linalg.norm(g.omega - exact.omega) / np.linalg.norm(exact.omega)
        print(f"|{name} EP - exact| / |exact| = {rel:.2e}")


if __name__ == "__main__":
    main()
