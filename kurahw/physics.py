"""The model's equations in plain NumPy: velocity field, energy, Jacobian, loss.

These are the reference forms; the compiled solver kernel implements the same
equations and is tested against them. Phases are in radians, frequencies in rad
per unit time, and arrays may carry any leading batch axes.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = [
    "energy",
    "jacobian",
    "laplacian",
    "loss",
    "velocity",
]


def _reverse(coupling, coupling_reverse):
    return coupling if coupling_reverse is None else coupling_reverse


def velocity(
    edges: np.ndarray,
    coupling: np.ndarray,
    omega_c: np.ndarray,
    theta: np.ndarray,
    *,
    coupling_reverse: np.ndarray | None = None,
    outputs: np.ndarray | None = None,
    targets: np.ndarray | None = None,
    beta: float | np.ndarray = 0.0,
    form: str = "quadratic",
) -> np.ndarray:
    """Rotating-frame velocity dtheta/dt, shape (..., n).

    ``omega_c + sum_j K_ij sin(theta_j - theta_i)``, minus the nudge
    ``beta (theta_o - target_o)`` (or ``beta sin(...)`` for ``form="injection"``)
    on the output nodes when ``outputs`` is given.
    """
    i, j = edges[:, 0], edges[:, 1]
    s = np.sin(theta[..., j] - theta[..., i])
    f = np.array(omega_c, dtype=float, copy=True)
    f = np.broadcast_to(f, np.broadcast_shapes(f.shape, theta.shape)).copy()
    np.add.at(f, (..., i), coupling * s)
    np.add.at(f, (..., j), -_reverse(coupling, coupling_reverse) * s)

    if outputs is not None and np.any(beta != 0):
        beta = np.asarray(beta, dtype=float)[..., None]
        d = theta[..., outputs] - targets
        f[..., outputs] -= beta * (d if form == "quadratic" else np.sin(d))
    return f


def energy(
    edges: np.ndarray,
    coupling: np.ndarray,
    omega_c: np.ndarray,
    theta: np.ndarray,
    *,
    outputs: np.ndarray | None = None,
    targets: np.ndarray | None = None,
    beta: float | np.ndarray = 0.0,
    form: str = "quadratic",
) -> np.ndarray:
    """Energy ``E`` whose negative gradient is :func:`velocity` (symmetric K only).

    ``E = -sum_i omega_c_i theta_i - sum_edges K_ij cos(theta_j - theta_i)`` plus
    ``beta/2 (theta_o - target_o)^2`` per output (``beta (1 - cos)`` for injection).
    Because the centred frequencies sum to zero, ``E`` is unchanged when every
    phase is shifted by the same angle.
    """
    i, j = edges[:, 0], edges[:, 1]
    e = -np.sum(omega_c * theta, axis=-1)
    e = e - np.sum(coupling * np.cos(theta[..., j] - theta[..., i]), axis=-1)

    if outputs is not None and np.any(beta != 0):
        d = theta[..., outputs] - targets
        per = 0.5 * d**2 if form == "quadratic" else 1.0 - np.cos(d)
        e = e + np.asarray(beta) * np.sum(per, axis=-1)
    return e


def laplacian(
    edges: np.ndarray, weights: np.ndarray, n: int, *, sparse: bool = False
) -> np.ndarray | sp.csr_matrix:
    """Graph Laplacian ``D - W`` for symmetric edge weights, shape (n, n)."""
    i, j = edges[:, 0], edges[:, 1]
    w = np.concatenate([-weights, -weights, weights, weights])
    rows = np.concatenate([i, j, i, j])
    cols = np.concatenate([j, i, i, j])
    mat = sp.csr_matrix((w, (rows, cols)), shape=(n, n))
    return mat if sparse else mat.toarray()


def jacobian(
    edges: np.ndarray,
    coupling: np.ndarray,
    theta: np.ndarray,
    *,
    coupling_reverse: np.ndarray | None = None,
    outputs: np.ndarray | None = None,
    targets: np.ndarray | None = None,
    beta: float = 0.0,
    form: str = "quadratic",
) -> np.ndarray:
    """Dense Jacobian of :func:`velocity` with respect to theta, shape (n, n).

    For symmetric K it is ``-L``, the negative Laplacian with edge weights
    ``K_ij cos(theta_j - theta_i)``, plus the nudge curvature on outputs.
    """
    n = theta.shape[-1]
    i, j = edges[:, 0], edges[:, 1]
    c = np.cos(theta[j] - theta[i])
    fwd = coupling * c
    back = _reverse(coupling, coupling_reverse) * c

    jac = np.zeros((n, n))
    np.add.at(jac, (i, j), fwd)
    np.add.at(jac, (i, i), -fwd)
    np.add.at(jac, (j, i), back)
    np.add.at(jac, (j, j), -back)

    if outputs is not None and beta != 0:
        d = theta[outputs] - targets
        jac[outputs, outputs] -= beta * (1.0 if form == "quadratic" else np.cos(d))
    return jac


def loss(theta: np.ndarray, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Output loss ``1/2 sum_o (theta_o - target_o)^2`` (no wrapping), shape (...)."""
    d = theta[..., outputs] - targets
    return 0.5 * np.sum(d**2, axis=-1)
