"""Command-line interface: ``kurahw train``, ``kurahw reproduce NAME`` and
``kurahw verify ...``.

The CLI owns the console: tables and progress bars go to the terminal, results to
``--json`` files (written atomically).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from kurahw import __version__
from kurahw._io import atomic_write_json
from kurahw.errors import KurahwError
from kurahw.studies import verify


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated whole numbers such as 6,10,15, got {text!r}"
        ) from None

    if not values or min(values) < 3:
        raise argparse.ArgumentTypeError(f"sizes must be >= 3, got {text!r}")
    return values


def _percent_list(text: str) -> list[float]:
    try:
        values = [float(v) / 100.0 for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated percentages such as 0,5,10,20,50, got {text!r}"
        ) from None

    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"percentages must be >= 0, got {text!r}")
    return values


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a number, got {text!r}"
            ) from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
        return value

    return parse


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kurahw",
        description="Train and verify Kuramoto oscillator networks with Equilibrium "
        "Propagation.",
    )
    parser.add_argument("--version", action="version", version=f"kurahw {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more log output (-v info, -vv debug)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    ver = sub.add_parser("verify", help="check the phase-gradient identity")
    vsub = ver.add_subparsers(dest="study", required=True)

    ident = vsub.add_parser(
        "identity",
        help="EP vs finite differences vs the exact gradient over network sizes",
    )
    ident.add_argument(
        "--sizes", type=_int_list, default=[6, 10, 15, 20, 30, 50, 100, 200]
    )
    ident.add_argument("--beta", type=_positive(float), default=1e-4)
    ident.add_argument(
        "--eps", type=_positive(float), default=1e-5, help="finite-difference step"
    )
    ident.add_argument("--seed", type=int, default=42)
    ident.add_argument(
        "--robustness-seeds",
        type=int,
        default=10,
        help="seeds of the N=10 robustness check (0 to skip)",
    )
    ident.add_argument("--json", metavar="PATH", help="write the results here")
    ident.add_argument("--plot", metavar="PNG", help="write the figure here")

    fb = vsub.add_parser("finite-beta", help="EP bias at a training-sized nudge")
    fb.add_argument("--beta", type=_positive(float), default=0.1)
    fb.add_argument("--networks", type=_positive(int), default=20)
    fb.add_argument("--n", type=_positive(int), default=15)
    fb.add_argument("--json", metavar="PATH")

    asy = vsub.add_parser("asymmetry", help="the identity under asymmetric coupling")
    asy.add_argument(
        "--levels",
        type=_percent_list,
        default=[0, 0.05, 0.1, 0.2, 0.5],
        help="asymmetry levels in percent, e.g. 0,5,10,20,50",
    )
    asy.add_argument("--seeds", type=_positive(int), default=10)
    asy.add_argument("--beta", type=_positive(float), default=1e-3)
    asy.add_argument("--json", metavar="PATH")

    _add_train(sub)
    _add_reproduce(sub)
    return parser


def _seed_list(text: str) -> list[int]:
    """``100`` (seeds 0-99), ``5-9`` or ``3,7,11``."""
    try:
        if "," in text:
            seeds = [int(v) for v in text.split(",") if v.strip()]
        elif "-" in text.strip()[1:]:
            lo, hi = text.split("-", 1)
            seeds = list(range(int(lo), int(hi) + 1))
        else:
            seeds = list(range(int(text)))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a count (100), a range (5-9) or a list (3,7,11), got {text!r}"
        ) from None

    if not seeds or min(seeds) < 0:
        raise argparse.ArgumentTypeError(f"no valid seeds in {text!r}")
    return seeds


def _index_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated indices such as 2,3,7, got {text!r}"
        ) from None


def _add_train(sub) -> None:
    from kurahw import seeding
    from kurahw.backends import BACKENDS

    tr = sub.add_parser(
        "train",
        help="train networks with Equilibrium Propagation",
        description="Train the layered oscillator network on a task, one run per "
        "seed, all seeds in lockstep. Records go to --out; an interrupted run "
        "resumes from there.",
    )

    tr.add_argument("--task", choices=["vowels", "fm"], default="vowels")
    tr.add_argument(
        "--vowels", default="a,i", help="two vowels of the vowel task (default a,i)"
    )
    tr.add_argument(
        "--hidden",
        type=_positive(int),
        default=None,
        help="hidden oscillators (default 5 for vowels, 10 for fm)",
    )
    tr.add_argument(
        "--network",
        metavar="FILE",
        help="train this saved network (kurahw.Network.save) instead of the "
        "layered one",
    )
    tr.add_argument(
        "--learn",
        choices=["omega", "K", "both"],
        default="omega",
        help="what learns: natural frequencies, couplings or both",
    )
    tr.add_argument(
        "--lr",
        type=_positive(float),
        default=None,
        help="learning rate (default 1e-3 for vowels, 1e-2 for fm)",
    )
    tr.add_argument(
        "--omega-nodes",
        type=_index_list,
        default=None,
        help="only these nodes' frequencies learn, e.g. 2,3,7",
    )
    tr.add_argument(
        "--edges",
        type=_index_list,
        default=None,
        help="only these edges' couplings learn (indices into the edge list)",
    )
    tr.add_argument(
        "--matched-edges",
        type=_positive(int),
        default=None,
        help="only this many randomly drawn edges learn (per seed)",
    )
    tr.add_argument(
        "--seeding",
        choices=sorted(seeding.STRATEGIES),
        default="random",
        help="initial natural frequencies",
    )

    tr.add_argument("--readout", choices=["paper", "target"], default="paper")
    tr.add_argument(
        "--seeds",
        type=_seed_list,
        default=list(range(10)),
        help="a count (100), a range (5-9) or a list (3,7,11)",
    )
    tr.add_argument("--epochs", type=_positive(int), default=200)
    tr.add_argument("--beta", type=_positive(float), default=0.1)
    tr.add_argument("--eval-every", type=_positive(int), default=10)
    tr.add_argument("--backend", choices=BACKENDS, default="ideal")
    tr.add_argument("--data", metavar="PATH", help="vowel data file")
    tr.add_argument("--out", metavar="DIR", required=True, help="output folder")


def _add_reproduce(sub) -> None:
    from kurahw.studies.experiments import EXPERIMENTS

    rep = sub.add_parser(
        "reproduce",
        help="reproduce one of the paper's training experiments",
        description="Experiments: " + ", ".join(EXPERIMENTS) + ".",
    )

    rep.add_argument("name", metavar="NAME", help=", ".join(EXPERIMENTS))
    rep.add_argument(
        "--seeds",
        type=_positive(int),
        default=None,
        help="number of seeds (default: the paper's)",
    )
    rep.add_argument(
        "--epochs",
        type=_positive(int),
        default=None,
        help="epochs (default: the paper's)",
    )
    rep.add_argument("--readout", choices=["paper", "target"], default="paper")
    rep.add_argument("--data", metavar="PATH", help="vowel data file")
    rep.add_argument(
        "--out", metavar="DIR", default=None, help="output folder (default runs/NAME)"
    )


def _progress(total: int, desc: str):
    bar = tqdm(
        total=total, desc=desc, unit="net", leave=False, file=sys.stderr, disable=None
    )
    return bar, bar.update


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def _run_identity(args) -> dict:
    bar, tick = _progress(len(args.sizes) + args.robustness_seeds, "identity")
    with bar:
        result = verify.identity(
            args.sizes,
            seed=args.seed,
            beta=args.beta,
            eps=args.eps,
            robustness_seeds=args.robustness_seeds,
            progress=tick,
        )

    print(
        f"Phase-gradient identity (two-phase EP at beta={args.beta:g}, "
        f"finite differences eps={args.eps:g}, ER p=0.6, seed {args.seed})"
    )
    print(
        _table(
            [
                "N",
                "edges",
                "cos(EP,FD)",
                "cos(EP,exact)",
                "cos(exact,FD)",
                "cos(centred,exact)",
                "cos_K(EP,exact)",
                "residual",
            ],
            [
                [
                    str(r["n"]),
                    str(r["edges"]),
                    f"{r['cos_ep_fd']:.10f}",
                    f"{r['cos_ep_exact']:.10f}",
                    f"{r['cos_exact_fd']:.10f}",
                    f"{r['cos_centered_exact']:.12f}",
                    f"{r['cos_k_ep_exact']:.10f}",
                    f"{r['residual']:.1e}",
                ]
                for r in result["rows"]
            ],
        )
    )

    rob = result["robustness"]
    if rob["cos_ep_fd"]:
        print(
            f"\nRobustness at N={rob['n']} over {len(rob['seeds'])} seeds: "
            f"min cos(EP,FD) = {rob['cos_ep_fd_min']:.10f}"
        )
    if args.plot:
        from kurahw.plots import plot_identity

        print(f"\nwrote {plot_identity(result, args.plot)}")
    return result


def _run_finite_beta(args) -> dict:
    bar, tick = _progress(args.networks, "finite-beta")
    with bar:
        result = verify.finite_beta(
            n=args.n, networks=args.networks, beta=args.beta, progress=tick
        )

    print(
        f"Finite-beta bias (beta={args.beta:g}, N={args.n}, {args.networks} "
        "networks, against the exact gradient)"
    )
    print(
        _table(
            ["estimator", "mean cos", "min cos", "mean scale error", "sd"],
            [
                [
                    name,
                    f"{s['cos_mean']:.7f}",
                    f"{s['cos_min']:.7f}",
                    f"{100 * s['scale_error_mean']:.4f} %",
                    f"{100 * s['scale_error_std']:.4f} %",
                ]
                for name, s in result["summary"].items()
            ],
        )
    )
    return result


def _run_asymmetry(args) -> dict:
    bar, tick = _progress(len(args.levels) * args.seeds, "asymmetry")
    with bar:
        result = verify.asymmetry(
            args.levels, seeds=args.seeds, beta=args.beta, progress=tick
        )

    print(
        f"Identity under asymmetric coupling (N=15, {args.seeds} seeds, EP at "
        f"beta={args.beta:g} vs finite differences)"
    )
    print(
        _table(
            ["asymmetry", "mean cos", "sd", "min cos", "fallbacks"],
            [
                [
                    f"{100 * r['asymmetry']:g} %",
                    f"{r['cos_mean']:.6f}",
                    f"{r['cos_std']:.6f}",
                    f"{r['cos_min']:.6f}",
                    str(r["fallbacks"]),
                ]
                for r in result["rows"]
            ],
        )
    )
    return result


class _EpochBar:
    """One progress bar over the epochs of every batch of a run."""

    def __init__(self, total: int, desc: str) -> None:
        self.bar = tqdm(
            total=total, desc=desc, unit="epoch", file=sys.stderr, disable=None
        )
        self.seen: dict[str, int] = {}

    def __call__(self, label: str, done: int, total: int) -> None:
        self.bar.update(done - self.seen.get(label, 0))
        self.seen[label] = done

    def close(self) -> None:
        self.bar.close()


def _run_train(args) -> dict:
    from kurahw.studies import trainrun
    from kurahw.studies.experiments import Condition

    vowels = tuple(v.strip() for v in args.vowels.split(",") if v.strip())
    fm = args.task == "fm"
    lr = args.lr if args.lr is not None else (1e-2 if fm else 1e-3)
    cond = Condition(
        name=f"{args.learn}/{args.seeding}",
        lr_omega=lr if args.learn in ("omega", "both") else 0.0,
        lr_coupling=lr if args.learn in ("K", "both") else 0.0,
        seeding=args.seeding,
        n_hidden=args.hidden or (10 if fm else 5),
        task=args.task,
        vowels=vowels,
        matched_edges=args.matched_edges,
        omega_nodes=args.omega_nodes,
        edges=args.edges,
        network=args.network,
        config={"beta": args.beta},
    )

    bar = _EpochBar(args.epochs, "train")
    try:
        summary = trainrun.train_condition(
            cond,
            args.seeds,
            epochs=args.epochs,
            out=args.out,
            readout=args.readout,
            backend=args.backend,
            eval_every=args.eval_every,
            data_path=args.data,
            progress=bar,
        )
    finally:
        bar.close()

    print(trainrun.console_summary(summary))
    print(f"\nrecords in {args.out}")
    return summary


def _run_reproduce(args) -> dict:
    from kurahw.studies.experiments import get_experiment
    from kurahw.studies.reproduce import reproduce
    from kurahw.studies.runner import group_key

    exp = get_experiment(args.name)
    out = args.out or f"runs/{exp.name}"
    epochs = args.epochs or exp.epochs
    groups = {group_key(c) for c in exp.all_conditions()}

    bar = _EpochBar(epochs * max(len(groups), 1), exp.name)
    try:
        summary = reproduce(
            exp.name,
            seeds=args.seeds,
            epochs=args.epochs,
            out=out,
            readout=args.readout,
            data_path=args.data,
            progress=bar,
        )
    finally:
        bar.close()

    print(Path(out, "report.md").read_text())
    print(f"records in {out}")
    return summary


_RUNNERS = {
    "identity": _run_identity,
    "finite-beta": _run_finite_beta,
    "asymmetry": _run_asymmetry,
    "train": _run_train,
    "reproduce": _run_reproduce,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kurahw`` console script."""
    args = _build_parser().parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )

    try:
        start = time.perf_counter()
        command = args.study if args.command == "verify" else args.command
        result = _RUNNERS[command](args)
        result["elapsed_s"] = time.perf_counter() - start
        if getattr(args, "json", None):
            path = atomic_write_json(args.json, result)
            print(f"\nwrote {path}")
    except (KurahwError, ValueError) as exc:
        print(f"kurahw: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
