"""The emulator backend: a simulated oscillator board with the flaws of a real one.

Frequencies and couplings go through integer-coded actuators with mismatch and
nonlinearity the host does not know, outputs are nudged by injection locking,
the network settles under phase noise for a fixed time, phases are read through
a time-to-digital converter, and the board drifts with temperature. Every
effect is drawn from one seed and switched off by setting its figure to 0 or
None; ``docs/emulator.md`` gives the model and the sources of its defaults.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
from scipy.special import ndtri

from kurahw import _kernels as _k
from kurahw import _kernels_sde, _sparse
from kurahw.backends.base import Backend, BackendInfo, Measurement, UnsupportedOperation
from kurahw.network import Network, NetworkBatch
from kurahw.solver import Nudge, Solver, Status

__all__ = [
    "PRESETS",
    "Codes",
    "DeviceModel",
    "EmulatorBackend",
    "SetpointClippedWarning",
]

log = logging.getLogger(__name__)

#: Names accepted by :meth:`DeviceModel.from_preset`.
PRESETS = ("ideal", "typical-bench", "paper-tdc")

_TWO_PI = 2.0 * math.pi
# Largest per-channel cubic coefficient: u + a (u**3 - u) is monotone on
# [-1, 1] for -1/2 < a < 1, and this keeps a margin.
_MAX_CUBIC = 0.45
# Smallest per-edge gain factor, so that a wide mismatch figure never makes a
# coupling negative.
_MIN_EDGE_GAIN = 0.1
# Euler steps are split until h * (Gershgorin bound on the stiffest rate)
# is at most this, so that the stiffest mode decays without oscillating.
_STIFF_LIMIT = 1.0


class SetpointClippedWarning(UserWarning):
    """A requested frequency, coupling or nudge was outside the board's range
    and was clipped to it (only with ``clip=True``)."""


class Codes(NamedTuple):
    """Raw actuator codes; None for a continuous (uncoded) actuator.

    Attributes
    ----------
    omega : ndarray of int64, shape (batch, n), or None
    coupling : ndarray of int64, shape (batch, m), or None
    """

    omega: np.ndarray | None
    coupling: np.ndarray | None


@dataclass(frozen=True)
class DeviceModel:
    """The figures of an emulated board. The defaults are the ``"typical-bench"``
    preset; an effect is off when its figure is 0 or None.

    Model units are the paper's: frequencies and couplings in rad per unit
    time, phases in radians. ``docs/emulator.md`` maps them to a 1 GHz board
    with a time unit of 100 ns.

    Attributes
    ----------
    omega_bits : int or None
        Resolution of the frequency actuators; None for continuous ones.
    omega_range : tuple of float
        Programmable natural frequencies ``(low, high)``, rad per unit time.
    omega_gain_mismatch : float
        Standard deviation of each channel's relative gain error.
    omega_offset_mismatch : float
        Standard deviation of each channel's frequency offset, rad per unit
        time.
    omega_nonlinearity : float
        Standard deviation of each channel's cubic coefficient ``a`` in the
        true map ``u + a (u**3 - u)`` of the normalised nominal frequency
        ``u`` in [-1, 1] (an integral nonlinearity of at most 0.385 ``a``
        half-ranges, zero at both ends and the middle); ``|a|`` is capped at
        0.45 so that every channel stays monotone.
    coupling_bits : int or None
        Resolution of the coupling actuators; None for continuous ones.
    coupling_range : tuple of float
        Programmable couplings ``(low, high)``, rad per unit time.
    coupling_gain_mismatch : float
        Standard deviation of each edge's relative gain error.
    coupling_asymmetry : float
        Standard deviation of each edge's relative difference
        ``(K_ij - K_ji) / K``.
    nudge_bits : int or None
        Resolution of the injection strength; None for continuous.
    nudge_max : float
        Largest injection strength ``|beta|``.
    settle_time : float or None
        Time a settle lasts (model units). None: settle by an exact solve of
        the paper's model instead of integrating the dynamics.
    dt : float
        Integration step (split further where the couplings are stiff).
    phase_noise : float
        Phase noise of every oscillator, rad per sqrt(time unit); needs
        ``settle_time``.
    lock_window : float
        Fraction of the settle, at its end, over which lock is measured.
    lock_tolerance : float
        A settle is ``stable`` when its lock indicator is below this (rad per
        unit time).
    tdc_lsb_s : float or None
        Time step of the phase readout, seconds; None or 0 for none.
    tdc_jitter_s : float
        Standard deviation of the readout's timing jitter, seconds.
    carrier_hz : float
        Oscillator frequency that turns readout times into phases,
        ``phase = 2 pi carrier_hz t``.
    reads : int
        Readings averaged per measurement (independent jitter each).
    temperature_step_k : float
        Standard deviation of the board temperature's random step per
        settle, kelvin.
    tempco : float
        Standard deviation of each channel's frequency temperature
        coefficient, rad per unit time per kelvin.
    start_temperature_k : float
        Board temperature at construction, kelvin.
    freq_gate_time : float
        Gate time of :meth:`EmulatorBackend.measure_free_frequencies`,
        model units.
    preset : str or None
        Name of the preset these figures are, None for custom figures.
    """

    omega_bits: int | None = 12
    omega_range: tuple[float, float] = (-4.0, 4.0)
    omega_gain_mismatch: float = 0.02
    omega_offset_mismatch: float = 0.05
    omega_nonlinearity: float = 0.005
    coupling_bits: int | None = 6
    coupling_range: tuple[float, float] = (0.0, 8.0)
    coupling_gain_mismatch: float = 0.03
    coupling_asymmetry: float = 0.01
    nudge_bits: int | None = 8
    nudge_max: float = 0.5
    settle_time: float | None = 10.0
    dt: float = 0.02
    phase_noise: float = 0.02
    lock_window: float = 0.2
    lock_tolerance: float = 0.02
    tdc_lsb_s: float | None = 5e-12
    tdc_jitter_s: float = 2e-12
    carrier_hz: float = 1e9
    reads: int = 1
    temperature_step_k: float = 0.005
    tempco: float = 0.005
    start_temperature_k: float = 298.15
    freq_gate_time: float = 100.0
    preset: str | None = None

    def __post_init__(self) -> None:
        for name in ("omega_bits", "coupling_bits", "nudge_bits"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or int(value) != value or not 1 <= value <= 24
            ):
                raise ValueError(
                    f"`{name}` is {value!r}; give a whole number of bits from 1 to 24, "
                    "or None for a continuous actuator."
                )
            if value is not None:
                object.__setattr__(self, name, int(value))

        for name in ("omega_range", "coupling_range"):
            lo, hi = (float(v) for v in getattr(self, name))
            if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
                raise ValueError(
                    f"`{name}` is {getattr(self, name)!r}; give finite (low, high) "
                    "with low < high."
                )
            object.__setattr__(self, name, (lo, hi))
        if self.coupling_range[0] < 0:
            raise ValueError(
                f"`coupling_range` starts at {self.coupling_range[0]!r}; couplings "
                "cannot be negative, start it at 0 or above."
            )

        for name in (
            "omega_gain_mismatch",
            "omega_offset_mismatch",
            "omega_nonlinearity",
            "coupling_gain_mismatch",
            "coupling_asymmetry",
            "phase_noise",
            "tdc_jitter_s",
            "temperature_step_k",
            "tempco",
        ):
            _non_negative(name, getattr(self, name))
        for name in ("nudge_max", "dt", "lock_tolerance", "carrier_hz"):
            _positive(name, getattr(self, name))
        _positive("freq_gate_time", self.freq_gate_time)
        _positive("start_temperature_k", self.start_temperature_k)
        if self.tdc_lsb_s is not None:
            _non_negative("tdc_lsb_s", self.tdc_lsb_s)
        if not 0 < self.lock_window <= 1:
            raise ValueError(
                f"`lock_window` is {self.lock_window!r}; give the fraction of the "
                "settle to measure lock over, in (0, 1]."
            )
        reads = self.reads
        if isinstance(reads, bool) or int(reads) != reads or reads < 1:
            raise ValueError(f"`reads` is {reads!r}; give a whole number >= 1.")
        object.__setattr__(self, "reads", int(self.reads))

        if self.settle_time is None:
            if self.phase_noise > 0:
                raise ValueError(
                    f"`phase_noise` is {self.phase_noise!r} but `settle_time` is None "
                    "(an exact solve has no dynamics to add noise to); give a "
                    "`settle_time` or set `phase_noise` to 0."
                )
        else:
            _positive("settle_time", self.settle_time)
            if round(self.settle_time / self.dt) < 2:
                raise ValueError(
                    f"`settle_time` is {self.settle_time!r} with `dt` "
                    f"{self.dt!r}; a settle needs at least 2 steps, so give "
                    "settle_time >= 2 dt."
                )

    @classmethod
    def from_preset(cls, name: str) -> DeviceModel:
        """The figures of a named preset (see :data:`PRESETS`).

        ``"ideal"``: every effect off and exact settles; the emulator then
        agrees with :class:`~kurahw.backends.IdealBackend` under the injection
        nudge. ``"typical-bench"``: the defaults of this class, moderate
        figures of a 1 GHz CMOS board. ``"paper-tdc"``: exact settles and only
        1 ps of readout jitter at a 3 GHz carrier, the setting of the paper's
        released phase-noise script.
        """
        if name == "typical-bench":
            return cls(preset=name)
        off = {
            "omega_bits": None,
            "omega_gain_mismatch": 0.0,
            "omega_offset_mismatch": 0.0,
            "omega_nonlinearity": 0.0,
            "coupling_bits": None,
            "coupling_gain_mismatch": 0.0,
            "coupling_asymmetry": 0.0,
            "nudge_bits": None,
            "settle_time": None,
            "phase_noise": 0.0,
            "tdc_lsb_s": None,
            "tdc_jitter_s": 0.0,
            "temperature_step_k": 0.0,
            "tempco": 0.0,
        }
        if name == "ideal":
            return cls(**off, preset=name)
        if name == "paper-tdc":
            return cls(**{**off, "tdc_jitter_s": 1e-12, "carrier_hz": 3e9}, preset=name)
        raise ValueError(
            f"`preset` is {name!r}; available presets: {', '.join(PRESETS)}."
        )

    def replace(self, **changes) -> DeviceModel:
        """A copy with some figures changed (validated again). Unless
        ``preset`` is among the changes, a copy whose figures differ is no
        longer a preset and has ``preset=None``."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(
                f"Unknown figure(s) {sorted(unknown)}; DeviceModel has "
                f"{[f.name for f in dataclasses.fields(self)]}."
            )

        new = dataclasses.replace(self, **changes)
        if "preset" not in changes and _figures(new) != _figures(self):
            new = dataclasses.replace(new, preset=None)
        return new

    @property
    def phase_lsb_rad(self) -> float:
        """Readout quantisation step in radians (0 when off)."""
        return _TWO_PI * self.carrier_hz * (self.tdc_lsb_s or 0.0)

    @property
    def phase_jitter_rad(self) -> float:
        """Standard deviation of one reading's jitter in radians."""
        return _TWO_PI * self.carrier_hz * self.tdc_jitter_s

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        out = dataclasses.asdict(self)
        for name in ("omega_range", "coupling_range"):
            out[name] = list(out[name])
        return out


def _figures(model: DeviceModel) -> dict[str, Any]:
    out = dataclasses.asdict(model)
    out.pop("preset")
    return out


def _non_negative(name: str, value) -> None:
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(
            f"`{name}` is {value!r}; give a finite number >= 0 (0 switches the "
            "effect off)."
        )


def _positive(name: str, value) -> None:
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"`{name}` is {value!r}; give a finite number > 0.")


class EmulatorBackend(Backend):
    """B emulated oscillator boards driven in lockstep, one per batch member.

    Parameters
    ----------
    networks : Network or NetworkBatch
        Structure and starting parameters; members share one structure. The
        starting frequencies and couplings are programmed like any request
        (quantised, and range-checked under the ``clip`` policy).
    model : DeviceModel or str
        The board's figures, or a preset name from :data:`PRESETS`.
    seed : int or sequence of int
        One number for the whole batch (member ``b`` draws from the pair
        ``(seed, b)``), or one per member. A member's mismatch, noise and drift
        depend only on its own seed, never on the other members.
    clip : bool
        Clip out-of-range frequency, coupling and nudge requests to the range
        with a :class:`SetpointClippedWarning` instead of raising ValueError.
    tol, max_iter : float, int
        Tolerance and iteration budget of the exact solve (``settle_time``
        None).

    Notes
    -----
    The host programs nominal values: each request becomes the code whose
    nominal value is nearest, and :meth:`program` returns those nominal values.
    The dynamics run on the true values, which differ by the mismatch,
    nonlinearity, asymmetry and drift drawn from the seed; the board cannot
    preset phases and nudges by injection only. In exact mode (``settle_time``
    None) a settle solves the paper's model with node 0 as the fixed
    reference; the integrated dynamics instead lock the injection to node 0's
    phase, which leaves node 0 free, so a nudged state differs between the two
    by a term of order ``beta`` (see ``docs/emulator.md``).
    """

    def __init__(
        self,
        networks: Network | NetworkBatch,
        model: DeviceModel | str = "typical-bench",
        *,
        seed: int | Sequence[int] = 0,
        clip: bool = False,
        tol: float = 1e-10,
        max_iter: int = 100,
    ) -> None:
        batch = (
            networks
            if isinstance(networks, NetworkBatch)
            else NetworkBatch.stack([networks])
        )
        if isinstance(model, str):
            model = DeviceModel.from_preset(model)
        elif not isinstance(model, DeviceModel):
            raise TypeError(
                f"`model` is {model!r}; give a DeviceModel or a preset name "
                f"({', '.join(PRESETS)})."
            )
        t, size = batch.template, batch.batch_size
        seeds = _member_seeds(seed, size)

        super().__init__(
            BackendInfo.of_batch(
                "emulator",
                batch,
                omega_range=model.omega_range,
                coupling_range=model.coupling_range,
                omega_resolution=_step(model.omega_range, model.omega_bits),
                coupling_resolution=_step(model.coupling_range, model.coupling_bits),
                phase_resolution=model.phase_lsb_rad or None,
                can_preset_phases=False,
                nudge_forms=("balanced-injection", "injection"),
            )
        )
        self.model = model
        self.clip = bool(clip)
        self.seed = (
            int(seed) if isinstance(seed, (int, np.integer)) else [int(s) for s in seed]
        )
        self.tol = tol
        self._ei = np.ascontiguousarray(t.edges[:, 0], dtype=np.int64)
        self._ej = np.ascontiguousarray(t.edges[:, 1], dtype=np.int64)
        self._out = np.asarray(t.outputs, dtype=np.int64)
        self._rngs = [np.random.default_rng(s) for s in seeds]
        self._draw_mismatch()

        self._temperature = np.full(size, float(model.start_temperature_k))
        self._theta = np.zeros((size, t.n))
        self._omega_codes: np.ndarray | None = None
        self._coupling_codes: np.ndarray | None = None
        self._solver: Solver | None = None
        if model.settle_time is None and model.coupling_asymmetry == 0:
            # Built once; only its couplings change afterwards.
            self._solver = Solver(batch, tol=tol, max_iter=max_iter)
        self._max_iter = max_iter

        self._omega, self._coupling = self._program(batch.omega, batch.coupling)
        log.info(
            "emulator: %d board(s) of %d oscillators, preset %s, seed %s, %s settles",
            size,
            t.n,
            model.preset or "custom",
            self.seed,
            "exact" if model.settle_time is None else f"{model.settle_time}-unit",
        )

    # -- board state ------------------------------------------------------------

    @property
    def codes(self) -> Codes:
        """The actuator codes in use (copies), None for continuous actuators."""
        return Codes(
            None if self._omega_codes is None else self._omega_codes.copy(),
            None if self._coupling_codes is None else self._coupling_codes.copy(),
        )

    def temperature(self) -> np.ndarray:
        """Board temperature of each member now, kelvin, shape (batch,)."""
        return self._temperature.copy()

    def true_omega(self) -> np.ndarray:
        """The natural frequencies the dynamics run on now, shape (batch, n).

        What the host cannot see on a real board: the nominal values through
        each channel's gain, offset, nonlinearity and temperature drift.
        """
        return self._true_omega()

    def true_coupling(self) -> tuple[np.ndarray, np.ndarray]:
        """The couplings the dynamics run on, ``(K_ij, K_ji)`` per edge ``(i,
        j)`` of ``info.edges``, each of shape (batch, m)."""
        return self._k_fwd.copy(), self._k_rev.copy()

    # -- calibration access -----------------------------------------------------

    def set_codes(
        self,
        omega_codes: np.ndarray | None = None,
        coupling_codes: np.ndarray | None = None,
    ) -> None:
        """Write raw actuator codes.

        Parameters
        ----------
        omega_codes : ndarray of int, shape (batch, n) or (n,), optional
            Codes ``0 .. 2**omega_bits - 1`` of every frequency actuator.
        coupling_codes : ndarray of int, shape (batch, m) or (m,), optional
            Codes ``0 .. 2**coupling_bits - 1`` of every coupling actuator;
            code 0 is the bottom of ``coupling_range``.

        Afterwards :attr:`omega` and :attr:`coupling` hold the nominal values of
        the codes written.
        """
        m, info = self.model, self.info
        omega = coupling = None
        if omega_codes is not None:
            omega = self._check_codes("omega_codes", omega_codes, info.n, m.omega_bits)
        if coupling_codes is not None:
            coupling = self._check_codes(
                "coupling_codes", coupling_codes, info.n_edges, m.coupling_bits
            )

        if omega is not None:
            self._omega_codes = omega
            self._omega = _nominal(omega, m.omega_range, m.omega_bits)
        if coupling is not None:
            self._coupling_codes = coupling
            self._coupling = _nominal(coupling, m.coupling_range, m.coupling_bits)
            self._apply_coupling()

    def measure_free_frequencies(self) -> np.ndarray:
        """Measure every oscillator's free-running frequency, couplings off.

        A frequency counter times each oscillator over ``freq_gate_time``
        against the board's reference: the result is the true natural
        frequency plus the phase noise accumulated over the gate and the
        readout error of its two time stamps, divided by the gate time. The
        oscillators drift apart meanwhile, so the next settle starts from
        scattered phases.

        Returns
        -------
        ndarray, shape (batch, n)
            Rad per unit time, in the frame of :attr:`omega`.
        """
        model = self.model
        gate = model.freq_gate_time
        omega = self._true_omega()
        n = omega.shape[1]
        normal = np.stack([r.standard_normal((2, n)) for r in self._rngs])
        uniform = np.stack([r.random((2, n)) for r in self._rngs])
        walk = model.phase_noise * math.sqrt(gate) * normal[:, 0]
        stamps = math.sqrt(2.0) * model.phase_jitter_rad * normal[:, 1]
        # Each time stamp is rounded to the readout step; the frequency sees
        # the difference of the two rounding errors.
        rounding = model.phase_lsb_rad * (uniform[:, 0] - uniform[:, 1])
        measured = omega + (walk + stamps + rounding) / gate

        drift = (omega - omega.mean(axis=1, keepdims=True)) * gate + walk
        theta = self._theta + drift
        self._theta = _wrap(theta - theta[:, :1])
        return measured

    # -- nudging ----------------------------------------------------------------

    def nudge(
        self,
        targets: np.ndarray,
        beta: float | np.ndarray,
        form: Literal["balanced-injection", "injection"] = "balanced-injection",
    ) -> None:
        """Inject a locking drive into the outputs: ``-beta sin(theta_o -
        theta_0 - target_o)``, the reference locked to node 0.

        ``form="balanced-injection"`` (the default) also injects the opposite
        of the summed output drive into node 0, so that the nudge exerts no net
        torque and the nudged state is the paper's; ``"injection"`` drives the
        outputs only, which shifts the common frequency by O(beta) (see
        ``docs/emulator.md``). The board has no quadratic drive. ``beta`` is
        realised on the nudge actuator (``nudge_bits`` over ``[0,
        nudge_max]``; a negative ``beta`` inverts the injection).
        """
        previous = self.nudge_state
        super().nudge(targets, beta, form)
        try:
            realised = self._realise_beta(self.nudge_state.beta)
        except ValueError:
            self.nudge_state = previous
            raise
        # The nudge in force is what the actuator realises; realised_beta
        # reports it.
        self.nudge_state = dataclasses.replace(self.nudge_state, beta=realised)

    # -- hooks ------------------------------------------------------------------

    def _program(self, omega, coupling):
        # Both requests are checked before either is applied, so that a
        # refused one leaves the board as it was.
        m = self.model
        omega_codes, coupling_codes = self._omega_codes, self._coupling_codes
        if omega is not None:
            omega, omega_codes = self._realise(
                "omega", omega, m.omega_range, m.omega_bits, "natural frequency"
            )
        if coupling is not None:
            coupling, coupling_codes = self._realise(
                "coupling", coupling, m.coupling_range, m.coupling_bits, "coupling"
            )

        self._omega_codes = omega_codes
        if coupling is None:
            coupling = self._coupling
        else:
            self._coupling_codes = coupling_codes
            self._coupling = coupling
            self._apply_coupling()
        return (self._omega if omega is None else omega), coupling

    def _settle(self, theta0, reads):
        model = self.model
        keys, steps = self._draw_settle()
        self._temperature += model.temperature_step_k * steps
        omega = self._true_omega()

        if model.settle_time is None:
            theta, residual, status = self._solve_exact(omega)
        else:
            theta, residual, status = self._integrate(omega, keys[:, 0])
        # A member whose phases blew up re-locks from rest, as after reset().
        finite = np.isfinite(theta).all(axis=1, keepdims=True)
        self._theta = np.where(finite, theta, 0.0)

        return Measurement(
            theta=self._read(theta, keys[:, 1], reads or model.reads),
            residual=residual,
            stable=status == Status.CONVERGED,
            status=status,
        )

    def _reset(self) -> None:
        self._theta = np.zeros_like(self._theta)

    def _snapshot(self) -> dict[str, Any]:
        return {
            "model": self.model.to_dict(),
            "preset": self.model.preset,
            "seed": self.seed,
            "clip": self.clip,
            "temperature_k": self._temperature.tolist(),
        }

    # -- actuators --------------------------------------------------------------

    def _draw_mismatch(self) -> None:
        """Draw every member's fixed flaws, always in the same order and
        amount, so that switching one effect off leaves the others unchanged."""
        m, n, e = self.model, self.info.n, self.info.n_edges
        z = np.stack([r.standard_normal(4 * n + 2 * e) for r in self._rngs])
        gain, offset, cubic, tempco = (z[:, k * n : (k + 1) * n] for k in range(4))
        edge_gain, asym = z[:, 4 * n : 4 * n + e], z[:, 4 * n + e :]

        self._omega_gain = 1.0 + m.omega_gain_mismatch * gain
        self._omega_offset = m.omega_offset_mismatch * offset
        self._omega_cubic = np.clip(
            m.omega_nonlinearity * cubic, -_MAX_CUBIC, _MAX_CUBIC
        )
        self._tempco = m.tempco * tempco
        self._edge_gain = np.maximum(
            1.0 + m.coupling_gain_mismatch * edge_gain, _MIN_EDGE_GAIN
        )
        self._edge_asym = np.clip(m.coupling_asymmetry * asym, -1.0, 1.0)

    def _realise(self, name, value, bounds, bits, what):
        """Range policy and quantisation of one kind of request: the nominal
        values realised, and the codes (None for a continuous actuator)."""
        lo, hi = bounds
        outside = (value < lo) | (value > hi)
        if outside.any():
            b, i = np.argwhere(outside)[0]
            if not self.clip:
                raise ValueError(
                    f"`{name}[{b}, {i}]` ({what} {i} of member {b}) is "
                    f"{value[b, i].item()!r}, outside the board's range [{lo}, {hi}]; "
                    "request a value inside it, or build the backend with "
                    "clip=True to clip such requests with a warning."
                )
            clipped = np.clip(value, lo, hi)
            worst = np.unravel_index(np.argmax(np.abs(clipped - value)), value.shape)
            worst = tuple(int(w) for w in worst)
            warnings.warn(
                f"Clipped {int(outside.sum())} `{name}` request(s) to the board's "
                f"range [{lo}, {hi}]; the largest change was "
                f"{value[worst].item()!r} -> {clipped[worst].item()!r} ({what} "
                f"{worst[1]} of member {worst[0]}).",
                SetpointClippedWarning,
                stacklevel=4,
            )
            value = clipped

        if bits is None:
            return np.array(value, dtype=float), None
        codes = _codes_for(value, bounds, bits)
        return _nominal(codes, bounds, bits), codes

    def _realise_beta(self, beta: np.ndarray) -> np.ndarray:
        m = self.model
        size = np.abs(beta)
        if np.any(size > m.nudge_max):
            b = int(np.argmax(size > m.nudge_max))
            if not self.clip:
                raise ValueError(
                    f"`beta` of member {b} is {beta[b].item()!r}; the board injects at "
                    f"most {m.nudge_max!r} (`nudge_max`). Use a smaller beta, or "
                    "build the backend with clip=True to clip it with a warning."
                )
            warnings.warn(
                f"Clipped `beta` of {int(np.sum(size > m.nudge_max))} member(s) to "
                f"the board's largest injection {m.nudge_max!r} (member {b}: "
                f"{beta[b].item()!r}).",
                SetpointClippedWarning,
                stacklevel=3,
            )
            size = np.minimum(size, m.nudge_max)

        if m.nudge_bits is not None:
            bounds = (0.0, m.nudge_max)
            size = _nominal(
                _codes_for(size, bounds, m.nudge_bits), bounds, m.nudge_bits
            )
        return np.sign(beta) * size

    def _check_codes(self, name, codes, width, bits) -> np.ndarray:
        if bits is None:
            raise UnsupportedOperation(
                f"The 'emulator' backend's {name.split('_')[0]} actuators are "
                f"continuous here (`{name.split('_')[0]}_bits` is None); they have "
                "no codes. Program values with program() instead."
            )

        arr = np.asarray(codes)
        if arr.shape == (width,):
            arr = np.broadcast_to(arr, (self.info.batch, width))
        elif arr.shape != (self.info.batch, width):
            raise ValueError(
                f"`{name}` has shape {arr.shape}; expected ({self.info.batch}, "
                f"{width}) or ({width},)."
            )
        if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
            raise ValueError(f"`{name}` must hold whole numbers, got {arr.dtype}.")
        if not np.issubdtype(arr.dtype, np.integer):
            bad = ~np.isfinite(arr) | (arr != np.round(arr))
            if bad.any():
                b, i = np.argwhere(bad)[0]
                raise ValueError(
                    f"`{name}[{b}, {i}]` is {arr[b, i].item()!r}; codes are whole "
                    "numbers."
                )

        top = 2**bits - 1
        outside = (arr < 0) | (arr > top)
        if outside.any():
            b, i = np.argwhere(outside)[0]
            raise ValueError(
                f"`{name}[{b}, {i}]` is {arr[b, i].item()!r}; this {bits}-bit actuator "
                f"takes codes 0 to {top}."
            )
        return np.array(arr, dtype=np.int64)

    def _apply_coupling(self) -> None:
        """True couplings from the nominal ones, and the solver's copy."""
        k = self._coupling * self._edge_gain
        self._k_fwd = k * (1.0 + 0.5 * self._edge_asym)
        self._k_rev = k * (1.0 - 0.5 * self._edge_asym)
        if self._solver is not None:
            self._solver.set_parameters(coupling=self._k_fwd)

    def _true_omega(self) -> np.ndarray:
        lo, hi = self.model.omega_range
        centre, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
        u = (self._omega - centre) / half
        shaped = u + self._omega_cubic * (u**3 - u)
        drift = self._tempco * (
            self._temperature[:, None] - self.model.start_temperature_k
        )
        return centre + half * self._omega_gain * shaped + self._omega_offset + drift

    # -- settling and readout ---------------------------------------------------

    def _draw_settle(self) -> tuple[np.ndarray, np.ndarray]:
        """Per member: two stream keys (dynamics, readout) and one normal for
        the temperature step, drawn whether or not the effects are on.

        Three raw 64-bit words per member straight from its bit generator:
        the keys seed the compiled kernels, the third becomes the normal by
        the inverse of the normal distribution function.
        """
        raw = np.stack([r.bit_generator.random_raw(3) for r in self._rngs])
        uniform = ((raw[:, 2] >> np.uint64(11)).astype(float) + 0.5) * 2.0**-53
        return raw[:, :2], ndtri(uniform)

    def _solve_exact(self, omega):
        state = self.nudge_state
        if self._solver is not None:
            nudge = None
            if state is not None:
                nudge = Nudge(state.targets, state.beta, "injection")
            eq = self._solver.solve(self._theta, omega=omega, nudge=nudge)
            return eq.theta, eq.residual, np.asarray(eq.status)

        # Asymmetric couplings: the paper's model has no energy then, so each
        # member goes through the general dense Newton solver.
        batch, n = omega.shape
        theta = np.empty((batch, n))
        residual = np.empty(batch)
        status = np.empty(batch, dtype=np.int64)
        omega_c = omega - omega.mean(axis=1, keepdims=True)
        form = _k.NUDGE_NONE if state is None else _k.NUDGE_INJECTION
        for b in range(batch):
            targets = None if state is None else state.targets[b]
            beta = 0.0 if state is None else state.beta[b]
            theta[b], residual[b], _, status[b] = _sparse.solve_general(
                self.info.edges,
                self._k_fwd[b],
                self._k_rev[b],
                omega_c[b],
                self._out,
                targets,
                beta,
                form,
                self._theta[b] - self._theta[b, 0],
                self.tol,
                self._max_iter,
            )
        return theta, residual, status

    def _integrate(self, omega, keys):
        model, info = self.model, self.info
        n_steps = int(round(model.settle_time / model.dt))
        window = min(n_steps, max(2, int(round(model.lock_window * n_steps))))
        state = self.nudge_state
        if state is None:
            beta = np.zeros(info.batch)
            targets = np.zeros((info.batch, len(info.outputs)))
        else:
            beta = state.beta
            targets = np.ascontiguousarray(state.targets)
        balanced = state is not None and state.form == "balanced-injection"

        # Gershgorin bound on the stiffest relaxation rate of each member.
        pull = np.zeros((info.batch, info.n))
        np.add.at(pull, (slice(None), self._ei), self._k_fwd)
        np.add.at(pull, (slice(None), self._ej), self._k_rev)
        bound = 2.0 * pull.max(axis=1) + np.abs(beta)
        substeps = np.maximum(1, np.ceil(model.dt * bound / _STIFF_LIMIT))

        theta = np.array(self._theta, dtype=float, order="C")
        residual = np.empty(info.batch)
        _kernels_sde.settle_batch(
            self._ei, self._ej, self._k_fwd, self._k_rev,
            np.ascontiguousarray(omega), self._out, targets,
            np.ascontiguousarray(beta, dtype=float), theta, float(model.dt),
            n_steps, substeps.astype(np.int64), float(model.phase_noise), window,
            keys, residual, 1.0 if balanced else 0.0,
        )  # fmt: skip

        status = np.where(
            residual < model.lock_tolerance, Status.CONVERGED, Status.MAX_ITER
        )
        status[~np.isfinite(residual)] = Status.NONFINITE
        return theta, residual, status.astype(np.int64)

    def _read(self, theta: np.ndarray, keys: np.ndarray, reads: int) -> np.ndarray:
        model = self.model
        psi = _wrap(theta - theta[:, :1])
        lsb, jitter = model.phase_lsb_rad, model.phase_jitter_rad
        if lsb == 0 and jitter == 0:
            return psi

        out = np.empty_like(psi)
        _kernels_sde.tdc_read(psi, lsb, jitter, reads, keys, out)
        return out


def _member_seeds(seed, size: int) -> list[np.random.SeedSequence]:
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"`seed` is {seed!r}; give a whole number >= 0.")
        return [np.random.SeedSequence([int(seed), b]) for b in range(size)]

    seeds = list(seed) if isinstance(seed, Sequence) else None
    if seeds is None or len(seeds) != size:
        raise ValueError(
            f"`seed` is {seed!r}; give one whole number, or a sequence of {size} "
            "(one per member)."
        )
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(
                f"`seed` holds {s!r}; every member seed must be a whole number >= 0."
            )
    return [np.random.SeedSequence(int(s)) for s in seeds]


def _step(bounds: tuple[float, float], bits: int | None) -> float | None:
    return None if bits is None else (bounds[1] - bounds[0]) / (2**bits - 1)


def _codes_for(value: np.ndarray, bounds, bits: int) -> np.ndarray:
    """The code whose nominal value is nearest ``value`` (inside the range)."""
    lo, hi = bounds
    top = 2**bits - 1
    codes = np.rint((value - lo) * (top / (hi - lo))).astype(np.int64)
    return np.clip(codes, 0, top)


def _nominal(codes: np.ndarray, bounds, bits: int) -> np.ndarray:
    """Nominal value of each code: ``low + code (high - low) / (2**bits - 1)``."""
    lo, hi = bounds
    return lo + codes * ((hi - lo) / (2**bits - 1))


def _wrap(x: np.ndarray) -> np.ndarray:
    """Phases mapped to [-pi, pi); values already inside are kept exactly."""
    inside = (x >= -math.pi) & (x < math.pi)
    if inside.all():
        return np.array(x, dtype=float)
    return np.where(inside, x, x - _TWO_PI * np.floor((x + math.pi) / _TWO_PI))
