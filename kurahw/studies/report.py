"""Reports of reproduced experiments: a markdown page with the paper's numbers
beside ours, and PNG figures (accuracy histograms, learning curves, per-seed
comparisons)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt
import numpy as np

from kurahw._io import atomic_write_bytes

__all__ = [
    "accuracy_cell",
    "accuracy_histogram",
    "figures",
    "learning_curves",
    "markdown",
    "percent",
]

_BINS = np.linspace(0, 1, 11)


# -- markdown -----------------------------------------------------------------


def percent(x, digits: int = 1) -> str:
    """A fraction as a percentage for a table cell; a dash for None."""
    return "—" if x is None else f"{100 * x:.{digits}f}"


def _count(entry: dict | None) -> str:
    if not entry or entry.get("n_success") is None:
        return "—"
    return f"{entry['n_success']}/{entry['n_seeds']}"


def accuracy_cell(
    entry: dict | None, key="success_acc_mean", std_key="success_acc_std"
) -> str:
    """A summary entry's mean accuracy, with its spread where known, as a
    table cell in percent."""
    if not entry or entry.get(key) is None:
        return "—"
    std = entry.get(std_key)
    return percent(entry[key]) + (f" ± {percent(std)}" if std is not None else "")


def _table(block: dict[str, Any]) -> list[str]:
    lines = [
        "| condition | success (ours) | success (paper) | success acc. % (ours) | "
        "success acc. % (paper) | all-seed % (ours) | all-seed % (paper) |",
        "|---|---|---|---|---|---|---|",
    ]

    for name, e in block.items():
        paper = e.get("paper")
        lines.append(
            f"| {name} | {_count(e)} | {_count(paper)} | {accuracy_cell(e)} | "
            f"{accuracy_cell(paper)} | "
            f"{percent(e.get('all_acc_mean'))} | "
            f"{percent(paper.get('all_acc_mean')) if paper else '—'} |"
        )
    return lines


def _other_readout_table(block: dict[str, Any]) -> list[str]:
    lines = [
        "| condition | success | success acc. % | all-seed % |",
        "|---|---|---|---|",
    ]

    for name, e in block.items():
        for r in e.get("readouts", {}).values():
            lines.append(
                f"| {name} | {_count(r)} | {accuracy_cell(r)} | "
                f"{percent(r['all_acc_mean'])} |"
            )
    return lines


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items()) + "}"
    return str(v)


def markdown(exp, summary: dict[str, Any]) -> str:
    """The markdown report of one experiment."""
    proto = summary.get("protocol", {})
    lines = [
        f"# {summary['title']}",
        "",
        f"**Paper:** {exp.claim}",
        "",
        _protocol_line(exp, summary, proto),
        "",
        "## Results",
        "",
        *_table(summary["conditions"]),
        "",
    ]
    if summary.get("alternatives"):
        lines += ["### Further conditions", "", *_table(summary["alternatives"]), ""]

    agreement = [
        f"{name}: same success on {a['same_success']}/{a['seeds']} seeds, same "
        f"accuracy on {a['same_accuracy']}/{a['seeds']}"
        for name, e in {
            **summary["conditions"],
            **summary.get("alternatives", {}),
        }.items()
        if (a := e.get("per_seed_vs_paper"))
    ]
    if agreement:
        lines += [
            "Seed by seed against the paper's released accuracies: "
            + "; ".join(agreement)
            + ".",
            "",
        ]

    other = [e for e in summary["conditions"].values() if e.get("readouts")]
    if other:
        name = next(iter(other[0]["readouts"]))
        lines += [
            f"### The same runs under the `{name}` readout",
            "",
            *_other_readout_table(
                {**summary["conditions"], **summary.get("alternatives", {})}
            ),
            "",
        ]

    if summary.get("comparisons"):
        lines += ["## Statistics", "", "| comparison | ours | paper |", "|---|---|---|"]
        paper = summary.get("paper_stats", {})
        for key, ours in summary["comparisons"].items():
            lines.append(f"| {key} | {_fmt(ours)} | {_fmt(paper.get(key, '—'))} |")
        lines.append("")

    analysis = {
        k: v for k, v in summary.get("analysis", {}).items() if k != "readout_question"
    }
    if analysis:
        lines += ["## Analysis", ""]
        for key, value in analysis.items():
            if not (isinstance(value, list) and len(value) > 12):
                lines.append(f"- **{key}**: {_fmt(value)}")
        if summary.get("paper_stats"):
            lines.append(f"- **paper**: {_fmt(summary['paper_stats'])}")
        lines.append("")

    question = summary.get("analysis", {}).get("readout_question")
    if question:
        lines += _readout_section(question)

    for fig in summary.get("figures", []):
        lines += [f"![{fig}]({fig})", ""]
    return "\n".join(lines)


def _protocol_line(exp, summary, proto) -> str:
    seeds = proto.get("seeds", exp.seeds)
    if not exp.epochs:
        return (
            f"Seeds 0–{seeds - 1} (paper: {exp.seeds}); "
            f"{summary.get('seconds', 0):.0f} s."
        )
    return (
        f"Seeds 0–{seeds - 1}, {proto.get('epochs')} epochs (paper: {exp.seeds} "
        f"seeds, {exp.epochs} epochs); success means "
        f"{summary['success_criterion']}; readout: {summary['readout']}; backend: "
        f"{proto.get('backend', '—')}; training took "
        f"{summary.get('train_seconds', 0):.0f} s."
    )


def _readout_section(question: dict[str, Any]) -> list[str]:
    lines = [
        "## What decides success under the paper's readout",
        "",
        "Output phases split into a common part c = (θ_o1 + θ_o2)/2 and a "
        "difference d = θ_o1 − θ_o2. The targets ask for d = −0.4 on class 0 and "
        "+0.4 on class 1; the readout argmax cos θ picks class 0 exactly when "
        "c·d < 0.",
        "",
        "| condition | success, paper readout | success, target readout | "
        "success before training | same verdict before/after | sign of d predicts "
        "success | sign of ω_o1−ω_o2 at start predicts | mean c by class (rad) | "
        "mean d by class (rad) | test loss start → end |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]

    for name, q in question.items():
        n = q["n_seeds"]
        lines.append(
            f"| {name} | {q['success_paper_readout']}/{n} | "
            f"{q['success_target_readout']}/{n} | {q['success_before_training']}/{n} "
            f"| {q['same_verdict_before_and_after_training']}/{n} | "
            f"{q['sign_d_predicts_success']}/{n} | "
            f"{q['sign_initial_omega_difference_predicts_success']}/{n} | "
            f"{_fmt(q['common_mode_by_class'])} | {_fmt(q['difference_by_class'])} | "
            f"{q['test_loss_start']:.4f} → {q['test_loss_end']:.4f} |"
        )

    lines.append("")
    lines += _readout_verdict(question)
    return lines


def _readout_verdict(question: dict[str, Any]) -> list[str]:
    """What the table says, in words, with the measured counts."""
    n = sum(q["n_seeds"] for q in question.values())
    by_d = sum(q["sign_d_predicts_success"] for q in question.values())
    before = sum(q["same_verdict_before_and_after_training"] for q in question.values())
    target = sum(q["success_target_readout"] for q in question.values())
    c0 = np.mean([q["common_mode_by_class"][0] for q in question.values()])
    c1 = np.mean([q["common_mode_by_class"][1] for q in question.values()])

    text = (
        f"**Verdict.** Over the {n} runs above, the sign of the mean output "
        f"difference d decides success under the paper's readout in {by_d}, and "
        f"the verdict before training is the final one in {before}. The common "
        f"part c carries the class (mean {c0:+.3f} rad on class 0, {c1:+.3f} rad on "
        "class 1, measured against input oscillator 0). "
    )

    if target <= 0.15 * n:
        text += (
            "The difference d hardly depends on the class, so the outputs never "
            "approach the ±0.2 targets and the readout that the loss rewards "
            f"scores near chance ({target} of {n} runs above 60 %). Seeds that "
            "'fail' are the same classifiers with the opposite sign of d."
        )
    else:
        text += (
            f"The readout that the loss rewards succeeds in {target} of {n} runs: "
            + "; ".join(
                f"{name} {q['success_target_readout']}/{q['n_seeds']}"
                for name, q in question.items()
            )
            + "."
        )

    return [text, ""]


# -- figures ------------------------------------------------------------------


def save_png(fig, path, dpi: int = 110) -> Path:
    """Write ``fig`` as a PNG atomically (a reader never sees half a file) and
    close it."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def _save(fig, path: Path) -> str:
    return save_png(fig, path).name


def figures(exp, results, summary: dict[str, Any], out: Path) -> list[str]:
    """Write the experiment's PNG figures into ``out``; return their names."""
    names = [accuracy_histogram(summary, out / "accuracy_histogram.png")]
    names.append(
        learning_curves(results, summary["readout"], out / "learning_curves.png")
    )
    if exp.name == "spectral":
        names.append(_per_seed(summary, out / "per_seed.png"))
    question = summary.get("analysis", {}).get("readout_question")
    if question:
        names.append(_readout_figure(results, question, out / "readout.png"))
    return names


def accuracy_histogram(summary, path: Path) -> str:
    block = {**summary["conditions"], **summary.get("alternatives", {})}
    k = len(block)
    cols = min(k, 4)
    rows = int(np.ceil(k / cols))

    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(3.2 * cols, 2.6 * rows),
        squeeze=False,
        sharey=True,
        constrained_layout=True,
    )

    for ax, (name, e) in zip(axes.flat, block.items(), strict=False):
        ax.hist(e["accuracies"], bins=_BINS, color="tab:blue", edgecolor="white")
        ax.axvline(0.6, color="0.4", ls="--", lw=1)
        ax.set_title(f"{name}: {e['n_success']}/{e['n_seeds']}", fontsize=9)
        ax.set_xlabel("final test accuracy")
    for ax in axes.flat[k:]:
        ax.axis("off")

    axes[0, 0].set_ylabel("seeds")
    fig.suptitle(f"{summary['title']} ({summary['readout']} readout)", fontsize=10)
    return _save(fig, path)


def learning_curves(results, readout: str, path: Path) -> str:
    fig, ax = plt.subplots(figsize=(6.4, 4), constrained_layout=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]

    for k, (name, res) in enumerate(results.items()):
        epochs = res.records[0]["eval_epochs"]
        acc = np.array([r["evaluations"][f"test_acc_{readout}"] for r in res.records])
        ok = acc[:, -1] > 0.6
        color = colors[k % len(colors)]
        if ok.any():
            ax.plot(epochs, acc[ok].mean(0), color=color, label=f"{name} ({ok.sum()})")
        if (~ok).any():
            ax.plot(epochs, acc[~ok].mean(0), color=color, ls="--")

    ax.set_xlabel("epoch")
    ax.set_ylabel("mean test accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("solid: seeds ending above 60 %, dashed: the others", fontsize=9)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, ncol=2)
    return _save(fig, path)


def _per_seed(summary, path: Path) -> str:
    r = np.array(summary["conditions"]["random"]["accuracies"])
    s = np.array(summary["conditions"]["spectral"]["accuracies"])
    fig, ax = plt.subplots(figsize=(4.6, 4.4), constrained_layout=True)
    rescued = (r <= 0.6) & (s > 0.6)
    lost = (r > 0.6) & (s <= 0.6)
    same = ~(rescued | lost)

    ax.scatter(r[same], s[same], s=14, color="0.5", label="unchanged")
    ax.scatter(r[rescued], s[rescued], s=14, color="tab:green", label="rescued")
    ax.scatter(r[lost], s[lost], s=14, color="tab:red", label="lost")
    ax.plot([0, 1], [0, 1], color="0.8", lw=1)

    ax.set_xlabel("random start: test accuracy")
    ax.set_ylabel("spectral start: test accuracy")
    ax.legend(fontsize=8)
    return _save(fig, path)


def _readout_figure(results, question, path: Path) -> str:
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for name, res in results.items():
        q = question[name]
        paper = res.test_acc("paper")
        target = res.test_acc("target")
        ax_a.scatter(q["d_mean_per_seed"], paper, s=10, label=name)
        ax_b.scatter(paper, target, s=10, label=name)

    ax_a.axvline(0, color="0.6", lw=1)
    ax_a.set_xlabel("mean output difference d = θ_o1 − θ_o2 on the test set (rad)")
    ax_a.set_ylabel("test accuracy, paper readout")

    ax_b.plot([0, 1], [0, 1], color="0.8", lw=1)
    ax_b.set_xlabel("test accuracy, paper readout (argmax cos θ)")
    ax_b.set_ylabel("test accuracy, target readout")
    ax_b.legend(fontsize=7)
    return _save(fig, path)
