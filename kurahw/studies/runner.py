"""Running an experiment: build every seed's network and data, train them in
lockstep on a backend, and reduce the histories to the paper's statistics.

Conditions that share a network structure and a training protocol run as one
batch. Each batch checkpoints after every epoch and stores its records when it
finishes, so an interrupted ``kurahw reproduce`` picks up where it stopped.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from kurahw import seeding, stats
from kurahw._io import atomic_write_json, json_safe
from kurahw.backends import open_backend
from kurahw.data import load_vowels, vowel_split
from kurahw.network import Network, NetworkBatch, layered_network
from kurahw.studies.experiments import Condition, Experiment
from kurahw.training import READOUTS, RunSpec, TaskData, TrainConfig, Trainer

__all__ = [
    "ConditionResult",
    "training_seconds",
    "build_runs",
    "group_key",
    "run_conditions",
    "summarize",
]

log = logging.getLogger(__name__)

#: Accuracy above which a seed counts as a success.
SUCCESS_THRESHOLD = 0.6


@dataclass
class ConditionResult:
    """Every seed of one condition after training.

    Attributes
    ----------
    condition : Condition
    seeds : list of int
    records : list of dict
        Per seed, :meth:`kurahw.training.TrainResult.member_record`, plus
        ``test_phases`` (list, shape (n_test, outputs)) and ``y_test``.
    batch : str
        Name of the lockstep batch the condition trained in.
    batch_seconds : float
        Training time of that whole batch (when it was trained, not reloaded).
    """

    condition: Condition
    seeds: list[int]
    records: list[dict[str, Any]]
    batch: str = ""
    batch_seconds: float = 0.0

    def test_acc(self, readout: str) -> np.ndarray:
        """Final test accuracy per seed, shape (seeds,)."""
        return np.array([r["final_test_acc"][readout] for r in self.records])

    def train_acc(self, readout: str) -> np.ndarray:
        """Final-epoch running training accuracy per seed, shape (seeds,)."""
        return np.array([r["final_train_acc"][readout] for r in self.records])

    def settle_counts(self) -> dict[str, int]:
        """Samples skipped because a settle did not converge (or lock), and
        settles that ended off a stable equilibrium, summed over seeds and
        epochs; ``samples`` is how many training samples were presented."""
        out = {"skipped_free": 0, "skipped_nudge": 0, "unstable": 0, "samples": 0}
        for r in self.records:
            ep = r["epochs"]
            for key in ("skipped_free", "skipped_nudge", "unstable"):
                out[key] += int(sum(ep[key]))
            out["samples"] += int(
                sum(ep["train_counted"])
                + sum(ep["skipped_free"])
                + sum(ep["skipped_nudge"])
            )
        return out

    def success(self, readout: str, criterion: str) -> np.ndarray:
        """Seeds above the success threshold, by training or test accuracy."""
        acc = (
            self.train_acc(readout) if criterion == "train" else self.test_acc(readout)
        )
        return acc > SUCCESS_THRESHOLD


# -- building -----------------------------------------------------------------


def _network(cond: Condition, seed: int, probe) -> Network:
    if cond.network is not None:
        net = Network.load(cond.network)
        if len(net.inputs) != cond.n_input or len(net.outputs) != 2:
            raise ValueError(
                f"The network in {cond.network} has {len(net.inputs)} inputs and "
                f"{len(net.outputs)} outputs; the {cond.task} task needs "
                f"{cond.n_input} inputs and 2 outputs."
            )
    else:
        net = layered_network(
            cond.n_input, cond.n_hidden, 2, k_scale=cond.k_scale, seed=seed
        )

    if cond.fill_absent is not None:
        net = _filled(net, cond.fill_absent)

    if cond.seeding == "random":
        return net
    if cond.seeding == "multi-start" and cond.task == "vowels" and probe is not None:
        return seeding.seed_omega(net, cond.seeding, seed, probe=probe)
    return seeding.seed_omega(net, cond.seeding, seed)


def _filled(net: Network, value: float) -> Network:
    """``net`` with every uncoupled pair coupled at ``value``."""
    k = net.coupling_matrix()
    i, j = np.triu_indices(net.n, 1)
    return net.replace(
        edges=np.stack([i, j], axis=1), coupling=np.where(k[i, j] > 0, k[i, j], value)
    )


def _split(cond: Condition, seed: int, data_path, cache: dict):
    if cond.task == "fm":
        from kurahw.fm import fm_task

        return fm_task(seed)
    key = (cond.vowels, data_path)
    if key not in cache:
        cache[key] = load_vowels(data_path, vowels=cond.vowels)
    features, labels = cache[key]
    return vowel_split(features, labels, seed)


def _index_mask(name: str, indices, size: int, what: str) -> np.ndarray:
    idx = np.asarray(indices, dtype=np.int64)
    if idx.size == 0 or idx.min() < 0 or idx.max() >= size:
        raise ValueError(
            f"`{name}` is {list(indices)!r}; give at least one {what} index "
            f"between 0 and {size - 1}."
        )

    mask = np.zeros(size, dtype=bool)
    mask[idx] = True
    return mask


def _edge_mask(cond: Condition, seed: int, n_edges: int) -> np.ndarray | None:
    if cond.edges is not None:
        return _index_mask("edges", cond.edges, n_edges, "edge")
    if cond.matched_edges is None:
        return None
    if not 0 < cond.matched_edges <= n_edges:
        raise ValueError(
            f"`matched_edges` is {cond.matched_edges} for a network of {n_edges} "
            f"edges; choose between 1 and {n_edges}."
        )

    # The paper draws the learnable edges from the seeding stream.
    chosen = np.random.default_rng(seed + 10000).choice(
        n_edges, cond.matched_edges, replace=False
    )
    mask = np.zeros(n_edges, dtype=bool)
    mask[chosen] = True
    return mask


def build_runs(cond: Condition, seeds: Sequence[int], data_path=None, cache=None):
    """Networks, data splits and run specs of one condition's seeds."""
    cache = {} if cache is None else cache
    probe = None
    if cond.seeding == "multi-start" and cond.task == "vowels":
        probe = seeding.paper_probe_features(data_path)

    nets, splits, specs = [], [], []
    for seed in seeds:
        net = _network(cond, seed, probe)
        nets.append(net)
        splits.append(_split(cond, seed, data_path, cache))
        specs.append(
            RunSpec(
                seed=seed,
                lr_omega=cond.lr_omega,
                lr_coupling=cond.lr_coupling,
                omega_mask=None
                if cond.omega_nodes is None
                else _index_mask("omega_nodes", cond.omega_nodes, net.n, "node"),
                edge_mask=_edge_mask(cond, seed, net.n_edges),
                label=cond.name,
            )
        )
    return nets, splits, specs


def group_key(cond: Condition) -> str:
    """Conditions with the same key share a structure and protocol and train as
    one batch."""
    return json.dumps(
        [
            cond.task,
            cond.n_input,
            cond.n_hidden,
            cond.network,
            cond.fill_absent,
            sorted(cond.config.items()),
        ],
        sort_keys=True,
    )


# -- running ------------------------------------------------------------------


def run_conditions(
    conditions: Sequence[Condition],
    seeds: Sequence[int],
    *,
    epochs: int,
    out: str | os.PathLike | None = None,
    backend: str = "ideal",
    backend_options: dict[str, Any] | None = None,
    readout: str = "paper",
    eval_every: int | None = 10,
    data_path=None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, ConditionResult]:
    """Train every condition on every seed and return the results by name.

    Conditions with the same structure and protocol are trained together as one
    batch. With ``out``, each batch checkpoints to ``out/checkpoints`` and keeps
    its finished records in ``out/runs``; a rerun reuses both.

    ``backend`` names the backend (:func:`kurahw.backends.open_backend`) and
    ``backend_options`` go to its constructor (for the emulator: ``model``, a
    preset name or :class:`~kurahw.backends.DeviceModel`, and ``seed``, which
    draws board ``b`` of a batch from ``(seed, b)``).

    ``progress(label, epochs_done, epochs_total)`` is called after every epoch.
    """
    seeds = list(seeds)
    groups: dict[str, list[Condition]] = {}
    for cond in conditions:
        groups.setdefault(group_key(cond), []).append(cond)

    results: dict[str, ConditionResult] = {}
    cache: dict = {}
    backend_key = _backend_key(backend, backend_options)
    for conds in groups.values():
        label = "+".join(c.name for c in conds)
        slug = _slug(label)
        done = Path(out, "runs", f"{slug}.json") if out else None
        if done is not None and done.exists():
            stored = json.loads(done.read_text())
            if (
                stored["seeds"] == seeds
                and stored["epochs"] == epochs
                and stored.get("backend_key", _IDEAL_KEY) == backend_key
            ):
                for c in conds:
                    results[c.name] = ConditionResult(
                        c,
                        seeds,
                        stored["records"][c.name],
                        slug,
                        stored.get("seconds", 0.0),
                    )
                if progress:
                    progress(label, epochs, epochs)
                continue

        nets, splits, specs = [], [], []
        for c in conds:
            n, s, p = build_runs(c, seeds, data_path, cache)
            nets += n
            splits += s
            specs += p

        config = TrainConfig(
            epochs=epochs, readout=readout, eval_every=eval_every, **conds[0].config
        )
        be = open_backend(backend, NetworkBatch.stack(nets), **(backend_options or {}))
        config = fit_to_backend(config, be.info)
        tick = (lambda e, lab=label: progress(lab, e, epochs)) if progress else None
        trainer = Trainer(be, TaskData.stack(splits), specs, config, progress=tick)
        ckpt = Path(out, "checkpoints", f"{slug}.npz") if out else None
        started = time.perf_counter()
        result = trainer.run(ckpt)
        seconds = round(time.perf_counter() - started, 1)
        log.info("%s: %d runs in %.1f s", label, len(specs), seconds)

        records = {}
        for k, c in enumerate(conds):
            rows = range(k * len(seeds), (k + 1) * len(seeds))
            recs = []
            for b in rows:
                rec = result.member_record(b)
                rec["test_phases"] = np.round(result.test_phases[b], 8).tolist()
                rec["y_test"] = splits[b].y_test.tolist()
                recs.append(rec)
            records[c.name] = recs
            results[c.name] = ConditionResult(c, seeds, recs, slug, seconds)

        if done is not None:
            payload = {
                "seeds": seeds,
                "epochs": epochs,
                "config": config.to_dict(),
                "backend": be.snapshot(),
                "backend_key": backend_key,
                "seconds": seconds,
                "records": records,
            }
            atomic_write_json(done, json_safe(payload))
            ckpt.unlink(missing_ok=True)

    return results


# What records written before backends took options were trained on.
_IDEAL_KEY = '{"backend": "ideal", "options": {}}'


def _backend_key(backend: str, options: dict[str, Any] | None) -> str:
    """What a stored batch must have been trained on to be reused."""
    opts = {
        k: (v.to_dict() if hasattr(v, "to_dict") else v)
        for k, v in (options or {}).items()
    }
    return json.dumps({"backend": backend, "options": json_safe(opts)}, sort_keys=True)


def fit_to_backend(config: TrainConfig, info) -> TrainConfig:
    """The protocol a backend can run: a board starts every settle from where it
    is and can only nudge by injection. A device's residual is its lock
    indicator, not a solver's: its own verdict decides which samples are used
    (``require_stable``), not the paper's solver thresholds."""
    changes: dict[str, Any] = {}
    if config.warm_start == "chain" and not info.can_preset_phases:
        changes["warm_start"] = "physical"
    if config.nudge_form not in info.nudge_forms:
        changes["nudge_form"] = info.nudge_forms[0]
    if info.name != "ideal" and not config.require_stable:
        changes.update(
            require_stable=True,
            skip_free=math.inf,
            skip_nudge=math.inf,
            skip_eval=math.inf,
        )
    if changes:
        log.info("The %s backend runs with %s.", info.name, changes)
        config = replace(config, **changes)
    return config


def _slug(text: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in text)
    return keep[:120]


def training_seconds(results: dict[str, ConditionResult]) -> float:
    """Training time of all the batches behind ``results``, whenever trained."""
    batches = {r.batch: r.batch_seconds for r in results.values()}
    return round(float(sum(batches.values())), 1)


# -- summarising --------------------------------------------------------------


def condition_summary(
    res: ConditionResult, readout: str, criterion: str
) -> dict[str, Any]:
    """The ``summary.json`` entry of one condition under one readout."""
    acc = res.test_acc(readout)
    ok = res.success(readout, criterion)
    succ = stats.mean_std(acc[ok])

    return {
        "n_seeds": int(acc.size),
        "n_success": int(ok.sum()),
        "success_acc_mean": _num(succ.mean),
        "success_acc_std": _num(succ.std),
        "all_acc_mean": _num(float(acc.mean())),
        "accuracies": acc.tolist(),
        "train_accuracies": res.train_acc(readout).tolist(),
        "success": ok.tolist(),
        "seeds": res.seeds,
    }


def _num(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def compare(a: ConditionResult, b: ConditionResult, readout: str, criterion: str):
    """Welch on successful seeds, Fisher on success counts, Welch on all seeds
    and the paired head-to-head (Wilcoxon) of two conditions."""
    acc_a, acc_b = a.test_acc(readout), b.test_acc(readout)
    ok_a, ok_b = a.success(readout, criterion), b.success(readout, criterion)
    welch = stats.welch(acc_a[ok_a], acc_b[ok_b])
    fisher = stats.fisher(int(ok_a.sum()), ok_a.size, int(ok_b.sum()), ok_b.size)
    overall = stats.welch(acc_a, acc_b)

    out = {
        "welch_t": _num(welch.t),
        "welch_p": _num(welch.p),
        "welch_df": _num(welch.df),
        "fisher_p": _num(fisher.p),
        "all_seed_p": _num(overall.p),
    }

    if acc_a.size == acc_b.size and a.seeds == b.seeds:
        wil = stats.wilcoxon_paired(acc_a, acc_b)
        out.update(
            wins=[int(wil.wins_a), int(wil.wins_b)],
            ties=int(wil.ties),
            wilcoxon_p=_num(wil.p),
        )
    return out


def _per_seed_agreement(res: ConditionResult, paper, readout: str) -> dict:
    """Seed-by-seed comparison with the paper's released accuracies, if known."""
    if not paper or "accuracies" not in paper:
        return {}

    ours = res.test_acc(readout)
    theirs = np.asarray(paper["accuracies"], dtype=float)
    k = min(ours.size, theirs.size)
    ours, theirs = ours[:k], theirs[:k]

    return {
        "per_seed_vs_paper": {
            "seeds": k,
            "same_success": int(((ours > SUCCESS_THRESHOLD) == (theirs > 0.6)).sum()),
            # The paper's values are rounded to three digits.
            "same_accuracy": int((np.abs(ours - theirs) < 0.0015).sum()),
        }
    }


def summarize(
    exp: Experiment, results: dict[str, ConditionResult], readout: str
) -> dict[str, Any]:
    """The ``summary.json`` document of an experiment."""
    other = [r for r in READOUTS if r != readout]

    def block(conds):
        return {
            c.name: {
                **condition_summary(results[c.name], readout, exp.success),
                **_per_seed_agreement(results[c.name], c.paper, readout),
                "paper": c.paper,
                "readouts": {
                    r: condition_summary(results[c.name], r, exp.success) for r in other
                },
            }
            for c in conds
            if c.name in results
        }

    summary: dict[str, Any] = {
        "experiment": exp.name,
        "title": exp.title,
        "readout": readout,
        "success_criterion": f"final {exp.success} accuracy > {SUCCESS_THRESHOLD}",
        "conditions": block(exp.conditions),
    }
    if exp.alternatives:
        summary["alternatives"] = block(exp.alternatives)

    comparisons = {}
    for a, b in exp.comparisons:
        if a in results and b in results:
            comparisons[f"{a} vs {b}"] = compare(
                results[a], results[b], readout, exp.success
            )
    if comparisons:
        summary["comparisons"] = comparisons

    summary["paper_stats"] = exp.paper_stats
    return summary
