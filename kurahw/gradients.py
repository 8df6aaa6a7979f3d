"""Gradients of the output loss with respect to frequencies and couplings.

Four estimators of the same quantity, so that each can check the others:

* :func:`ep_gradient`: Equilibrium Propagation from a free and a nudged
  equilibrium (two-phase), or from a +beta and a -beta equilibrium (centred);
* :func:`exact_gradient`: the implicit-function-theorem gradient at the free
  equilibrium, ``dL/domega_c = -J^-T e`` with the reduced Jacobian ``J``;
* :func:`finite_difference_gradient`: central differences of the loss, each
  perturbed network re-solved.

Frequency gradients are with respect to the mean-centred frequencies of the free
nodes in the pinned frame (node 0's entry is 0). Coupling gradients are per edge,
with a symmetric perturbation ``dK_ij = dK_ji``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse.linalg as spla

from kurahw.errors import NetworkError
from kurahw.network import Network
from kurahw.physics import jacobian, laplacian, loss
from kurahw.solver import Equilibrium, Nudge, Solver, solve

__all__ = [
    "Gradient",
    "cosine",
    "ep_gradient",
    "exact_gradient",
    "finite_difference_gradient",
    "gradient_from_equilibria",
]


@dataclass(frozen=True)
class Gradient:
    """Loss gradient.

    Attributes
    ----------
    omega : ndarray, shape (..., n)
        With respect to the centred natural frequency of each node (0 at node 0).
    coupling : ndarray, shape (..., m)
        With respect to the strength of each edge, in ``network.edges`` order.
    """

    omega: np.ndarray
    coupling: np.ndarray


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two vectors (0.0 if either is zero)."""
    a = np.ravel(a)
    b = np.ravel(b)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return 0.0
    return float(a @ b / (na * nb))


def _check_targets(network: Network, targets) -> np.ndarray:
    t = np.asarray(targets, dtype=float)
    if t.shape != (len(network.outputs),):
        raise NetworkError(
            f"`targets` has shape {t.shape}; give one target phase per output node, "
            f"shape ({len(network.outputs)},)."
        )
    if not np.all(np.isfinite(t)):
        raise NetworkError("`targets` contains NaN or infinite values.")
    return t


def _edge_cos(network: Network, theta: np.ndarray) -> np.ndarray:
    i, j = network.edges[:, 0], network.edges[:, 1]
    return np.cos(theta[..., j] - theta[..., i])


def gradient_from_equilibria(
    network: Network, theta_a: np.ndarray, theta_b: np.ndarray, beta: float
) -> Gradient:
    """EP estimate from two measured equilibria.

    ``omega = -(theta_b - theta_a) / beta`` and
    ``coupling = (cos dtheta_a - cos dtheta_b) / beta`` on each edge. Two-phase EP
    passes the free state as ``a``, the nudged one as ``b`` and ``beta``; centred
    EP passes the -beta and +beta states and ``2 beta``.
    """
    if not (np.isfinite(beta) and beta != 0):
        raise ValueError(f"`beta` must be a nonzero finite number, got {beta!r}.")
    omega = -(np.asarray(theta_b) - np.asarray(theta_a)) / beta
    coupling = (_edge_cos(network, theta_a) - _edge_cos(network, theta_b)) / beta
    return Gradient(omega, coupling)


def ep_gradient(
    network: Network,
    targets: np.ndarray,
    beta: float,
    *,
    centered: bool = False,
    free: Equilibrium | None = None,
    form: str = "quadratic",
    tol: float = 1e-13,
) -> tuple[Gradient, Equilibrium, Equilibrium]:
    """Equilibrium Propagation gradient of one network.

    Solves the free equilibrium (unless ``free`` is given) and the nudged one(s),
    each warm-started from the free state.

    Returns
    -------
    gradient : Gradient
    first, second : Equilibrium
        Free and nudged states (two-phase), or the -beta and +beta states.
    """
    targets = _check_targets(network, targets)
    if free is None:
        free = solve(network, tol=tol)
    free.raise_for_status()

    nudge = Nudge(targets, beta, form)
    plus = solve(network, free.theta, nudge=nudge, tol=tol)
    plus.raise_for_status()
    if not centered:
        return (
            gradient_from_equilibria(network, free.theta, plus.theta, beta),
            free,
            plus,
        )

    minus = solve(network, free.theta, nudge=nudge.negated(), tol=tol)
    minus.raise_for_status()
    grad = gradient_from_equilibria(network, minus.theta, plus.theta, 2 * beta)
    return grad, minus, plus


def exact_gradient(
    network: Network, theta: np.ndarray, targets: np.ndarray
) -> Gradient:
    """Implicit-function gradient at an equilibrium ``theta`` of ``network``.

    ``dL/domega_c = -J^-T e`` on the free nodes (``e`` the output errors, ``J`` the
    Jacobian with node 0 removed), and for an edge ``(i, j)`` with phase difference
    ``d``: ``dL/dK_ij = sin(d) (g_i - g_j)``. Valid for asymmetric couplings too.
    """
    targets = _check_targets(network, targets)
    theta = np.asarray(theta, dtype=float)
    n = network.n
    e = np.zeros(n)
    e[list(network.outputs)] = theta[list(network.outputs)] - targets

    g = np.zeros(n)
    if network.is_symmetric and n > 400:
        i, j = network.edges[:, 0], network.edges[:, 1]
        w = network.coupling * np.cos(theta[j] - theta[i])
        lap = laplacian(network.edges, w, n, sparse=True)[1:, 1:].tocsc()
        g[1:] = spla.spsolve(lap, e[1:])
    else:
        jac = jacobian(
            network.edges,
            network.coupling,
            theta,
            coupling_reverse=network.coupling_reverse,
        )
        g[1:] = -np.linalg.solve(jac[1:, 1:].T, e[1:])

    i, j = network.edges[:, 0], network.edges[:, 1]
    coupling = np.sin(theta[j] - theta[i]) * (g[i] - g[j])
    return Gradient(g, coupling)


def finite_difference_gradient(
    network: Network,
    targets: np.ndarray,
    *,
    eps: float = 1e-5,
    theta: np.ndarray | None = None,
    wrt_coupling: bool = True,
    nodes: np.ndarray | None = None,
    tol: float = 1e-13,
) -> Gradient:
    """Central differences of the loss, re-solving the equilibrium per perturbation.

    Each centred frequency of a free node (and, with ``wrt_coupling``, each edge
    strength, both directions together) is moved by ``+-eps``; the perturbed
    equilibria are warm-started from ``theta`` (the free state, solved if omitted).
    Costs ``2 (n - 1 + m)`` solves; ``nodes`` restricts the frequency part to a
    subset of free nodes (the other entries stay 0), for large networks.
    """
    targets = _check_targets(network, targets)
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"`eps` must be a positive number, got {eps!r}.")

    if theta is None:
        theta = solve(network, tol=tol).raise_for_status().theta
    out = list(network.outputs)

    def loss_at(net: Network) -> float:
        eq = solve(net, theta, tol=tol).raise_for_status()
        return float(loss(eq.theta, out, targets))

    # Perturb the centred frequencies directly (paper convention), not raw ones;
    # one solver serves every frequency perturbation.
    solver = Solver(network, tol=tol)
    omega_c = network.omega_centered
    g_omega = np.zeros(network.n)
    free = range(1, network.n) if nodes is None else _free_node_list(network, nodes)
    for node in free:
        vals = []
        for sign in (1.0, -1.0):
            om = omega_c.copy()
            om[node] += sign * eps
            eq = solver.solve(theta, omega=om, centered=True).raise_for_status()
            vals.append(float(loss(eq.theta, out, targets)))
        g_omega[node] = (vals[0] - vals[1]) / (2 * eps)

    g_k = np.zeros(network.n_edges)
    if wrt_coupling:
        for edge in range(network.n_edges):
            vals = []
            for sign in (1.0, -1.0):
                k = network.coupling.copy()
                k[edge] += sign * eps
                changes = {"coupling": k}
                if network.coupling_reverse is not None:
                    r = network.coupling_reverse.copy()
                    r[edge] += sign * eps
                    changes["coupling_reverse"] = r
                vals.append(loss_at(network.replace(**changes)))
            g_k[edge] = (vals[0] - vals[1]) / (2 * eps)
    return Gradient(g_omega, g_k)


def _free_node_list(network: Network, nodes) -> list[int]:
    picked = [int(k) for k in np.atleast_1d(nodes)]
    bad = [k for k in picked if not 1 <= k < network.n]
    if bad:
        raise ValueError(
            f"`nodes` has {bad}; name free nodes 1..{network.n - 1} (node 0 is pinned)."
        )
    return picked
