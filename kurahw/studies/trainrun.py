"""``kurahw train``: one training condition over many seeds, with its records.

The output folder holds ``summary.json`` (the condition's statistics under
both readouts), ``runs/`` (every seed's histories, configuration and backend
settings), PNG figures and ``report.md``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kurahw._io import atomic_write_json, atomic_write_text
from kurahw.backends import DeviceModel
from kurahw.studies import report
from kurahw.studies.experiments import Condition
from kurahw.studies.runner import (
    condition_summary,
    run_conditions,
    training_seconds,
)
from kurahw.training import READOUTS

__all__ = ["console_summary", "train_condition"]


def train_condition(
    cond: Condition,
    seeds: Sequence[int],
    *,
    epochs: int,
    out: str | os.PathLike,
    readout: str = "paper",
    backend: str = "ideal",
    backend_options: dict[str, Any] | None = None,
    eval_every: int | None = 10,
    data_path=None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Train ``cond`` on every seed and write the records into ``out``."""
    out = Path(out)
    started = time.perf_counter()
    results = run_conditions(
        [cond],
        seeds,
        epochs=epochs,
        out=out,
        backend=backend,
        backend_options=backend_options,
        readout=readout,
        eval_every=eval_every,
        data_path=data_path,
        progress=progress,
    )

    res = results[cond.name]
    summary = {
        "condition": cond.name,
        "task": cond.task,
        "vowels": list(cond.vowels),
        "n_hidden": cond.n_hidden,
        "seeding": cond.seeding,
        "lr_omega": cond.lr_omega,
        "lr_coupling": cond.lr_coupling,
        "epochs": epochs,
        "backend": backend,
        "device": _device(backend_options),
        "mitigation": cond.config.get("mitigation", "none"),
        "readout": readout,
        "success_criterion": "final test accuracy > 0.6",
        "readouts": {r: condition_summary(res, r, "test") for r in READOUTS},
        "settles": res.settle_counts(),
        "seconds": round(time.perf_counter() - started, 1),
        "train_seconds": training_seconds(results),
    }

    doc = {
        "title": f"Training {cond.name} on {cond.task}",
        "readout": readout,
        "conditions": {cond.name: summary["readouts"][readout]},
    }
    summary["figures"] = [
        report.accuracy_histogram(doc, out / "accuracy_histogram.png"),
        report.learning_curves(results, readout, out / "learning_curves.png"),
    ]

    atomic_write_json(out / "summary.json", summary)
    atomic_write_text(out / "report.md", _markdown(summary))
    return summary


def _device(options: dict[str, Any] | None) -> dict[str, Any] | None:
    model = (options or {}).get("model")
    if model is None:
        return None
    if isinstance(model, str):
        model = DeviceModel.from_preset(model)
    return {"board_seed": (options or {}).get("seed", 0), **model.to_dict()}


def console_summary(summary: dict[str, Any]) -> str:
    """A few lines for the terminal."""
    lines = [
        f"{summary['condition']} on {summary['task']}, {summary['epochs']} epochs, "
        f"{summary['readouts']['paper']['n_seeds']} seeds, "
        f"{summary['seconds']:.1f} s"
    ]

    for r, e in summary["readouts"].items():
        mean = e["success_acc_mean"]
        lines.append(
            f"  {r:>6} readout: {e['n_success']}/{e['n_seeds']} above 60 %, "
            f"those at {100 * mean:.1f} %"
            if mean is not None
            else f"  {r:>6} readout: 0/{e['n_seeds']} above 60 %"
        )
        lines[-1] += f"; all seeds {100 * e['all_acc_mean']:.1f} %"
    lines.append("  " + _where(summary))
    return "\n".join(lines)


def _where(summary: dict[str, Any]) -> str:
    """Backend, device and mitigation, and what the settles did."""
    device = summary.get("device")
    text = f"backend {summary['backend']}"
    if device is not None:
        text += f" ({device.get('preset') or 'custom'} board)"
    text += f", mitigation {summary.get('mitigation', 'none')}"
    s = summary.get("settles")
    if s:
        skipped = s["skipped_free"] + s["skipped_nudge"]
        text += (
            f"; {skipped} of {s['samples']} samples skipped (no lock or no "
            f"convergence), {s['unstable']} unstable settles"
        )
    return text


def _markdown(summary: dict[str, Any]) -> str:
    lines = [
        f"# {summary['condition']} on {summary['task']}",
        "",
        f"{summary['epochs']} epochs; {_where(summary)}. Success means "
        f"{summary['success_criterion']}.",
        "",
        "| readout | success | success acc. % | all-seed % |",
        "|---|---|---|---|",
    ]

    for r, e in summary["readouts"].items():
        lines.append(
            f"| {r} | {e['n_success']}/{e['n_seeds']} | "
            f"{report.accuracy_cell(e)} | {report.percent(e['all_acc_mean'])} |"
        )
    lines.append("")
    lines += [f"![{f}]({f})" for f in summary["figures"]]
    return "\n".join(lines) + "\n"
