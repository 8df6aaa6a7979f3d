"""Equilibrium solver: stable phase-locked states of free and nudged networks.

Solves the rotating-frame fixed point of

    dtheta_i/dt = omega_i + sum_j K_ij sin(theta_j - theta_i)  [- nudge on outputs]

in reduced coordinates (node 0 pinned at phase 0, frequencies mean-centred) by
Newton's method with the analytic Jacobian, globalised by a backtracking line
search on the energy. Every result carries a stability verdict; an unstable root
is reported as such, never as an equilibrium.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

import numpy as np

from kurahw import _kernels
from kurahw.errors import NetworkError, NotConvergedError
from kurahw.network import Network, NetworkBatch

__all__ = ["Equilibrium", "Nudge", "Status", "solve"]

#: Above this many nodes a single symmetric network is solved with sparse algebra.
SPARSE_THRESHOLD = 400


class Status(enum.IntEnum):
    """Outcome of one solve."""

    CONVERGED = _kernels.CONVERGED
    """Residual below tolerance at a stable equilibrium."""
    UNSTABLE = _kernels.UNSTABLE
    """Residual below tolerance, but the root is not stable (a saddle or maximum)."""
    MAX_ITER = _kernels.MAX_ITER
    """Iteration budget spent before the residual reached the tolerance."""
    STALLED = _kernels.STALLED
    """No step along the search direction lowered the energy or the residual."""
    NONFINITE = _kernels.NONFINITE
    """Phases or residual became NaN or infinite."""


_MESSAGES = {
    Status.CONVERGED: "converged to a stable equilibrium",
    Status.UNSTABLE: "converged to an unstable fixed point",
    Status.MAX_ITER: "iteration limit reached before convergence",
    Status.STALLED: "line search could not make progress",
    Status.NONFINITE: "non-finite phases or residual",
}

_FORMS = {"quadratic": _kernels.NUDGE_QUADRATIC, "injection": _kernels.NUDGE_INJECTION}


@dataclass(frozen=True)
class Nudge:
    """A weak pull of the output oscillators toward target phases.

    Parameters
    ----------
    targets : ndarray, shape (p,) or (batch, p)
        Target phase of each output node, in the order of ``network.outputs``.
    beta : float or ndarray of shape (batch,)
        Nudge strength (rad per unit time per rad); may be negative for the
        second half of a centred estimate.
    form : {"quadratic", "injection"}
        ``-beta (theta - target)`` as in the paper, or the injection-locking force
        ``-beta sin(theta - target)`` that a physical drive produces.
    """

    targets: np.ndarray
    beta: float | np.ndarray
    form: Literal["quadratic", "injection"] = "quadratic"

    def __post_init__(self) -> None:
        if self.form not in _FORMS:
            raise ValueError(
                f"`form` is {self.form!r}; use 'quadratic' or 'injection'."
            )
        targets = np.asarray(self.targets, dtype=float)
        beta = np.asarray(self.beta, dtype=float)
        if not np.all(np.isfinite(targets)):
            raise ValueError("`targets` contains NaN or infinite values.")
        if not np.all(np.isfinite(beta)):
            raise ValueError(f"`beta` must be finite, got {self.beta!r}.")
        object.__setattr__(self, "targets", targets)
        object.__setattr__(self, "beta", beta)

    def negated(self) -> Nudge:
        """The same nudge with ``-beta``."""
        return Nudge(self.targets, -self.beta, self.form)


@dataclass(frozen=True)
class Equilibrium:
    """Result of :func:`solve`.

    Scalars for a single network; arrays with a leading batch axis for a batch.

    Attributes
    ----------
    theta : ndarray, shape (n,) or (batch, n)
        Phases relative to node 0 (``theta[..., 0] == 0``), in radians.
    residual : float or ndarray, shape (batch,)
        Max |dtheta/dt| over the free nodes at ``theta``.
    iterations : int or ndarray, shape (batch,)
        Newton iterations taken.
    status : Status or ndarray of int, shape (batch,)
    """

    theta: np.ndarray
    residual: float | np.ndarray
    iterations: int | np.ndarray
    status: Status | np.ndarray

    @property
    def ok(self) -> bool | np.ndarray:
        """True where a stable equilibrium was found."""
        return (
            np.asarray(self.status) == Status.CONVERGED
            if np.ndim(self.status)
            else self.status == Status.CONVERGED
        )

    @property
    def message(self) -> str | list[str]:
        """Human-readable status."""
        if np.ndim(self.status):
            return [_MESSAGES[Status(int(s))] for s in self.status]
        return _MESSAGES[Status(int(self.status))]

    def raise_for_status(self) -> Equilibrium:
        """Return ``self`` if every solve converged, else raise NotConvergedError."""
        bad = np.flatnonzero(np.atleast_1d(np.asarray(self.status) != Status.CONVERGED))
        if bad.size:
            msgs = np.atleast_1d(self.message)
            res = np.atleast_1d(self.residual)
            raise NotConvergedError(
                f"{bad.size} solve(s) failed; first: member {int(bad[0])}, "
                f"{msgs[bad[0]]} (residual {res[bad[0]]:.3g})."
            )
        return self


def solve(
    network: Network | NetworkBatch,
    theta0: np.ndarray | None = None,
    *,
    omega: np.ndarray | None = None,
    centered: bool = False,
    nudge: Nudge | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
    method: Literal["auto", "dense", "sparse", "general"] = "auto",
) -> Equilibrium:
    """Find the stable equilibrium reached from ``theta0``.

    Parameters
    ----------
    network : Network or NetworkBatch
    theta0 : ndarray, shape (n,) or (batch, n), optional
        Start (a warm start); zeros if omitted. Taken relative to node 0, so a
        start shifted by a common angle is the same start.
    omega : ndarray, shape (n,) or (batch, n), optional
        Raw natural frequencies to use instead of the network's own (for example
        with the inputs of one sample written in). Mean-centred here unless
        ``centered``.
    centered : bool
        ``omega`` is already the centred vector of the pinned frame and is used
        as given (node 0's entry is inert there). This perturbs one centred
        frequency without the rank-one shift that re-centring would add.
    nudge : Nudge, optional
        Pull the outputs toward targets (the nudged phase of EP).
    tol : float
        Convergence threshold on the max |dtheta/dt| of the free nodes.
    max_iter : int
        Newton iteration budget per member.
    method : {"auto", "dense", "sparse", "general"}
        ``dense``: compiled batched Newton; ``sparse``: sparse factorisation for one
        large network; ``general``: dense LU for asymmetric couplings (residual
        merit function, since no energy exists). ``auto`` picks for you.

    Returns
    -------
    Equilibrium
        Failure to converge is a status in the result, not an exception; call
        :meth:`Equilibrium.raise_for_status` to turn it into one.
    """
    batched = isinstance(network, NetworkBatch)
    template = network.template if batched else network
    n = template.n
    batch = network.batch_size if batched else 1
    coupling = network.coupling if batched else network.coupling[None, :]
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"`tol` must be a positive number, got {tol!r}.")
    if int(max_iter) != max_iter or max_iter < 0:
        raise ValueError(f"`max_iter` must be a whole number >= 0, got {max_iter!r}.")

    raw = (
        network.omega if omega is None else _batched("omega", omega, batch, n, batched)
    )
    if raw.ndim == 1:
        raw = raw[None, :]
    omega_c = raw if centered else raw - raw.mean(axis=1, keepdims=True)
    omega_c = np.ascontiguousarray(omega_c, dtype=float)
    if theta0 is None:
        theta = np.zeros((batch, n))
    else:
        # Only phase differences are physical: re-reference the start to node 0.
        theta = _batched("theta0", theta0, batch, n, batched).reshape(batch, n)
        theta = theta - theta[:, :1]
    out_idx = np.asarray(template.outputs, dtype=np.int64)
    form, targets, beta = _nudge_arrays(nudge, batch, out_idx.size, batched)

    if method == "auto":
        if not template.is_symmetric:
            method = "general"
        elif n > SPARSE_THRESHOLD and batch == 1:
            method = "sparse"
        else:
            method = "dense"
    if method not in ("dense", "sparse", "general"):
        raise ValueError(
            f"`method` is {method!r}; use 'auto', 'dense', 'sparse' or 'general'."
        )
    if method != "general" and not template.is_symmetric:
        raise NetworkError(
            "This network has asymmetric couplings, which have no energy to descend; "
            "use method='general' (or 'auto')."
        )

    residual = np.empty(batch)
    iterations = np.zeros(batch, dtype=np.int64)
    status = np.empty(batch, dtype=np.int64)
    if method == "dense":
        _solve_dense(
            template,
            coupling,
            omega_c,
            out_idx,
            targets,
            beta,
            form,
            theta,
            tol,
            int(max_iter),
            residual,
            iterations,
            status,
        )
    else:
        from kurahw import _sparse

        engine = _sparse.solve_sparse if method == "sparse" else _sparse.solve_general
        for b in range(batch):
            reverse = template.coupling_reverse
            theta[b], residual[b], iterations[b], status[b] = engine(
                template.edges,
                coupling[b],
                reverse,
                omega_c[b],
                out_idx,
                targets[b],
                beta[b],
                form,
                theta[b],
                tol,
                int(max_iter),
            )

    if batched:
        return Equilibrium(theta, residual, iterations, status)
    return Equilibrium(
        theta[0], float(residual[0]), int(iterations[0]), Status(int(status[0]))
    )


def _solve_dense(
    template,
    coupling,
    omega_c,
    out_idx,
    targets,
    beta,
    form,
    theta,
    tol,
    max_iter,
    residual,
    iterations,
    status,
) -> None:
    ei = np.ascontiguousarray(template.edges[:, 0])
    ej = np.ascontiguousarray(template.edges[:, 1])
    batch = theta.shape[0]
    _kernels.solve_batch(
        ei,
        ej,
        np.ascontiguousarray(coupling),
        np.ascontiguousarray(omega_c),
        out_idx,
        targets,
        beta,
        form,
        theta,
        tol,
        max_iter,
        residual,
        iterations,
        status,
        min(batch, _kernels.default_chunks(batch, template.n_edges)),
    )


def _batched(name: str, value, batch: int, n: int, batched: bool) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    ok = arr.shape == (n,) or (batched and arr.shape == (batch, n))
    if not ok:
        want = f"({n},) or ({batch}, {n})" if batched else f"({n},)"
        raise ValueError(f"`{name}` has shape {arr.shape}; expected {want}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    return np.broadcast_to(arr, (batch, n)) if batched else arr


def _nudge_arrays(nudge: Nudge | None, batch: int, p: int, batched: bool):
    if nudge is None:
        return _kernels.NUDGE_NONE, np.zeros((batch, p)), np.zeros(batch)
    if p == 0:
        raise NetworkError("This network has no outputs to nudge; set `outputs`.")
    targets = nudge.targets
    if targets.shape not in ((p,), (batch, p)) or (targets.ndim == 2 and not batched):
        want = f"({p},) or ({batch}, {p})" if batched else f"({p},)"
        raise ValueError(
            f"`nudge.targets` has shape {targets.shape}; expected {want}, one target "
            "per output node."
        )
    beta = nudge.beta
    if beta.shape not in ((), (batch,)) or (beta.ndim == 1 and not batched):
        raise ValueError(
            f"`nudge.beta` has shape {beta.shape}; give a number"
            + (f" or one per member, shape ({batch},)." if batched else ".")
        )
    return (
        _FORMS[nudge.form],
        np.ascontiguousarray(np.broadcast_to(targets, (batch, p)), dtype=float),
        np.ascontiguousarray(np.broadcast_to(beta, (batch,)), dtype=float),
    )
