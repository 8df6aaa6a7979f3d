"""The contract every physical network honours, simulated or real.

A backend is a stateful network of oscillators: its phases persist between calls,
as on hardware, so a settle starts from wherever the network is now. It may hold
several independent networks (a batch) that are driven in lockstep, one per
training seed; every array below has that batch as its leading axis.

Rules for implementers. Subclass :class:`Backend`, call ``super().__init__`` with
a :class:`BackendInfo`, and fill in the private hooks:

``_program(omega, coupling)``
    Apply frequencies and couplings (model units, already validated, either may be
    None) and return the values actually realised, shapes (batch, n) and
    (batch, m).
``_settle(theta0, reads)``
    Let the network settle, starting from ``theta0`` (batch, n) or, if None, from
    its current phases, under the nudge in ``self.nudge_state`` (None when off),
    and return a :class:`Measurement` whose phases average ``reads`` readings
    (None: the device's own default; a backend with an exact readout ignores
    it).
``_reset()``
    Return every phase to 0 (on hardware: re-lock from a common start).
``_snapshot()``
    Return a JSON-serialisable dict of settings for run records.

The public methods validate their arguments, keep the bookkeeping (counters,
nudge state, realised parameters) and log; the hooks never need to. Raw
actuator access for calibration (``set_codes``, ``measure_free_frequencies``)
is optional and raises :class:`UnsupportedOperation` unless a backend provides it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from kurahw.errors import KurahwError

__all__ = [
    "Backend",
    "BackendInfo",
    "Measurement",
    "NudgeState",
    "UnsupportedOperation",
]

log = logging.getLogger(__name__)


class UnsupportedOperation(KurahwError, NotImplementedError):
    """The backend has no such capability (for example actuator codes)."""


@dataclass(frozen=True)
class BackendInfo:
    """What a backend is: its structure, batch size and actuator limits.

    Attributes
    ----------
    name : str
        Short backend kind, e.g. ``"ideal"``.
    n : int
        Oscillators per network.
    edges : ndarray of int, shape (m, 2)
        Coupled pairs ``(i, j)``, ``i < j``; couplings are given in this order.
    inputs, hidden, outputs : tuple of int
        Node roles.
    input_gain : float
        Natural frequency of an input oscillator per unit of input feature.
    batch : int
        Independent networks driven in lockstep.
    omega_range, coupling_range : tuple of float
        Programmable range in model units (rad per unit time).
    omega_resolution, coupling_resolution, phase_resolution : float or None
        Smallest step of an actuator or of the phase readout (radians for
        phases); None for a continuous (ideal) quantity.
    can_preset_phases : bool
        Whether :meth:`Backend.settle` accepts a starting state ``theta0``. A real
        board can only start from where it is.
    nudge_forms : tuple of str
        The output drives it can apply, the preferred one first; a board can
        only inject.
    """

    name: str
    n: int
    edges: np.ndarray
    inputs: tuple[int, ...]
    hidden: tuple[int, ...]
    outputs: tuple[int, ...]
    input_gain: float
    batch: int
    omega_range: tuple[float, float] = (-np.inf, np.inf)
    coupling_range: tuple[float, float] = (0.0, np.inf)
    omega_resolution: float | None = None
    coupling_resolution: float | None = None
    phase_resolution: float | None = None
    can_preset_phases: bool = False
    nudge_forms: tuple[str, ...] = ("quadratic", "injection", "balanced-injection")

    @classmethod
    def of_batch(cls, name: str, batch, **limits) -> BackendInfo:
        """The info of a backend called ``name`` holding ``batch`` (a
        :class:`kurahw.network.NetworkBatch`): structure and roles from its
        template, ``limits`` for the remaining fields."""
        t = batch.template
        return cls(
            name=name,
            n=t.n,
            edges=t.edges,
            inputs=t.inputs,
            hidden=t.hidden,
            outputs=t.outputs,
            input_gain=t.input_gain,
            batch=batch.batch_size,
            **limits,
        )

    @property
    def n_edges(self) -> int:
        """Number of coupled pairs."""
        return len(self.edges)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "name": self.name,
            "n": self.n,
            "edges": np.asarray(self.edges).tolist(),
            "inputs": list(self.inputs),
            "hidden": list(self.hidden),
            "outputs": list(self.outputs),
            "input_gain": self.input_gain,
            "batch": self.batch,
            "omega_range": list(self.omega_range),
            "coupling_range": list(self.coupling_range),
            "omega_resolution": self.omega_resolution,
            "coupling_resolution": self.coupling_resolution,
            "phase_resolution": self.phase_resolution,
            "can_preset_phases": self.can_preset_phases,
            "nudge_forms": list(self.nudge_forms),
        }


@dataclass(frozen=True)
class NudgeState:
    """The output drive currently switched on.

    Attributes
    ----------
    targets : ndarray, shape (batch, p)
        Target phase per output node, in the order of ``info.outputs``.
    beta : ndarray, shape (batch,)
        Drive strength in force (after the device's quantisation, if any).
    form : {"quadratic", "injection", "balanced-injection"}
    """

    targets: np.ndarray
    beta: np.ndarray
    form: Literal["quadratic", "injection", "balanced-injection"] = "quadratic"


@dataclass(frozen=True)
class Measurement:
    """Phases after a settle and how much to trust them.

    Attributes
    ----------
    theta : ndarray, shape (batch, n)
        Phases relative to node 0, radians.
    residual : ndarray, shape (batch,)
        Max |dtheta/dt| over the free nodes (on hardware: the lock indicator,
        the residual frequency error), rad per unit time.
    stable : ndarray of bool, shape (batch,)
        Whether the state is a stable equilibrium.
    status : ndarray of int, shape (batch,)
        Backend-specific outcome code (for the ideal backend, the solver's
        :class:`kurahw.solver.Status`).
    """

    theta: np.ndarray
    residual: np.ndarray
    stable: np.ndarray
    status: np.ndarray | None = None


_FORMS = BackendInfo.nudge_forms


class Backend:
    """A physical network, simulated or real; see the module docstring."""

    def __init__(self, info: BackendInfo) -> None:
        self.info = info
        self.nudge_state: NudgeState | None = None
        self.settles = 0
        self._omega = np.zeros((info.batch, info.n))
        self._coupling = np.zeros((info.batch, info.n_edges))
        self._inputs = np.asarray(info.inputs, dtype=np.int64)

    # -- parameters -------------------------------------------------------------

    @property
    def omega(self) -> np.ndarray:
        """Natural frequencies as realised, shape (batch, n)."""
        return self._omega

    @property
    def coupling(self) -> np.ndarray:
        """Couplings as realised, shape (batch, m), in ``info.edges`` order."""
        return self._coupling

    def program(
        self, *, omega: np.ndarray | None = None, coupling: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Set natural frequencies and/or couplings, in model units.

        Parameters
        ----------
        omega : ndarray, shape (batch, n) or (n,), optional
            Every node's natural frequency, inputs included.
        coupling : ndarray, shape (batch, m) or (m,), optional

        Returns
        -------
        omega, coupling : ndarray
            The values actually realised (after quantisation, calibration and
            range limits), shapes (batch, n) and (batch, m).
        """
        info = self.info
        if omega is not None:
            omega = _as_batch("omega", omega, info.batch, info.n)
        if coupling is not None:
            coupling = _as_batch("coupling", coupling, info.batch, info.n_edges)
            if np.any(coupling < 0):
                b, e = np.argwhere(coupling < 0)[0]
                raise ValueError(
                    f"`coupling[{b}, {e}]` is {coupling[b, e]!r}; couplings must be "
                    ">= 0."
                )

        if omega is None and coupling is None:
            return self._omega, self._coupling
        self._omega, self._coupling = self._program(omega, coupling)
        return self._omega, self._coupling

    def set_inputs(self, features: np.ndarray) -> np.ndarray:
        """Drive the input oscillators with one sample's features per member.

        Parameters
        ----------
        features : ndarray, shape (batch, n_inputs) or (n_inputs,)
            Each input oscillator's natural frequency becomes
            ``info.input_gain * feature``.

        Returns
        -------
        ndarray, shape (batch, n)
            The realised natural frequencies.
        """
        x = _as_batch("features", features, self.info.batch, len(self.info.inputs))
        omega = self._omega.copy()
        omega[:, self._inputs] = self.info.input_gain * x
        self._omega, _ = self._program(omega, None)
        return self._omega

    # -- nudging ----------------------------------------------------------------

    def nudge(
        self,
        targets: np.ndarray,
        beta: float | np.ndarray,
        form: Literal["quadratic", "injection", "balanced-injection"] = "quadratic",
    ) -> None:
        """Switch on a pull of the outputs toward ``targets`` (radians).

        ``targets`` has shape (batch, p) or (p,); ``beta`` is a number or one per
        member. The quadratic form is the paper's ``-beta (theta - target)``; the
        injection form ``-beta sin(theta - target)`` is what a locking drive does;
        the balanced injection also drives node 0 with the opposite of the summed
        output injection, so that the nudge exerts no net torque (where node 0
        is a fixed reference, as in the paper's model, it is the injection).
        """
        if form not in _FORMS:
            raise ValueError(
                f"`form` is {form!r}; use one of {', '.join(map(repr, _FORMS))}."
            )
        if form not in self.info.nudge_forms:
            raise UnsupportedOperation(
                f"The {self.info.name!r} backend cannot apply a {form!r} nudge; it "
                f"nudges with {', '.join(map(repr, self.info.nudge_forms))}. Use "
                f"form={self.info.nudge_forms[0]!r} "
                f"(TrainConfig(nudge_form={self.info.nudge_forms[0]!r}))."
            )

        info = self.info
        t = _as_batch("targets", targets, info.batch, len(info.outputs))
        b = np.asarray(beta, dtype=float)
        if b.shape not in ((), (info.batch,)) or not np.all(np.isfinite(b)):
            raise ValueError(
                f"`beta` must be a finite number or {info.batch} of them, got {beta!r}."
            )

        b = np.broadcast_to(b, (info.batch,)).copy()
        self.nudge_state = NudgeState(t, b, form)

    def release(self) -> None:
        """Switch the output nudge off."""
        self.nudge_state = None

    @property
    def realised_beta(self) -> np.ndarray:
        """Nudge strength each member is driven with now, shape (batch,): the
        requested one unless the device quantises it; 0 when the nudge is off."""
        if self.nudge_state is None:
            return np.zeros(self.info.batch)
        return self.nudge_state.beta.copy()

    # -- settling ---------------------------------------------------------------

    def settle(
        self, theta0: np.ndarray | None = None, *, reads: int | None = None
    ) -> Measurement:
        """Let the network reach equilibrium and measure it.

        Parameters
        ----------
        theta0 : ndarray, shape (batch, n), optional
            Starting phases; only for backends with ``info.can_preset_phases``.
            By default the network starts from its current state.
        reads : int, optional
            Readings of the phases to average (independent readout noise each);
            by default the device's own setting. A backend whose readout is
            exact returns the same phases whatever this is.
        """
        if reads is not None and (
            isinstance(reads, bool)
            or not isinstance(reads, (int, np.integer))
            or reads < 1
        ):
            raise ValueError(
                f"`reads` is {reads!r}; give a whole number >= 1 of readings to "
                "average, or None for the device's default."
            )
        if theta0 is not None:
            if not self.info.can_preset_phases:
                raise UnsupportedOperation(
                    f"The {self.info.name!r} backend cannot start a settle from "
                    "given phases; call settle() without `theta0` (it starts from "
                    "the current state) or reset() first."
                )
            theta0 = _as_batch("theta0", theta0, self.info.batch, self.info.n)

        self.settles += 1
        return self._settle(theta0, None if reads is None else int(reads))

    def reset(self) -> None:
        """Bring every phase back to 0."""
        self._reset()

    # -- records and raw access -------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Settings of this backend, JSON-serialisable, for run records."""
        return {
            "info": self.info.to_dict(),
            "settles": self.settles,
            **self._snapshot(),
        }

    def set_codes(self, omega_codes=None, coupling_codes=None) -> None:
        """Write raw actuator codes (calibration access)."""
        raise UnsupportedOperation(
            f"The {self.info.name!r} backend has no actuator codes to set."
        )

    def measure_free_frequencies(self) -> np.ndarray:
        """Free-running frequencies with couplings off (calibration access)."""
        raise UnsupportedOperation(
            f"The {self.info.name!r} backend cannot measure free-running frequencies."
        )

    def close(self) -> None:
        """Release the hardware or resources held (nothing by default)."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- hooks ------------------------------------------------------------------

    def _program(self, omega, coupling):  # pragma: no cover - abstract
        raise NotImplementedError

    def _settle(self, theta0, reads):  # pragma: no cover - abstract
        raise NotImplementedError

    def _reset(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _snapshot(self) -> dict[str, Any]:
        return {}


def _as_batch(name: str, value, batch: int, width: int) -> np.ndarray:
    """A finite float copy of ``value`` with shape (batch, width)."""
    arr = np.asarray(value, dtype=float)
    if arr.shape == (width,):
        arr = np.broadcast_to(arr, (batch, width))
    elif arr.shape != (batch, width):
        raise ValueError(
            f"`{name}` has shape {arr.shape}; expected ({batch}, {width}) or "
            f"({width},)."
        )

    # The sum of finite numbers is finite (short of overflow, which is no
    # sensible input either), and one reduction is much cheaper than two.
    if not np.isfinite(arr.sum()):
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    return np.array(arr)
