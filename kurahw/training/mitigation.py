"""How a gradient is measured: the nudge schedule and the readings behind it.

A board measures the EP gradient from noisy phases. Every mitigation here is a
measurement protocol, the same for the trainer and for the noise studies, and
every estimate is minus the least-squares slope of the measured quantity (a
phase, or the cosine of an edge's phase difference) against the realised
nudge strength over the settles of one sample, the free settle (``beta = 0``)
included. With one nudge that is two-phase EP ``-(theta_beta - theta_free) /
beta``; with ``+beta`` and ``-beta`` it is centred EP ``-(theta_+ - theta_-) /
(2 beta)``.

What one gradient costs (every sample needs its free settle anyway, for the
prediction), and the noise of the estimate per node in units of one reading's
noise ``sigma`` (independent readings, ``beta = 0.1``):

==============  =======  ========  ========  ==================================
mitigation      settles  readings  noise     nudges
==============  =======  ========  ========  ==================================
``none``        2        2         14.1      ``+beta``
``average``     2        32        3.5       ``+beta``, each phase read 16 times
                                             and averaged (averages the
                                             readout's jitter, not phase noise)
``large-beta``  2        2         2.8       ``+0.5``, the top of the emulator's
                                             injection actuator; five times the
                                             bias of ``beta = 0.1``
``centered``    3        3         7.1       ``+beta`` and ``-beta``; cancels
                                             the O(beta) bias of two-phase EP
``lockin``      9        9         1.03      ``+-0.125, +-0.25, +-0.375, +-0.5``
==============  =======  ========  ========  ==================================

``lockin`` is ours, not the paper's: the nudge steps through four amplitudes
up to the top of the injection actuator, with both signs, as a lock-in
amplifier steps its reference through a period, and the least-squares slope
demodulates the phases. The symmetric schedule cancels every even-order term
of ``theta(beta)`` exactly; the large amplitudes and the eight nudged readings
average the readout noise; the cubic term that remains costs about 1 % of
scale on the 2+5+2 network. ``average`` combines with ``centered`` and
``lockin`` (``"centered+average"``: 3 settles, 48 readings) and
``large-beta`` with ``centered`` (``"centered+large-beta"``: ``+-0.5``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "AVERAGE_READS",
    "LARGE_BETA",
    "LOCKIN_AMPLITUDES",
    "MITIGATIONS",
    "Plan",
    "plan",
    "slope_gradient",
]

#: Mitigations by name; see the module docstring for what each costs.
MITIGATIONS = ("none", "average", "large-beta", "centered", "lockin")

#: Readings averaged per measurement under ``average``.
AVERAGE_READS = 16
#: Nudge strength of ``large-beta``: the top of the emulator's injection actuator.
LARGE_BETA = 0.5
#: Nudge amplitudes of ``lockin``, each applied with both signs.
LOCKIN_AMPLITUDES = (0.125, 0.25, 0.375, 0.5)

_ESTIMATORS = ("centered", "lockin")


@dataclass(frozen=True)
class Plan:
    """How one mitigation measures a gradient.

    Attributes
    ----------
    name : str
    betas : tuple of float
        Nudge strengths, in the order they are applied after the free settle.
    reads : int
        Readings averaged per measurement.
    """

    name: str
    betas: tuple[float, ...]
    reads: int

    @property
    def settles(self) -> int:
        """Settles per gradient, the free one included."""
        return 1 + len(self.betas)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form, with the cost per gradient."""
        return {
            "betas": list(self.betas),
            "reads": self.reads,
            "settles": self.settles,
            "readings": self.settles * self.reads,
        }


def plan(mitigation: str, beta: float = 0.1) -> Plan:
    """The nudge schedule and reads of a named mitigation.

    Parameters
    ----------
    mitigation : str
        One of :data:`MITIGATIONS`, or ``centered`` or ``lockin`` joined with
        ``average`` (and ``centered`` with ``large-beta``) by ``+``.
    beta : float
        Nudge strength of ``none``, ``average`` and ``centered``.
    """
    valid = (
        f"use one of {', '.join(MITIGATIONS)}, or join 'average' or 'large-beta' "
        "to 'centered' (or 'average' to 'lockin') with '+', e.g. 'centered+average'"
    )
    parts = str(mitigation).split("+")
    unknown = [p for p in parts if p not in MITIGATIONS]
    if unknown or len(set(parts)) != len(parts):
        raise ValueError(f"`mitigation` is {mitigation!r}; {valid}.")
    if len(parts) > 1 and (
        "none" in parts
        or sum(p in _ESTIMATORS for p in parts) > 1
        or ("lockin" in parts and "large-beta" in parts)
    ):
        raise ValueError(
            f"`mitigation` is {mitigation!r}, which does not combine ('none' "
            "stands alone, 'centered' and 'lockin' are two estimators, and "
            f"'lockin' already nudges up to {LARGE_BETA}); {valid}."
        )

    reads = AVERAGE_READS if "average" in parts else 1
    size = LARGE_BETA if "large-beta" in parts else float(beta)
    if "lockin" in parts:
        betas = tuple(s * a for a in LOCKIN_AMPLITUDES for s in (1.0, -1.0))
    elif "centered" in parts:
        betas = (size, -size)
    else:
        betas = (size,)
    return Plan(str(mitigation), betas, reads)


def slope_gradient(
    values: np.ndarray, betas: np.ndarray, *, wrap: bool = True
) -> np.ndarray:
    """Minus the least-squares slope of a measured quantity against the nudge.

    Parameters
    ----------
    values : ndarray, shape (settles, batch, k)
        The quantity at every settle of one sample, the free settle first.
    betas : ndarray, shape (settles, batch)
        Realised nudge strengths, 0 for the free settle.
    wrap : bool
        The values are phases: displacements from the free settle are wrapped
        to [-pi, pi), so that a phase near +-pi does not jump.

    Returns
    -------
    ndarray, shape (batch, k)
        NaN for a member whose nudges were all 0.
    """
    d = values - values[0]
    if wrap:
        d = np.angle(np.exp(1j * d))
    bc = betas - betas.mean(axis=0)
    dc = d - d.mean(axis=0)
    denom = (bc**2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (bc[..., None] * dc).sum(axis=0) / denom[:, None]
    return -slope
