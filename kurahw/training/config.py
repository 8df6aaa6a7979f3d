"""What a training run does: the shared protocol and each member's own settings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from kurahw.training.mitigation import Plan, plan

__all__ = ["READOUTS", "RunSpec", "TaskData", "TrainConfig"]

#: Readouts of a class from the output phases (see :mod:`kurahw.training.readout`).
READOUTS = ("paper", "target")


@dataclass(frozen=True)
class TrainConfig:
    """The training protocol shared by every member of a batch.

    The defaults are the paper's: per-sample SGD with EP gradients at
    ``beta = 0.1``, gradients clipped to +-2, frequencies kept in [-3, 3] and
    couplings in [0.01, 8] after every update, targets -0.2 for the output of
    the correct class and +0.2 for the other.

    Attributes
    ----------
    epochs : int
        Passes over the training set.
    beta : float
        Nudge strength.
    margin : float
        Target phase magnitude (radians): ``-margin`` on the correct output,
        ``+margin`` on the others.
    clip : float
        Each gradient component is clipped to ``[-clip, clip]`` before the step.
    omega_bounds, coupling_bounds : tuple of float
        Range every non-input frequency and every coupling is held in.
    skip_free : float
        A sample whose free residual exceeds this is skipped: no update, not
        counted in the training accuracy.
    skip_nudge : float
        The update is skipped (and the sample not counted) when the nudged
        residual is at or above this.
    skip_eval : float
        Test samples whose residual exceeds this are left out of the accuracy.
    require_stable : bool
        Also skip samples whose free or nudged state is not a stable equilibrium.
        Off by default, like the paper, which never checked stability; the
        trainer counts such samples either way.
    readout : {"paper", "target"}
        Readout used for the headline accuracies; both are always recorded.
    eval_every : int or None
        Evaluate on the test set every this many epochs (and always before
        training and after the last epoch). On the ideal backend evaluation
        never changes training; on a device its settles are real, so they
        advance the device's noise and drift like any other settle.
    gradient : {"ep", "finite-difference"}
        Two-phase EP estimate, or central differences of the loss with respect
        to the centred frequencies (frequency learning only).
    fd_eps : float
        Step of the finite differences.
    nudge_form : {"quadratic", "injection", "balanced-injection"}
        The output drive (see :meth:`kurahw.backends.Backend.nudge`); a
        device offers only some, and the studies switch to the device's
        preferred one.
    warm_start : {"chain", "physical"}
        ``"chain"``: each free settle starts from the previous sample's free
        equilibrium, each nudged settle from its own free equilibrium (the
        paper's protocol; needs a backend that can preset phases).
        ``"physical"``: every settle starts from wherever the network is, as on
        a board. Both reset the phases at the start of every epoch.
    paper_eval_draws_every : int or None
        The paper's released training loop draws one random index from the
        shuffling stream at epoch 1, every this many epochs and the last epoch;
        giving the same number here reproduces its sample orders seed by seed.
        It does not depend on ``eval_every``.
    coupling_floor : float or None
        Raise every coupling to at least this after every epoch.
    recenter_every : int or None
        Every this many epochs subtract ``recenter_fraction`` times the mean of
        the learnable frequencies from them.
    recenter_fraction : float
    diagnose : bool
        At every evaluation also record the condition number of the reduced
        Jacobian at the free equilibrium of the first training sample.
    mitigation : str
        How each gradient is measured on a noisy device (see
        :mod:`kurahw.training.mitigation`): ``"none"`` is the paper's two-phase
        estimate at ``beta``; ``"average"`` reads every settle 16 times,
        ``"large-beta"`` nudges at 0.5, ``"centered"`` nudges at ``+beta``
        and ``-beta``, ``"lockin"`` at eight amplitudes up to +-0.5, and
        combinations such as ``"centered+average"``. Every settle of
        evaluation reads as many times as training does.
    """

    epochs: int = 200
    beta: float = 0.1
    margin: float = 0.2
    clip: float = 2.0
    omega_bounds: tuple[float, float] = (-3.0, 3.0)
    coupling_bounds: tuple[float, float] = (0.01, 8.0)
    skip_free: float = 0.01
    skip_nudge: float = 0.01
    skip_eval: float = 0.1
    require_stable: bool = False
    readout: Literal["paper", "target"] = "paper"
    eval_every: int | None = None
    gradient: Literal["ep", "finite-difference"] = "ep"
    fd_eps: float = 1e-5
    nudge_form: Literal["quadratic", "injection", "balanced-injection"] = "quadratic"
    warm_start: Literal["chain", "physical"] = "chain"
    paper_eval_draws_every: int | None = None
    coupling_floor: float | None = None
    recenter_every: int | None = None
    recenter_fraction: float = 0.5
    diagnose: bool = False
    mitigation: str = "none"

    def __post_init__(self) -> None:
        _whole("epochs", self.epochs, 1)
        for name in ("beta", "margin", "clip", "fd_eps"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"`{name}` must be a positive number, got {value!r}.")
        for name in ("skip_free", "skip_nudge", "skip_eval"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"`{name}` must be > 0, got {value!r}.")

        for name in ("omega_bounds", "coupling_bounds"):
            lo, hi = getattr(self, name)
            if not lo < hi:
                raise ValueError(
                    f"`{name}` is {(lo, hi)!r}; give (low, high) with low < high."
                )
        if self.coupling_bounds[0] < 0:
            raise ValueError(
                f"`coupling_bounds` starts at {self.coupling_bounds[0]!r}; couplings "
                "cannot be negative."
            )

        _choice("readout", self.readout, READOUTS)
        _choice("gradient", self.gradient, ("ep", "finite-difference"))
        _choice(
            "nudge_form",
            self.nudge_form,
            ("quadratic", "injection", "balanced-injection"),
        )
        _choice("warm_start", self.warm_start, ("chain", "physical"))
        for name in ("eval_every", "paper_eval_draws_every", "recenter_every"):
            if getattr(self, name) is not None:
                _whole(name, getattr(self, name), 1)

        self.plan  # noqa: B018 - validates the mitigation against beta
        if self.gradient == "finite-difference" and self.mitigation != "none":
            raise ValueError(
                f"`mitigation` is {self.mitigation!r} but gradient is "
                "'finite-difference', which measures no nudge; use mitigation='none'."
            )

        object.__setattr__(self, "omega_bounds", tuple(map(float, self.omega_bounds)))
        object.__setattr__(
            self, "coupling_bounds", tuple(map(float, self.coupling_bounds))
        )

    @property
    def plan(self) -> Plan:
        """The nudges and readings behind every gradient."""
        return plan(self.mitigation, self.beta)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        d = asdict(self)
        d["omega_bounds"] = list(self.omega_bounds)
        d["coupling_bounds"] = list(self.coupling_bounds)
        return d


@dataclass(frozen=True)
class RunSpec:
    """One member of a batch: its seed and what it may learn.

    Attributes
    ----------
    seed : int
        Seeds the member's sample-order stream.
    lr_omega, lr_coupling : float
        Learning rates; 0 freezes that kind of parameter.
    omega_mask : ndarray of bool, shape (n,), optional
        Nodes whose frequency may change (default: every non-input node).
    edge_mask : ndarray of bool, shape (m,), optional
        Edges whose coupling may change (default: all).
    label : str
        Condition name for reports.
    """

    seed: int
    lr_omega: float = 1e-3
    lr_coupling: float = 0.0
    omega_mask: np.ndarray | None = field(default=None, compare=False)
    edge_mask: np.ndarray | None = field(default=None, compare=False)
    label: str = ""

    def __post_init__(self) -> None:
        for name in ("lr_omega", "lr_coupling"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(
                    f"`{name}` must be a number >= 0, got {value!r} (seed {self.seed})."
                )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "seed": int(self.seed),
            "lr_omega": self.lr_omega,
            "lr_coupling": self.lr_coupling,
            "omega_mask": None
            if self.omega_mask is None
            else np.asarray(self.omega_mask, bool).tolist(),
            "edge_mask": None
            if self.edge_mask is None
            else np.asarray(self.edge_mask, bool).tolist(),
            "label": self.label,
        }


@dataclass(frozen=True)
class TaskData:
    """Each member's own training and test set (features already scaled).

    Attributes
    ----------
    x_train : ndarray, shape (batch, n_train, d)
    y_train : ndarray of int, shape (batch, n_train)
    x_test : ndarray, shape (batch, n_test, d)
    y_test : ndarray of int, shape (batch, n_test)
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def __post_init__(self) -> None:
        xs, ys, xt, yt = self.x_train, self.y_train, self.x_test, self.y_test
        if xs.ndim != 3 or xt.ndim != 3:
            raise ValueError(
                "`x_train` and `x_test` must have shape (batch, samples, features), "
                f"got {xs.shape} and {xt.shape}."
            )
        if ys.shape != xs.shape[:2] or yt.shape != xt.shape[:2]:
            raise ValueError(
                f"Labels of shapes {ys.shape} and {yt.shape} do not match features "
                f"of shapes {xs.shape} and {xt.shape}."
            )
        if xs.shape[1] == 0 or xt.shape[1] == 0:
            raise ValueError(
                f"The split has {xs.shape[1]} training and {xt.shape[1]} test "
                "samples; both must be non-empty."
            )

        for name, arr in (("x_train", xs), ("x_test", xt)):
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"`{name}` contains NaN or infinite values.")

    @classmethod
    def stack(cls, splits) -> TaskData:
        """One batch from per-member splits with the same sizes.

        ``splits`` is a sequence of objects with ``x_train``, ``y_train``,
        ``x_test``, ``y_test`` (such as :class:`kurahw.data.VowelSplit`).
        """
        splits = list(splits)
        if not splits:
            raise ValueError("`splits` is empty; give one split per member.")

        sizes = {(len(s.y_train), len(s.y_test)) for s in splits}
        if len(sizes) != 1:
            raise ValueError(
                f"Members' splits differ in size {sorted(sizes)}; every member of a "
                "batch needs the same number of training and test samples."
            )

        return cls(
            np.stack([s.x_train for s in splits]).astype(float),
            np.stack([s.y_train for s in splits]).astype(np.int64),
            np.stack([s.x_test for s in splits]).astype(float),
            np.stack([s.y_test for s in splits]).astype(np.int64),
        )

    @property
    def batch(self) -> int:
        """Number of members."""
        return self.x_train.shape[0]


def _whole(name: str, value, low: int) -> None:
    if isinstance(value, bool) or int(value) != value or value < low:
        raise ValueError(f"`{name}` must be a whole number >= {low}, got {value!r}.")


def _choice(name: str, value, options) -> None:
    if value not in options:
        raise ValueError(
            f"`{name}` is {value!r}; use one of {', '.join(map(repr, options))}."
        )
