"""Noise robustness of the measured EP gradient on the device emulator.

:func:`gradient_quality` sweeps one device effect (readout jitter, phase noise,
actuator resolution, ...) and measures, at every level, how well the frequency
gradient a board measures by Equilibrium Propagation agrees with the exact
gradient of the network the board actually realised, with and without
mitigations.

The mitigations and what each costs are described in
:mod:`kurahw.training.mitigation`; the trainer runs the same protocols.

The reference is :func:`kurahw.gradients.exact_gradient` on the true
frequencies and couplings of the board (:meth:`EmulatorBackend.true_omega`,
:meth:`EmulatorBackend.true_coupling`) at their exact free equilibrium, for
the cost the board's injection nudge descends, ``sum_o (1 - cos(theta_o -
target_o))``, whose output errors are ``sin(theta_o - target_o)``: the
gradient EP on a board converges to as ``beta -> 0``. The gradient of the
paper's quadratic loss differs from it by about 1.5 % in scale (its errors are
``theta_o - target_o``, up to 0.4 rad) and is reported as ``cos_paper``.

With exact settles (``settle_time`` None) the board follows the paper's model.
So does the integrated settle under the default balanced injection. Under the
plain injection (``nudge_form="injection"``) node 0, to which the injection is
locked, is itself free, so even without noise the nudged state is off by
O(beta) and the gradient is biased (``docs/emulator.md``): that bias shows at
level 0 of a sweep on an integrated base.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kurahw.backends.emulator import PRESETS, DeviceModel, EmulatorBackend
from kurahw.data import load_vowels, vowel_split
from kurahw.errors import NetworkError
from kurahw.gradients import cosine, exact_gradient
from kurahw.network import Network, NetworkBatch, layered_network
from kurahw.seeding import seed_omega
from kurahw.solver import Solver, solve
from kurahw.training.mitigation import (
    AVERAGE_READS,
    LARGE_BETA,
    LOCKIN_AMPLITUDES,
    MITIGATIONS,
    Plan,
    plan,
    slope_gradient,
)
from kurahw.training.readout import target_table

__all__ = [
    "AVERAGE_READS",
    "EFFECTS",
    "LARGE_BETA",
    "LOCKIN_AMPLITUDES",
    "MITIGATIONS",
    "Effect",
    "Plan",
    "gradient_quality",
    "level_axes",
    "plan",
    "plot_gradient_quality",
]

log = logging.getLogger(__name__)

Progress = Callable[[int], None] | None


@dataclass(frozen=True)
class Effect:
    """One device effect a study can sweep.

    Attributes
    ----------
    unit : str
        Unit of the levels.
    what : str
        What the figure is.
    levels : tuple of float
        The default sweep, mildest first.
    bits : bool
        Levels are actuator resolutions in bits (0 stands for a continuous
        actuator); the effect grows as the level falls.
    base : str
        Preset the sweep starts from unless the caller gives one.
    """

    unit: str
    what: str
    levels: tuple[float, ...]
    bits: bool = False
    base: str = "ideal"


#: Effects :func:`gradient_quality` sweeps, by :class:`DeviceModel` figure name.
EFFECTS: dict[str, Effect] = {
    "coupling_asymmetry": Effect(
        "fraction",
        "relative difference (K_ij - K_ji) / K of each edge",
        (0.0, 0.01, 0.03, 0.1, 0.3),
    ),
    "coupling_bits": Effect(
        "bits", "resolution of the coupling actuators", (0, 10, 8, 6, 4), bits=True
    ),
    "omega_bits": Effect(
        "bits", "resolution of the frequency actuators", (0, 16, 12, 10, 8, 6), True
    ),
    "phase_noise": Effect(
        "rad/sqrt(unit)",
        "phase noise of every oscillator",
        (0.0, 0.002, 0.005, 0.01, 0.02),
    ),
    "tdc_jitter_s": Effect(
        "s",
        "timing jitter of the phase readout",
        (0.0, 1e-13, 3e-13, 1e-12, 3e-12),
        base="paper-tdc",
    ),
    "tdc_lsb_s": Effect(
        "s", "time step of the phase readout", (0.0, 1e-13, 1e-12, 5e-12, 2e-11)
    ),
}

_THRESHOLD = 0.9
_MARGIN = 0.2
_SOLVE_TOL = 1e-12


def gradient_quality(
    effect: str,
    levels: Iterable[float] | None = None,
    *,
    seeds: int | Sequence[int] = 20,
    n_samples: int = 10,
    beta: float = 0.1,
    mitigations: Sequence[str] = MITIGATIONS,
    base: str | DeviceModel | None = None,
    nudge_form: str = "balanced-injection",
    data_path: str | os.PathLike | None = None,
    progress: Progress = None,
) -> dict:
    """Cosine and scale error of the measured EP gradient as one effect grows.

    For every level of ``effect`` and every mitigation, each seed's 2+5+2
    network (spectral initial frequencies) is programmed on an emulated board
    drawn from that seed, and the first ``n_samples`` training samples of the
    seed's vowel split are measured in turn (targets -0.2 on the true class's
    output, +0.2 on the other): one free settle, then the mitigation's nudged
    settles (see the module docstring). The measured gradient over the
    non-input nodes is compared with the exact one of the true network.

    Parameters
    ----------
    effect : str
        A key of :data:`EFFECTS`, the :class:`DeviceModel` figure to sweep.
    levels : iterable of float, optional
        Values of that figure, >= 0 (seconds for the TDC figures, bits for
        the actuators, 0 bits meaning a continuous actuator); by default the
        effect's own sweep (:attr:`Effect.levels`).
    seeds : int or sequence of int
        A count (seeds 0..seeds-1) or the seeds themselves; each seed sets the
        network, the data split and the board's flaws and noise. Boards share
        a seed across levels and mitigations, so the curves use common random
        numbers.
    n_samples : int
        Training samples measured per seed.
    beta : float
        Nudge strength of ``none``, ``average`` and ``centered``.
    mitigations : sequence of str
        Names accepted by :func:`plan`.
    base : str or DeviceModel, optional
        The board's other figures: a preset name or a model. By default the
        effect's own base (``"paper-tdc"`` for ``tdc_jitter_s``: exact settles
        at the paper's 3 GHz carrier; ``"ideal"`` for the others). An effect
        that needs dynamics (``phase_noise``) on an exact base is run with the
        typical bench's integrated settle (``settle_time`` 10, ``dt`` 0.02).
    nudge_form : {"balanced-injection", "injection"}
        The board's output drive (see :meth:`EmulatorBackend.nudge`).
    data_path : str or path-like, optional
        The vowel data (see :func:`kurahw.data.find_vowel_file`).
    progress : callable, optional
        Called with 1 after every sample of every level and mitigation
        (``len(levels) * len(mitigations) * n_samples`` calls).

    Returns
    -------
    dict
        JSON-ready. ``rows`` holds one entry per level and mitigation with
        ``cos_mean``, ``cos_std``, ``cos_median``, ``cos_min``, the quartiles
        over seeds of the per-seed mean cosine (``cos_seed_q25``,
        ``cos_seed_q75``), the relative scale error ``|g_meas| / |g_exact| -
        1`` (``scale_error_mean``, ``_std``, ``_median``), ``cos_paper_mean``
        and ``cos_paper_median`` (against the paper's quadratic loss), counts
        (``used``, ``unstable``, ``no_reference``) and the per-seed,
        per-sample values ``cos`` and ``scale_error``, shape (seeds,
        n_samples), None where excluded. ``robust_to`` gives, per mitigation,
        the most severe level up to which the mean cosine stays above 0.9
        (None if it does not at the mildest level).

    Raises
    ------
    ValueError
        For an unknown effect or mitigation, a bad level, seed count, sample
        count or ``beta``, or a nudge beyond the board's ``nudge_max``.
    """
    spec = _effect(effect)
    levels = _check_levels(effect, spec, spec.levels if levels is None else levels)
    if not (isinstance(beta, (int, float)) and math.isfinite(beta) and beta > 0):
        raise ValueError(f"`beta` is {beta!r}; give a finite nudge strength > 0.")
    check_nudge_form(nudge_form)
    seed_list = _check_seeds(seeds)
    if isinstance(n_samples, bool) or int(n_samples) != n_samples or n_samples < 1:
        raise ValueError(f"`n_samples` is {n_samples!r}; give a whole number >= 1.")
    n_samples = int(n_samples)

    base_model, base_name, notes = _base_model(effect, spec, base)
    models = [_model_at(base_model, effect, spec, level) for level in levels]
    plans = check_plans(mitigations, beta, base_model)
    networks, x, targets = _task(seed_list, n_samples, data_path)

    rows = []
    for level, model in zip(levels, models, strict=True):
        for p in plans:
            board = EmulatorBackend(NetworkBatch.stack(networks), model, seed=seed_list)
            measured = _measure(board, networks, x, targets, p, nudge_form, progress)
            rows.append({"level": level, "mitigation": p.name, **_summary(*measured)})
        log.info("noise study: %s = %g done", effect, level)

    result = {
        "study": "noise",
        "effect": effect,
        "unit": spec.unit,
        "what": spec.what,
        "levels": levels,
        "base": base_name,
        "model": base_model.to_dict(),
        "settle": "exact" if base_model.settle_time is None else "integrated",
        "seeds": seed_list,
        "n_samples": n_samples,
        "beta": float(beta),
        "nudge_form": nudge_form,
        "margin": _MARGIN,
        "threshold": _THRESHOLD,
        "mitigations": {p.name: p.to_dict() for p in plans},
        "rows": rows,
        "robust_to": _robust_to(levels, spec, plans, rows),
        "notes": notes,
    }
    if effect.startswith("tdc_"):
        result["levels_rad"] = [
            2.0 * math.pi * base_model.carrier_hz * level for level in levels
        ]
    return result


# -- set-up -----------------------------------------------------------------------


def _effect(effect: str) -> Effect:
    if effect not in EFFECTS:
        raise ValueError(
            f"`effect` is {effect!r}, which this study cannot sweep; choose one of "
            f"{', '.join(sorted(EFFECTS))}."
        )
    return EFFECTS[effect]


def _check_levels(effect: str, spec: Effect, levels) -> list[float]:
    if isinstance(levels, str):
        raise ValueError(
            f"`levels` is {levels!r}; give a list of numbers such as [0, 1e-12]."
        )
    values = list(levels)
    if not values:
        raise ValueError("`levels` is empty; give at least one level.")

    out = []
    for value in values:
        if not isinstance(value, (int, float, np.integer, np.floating)) or not (
            math.isfinite(value) and value >= 0
        ):
            raise ValueError(
                f"`levels` holds {value!r} for `{effect}`; every level must be a "
                f"finite number >= 0 (in {spec.unit}; 0 switches the effect off)."
            )
        if spec.bits and (int(value) != value or value > 24):
            raise ValueError(
                f"`levels` holds {value!r} for `{effect}`; give whole numbers of bits "
                "from 1 to 24, or 0 for a continuous actuator."
            )
        value = int(value) if spec.bits else float(value)
        if value in out:
            raise ValueError(
                f"`levels` holds {value!r} twice for `{effect}`; give each level once."
            )
        out.append(value)
    return out


def check_plans(mitigations, beta: float, model: DeviceModel) -> list[Plan]:
    """The plans of a list of mitigation names, each checked against the
    board's largest injection."""
    if isinstance(mitigations, str) or not list(mitigations):
        raise ValueError(
            f"`mitigations` is {mitigations!r}; give a list of names such as "
            "['none', 'centered']."
        )
    plans = [plan(m, beta) for m in mitigations]
    for p in plans:
        top = max(abs(b) for b in p.betas)
        if top > model.nudge_max:
            raise ValueError(
                f"`mitigations` holds {p.name!r}, which nudges at {top!r} with "
                f"`beta` {beta!r}, but the board injects at most "
                f"{model.nudge_max!r} (`nudge_max`); use a smaller `beta` or "
                "leave that mitigation out."
            )
    return plans


def check_nudge_form(form: str) -> None:
    """Refuse a drive the emulated board does not have."""
    forms = ("balanced-injection", "injection")
    if form not in forms:
        raise ValueError(
            f"`nudge_form` is {form!r}; the board drives {forms[0]!r} or {forms[1]!r}."
        )


def _check_seeds(seeds) -> list[int]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"`seeds` is {seeds!r}; give a count >= 1 or a list.")
        return list(range(int(seeds)))

    out = list(seeds)
    if not out or any(
        isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0
        for s in out
    ):
        raise ValueError(
            f"`seeds` is {seeds!r}; give a count or a list of whole numbers >= 0."
        )
    return [int(s) for s in out]


def _base_model(effect, spec, base) -> tuple[DeviceModel, str | None, list[str]]:
    notes = []
    if base is None:
        base = spec.base
    if isinstance(base, str):
        if base not in PRESETS:
            raise ValueError(
                f"`base` is {base!r}; use a preset ({', '.join(PRESETS)}) or a "
                "DeviceModel."
            )
        model, name = DeviceModel.from_preset(base), base
    elif isinstance(base, DeviceModel):
        model, name = base, base.preset
    else:
        raise ValueError(f"`base` is {base!r}; give a preset name or a DeviceModel.")

    if effect == "phase_noise" and model.settle_time is None:
        bench = DeviceModel()
        model = model.replace(settle_time=bench.settle_time, dt=bench.dt)
        notes.append(
            "phase noise needs the integrated settle: settle_time "
            f"{bench.settle_time}, dt {bench.dt}"
        )
    return model, name, notes


def _model_at(base: DeviceModel, effect: str, spec: Effect, level) -> DeviceModel:
    value = (level or None) if spec.bits else level
    return base.replace(**{effect: value})


def _task(seeds: list[int], n_samples: int, data_path):
    """Networks, inputs (batch, n_samples, 2) and targets (batch, n_samples, 2)."""
    features, labels = load_vowels(data_path)
    networks, x, y = [], [], []
    for s in seeds:
        split = vowel_split(features, labels, s)
        if len(split.y_train) < n_samples:
            raise ValueError(
                f"`n_samples` is {n_samples}; the training split of seed {s} holds "
                f"only {len(split.y_train)} samples."
            )
        networks.append(seed_omega(layered_network(seed=s), "spectral", s))
        x.append(split.x_train[:n_samples])
        y.append(split.y_train[:n_samples])

    table = target_table(len(networks[0].outputs), _MARGIN)
    return networks, np.array(x), table[np.array(y)]


# -- measurement ------------------------------------------------------------------


def _measure(board, networks, x, targets, p: Plan, form: str, progress):
    """Cosines and scale errors, each (batch, n_samples), NaN where excluded."""
    batch, n_samples = x.shape[:2]
    info = board.info
    nodes = np.array(sorted(info.hidden + info.outputs))
    cos = np.full((batch, n_samples), np.nan)
    cos_paper = np.full((batch, n_samples), np.nan)
    scale = np.full((batch, n_samples), np.nan)
    unstable = no_reference = 0
    truth = _Truth(networks, board)

    for k in range(n_samples):
        board.release()
        board.set_inputs(x[:, k])
        # The plan's reads replace the board's own, so its cost is what ran.
        free = board.settle(reads=p.reads)
        equilibria = truth.free_equilibria(board, free.theta)

        phases, betas, stable = [free.theta], [np.zeros(batch)], free.stable.copy()
        for b in p.betas:
            board.nudge(targets[:, k], b, form)
            m = board.settle(reads=p.reads)
            phases.append(m.theta)
            betas.append(board.realised_beta)
            stable &= m.stable
        board.release()
        grad = slope_gradient(np.array(phases), np.array(betas))

        for b in range(batch):
            if not stable[b]:
                unstable += 1
                continue
            if equilibria[b] is None:
                no_reference += 1
                continue
            g_inj, g_paper = _exact(truth.networks[b], equilibria[b], targets[b, k])
            g = grad[b, nodes]
            cos[b, k] = cosine(g, g_inj[nodes])
            cos_paper[b, k] = cosine(g, g_paper[nodes])
            scale[b, k] = np.linalg.norm(g) / np.linalg.norm(g_inj[nodes]) - 1.0
        if progress:
            progress(1)
    return cos, scale, cos_paper, unstable, no_reference


class _Truth:
    """The networks a board really is (its true couplings, which only change
    when couplings are programmed) and their exact free equilibria."""

    def __init__(self, networks: list[Network], board: EmulatorBackend) -> None:
        k_fwd, k_rev = board.true_coupling()
        self.networks: list[Network | None] = []
        for b, net in enumerate(networks):
            try:
                true = net.replace(
                    coupling=k_fwd[b], coupling_reverse=k_rev[b], allow_asymmetric=True
                )
            except NetworkError:  # e.g. coarse coupling codes switched edges off
                true = None
            self.networks.append(true)

        # One batched Newton solve serves all members when it can.
        self._batch: Solver | None = None
        if all(n is not None and n.is_symmetric for n in self.networks):
            self._batch = Solver(NetworkBatch.stack(self.networks), tol=_SOLVE_TOL)

    def free_equilibria(self, board, theta0) -> list[np.ndarray | None]:
        """Exact free equilibrium of each true network under the board's true
        frequencies now, from the measured phases ``theta0``; None if none."""
        omega = board.true_omega()
        found: list[np.ndarray | None] = [None] * len(self.networks)
        if self._batch is not None:
            eq = self._batch.solve(theta0, omega=omega)
            for b in np.flatnonzero(eq.ok):
                found[b] = eq.theta[b]

        for b, net in enumerate(self.networks):
            if found[b] is not None or net is None:
                continue
            # A start from rest when the measured phases lead nowhere.
            for start in (theta0[b], None):
                eq = solve(net, start, omega=omega[b], tol=_SOLVE_TOL)
                if eq.ok:
                    found[b] = eq.theta
                    break
        return found


def _exact(net: Network, theta: np.ndarray, targets: np.ndarray):
    """Exact frequency gradients at ``theta``: of the injection cost, and of the
    paper's quadratic loss, each shape (n,)."""
    theta_o = theta[list(net.outputs)]
    # exact_gradient takes the output errors as theta_o - target; these targets
    # make them sin(theta_o - target_o), the errors of the injection cost.
    injection_targets = theta_o - np.sin(theta_o - targets)
    g_inj = exact_gradient(net, theta, injection_targets).omega
    g_paper = exact_gradient(net, theta, targets).omega
    return g_inj, g_paper


# -- summaries --------------------------------------------------------------------


_STAT_KEYS = (
    "cos_mean",
    "cos_std",
    "cos_median",
    "cos_min",
    "cos_seed_q25",
    "cos_seed_q75",
    "scale_error_mean",
    "scale_error_std",
    "scale_error_median",
    "cos_paper_mean",
    "cos_paper_median",
)


def _summary(cos, scale, cos_paper, unstable, no_reference) -> dict:
    used = np.isfinite(cos)
    stats = dict.fromkeys(_STAT_KEYS, float("nan"))
    if used.any():
        c, s, cp = cos[used], scale[used], cos_paper[used]
        per_seed = np.array([row[np.isfinite(row)].mean() for row in cos[used.any(1)]])
        stats.update(
            cos_mean=float(c.mean()),
            cos_std=float(c.std()),
            cos_median=float(np.median(c)),
            cos_min=float(c.min()),
            cos_seed_q25=float(np.percentile(per_seed, 25)),
            cos_seed_q75=float(np.percentile(per_seed, 75)),
            scale_error_mean=float(s.mean()),
            scale_error_std=float(s.std()),
            scale_error_median=float(np.median(s)),
            cos_paper_mean=float(cp.mean()),
            cos_paper_median=float(np.median(cp)),
        )

    return {
        **stats,
        "used": int(used.sum()),
        "unstable": int(unstable),
        "no_reference": int(no_reference),
        "cos": _nan_to_none(cos),
        "scale_error": _nan_to_none(scale),
    }


def _nan_to_none(a: np.ndarray) -> list:
    return [[None if not np.isfinite(v) else float(v) for v in row] for row in a]


def _severity_order(levels, spec: Effect) -> list:
    """Levels from the mildest to the most severe."""
    if spec.bits:
        return sorted(levels, key=lambda b: -math.inf if b == 0 else -b)
    return sorted(levels)


def _robust_to(levels, spec, plans, rows) -> dict:
    out = {}
    for p in plans:
        mean = {r["level"]: r["cos_mean"] for r in rows if r["mitigation"] == p.name}
        last = None
        for level in _severity_order(levels, spec):
            if not mean[level] > _THRESHOLD:
                break
            last = level
        out[p.name] = last
    return out


# -- figure -----------------------------------------------------------------------


def plot_gradient_quality(result: dict, path: str | os.PathLike) -> Path:
    """Mean cosine against level per mitigation, with the interquartile range
    of the per-seed mean cosines as a band, and the median scale error; PNG.

    The level axis is logarithmic when the nonzero levels span a decade or
    more (level 0 is then drawn a factor 3 below the smallest and labelled
    "0"); for actuator resolutions it runs from many bits to few, with a
    continuous actuator (level 0) at the left.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    levels = result["levels"]
    bits = EFFECTS[result["effect"]].bits
    xs, ticks, log_x = _plot_positions(levels, bits)
    fig, (ax_c, ax_s) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)

    for i, name in enumerate(result["mitigations"]):
        rows = {r["level"]: r for r in result["rows"] if r["mitigation"] == name}
        x = [xs[lv] for lv in levels]
        order = np.argsort(x)
        x = np.array(x)[order]
        pick = [rows[levels[j]] for j in order]
        colour = f"C{i}"
        ax_c.plot(x, [r["cos_mean"] for r in pick], "o-", color=colour, label=name)
        ax_c.fill_between(
            x,
            [r["cos_seed_q25"] for r in pick],
            [r["cos_seed_q75"] for r in pick],
            color=colour,
            alpha=0.18,
            lw=0,
        )
        ax_s.plot(
            x,
            [max(abs(r["scale_error_median"]), 1e-6) for r in pick],
            "o-",
            color=colour,
            label=name,
        )

    level_axes((ax_c, ax_s), result, ticks, log_x)
    ax_c.axhline(result["threshold"], color="0.5", lw=0.8, ls="--")
    ax_c.set(ylabel="cos(measured, exact)", ylim=(min(-0.2, ax_c.get_ylim()[0]), 1.03))
    ax_c.set_title(
        "(a) gradient direction: mean, IQR over seeds of the per-seed mean",
        fontsize=10,
    )
    ax_c.legend(frameon=False, fontsize=8, loc="lower left")
    ax_s.set_yscale("log")
    ax_s.set_ylabel("| median of |g_meas| / |g_exact| − 1 |")
    ax_s.set_title("(b) gradient scale error", fontsize=10)
    fig.suptitle(
        f"Measured EP gradient against {result['effect']}: "
        f"{result['settle']} settles, base {result['base'] or 'custom'}, "
        f"beta = {result['beta']:g}, {len(result['seeds'])} seeds × "
        f"{result['n_samples']} samples",
        fontsize=11,
    )

    from kurahw.studies import report

    return report.save_png(fig, path, dpi=130)


def level_axes(axes, result: dict, ticks: dict, log_x: bool) -> None:
    """Label the level axis of every panel of a noise-study figure: the effect
    and its unit (with the carrier for readout jitter), the levels as ticks,
    and actuator resolutions running from many bits to few."""
    xlabel = f"{result['effect']} ({result['unit']})"
    if result["effect"] == "tdc_jitter_s":
        xlabel += f" at {result['model']['carrier_hz'] / 1e9:g} GHz"
    for ax in axes:
        if log_x:
            ax.set_xscale("log")
        ax.set_xticks(list(ticks))
        ax.set_xticklabels(list(ticks.values()))
        ax.minorticks_off()
        ax.set_xlabel(xlabel)
        if EFFECTS[result["effect"]].bits:
            ax.invert_xaxis()


def _plot_positions(levels, bits: bool):
    """x position of each level, tick labels, and whether the axis is log."""
    if bits:
        finite = [b for b in levels if b]
        off = (max(finite) + 2) if finite else 1
        xs = {b: (b if b else off) for b in levels}
        return xs, {xs[b]: (str(b) if b else "cont.") for b in levels}, False

    positive = [v for v in levels if v > 0]
    log_x = bool(positive) and max(positive) / min(positive) >= 10
    if not log_x:
        xs = {v: v for v in levels}
        return xs, {v: f"{v:g}" for v in levels}, False
    xs = {v: (v if v > 0 else min(positive) / 3) for v in levels}
    return xs, {xs[v]: (f"{v:g}" if v > 0 else "0") for v in levels}, True
