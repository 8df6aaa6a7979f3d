"""``kurahw reproduce NAME``: run one of the paper's training experiments and
write ``summary.json``, a markdown report with the paper's numbers beside ours,
and PNG figures into one folder.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from kurahw import stats
from kurahw._io import atomic_write_json, atomic_write_text, json_safe
from kurahw.studies import report
from kurahw.studies.experiments import Experiment, get_experiment
from kurahw.studies.runner import (
    ConditionResult,
    run_conditions,
    summarize,
    training_seconds,
)

__all__ = ["reproduce"]

log = logging.getLogger(__name__)


def reproduce(
    name: str,
    *,
    seeds: int | None = None,
    epochs: int | None = None,
    out: str | os.PathLike,
    readout: str = "paper",
    backend: str = "ideal",
    data_path=None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Run experiment ``name`` and write its records into ``out``.

    Parameters
    ----------
    name : str
        One of :data:`kurahw.studies.experiments.EXPERIMENTS`.
    seeds, epochs : int, optional
        Override the paper's counts (seeds are 0..seeds-1).
    out : path
        Output folder; an interrupted run resumes from what it holds.
    readout : {"paper", "target"}
        Readout behind the headline numbers (both are always reported).
    """
    exp = get_experiment(name)
    n_seeds = exp.seeds if seeds is None else int(seeds)
    n_epochs = exp.epochs if epochs is None else int(epochs)

    if n_seeds < 1:
        raise ValueError(f"`seeds` must be >= 1, got {seeds!r}.")
    if exp.name != "baselines" and n_epochs < 1:
        raise ValueError(f"`epochs` must be >= 1, got {epochs!r}.")

    out = Path(out)
    started = time.perf_counter()

    if exp.name == "baselines":
        summary = _baselines(exp, n_seeds, data_path)
        figures: list[str] = []
    else:
        results = run_conditions(
            exp.all_conditions(),
            range(n_seeds),
            epochs=n_epochs,
            out=out,
            backend=backend,
            readout=readout,
            data_path=data_path,
            progress=progress,
        )
        summary = summarize(exp, results, readout)
        summary["train_seconds"] = training_seconds(results)
        summary["analysis"] = _ANALYSES.get(exp.name, _none)(exp, results, readout)
        figures = report.figures(exp, results, summary, out)

    summary["protocol"] = {
        "seeds": n_seeds,
        "epochs": n_epochs,
        "paper_seeds": exp.seeds,
        "paper_epochs": exp.epochs,
        "backend": backend,
    }
    summary["seconds"] = round(time.perf_counter() - started, 1)
    summary["figures"] = figures

    atomic_write_json(out / "summary.json", json_safe(summary))
    atomic_write_text(out / "report.md", report.markdown(exp, summary))
    return summary


# -- experiment-specific analyses -----------------------------------------------


def _none(exp, results, readout):
    return {}


def _gradient_training(exp, results, readout):
    ep = results["ep"].test_acc(readout)
    fd = results["finite-difference"].test_acc(readout)
    gap = np.abs(ep - fd)
    paper_tp = np.array(exp.conditions[0].paper["accuracies"])
    k = min(paper_tp.size, ep.size)

    return {
        "gap_per_seed": gap.tolist(),
        "gap_mean": float(gap.mean()),
        "gap_std": float(gap.std()),
        "gap_zero": int((gap < 1e-9).sum()),
        "ep_minus_paper_per_seed": (ep[:k] - paper_tp[:k]).tolist(),
    }


def _diagnosis(exp, results, readout):
    return {
        name: _diagnose(res, res.success(readout, exp.success))
        for name, res in results.items()
    }


def _diagnose(res: ConditionResult, ok: np.ndarray) -> dict[str, Any]:
    """Conditioning and skipped samples of converged against failed seeds."""
    cond = np.array([r["evaluations"]["cond"] for r in res.records])
    steps = np.array(
        [
            np.sum(r["epochs"][k])
            for r in res.records
            for k in ("train_counted", "skipped_free", "skipped_nudge")
        ]
    ).sum()
    skipped = sum(
        np.sum(r["epochs"]["skipped_free"]) + np.sum(r["epochs"]["skipped_nudge"])
        for r in res.records
    )

    out: dict[str, Any] = {"n_converged": int(ok.sum()), "n_failed": int((~ok).sum())}
    for label, col in (("cond_initial", 0), ("cond_final", -1)):
        out[label] = {
            "converged": list(stats.mean_std(cond[ok, col])),
            "failed": list(stats.mean_std(cond[~ok, col])),
            "welch_p": stats.welch(cond[ok, col], cond[~ok, col]).p,
        }

    out["skip_rate"] = float(skipped / max(steps, 1))
    out["unstable_settles"] = int(
        sum(np.sum(r["epochs"]["unstable"]) for r in res.records)
    )
    return out


def _stabilization(exp, results, readout):
    names = [c.name for c in exp.conditions]
    outcomes = np.stack(
        [results[n].success(readout, exp.success) for n in names], axis=1
    )

    q = stats.cochran_q(outcomes.astype(int))
    sets = {
        n: [int(s) for s in np.flatnonzero(outcomes[:, k])] for k, n in enumerate(names)
    }
    identical = all(v == sets[names[0]] for v in sets.values())

    return {
        "success_seeds": sets,
        "identical": identical,
        "cochran_q": q.q,
        "cochran_p": q.p,
        "cochran_degenerate": bool(q.degenerate),
    }


def _spectral(exp, results, readout):
    return {
        **_rescued_lost(exp, results, "random", "spectral", readout),
        "readout_question": _readout_question(results),
    }


def _generalization(exp, results, readout):
    out = {
        a.split("/")[0]: _rescued_lost(exp, results, a, b, readout)
        for a, b in exp.comparisons
    }
    out["readout_question"] = _readout_question(results)
    return out


def _readout(exp, results, readout):
    return {"readout_question": _readout_question(results)}


def _rescued_lost(exp, results, before: str, after: str, readout: str) -> dict:
    """Seeds that succeed under ``after`` but not ``before``, and the reverse."""
    a = results[before].success(readout, exp.success)
    b = results[after].success(readout, exp.success)
    return {"rescued": int((~a & b).sum()), "lost": int((a & ~b).sum())}


def _readout_question(results) -> dict[str, Any]:
    return {name: readout_evidence(res) for name, res in results.items()}


def readout_evidence(res: ConditionResult) -> dict[str, Any]:
    """What decides success under the paper's readout, for one condition.

    With outputs ``o1``, ``o2`` write the output phases as a common part
    ``c = (theta_o1 + theta_o2) / 2`` and a difference ``d = theta_o1 - theta_o2``.
    The targets ask for ``d = -0.4`` on class 0 and ``+0.4`` on class 1; the
    readout ``argmax cos`` picks class 0 exactly when ``c * d < 0``. This
    collects, per seed, the untrained accuracy, the mean of ``d`` and of ``c``
    per class on the test set, and how well the sign of ``d`` and of the initial
    output-frequency difference predict success.
    """
    paper_acc = res.test_acc("paper")
    target_acc = res.test_acc("target")
    success = paper_acc > 0.6

    d_mean, c_by_class, d_by_class = [], [], []
    for rec in res.records:
        ph = np.array(rec["test_phases"], dtype=float)
        y = np.array(rec["y_test"])
        c = ph.mean(axis=1)
        d = ph[:, 0] - ph[:, 1]
        d_mean.append(np.nanmean(d))
        c_by_class.append([np.nanmean(c[y == k]) for k in (0, 1)])
        d_by_class.append([np.nanmean(d[y == k]) for k in (0, 1)])

    d_mean = np.array(d_mean)
    c_by_class, d_by_class = np.array(c_by_class), np.array(d_by_class)
    out_nodes = [-2, -1]
    omega0 = np.array([r["omega_initial"] for r in res.records])
    d_omega0 = omega0[:, out_nodes[0]] - omega0[:, out_nodes[1]]
    untrained = np.array([r["evaluations"]["test_acc_paper"][0] for r in res.records])
    loss = np.array([r["evaluations"]["test_loss"] for r in res.records])

    return {
        "n_seeds": int(success.size),
        "success_paper_readout": int(success.sum()),
        "success_target_readout": int((target_acc > 0.6).sum()),
        "mean_acc_paper_readout": float(paper_acc.mean()),
        "mean_acc_target_readout": float(target_acc.mean()),
        "success_before_training": int((untrained > 0.6).sum()),
        "same_verdict_before_and_after_training": int(
            ((untrained > 0.6) == success).sum()
        ),
        "sign_d_predicts_success": int(((d_mean > 0) == success).sum()),
        "sign_initial_omega_difference_predicts_success": int(
            ((d_omega0 > 0) == success).sum()
        ),
        "common_mode_by_class": c_by_class.mean(axis=0).tolist(),
        "difference_by_class": d_by_class.mean(axis=0).tolist(),
        "test_loss_start": float(loss[:, 0].mean()),
        "test_loss_end": float(loss[:, -1].mean()),
        "d_mean_per_seed": d_mean.tolist(),
        "untrained_acc_per_seed": untrained.tolist(),
    }


def _baselines(exp: Experiment, n_seeds: int, data_path) -> dict[str, Any]:
    from kurahw.baselines import fm_baseline, vowel_baseline

    seeds = range(n_seeds)
    conditions = {}
    for vowels, key in ((("a", "i"), "a/i"), (("o", "u"), "o/u")):
        acc = np.asarray(vowel_baseline(vowels, seeds=seeds, path=data_path))
        conditions[key] = {
            "n_seeds": int(acc.size),
            "n_success": int((acc > 0.6).sum()),
            "success_acc_mean": float(acc[acc > 0.6].mean())
            if (acc > 0.6).any()
            else None,
            "all_acc_mean": float(acc.mean()),
            "accuracies": acc.tolist(),
            "paper": {"all_acc_mean": exp.paper_stats[key]},
        }

    acc = np.asarray(fm_baseline(seeds=seeds))
    conditions["fm"] = {
        "n_seeds": int(acc.size),
        "n_success": int((acc > 0.6).sum()),
        "success_acc_mean": float(acc[acc > 0.6].mean()) if (acc > 0.6).any() else None,
        "all_acc_mean": float(acc.mean()),
        "accuracies": acc.tolist(),
        "paper": None,
    }

    return {
        "experiment": exp.name,
        "title": exp.title,
        "readout": "logistic regression",
        "success_criterion": "test accuracy > 0.6",
        "conditions": conditions,
        "paper_stats": exp.paper_stats,
    }


_ANALYSES = {
    "gradient-training": _gradient_training,
    "diagnosis": _diagnosis,
    "stabilization": _stabilization,
    "spectral": _spectral,
    "generalization": _generalization,
    "readout": _readout,
}
