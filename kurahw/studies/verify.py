"""Verification of the phase-gradient identity against independent references.

``identity``: EP against finite differences and the exact implicit gradient over
network sizes, plus a multi-seed robustness check. ``finite_beta``: direction and
scale error of two-phase and centred EP at a training-sized nudge.
``asymmetry``: how far the identity survives asymmetric couplings.
Each returns a JSON-ready dict; the CLI prints it as a table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from kurahw.gradients import (
    cosine,
    ep_gradient,
    exact_gradient,
    finite_difference_gradient,
)
from kurahw.network import Network, erdos_renyi_network
from kurahw.solver import solve

__all__ = ["asymmetry", "finite_beta", "identity"]

Progress = Callable[[int], None] | None

# Paper conventions for the verification networks.
_P_EDGE = 0.6
_K_MEAN = 5.0
_OMEGA_STD = 0.3
_TARGET_SPREAD = 0.3
_SOLVE_TOL = 1e-13


def _free_nodes(vec: np.ndarray) -> np.ndarray:
    """Drop the pinned node 0, whose gradient entry is 0 by construction."""
    return np.asarray(vec)[..., 1:]


def _verification_network(n: int, seed: int, mean_degree: float | None) -> Network:
    p = _P_EDGE if mean_degree is None else min(1.0, mean_degree / (n - 1))
    return erdos_renyi_network(
        n, p=p, k_mean=_K_MEAN, omega_std=_OMEGA_STD, n_output=max(2, n // 4), seed=seed
    )


def _solve_locked(net: Network):
    """Free equilibrium; like the paper, double K once if the network does not lock."""
    eq = solve(net, tol=_SOLVE_TOL)
    if not eq.ok:
        net = net.replace(coupling=2.0 * net.coupling)
        eq = solve(net, tol=_SOLVE_TOL)
    return net, eq.raise_for_status()


def identity_row(
    n: int,
    *,
    seed: int = 42,
    beta: float = 1e-4,
    eps: float = 1e-5,
    mean_degree: float | None = None,
    finite_differences: bool = True,
) -> dict:
    """One network: EP (two-phase and centred) vs exact vs finite differences."""
    net, free = _solve_locked(_verification_network(n, seed, mean_degree))
    rng = np.random.default_rng(seed)
    out = list(net.outputs)
    targets = free.theta[out] + rng.uniform(-_TARGET_SPREAD, _TARGET_SPREAD, len(out))

    exact = exact_gradient(net, free.theta, targets)
    ep, _, nudged = ep_gradient(net, targets, beta, free=free, tol=_SOLVE_TOL)
    epc, _, _ = ep_gradient(
        net, targets, beta, free=free, centered=True, tol=_SOLVE_TOL
    )

    row = {
        "n": n,
        "edges": net.n_edges,
        "grad_exact": _free_nodes(exact.omega).tolist(),
        "grad_ep": _free_nodes(ep.omega).tolist(),
        "freq_params": n - 1,
        "beta": beta,
        "residual": max(free.residual, nudged.residual),
        "cos_ep_exact": cosine(_free_nodes(ep.omega), _free_nodes(exact.omega)),
        "cos_centered_exact": cosine(_free_nodes(epc.omega), _free_nodes(exact.omega)),
        "cos_k_ep_exact": cosine(ep.coupling, exact.coupling),
    }

    if finite_differences:
        fd = finite_difference_gradient(
            net, targets, eps=eps, theta=free.theta, wrt_coupling=False, tol=_SOLVE_TOL
        )
        row["grad_fd"] = _free_nodes(fd.omega).tolist()
        row["cos_ep_fd"] = cosine(_free_nodes(ep.omega), _free_nodes(fd.omega))
        row["cos_exact_fd"] = cosine(_free_nodes(exact.omega), _free_nodes(fd.omega))
    return row


def identity(
    sizes: Iterable[int] = (6, 10, 15, 20, 30, 50, 100, 200),
    *,
    seed: int = 42,
    beta: float = 1e-4,
    eps: float = 1e-5,
    robustness_n: int = 10,
    robustness_seeds: int = 10,
    progress: Progress = None,
) -> dict:
    """The identity over network sizes, and over seeds at one size.

    Returns ``{"rows": [...], "robustness": {...}}``; each row has ``n``,
    ``cos_ep_fd``, ``cos_ep_exact``, ``cos_exact_fd``, ``cos_centered_exact``,
    ``cos_k_ep_exact`` and ``residual`` (the larger of the free and nudged solves).
    """
    rows = []
    for n in sizes:
        rows.append(identity_row(n, seed=seed, beta=beta, eps=eps))
        if progress:
            progress(1)

    seeds = []
    for s in range(robustness_seeds):
        seeds.append(identity_row(robustness_n, seed=s, beta=beta, eps=eps))
        if progress:
            progress(1)

    cos = [r["cos_ep_fd"] for r in seeds]
    for r in seeds:  # keep the record small: vectors only for the size sweep
        for key in ("grad_exact", "grad_ep", "grad_fd"):
            r.pop(key, None)

    return {
        "study": "identity",
        "beta": beta,
        "eps": eps,
        "seed": seed,
        "rows": rows,
        "robustness": {
            "n": robustness_n,
            "seeds": list(range(robustness_seeds)),
            "cos_ep_fd_min": float(np.min(cos)) if cos else None,
            "cos_ep_fd": cos,
        },
    }


def _class_targets(n_outputs: int, margin: float) -> np.ndarray:
    """Paper's targets for class 0: first output at -margin, the others at +margin."""
    t = np.full(n_outputs, margin)
    t[0] = -margin
    return t


def finite_beta(
    *,
    n: int = 15,
    networks: int = 20,
    beta: float = 0.1,
    margin: float = 0.2,
    progress: Progress = None,
) -> dict:
    """Direction and scale error of EP at a finite nudge, two-phase and centred.

    Scale error is ``| |g_ep| / |g_exact| - 1 |``. Networks are ER (p = 0.6) with
    2 outputs and seeds ``0..networks-1``; targets are the paper's class-0 targets.
    """
    rows = []
    for seed in range(networks):
        net = erdos_renyi_network(
            n, p=_P_EDGE, k_mean=_K_MEAN, omega_std=_OMEGA_STD, n_output=2, seed=seed
        )
        net, free = _solve_locked(net)
        targets = _class_targets(len(net.outputs), margin)
        exact = _free_nodes(exact_gradient(net, free.theta, targets).omega)
        row = {"seed": seed, "residual": free.residual}
        for name, centered in (("two_phase", False), ("centered", True)):
            g, _, _ = ep_gradient(
                net, targets, beta, free=free, centered=centered, tol=_SOLVE_TOL
            )
            est = _free_nodes(g.omega)
            row[f"cos_{name}"] = cosine(est, exact)
            row[f"scale_error_{name}"] = abs(
                np.linalg.norm(est) / np.linalg.norm(exact) - 1.0
            )
        rows.append(row)
        if progress:
            progress(1)

    summary = {}
    for name in ("two_phase", "centered"):
        cos = np.array([r[f"cos_{name}"] for r in rows])
        err = np.array([r[f"scale_error_{name}"] for r in rows])
        summary[name] = {
            "cos_mean": float(cos.mean()),
            "cos_min": float(cos.min()),
            "scale_error_mean": float(err.mean()),
            "scale_error_std": float(err.std()),
        }

    return {
        "study": "finite-beta",
        "n": n,
        "beta": beta,
        "margin": margin,
        "rows": rows,
        "summary": summary,
    }


def asymmetric_perturbation(net: Network, level: float, rng) -> Network:
    """``K <- max(0, K + U(-level, level) |K|)`` drawn independently for ``K_ij`` and
    ``K_ji`` (the paper's asymmetry model), as an explicitly asymmetric network."""
    k = net.coupling_matrix()
    k = np.maximum(0.0, k + rng.uniform(-level, level, k.shape) * np.abs(k))
    np.fill_diagonal(k, 0.0)
    return Network.from_matrix(
        k, net.omega, inputs=net.inputs, outputs=net.outputs, allow_asymmetric=True
    )


def asymmetry(
    levels: Iterable[float] = (0.0, 0.05, 0.10, 0.20, 0.50),
    *,
    n: int = 15,
    seeds: int = 10,
    beta: float = 1e-3,
    eps: float = 1e-5,
    progress: Progress = None,
) -> dict:
    """EP against finite differences (the true gradient) under asymmetric coupling.

    With ``K`` asymmetric the nudge response follows ``J^-1 e`` while the gradient
    is ``J^-T e``; the cosine measures how far apart they drift. If an asymmetric
    network has no equilibrium, it is symmetrised and its coupling multiplied by
    1.5, as in the paper; such fallbacks are counted.
    """
    rows = []
    for level in levels:
        cos, cos_exact, fallbacks = [], [], 0
        for seed in range(seeds):
            base = erdos_renyi_network(
                n,
                p=_P_EDGE,
                k_mean=_K_MEAN,
                omega_std=_OMEGA_STD,
                n_output=2,
                seed=seed,
            )
            net = asymmetric_perturbation(
                base, level, np.random.default_rng(seed + 1000)
            )
            free = solve(net, tol=_SOLVE_TOL)
            if not free.ok:
                fallbacks += 1
                k = net.coupling_matrix()
                net = Network.from_matrix(
                    1.5 * (k + k.T) / 2, net.omega, outputs=net.outputs
                )
                free = solve(net, tol=_SOLVE_TOL).raise_for_status()

            trng = np.random.default_rng(seed + 2000)
            out = list(net.outputs)
            targets = free.theta[out] + trng.uniform(
                -_TARGET_SPREAD, _TARGET_SPREAD, len(out)
            )

            ep, _, _ = ep_gradient(net, targets, beta, free=free, tol=_SOLVE_TOL)
            fd = finite_difference_gradient(
                net,
                targets,
                eps=eps,
                theta=free.theta,
                wrt_coupling=False,
                tol=_SOLVE_TOL,
            )
            ex = exact_gradient(net, free.theta, targets)
            cos.append(cosine(_free_nodes(ep.omega), _free_nodes(fd.omega)))
            cos_exact.append(cosine(_free_nodes(ex.omega), _free_nodes(fd.omega)))
            if progress:
                progress(1)

        rows.append(
            {
                "asymmetry": level,
                "cos_mean": float(np.mean(cos)),
                "cos_std": float(np.std(cos)),
                "cos_min": float(np.min(cos)),
                "cos_exact_fd_min": float(np.min(cos_exact)),
                "fallbacks": fallbacks,
                "cos": cos,
            }
        )

    return {"study": "asymmetry", "n": n, "beta": beta, "eps": eps, "rows": rows}
