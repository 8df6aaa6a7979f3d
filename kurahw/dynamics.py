"""Time integration of the phase dynamics (a network settling, as hardware does).

The solver jumps straight to the fixed point; this module follows the actual
trajectory, which is what a physical network does between a change of its
parameters and a measurement.
"""

from __future__ import annotations

import numpy as np

from kurahw.network import Network
from kurahw.physics import velocity

__all__ = ["relax"]


def relax(
    network: Network,
    theta0: np.ndarray,
    *,
    duration: float,
    dt: float = 0.01,
    omega: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Integrate the rotating-frame dynamics with classical Runge-Kutta (RK4).

    Parameters
    ----------
    network : Network
    theta0 : ndarray, shape (n,)
        Initial phases.
    duration : float
        Time to integrate, in the model's time unit.
    dt : float
        Fixed step; stable for ``dt`` well below ``1 / max weighted degree``.
    omega : ndarray, shape (n,), optional
        Raw frequencies instead of the network's (mean-centred here).

    Returns
    -------
    times : ndarray, shape (steps + 1,)
    phases : ndarray, shape (steps + 1, n)
        Phases relative to node 0.
    """
    if not (np.isfinite(duration) and duration >= 0):
        raise ValueError(f"`duration` must be >= 0, got {duration!r}.")
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"`dt` must be > 0, got {dt!r}.")
    theta = np.array(theta0, dtype=float)
    if theta.shape != (network.n,):
        raise ValueError(f"`theta0` has shape {theta.shape}; expected ({network.n},).")
    raw = network.omega if omega is None else np.asarray(omega, dtype=float)
    omega_c = raw - raw.mean()
    edges, k, rev = network.edges, network.coupling, network.coupling_reverse

    def rhs(th):
        return velocity(edges, k, omega_c, th, coupling_reverse=rev)

    steps = int(np.ceil(duration / dt))
    out = np.empty((steps + 1, network.n))
    out[0] = theta - theta[0]
    for s in range(steps):
        k1 = rhs(theta)
        k2 = rhs(theta + 0.5 * dt * k1)
        k3 = rhs(theta + 0.5 * dt * k2)
        k4 = rhs(theta + dt * k3)
        theta = theta + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        out[s + 1] = theta - theta[0]
    return dt * np.arange(steps + 1), out
