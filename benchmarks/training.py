"""EP training throughput: kurahw's batched trainer against a plain per-sample
fsolve implementation of the paper's training loop.

Workload: frequency-only training of the 2+5+2 network on /a/ vs /i/ (220
training samples, 55 test samples), 200 epochs, the paper's protocol.

- Baseline: :func:`kurahw.reference.reference_train`, which solves every free
  and nudged equilibrium with ``scipy.optimize.fsolve`` (numerical Jacobian),
  one sample and one seed at a time, as the paper's released code does. It runs
  ``--baseline-seeds`` seed-runs (default 1) of the full 200 epochs.
- kurahw: the whole spectral-seeding study, seeds 0..99 with random and with
  spectral initial frequencies (200 seed-runs), as one lockstep batch on the
  ideal backend through :class:`kurahw.training.Trainer`, evaluating every 10
  epochs.

Both are timed in the same process, one after the other. Throughput is
seed-runs per second; the ratio is kurahw's over the baseline's. The final
accuracies of the baseline's seeds are compared with kurahw's for the same
seeds as a sanity check.

Run: python benchmarks/training.py [--baseline-seeds 1] [--seeds 100]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from kurahw.backends import IdealBackend
from kurahw.data import load_vowels, vowel_split
from kurahw.network import NetworkBatch, layered_network
from kurahw.reference import reference_train
from kurahw.seeding import seed_omega
from kurahw.training import RunSpec, TaskData, TrainConfig, Trainer

EPOCHS = 200


def baseline(seeds, features, labels) -> tuple[float, list[float]]:
    accs = []
    start = time.perf_counter()
    for seed in seeds:
        net = layered_network(seed=seed)
        split = vowel_split(features, labels, seed)
        out = reference_train(net, split, epochs=EPOCHS, seed=seed)
        accs.append(out["test_acc"][EPOCHS])
    return time.perf_counter() - start, accs


def kurahw_study(n_seeds, features, labels) -> tuple[float, np.ndarray]:
    seeds = list(range(n_seeds))
    nets = [layered_network(seed=s) for s in seeds]
    nets += [seed_omega(layered_network(seed=s), "spectral", s) for s in seeds]
    splits = [vowel_split(features, labels, s) for s in seeds] * 2
    specs = [RunSpec(seed=s) for s in seeds] * 2
    start = time.perf_counter()
    backend = IdealBackend(NetworkBatch.stack(nets))
    trainer = Trainer(
        backend,
        TaskData.stack(splits),
        specs,
        TrainConfig(epochs=EPOCHS, eval_every=10),
    )
    result = trainer.run()
    return time.perf_counter() - start, result.final_test_acc("paper")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-seeds", type=int, default=1)
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args()
    features, labels = load_vowels()

    # Compile the kernels before timing (cached on disk after the first run).
    kurahw_study(2, features, labels)

    t_base, acc_base = baseline(range(args.baseline_seeds), features, labels)
    t_ours, acc_ours = kurahw_study(args.seeds, features, labels)

    runs_ours = 2 * args.seeds
    base_rate = args.baseline_seeds / t_base
    ours_rate = runs_ours / t_ours
    rows = {
        "baseline_seed_runs": args.baseline_seeds,
        "baseline_s": round(t_base, 2),
        "baseline_s_per_seed_run": round(t_base / args.baseline_seeds, 2),
        "kurahw_seed_runs": runs_ours,
        "kurahw_s": round(t_ours, 2),
        "kurahw_ms_per_seed_run": round(1000 * t_ours / runs_ours, 1),
        "throughput_ratio": round(ours_rate / base_rate, 1),
        "baseline_final_acc": acc_base,
        "kurahw_final_acc_same_seeds": acc_ours[: args.baseline_seeds].tolist(),
    }
    print(f"workload: 2+5+2, /a/ vs /i/, frequency learning, {EPOCHS} epochs")
    print(
        f"baseline (per-sample fsolve): {args.baseline_seeds} seed-run(s) in "
        f"{t_base:.1f} s = {t_base / args.baseline_seeds:.1f} s per seed-run"
    )
    print(
        f"kurahw (lockstep batch of {runs_ours}): {runs_ours} seed-runs in "
        f"{t_ours:.1f} s = {1000 * t_ours / runs_ours:.0f} ms per seed-run"
    )
    print(f"throughput ratio: {ours_rate / base_rate:.0f}x")
    print(
        f"same-seed final accuracies: baseline {acc_base}, kurahw "
        f"{rows['kurahw_final_acc_same_seeds']}"
    )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=2)


if __name__ == "__main__":
    main()
