"""Does training survive a device effect? Accuracy and success against noise.

:func:`training_robustness` trains the vowel task (2+5+2 network, spectral
initial frequencies, the paper's protocol otherwise) on emulated boards at
every level of one device effect, once per mitigation the trainer runs (see
:mod:`kurahw.training.mitigation`), and compares every accuracy with the same
seeds trained on the ideal backend. A mitigation *restores* training at a
level when the mean test accuracy over the seeds is within
:data:`RESTORE_POINTS` percentage points of the ideal backend's.

Every batch checkpoints and keeps its records under ``out``, so an interrupted
study resumes where it stopped and a finished one is re-reported for free.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kurahw.backends import EmulatorBackend
from kurahw.network import NetworkBatch
from kurahw.studies import noise
from kurahw.studies.experiments import Condition
from kurahw.studies.runner import build_runs, fit_to_backend, run_conditions
from kurahw.training import TaskData, TrainConfig, Trainer

__all__ = [
    "RESTORE_POINTS",
    "TRAINING_MITIGATIONS",
    "plot_training_robustness",
    "training_robustness",
]

log = logging.getLogger(__name__)

#: Largest accuracy loss, in percentage points, that still counts as restored.
RESTORE_POINTS = 3.0
#: Mitigations trained by default: each of the five, and the strongest pair.
TRAINING_MITIGATIONS = (*noise.MITIGATIONS, "lockin+average")

_READOUT = "paper"


def training_robustness(
    effect: str,
    levels: Iterable[float] | None = None,
    *,
    seeds: int | Sequence[int] = 20,
    epochs: int = 200,
    beta: float = 0.1,
    mitigations: Sequence[str] = TRAINING_MITIGATIONS,
    base=None,
    nudge_form: str = "balanced-injection",
    board_seed: int = 0,
    out: str | os.PathLike | None = None,
    data_path=None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Train at every level of ``effect`` under every mitigation.

    Parameters
    ----------
    effect, levels, base, nudge_form
        As in :func:`kurahw.studies.noise.gradient_quality`: the
        :class:`~kurahw.backends.DeviceModel` figure to sweep, its values
        (default: the effect's own sweep), the preset or model of the board's
        other figures, and the board's output drive.
    seeds : int or sequence of int
        A count (seeds 0..seeds-1) or the seeds; each sets a run's data split
        and sample order. Board ``b`` of the batch (the ``b``-th seed) draws
        its flaws and noise from ``(board_seed, b)``, the same at every level
        and under every mitigation.
    epochs : int
    beta : float
        Nudge strength of ``none``, ``average`` and ``centered``.
    mitigations : sequence of str
        Names accepted by :func:`kurahw.training.mitigation.plan`.
    out : path, optional
        Folder for checkpoints and run records (``ideal/`` and one folder per
        level and mitigation); reruns reuse what is there.
    data_path : path, optional
        The vowel data.
    progress : callable, optional
        ``progress(label, epochs_done, epochs_total)`` after every epoch of
        every batch (``1 + len(levels) * len(mitigations)`` batches).

    Returns
    -------
    dict
        JSON-ready: ``ideal`` (the reference's accuracies), ``rows`` (per level
        and mitigation: ``acc_mean``, ``acc_std``, ``acc_q25``, ``acc_q75``,
        ``acc_median``, ``n_success``, ``gap_points`` (ideal minus this, in
        points), ``restored``, ``accuracies`` per seed, ``settles`` (skipped
        and unstable counts), ``seconds``, ``acc_quiet_readout`` (per seed)
        and ``acc_quiet_readout_mean``: the same trained boards read through
        a noise-free readout), and ``restores_to``: per mitigation, the most
        severe level up to which every level is restored (None if not even
        the mildest); ``restores_to_quiet_readout`` the same for the
        noise-free readout.
    """
    spec = noise._effect(effect)
    levels = noise._check_levels(
        effect, spec, spec.levels if levels is None else levels
    )
    seed_list = noise._check_seeds(seeds)
    noise.check_nudge_form(nudge_form)
    base_model, base_name, notes = noise._base_model(effect, spec, base)
    plans = noise.check_plans(mitigations, beta, base_model)
    models = [noise._model_at(base_model, effect, spec, lv) for lv in levels]

    def run(name, folder, backend, options, mitigation):
        config = {"beta": float(beta), "mitigation": mitigation}
        if backend == "emulator":
            config["nudge_form"] = nudge_form
        cond = Condition(name=name, seeding="spectral", config=config)
        res = run_conditions(
            [cond],
            seed_list,
            epochs=epochs,
            out=None if out is None else Path(out, folder),
            backend=backend,
            backend_options=options,
            readout=_READOUT,
            eval_every=max(1, epochs // 10),
            data_path=data_path,
            progress=progress,
        )
        return res[name]

    ideal = run("ideal", "ideal", "ideal", None, "none")
    ideal_acc = ideal.test_acc(_READOUT)
    ideal_mean = float(ideal_acc.mean())

    rows = []
    for level, model in zip(levels, models, strict=True):
        for p in plans:
            folder = f"{effect}={level:g}/{p.name}"
            res = run(
                f"{effect}={level:g} {p.name}",
                folder,
                "emulator",
                {"model": model, "seed": board_seed},
                p.name,
            )
            row = {"level": level, "mitigation": p.name, **_row(res, ideal_mean)}
            quiet = _quiet_readout_accuracy(
                res, model, board_seed, seed_list, data_path
            )
            row["acc_quiet_readout"] = quiet.tolist()
            row["acc_quiet_readout_mean"] = float(quiet.mean())
            rows.append(row)
        log.info("training study: %s = %g done", effect, level)

    return {
        "study": "noise-training",
        "effect": effect,
        "unit": spec.unit,
        "what": spec.what,
        "levels": levels,
        "base": base_name,
        "model": base_model.to_dict(),
        "settle": "exact" if base_model.settle_time is None else "integrated",
        "board_seed": int(board_seed),
        "seeds": seed_list,
        "epochs": int(epochs),
        "beta": float(beta),
        "nudge_form": nudge_form,
        "seeding": "spectral",
        "readout": _READOUT,
        "restore_points": RESTORE_POINTS,
        "mitigations": {p.name: p.to_dict() for p in plans},
        "ideal": {
            "acc_mean": ideal_mean,
            "acc_std": float(ideal_acc.std()),
            "n_success": int(ideal.success(_READOUT, "test").sum()),
            "accuracies": ideal_acc.tolist(),
            "seconds": ideal.batch_seconds,
        },
        "rows": rows,
        "restores_to": _restores_to(levels, spec, plans, rows, "acc_mean", ideal_mean),
        "restores_to_quiet_readout": _restores_to(
            levels, spec, plans, rows, "acc_quiet_readout_mean", ideal_mean
        ),
        "notes": notes,
    }


def _quiet_readout_accuracy(res, model, board_seed, seeds, data_path) -> np.ndarray:
    """Test accuracy of the trained boards read through a noise-free readout.

    The same boards (same seed, so the same flaws) are programmed with the
    parameters training ended with and evaluated with the TDC's jitter and
    step switched off: what training achieved, apart from what the readout
    costs at test time.
    """
    cond = res.condition
    nets, splits, specs = build_runs(cond, seeds, data_path)
    trained = [
        net.replace(omega=np.array(r["omega"]), coupling=np.array(r["coupling"]))
        for net, r in zip(nets, res.records, strict=True)
    ]
    board = EmulatorBackend(
        NetworkBatch.stack(trained),
        model.replace(tdc_jitter_s=0.0, tdc_lsb_s=None),
        seed=board_seed,
    )
    config = fit_to_backend(TrainConfig(epochs=1, **cond.config), board.info)
    trainer = Trainer(board, TaskData.stack(splits), specs, config)
    return trainer.evaluate()[_READOUT]


def _row(res, ideal_mean: float) -> dict[str, Any]:
    acc = res.test_acc(_READOUT)
    gap = 100.0 * (ideal_mean - float(acc.mean()))
    return {
        "acc_mean": float(acc.mean()),
        "acc_std": float(acc.std()),
        "acc_median": float(np.median(acc)),
        "acc_q25": float(np.percentile(acc, 25)),
        "acc_q75": float(np.percentile(acc, 75)),
        "n_success": int(res.success(_READOUT, "test").sum()),
        "n_seeds": int(acc.size),
        "gap_points": gap,
        "restored": bool(gap <= RESTORE_POINTS),
        "accuracies": acc.tolist(),
        "settles": res.settle_counts(),
        "seconds": res.batch_seconds,
    }


def _restores_to(levels, spec, plans, rows, key: str, ideal: float) -> dict:
    """Per mitigation, the most severe level up to which the accuracy ``key``
    of every level stays within :data:`RESTORE_POINTS` of the ideal's."""
    out = {}
    for p in plans:
        ok = {
            r["level"]: 100.0 * (ideal - r[key]) <= RESTORE_POINTS
            for r in rows
            if r["mitigation"] == p.name
        }
        last = None
        for level in noise._severity_order(levels, spec):
            if not ok[level]:
                break
            last = level
        out[p.name] = last
    return out


# -- figure -----------------------------------------------------------------------


def plot_training_robustness(result: dict, path: str | os.PathLike) -> Path:
    """Mean test accuracy against level per mitigation, with the interquartile
    range over seeds as a band, the same boards read through a noise-free
    readout dashed, and the ideal backend's accuracy and its restore band;
    and the number of successful seeds. PNG."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    levels = result["levels"]
    bits = noise.EFFECTS[result["effect"]].bits
    xs, ticks, log_x = noise._plot_positions(levels, bits)
    fig, (ax_a, ax_s) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)

    ideal = 100.0 * result["ideal"]["acc_mean"]
    restore = result["restore_points"]
    for ax in (ax_a,):
        ax.axhline(ideal, color="k", lw=1.0, label="ideal backend")
        ax.axhspan(ideal - restore, ideal, color="0.85", lw=0, zorder=0)
    n_seeds = len(result["seeds"])
    ax_s.axhline(result["ideal"]["n_success"], color="k", lw=1.0, label="ideal")

    for i, name in enumerate(result["mitigations"]):
        rows = {r["level"]: r for r in result["rows"] if r["mitigation"] == name}
        order = sorted(levels, key=lambda lv: xs[lv])
        x = [xs[lv] for lv in order]
        pick = [rows[lv] for lv in order]
        colour = f"C{i}"
        ax_a.plot(
            x, [100 * r["acc_mean"] for r in pick], "o-", color=colour, label=name
        )
        ax_a.fill_between(
            x,
            [100 * r["acc_q25"] for r in pick],
            [100 * r["acc_q75"] for r in pick],
            color=colour,
            alpha=0.15,
            lw=0,
        )
        if all("acc_quiet_readout_mean" in r for r in pick):
            ax_a.plot(
                x,
                [100 * r["acc_quiet_readout_mean"] for r in pick],
                "--",
                color=colour,
                lw=1.0,
            )
        ax_s.plot(x, [r["n_success"] for r in pick], "o-", color=colour, label=name)

    noise.level_axes((ax_a, ax_s), result, ticks, log_x)
    ax_a.set_ylabel("test accuracy, mean over seeds (%)")
    ax_a.set_title(
        f"(a) accuracy; band: IQR over seeds; grey: within {restore:g} points of "
        "ideal;\ndashed: the same boards through a noise-free readout",
        fontsize=10,
    )
    ax_a.legend(frameon=False, fontsize=8, loc="lower left")
    ax_s.set(ylabel=f"seeds above 60 % (of {n_seeds})", ylim=(-0.5, n_seeds + 0.5))
    ax_s.set_title("(b) successful seeds", fontsize=10)
    fig.suptitle(
        f"Training through {result['effect']}: {result['settle']} settles, base "
        f"{result['base'] or 'custom'}, spectral seeding, {n_seeds} seeds × "
        f"{result['epochs']} epochs",
        fontsize=11,
    )

    from kurahw.studies import report

    return report.save_png(fig, path, dpi=130)


def markdown(gradient: dict | None, training: dict) -> str:
    """One table per study: per level and mitigation, the gradient's cosine and
    scale error (when ``gradient`` covers it) beside training's accuracy."""
    effect, unit = training["effect"], training["unit"]
    ideal = training["ideal"]
    lines = [
        f"# Training through `{effect}`",
        "",
        f"{training['what']}; base {training['base'] or 'custom'} "
        f"({training['settle']} settles); spectral seeding, "
        f"{len(training['seeds'])} seeds × {training['epochs']} epochs, "
        f"beta {training['beta']:g}, {training['nudge_form']} nudge. Ideal backend: "
        f"{100 * ideal['acc_mean']:.1f} % mean test accuracy, "
        f"{ideal['n_success']}/{len(training['seeds'])} seeds above 60 %. "
        f"Restored: within {training['restore_points']:g} points of it.",
        "",
        f"| {effect} ({unit}) | mitigation | cos (mean) | scale error (median) | "
        "seeds > 60 % | accuracy % (mean ± sd) | gap (points) | accuracy %, "
        "noise-free readout | skipped |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    grad = {}
    if gradient is not None:
        grad = {(r["level"], r["mitigation"]): r for r in gradient["rows"]}
    for r in training["rows"]:
        g = grad.get((r["level"], r["mitigation"]))
        cos = "" if g is None else f"{g['cos_mean']:.3f}"
        scale = "" if g is None else f"{100 * g['scale_error_median']:+.1f} %"
        s = r["settles"]
        mark = " ✓" if r["restored"] else ""
        lines.append(
            f"| {_level(r['level'], unit)} | {r['mitigation']} | {cos} | {scale} | "
            f"{r['n_success']}/{r['n_seeds']} | {100 * r['acc_mean']:.1f} ± "
            f"{100 * r['acc_std']:.1f} | {r['gap_points']:+.1f}{mark} | "
            f"{100 * r['acc_quiet_readout_mean']:.1f} | "
            f"{s['skipped_free'] + s['skipped_nudge']} |"
        )

    lines += [
        "",
        "Most severe level up to which each mitigation keeps the accuracy within "
        f"{training['restore_points']:g} points of the ideal backend's, read "
        "through the board's readout (and through a noise-free one):",
        "",
    ]
    quiet = training["restores_to_quiet_readout"]
    for name, level in training["restores_to"].items():
        lines.append(f"- {name}: {_reach(level, unit)} ({_reach(quiet[name], unit)})")
    return "\n".join(lines) + "\n"


def _reach(level, unit: str) -> str:
    return "not even the mildest level" if level is None else _level(level, unit)


def _level(level, unit: str) -> str:
    if unit == "bits":
        return "cont." if level == 0 else f"{level} bits"
    if isinstance(level, float) and level and (abs(level) < 1e-3):
        return f"{level:.0e}"
    return f"{level:g}"
