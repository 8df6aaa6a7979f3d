"""Training on the emulated board against training on the ideal backend.

Workload: frequency-only training of the 2+5+2 network on /a/ vs /i/ from
spectral initial frequencies, 20 seeds in lockstep, 200 epochs (the paper's
protocol otherwise). The ideal backend solves every equilibrium exactly; the
emulator (preset ``typical-bench``: coded actuators with mismatch, injection
nudging, 10 time units of noisy settling, TDC readout, drift) integrates the
dynamics for every settle, starting from where the board is. Both are timed
in one process; the summary gives wall times, their ratio and the accuracies.
``--mitigation`` times the emulator with one of the trainer's mitigations
(the ideal backend always runs the paper's two-phase estimate).

Run: python benchmarks/emulator.py [--seeds 20] [--epochs 200] [--mitigation NAME]
"""

from __future__ import annotations

import argparse
import json
import time

from kurahw.studies.experiments import Condition
from kurahw.studies.runner import condition_summary, run_conditions


def run(
    backend: str, seeds: int, epochs: int, mitigation: str = "none"
) -> tuple[float, dict, dict]:
    cond = Condition(
        f"spectral/{backend}", seeding="spectral", config={"mitigation": mitigation}
    )
    start = time.perf_counter()
    results = run_conditions(
        [cond], range(seeds), epochs=epochs, backend=backend, eval_every=None
    )
    seconds = time.perf_counter() - start
    res = results[cond.name]
    return seconds, condition_summary(res, "paper", "test"), res.settle_counts()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--mitigation", default="none")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args()

    # Compile both backends' kernels before timing (cached on disk afterwards).
    run("ideal", 2, 1)
    run("emulator", 2, 1)

    rows = {}
    for backend in ("ideal", "emulator"):
        mitigation = args.mitigation if backend == "emulator" else "none"
        seconds, summary, settles = run(backend, args.seeds, args.epochs, mitigation)
        rows[backend] = {
            "mitigation": mitigation,
            "settles": settles,
            "seconds": round(seconds, 1),
            "n_success": summary["n_success"],
            "n_seeds": summary["n_seeds"],
            "success_acc_mean": summary["success_acc_mean"],
            "all_acc_mean": summary["all_acc_mean"],
        }
        print(
            f"{backend:>8}: {seconds:7.1f} s, {summary['n_success']}/"
            f"{summary['n_seeds']} above 60 %, mean test accuracy "
            f"{100 * summary['all_acc_mean']:.1f} % (mitigation {mitigation}, "
            f"{settles['skipped_free'] + settles['skipped_nudge']} samples skipped)"
        )
    ratio = rows["emulator"]["seconds"] / rows["ideal"]["seconds"]
    rows["emulator_over_ideal"] = round(ratio, 1)
    print(f"emulator / ideal wall time: {ratio:.1f}x")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=2)


if __name__ == "__main__":
    main()
