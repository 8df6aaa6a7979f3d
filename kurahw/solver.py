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

from kurahw import _kernels, _kernels_batch
from kurahw.errors import NetworkError, NotConvergedError
from kurahw.network import Network, NetworkBatch

__all__ = ["Equilibrium", "Nudge", "Solver", "Status", "solve"]

#: Above this many nodes a single symmetric network is solved with sparse algebra.
SPARSE_THRESHOLD = 400
#: From this batch size on, the kernel that vectorises across members is used.
LANES_MIN_BATCH = 16
#: From this batch size on, that kernel also splits the batch over threads.
LANES_PARALLEL_BATCH = 512


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

_STATUS = tuple(Status)

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
        if not np.isfinite(targets.sum()):
            raise ValueError("`targets` contains NaN or infinite values.")
        if not np.isfinite(beta.sum()):
            raise ValueError(f"`beta` must be finite, got {self.beta!r}.")

        object.__setattr__(self, "targets", targets)
        object.__setattr__(self, "beta", beta)

    def negated(self) -> Nudge:
        """The same nudge with ``-beta``."""
        return Nudge(self.targets, -self.beta, self.form)


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

    __slots__ = ("iterations", "residual", "status", "theta")

    def __init__(self, theta, residual, iterations, status) -> None:
        self.theta = theta
        self.residual = residual
        self.iterations = iterations
        self.status = status

    def __repr__(self) -> str:
        return (
            f"Equilibrium(status={self.status!r}, residual={self.residual!r}, "
            f"iterations={self.iterations!r}, theta={self.theta!r})"
        )

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


class Solver:
    """Repeated solves of one network or batch, with the set-up done once.

    Validation of the structure, edge arrays and work buffers are prepared at
    construction, so that :meth:`solve` costs little more than the Newton
    iterations themselves; a trainer or a backend keeps one per network. See
    :func:`solve` for the meaning of the arguments.
    """

    def __init__(
        self,
        network: Network | NetworkBatch,
        *,
        tol: float = 1e-10,
        max_iter: int = 100,
        method: Literal["auto", "dense", "sparse", "general"] = "auto",
    ) -> None:
        if not (np.isfinite(tol) and tol > 0):
            raise ValueError(f"`tol` must be a positive number, got {tol!r}.")
        if int(max_iter) != max_iter or max_iter < 0:
            raise ValueError(
                f"`max_iter` must be a whole number >= 0, got {max_iter!r}."
            )

        self.network = network
        self.batched = isinstance(network, NetworkBatch)
        template = network.template if self.batched else network
        self.template = template
        self.n = template.n
        self.batch = network.batch_size if self.batched else 1
        self.tol = float(tol)
        self.max_iter = int(max_iter)

        if method == "auto":
            if not template.is_symmetric:
                method = "general"
            elif self.n > SPARSE_THRESHOLD and self.batch == 1:
                method = "sparse"
            else:
                method = "dense"
        if method not in ("dense", "sparse", "general"):
            raise ValueError(
                f"`method` is {method!r}; use 'auto', 'dense', 'sparse' or 'general'."
            )
        if method != "general" and not template.is_symmetric:
            raise NetworkError(
                "This network has asymmetric couplings, which have no energy to "
                "descend; use method='general' (or 'auto')."
            )
        self.method = method

        coupling = network.coupling if self.batched else network.coupling[None, :]
        self._coupling = np.ascontiguousarray(coupling, dtype=float)
        self._omega = np.ascontiguousarray(
            network.omega if self.batched else network.omega[None, :], dtype=float
        )
        self._ei = np.ascontiguousarray(template.edges[:, 0])
        self._ej = np.ascontiguousarray(template.edges[:, 1])
        self._out = np.asarray(template.outputs, dtype=np.int64)
        self._no_targets = np.zeros((self.batch, self._out.size))
        self._no_beta = np.zeros(self.batch)
        self._kernel, self._kernel_extra = _dense_kernel(self.batch, template.n_edges)

    def set_parameters(
        self, *, coupling: np.ndarray | None = None, omega: np.ndarray | None = None
    ) -> None:
        """Replace the couplings or the base natural frequencies in place.

        For a trainer that updates parameters between solves without building a
        new solver. ``coupling`` has shape (m,) or (batch, m), ``omega`` (n,) or
        (batch, n). Couplings must stay finite and >= 0; if any becomes 0 the
        graph is checked for connectivity again.
        """
        if coupling is not None:
            m = self.template.n_edges
            k = _batched("coupling", coupling, self.batch, m, self.batched)
            if not np.isfinite(k.sum()) or k.min() < 0:
                raise NetworkError(
                    "`coupling` must be finite and >= 0; got min "
                    f"{np.nanmin(k)!r} and {int(np.sum(~np.isfinite(k)))} "
                    "non-finite entries."
                )
            if k.min() == 0:
                from kurahw.network import _check_connected

                for b in range(self.batch):
                    _check_connected(
                        self.n, self.template.edges, k[b] > 0, f"Batch member {b}"
                    )
            self._coupling = np.array(k, dtype=float)

        if omega is not None:
            om = _batched("omega", omega, self.batch, self.n, self.batched)
            if not np.isfinite(om.sum()):
                raise ValueError("`omega` contains NaN or infinite values.")
            self._omega = np.array(om, dtype=float)

    def solve(
        self,
        theta0: np.ndarray | None = None,
        *,
        omega: np.ndarray | None = None,
        centered: bool = False,
        nudge: Nudge | None = None,
    ) -> Equilibrium:
        """Solve from ``theta0`` (see :func:`solve`)."""
        batch, n = self.batch, self.n
        if omega is None:
            raw = self._omega
        else:
            raw = _batched("omega", omega, batch, n, self.batched)
        if theta0 is None:
            theta = np.zeros((batch, n))
        else:
            theta = np.array(_batched("theta0", theta0, batch, n, self.batched))
        if nudge is None:
            form, targets, beta = _kernels.NUDGE_NONE, self._no_targets, self._no_beta
        else:
            form, targets, beta = _nudge_arrays(
                nudge, batch, self._out.size, self.batched
            )

        residual = np.empty(batch)
        iterations = np.zeros(batch, dtype=np.int64)
        status = np.empty(batch, dtype=np.int64)
        if self.method == "dense":
            worst = self._kernel(
                self._ei, self._ej, self._coupling, raw, not centered, self._out,
                targets, beta, form, theta, self.tol, self.max_iter, residual,
                iterations, status, *self._kernel_extra,
            )  # fmt: skip
            if worst > _kernels.NONFINITE:
                _raise_bad_input(status)
        else:
            from kurahw import _sparse

            _check_finite(raw, theta)
            theta -= theta[:, :1]
            engine = (
                _sparse.solve_sparse
                if self.method == "sparse"
                else _sparse.solve_general
            )
            omega_c = raw if centered else raw - raw.mean(axis=1, keepdims=True)
            for b in range(batch):
                theta[b], residual[b], iterations[b], status[b] = engine(
                    self.template.edges,
                    self._coupling[b],
                    self.template.coupling_reverse,
                    omega_c[b],
                    self._out,
                    targets[b],
                    beta[b],
                    form,
                    theta[b],
                    self.tol,
                    self.max_iter,
                )

        if self.batched:
            return Equilibrium(theta, residual, iterations, status)
        return Equilibrium(
            theta[0], float(residual[0]), int(iterations[0]), _STATUS[status[0]]
        )


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

    For many solves of the same network, keep a :class:`Solver`.
    """
    solver = Solver(network, tol=tol, max_iter=max_iter, method=method)
    return solver.solve(theta0, omega=omega, centered=centered, nudge=nudge)


def _dense_kernel(batch: int, n_edges: int):
    """The compiled kernel for a batch, and the extra arguments it takes.

    Small batches go member by member; from ``LANES_MIN_BATCH`` on, members are
    held side by side so that the arithmetic runs in SIMD lanes. Threads are
    used only where they pay for their start-up.
    """
    chunks = _kernels.default_chunks(batch, n_edges)
    if batch >= LANES_MIN_BATCH:
        if batch >= LANES_PARALLEL_BATCH and chunks > 1:
            return _kernels_batch.solve_batch_lanes_parallel, (chunks,)
        return _kernels_batch.solve_batch_lanes, ()
    if chunks > 1:
        return _kernels.solve_batch_parallel, (chunks,)
    return _kernels.solve_batch, ()


def _batched(name: str, value, batch: int, n: int, batched: bool) -> np.ndarray:
    """``value`` as a C-contiguous float array of shape (batch, n); finiteness is
    checked by the kernel (or by ``_check_finite`` on the other engines)."""
    arr = value if type(value) is np.ndarray else np.asarray(value, dtype=float)
    if arr.dtype != np.float64:
        arr = arr.astype(float)

    if arr.shape == (n,):
        if batch == 1:
            return arr.reshape(1, n) if arr.flags.c_contiguous else arr.copy()[None]
        return np.tile(arr, (batch, 1))
    if batched and arr.shape == (batch, n):
        return np.ascontiguousarray(arr)
    want = f"({n},) or ({batch}, {n})" if batched else f"({n},)"
    raise ValueError(f"`{name}` has shape {arr.shape}; expected {want}.")


def _check_finite(omega: np.ndarray, theta: np.ndarray) -> None:
    if not np.all(np.isfinite(omega)):
        _raise_bad_input(np.array([_kernels.BAD_OMEGA]))
    if not np.all(np.isfinite(theta)):
        _raise_bad_input(np.array([_kernels.BAD_THETA]))


def _raise_bad_input(status: np.ndarray) -> None:
    member = int(np.argmax(status > _kernels.NONFINITE))
    name = "omega" if status[member] == _kernels.BAD_OMEGA else "theta0"
    raise ValueError(
        f"`{name}` contains NaN or infinite values (batch member {member}); give "
        "finite numbers."
    )


def _nudge_arrays(nudge: Nudge, batch: int, p: int, batched: bool):
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

    if batch == 1:
        return _FORMS[nudge.form], targets.reshape(1, p), beta.reshape(1)
    if targets.ndim == 1:
        targets = np.tile(targets, (batch, 1))
    elif not targets.flags.c_contiguous:
        targets = np.ascontiguousarray(targets)
    beta = np.full(batch, float(beta)) if beta.ndim == 0 else np.ascontiguousarray(beta)
    return _FORMS[nudge.form], targets, beta
