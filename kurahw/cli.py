"""Command-line interface: ``kurahw train``, ``kurahw reproduce NAME``,
``kurahw verify ...`` and ``kurahw study ...``.

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
    _add_study(sub)
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
    tr.add_argument(
        "--nudge-form",
        choices=["quadratic", "injection", "balanced-injection"],
        default=None,
        help="output drive (default: the paper's quadratic nudge on the ideal "
        "backend, the balanced injection on the emulator)",
    )
    tr.add_argument(
        "--mitigation",
        default="none",
        help="how each gradient is measured: none, average, large-beta, centered, "
        "lockin, or e.g. lockin+average (see kurahw.training.mitigation)",
    )
    _add_device(tr)
    tr.add_argument("--data", metavar="PATH", help="vowel data file")
    tr.add_argument("--out", metavar="DIR", required=True, help="output folder")


def _add_device(parser) -> None:
    """The backend and, for the emulator, the board's figures."""
    from kurahw.backends import BACKENDS
    from kurahw.backends.emulator import PRESETS

    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="emulator",
        help="the physical network: the device emulator (default) or the ideal "
        "simulator",
    )
    parser.add_argument(
        "--device",
        choices=PRESETS,
        default="typical-bench",
        help="emulator preset (default typical-bench)",
    )
    parser.add_argument(
        "--device-set",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="change one emulator figure, e.g. tdc_jitter_s=1e-12 or "
        "settle_time=20 (repeatable; names as in kurahw.DeviceModel)",
    )
    parser.add_argument(
        "--board-seed",
        type=_non_negative_int,
        default=0,
        help="seed of the emulated boards' flaws and noise (board b of the batch "
        "draws from this and b)",
    )


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def _figure_value(text: str):
    """A device figure from the command line: none, true/false, or a number."""
    low = text.strip().lower()
    if low in ("none", "off"):
        return None
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no"):
        return False
    try:
        return int(low)
    except ValueError:
        pass
    try:
        return float(low)
    except ValueError:
        raise ValueError(
            f"`--device-set` value {text!r} is not a number, true/false or none."
        ) from None


def _backend_options(args) -> dict:
    """Constructor options of the chosen backend from --device and --device-set."""
    from kurahw.backends import DeviceModel

    if args.backend != "emulator":
        if args.device_set or args.device != "typical-bench":
            raise ValueError(
                f"--device and --device-set describe the emulator, but --backend is "
                f"{args.backend!r}; drop them or use --backend emulator."
            )
        return {}

    changes = {}
    for item in args.device_set:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(
                f"`--device-set` is {item!r}; write NAME=VALUE, e.g. "
                "tdc_jitter_s=1e-12."
            )
        changes[name.strip()] = _figure_value(value)
    model = DeviceModel.from_preset(args.device).replace(**changes)
    return {"model": model, "seed": args.board_seed}


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


def _float_list(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers such as 0,1e-13,1e-12, got {text!r}"
        ) from None


def _name_list(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def _add_study(sub) -> None:
    from kurahw.studies.noise import EFFECTS, MITIGATIONS
    from kurahw.studies.noise_training import TRAINING_MITIGATIONS

    st = sub.add_parser("study", help="robustness studies on the device emulator")
    ssub = st.add_subparsers(dest="study_name", required=True)

    no = ssub.add_parser(
        "noise",
        help="EP gradient quality (and, with --train, training) as a device "
        "effect grows",
        description="Sweep one device effect on the emulator and compare the EP "
        "gradient a board measures with the exact gradient of the network it "
        "realised, with and without mitigations; with --train, also train the "
        "vowel task at every level under every mitigation. Effects: "
        + ", ".join(sorted(EFFECTS))
        + ". Mitigations: "
        + ", ".join(MITIGATIONS)
        + " (join average or large-beta to centered, or average to lockin, "
        "with '+').",
    )
    no.add_argument(
        "--effect", default="tdc_jitter_s", help="the figure to sweep (tdc_jitter_s)"
    )
    no.add_argument(
        "--levels",
        type=_float_list,
        default=None,
        help="comma-separated levels in the effect's unit (seconds, bits, ...); "
        "default: the effect's own sweep",
    )
    no.add_argument("--seeds", type=_positive(int), default=20, help="seeds 0..N-1")
    no.add_argument(
        "--samples", type=_positive(int), default=10, help="training samples per seed"
    )
    no.add_argument("--beta", type=_positive(float), default=0.1)
    no.add_argument(
        "--mitigations",
        type=_name_list,
        default=list(TRAINING_MITIGATIONS),
        help="comma-separated, e.g. none,centered,centered+average (default: "
        + ",".join(TRAINING_MITIGATIONS)
        + ")",
    )
    no.add_argument(
        "--nudge-form",
        choices=["balanced-injection", "injection"],
        default="balanced-injection",
        help="the board's output drive (default balanced-injection)",
    )
    no.add_argument(
        "--train",
        action="store_true",
        help="also train the vowel task (spectral seeding) at every level under "
        "every mitigation and compare with the ideal backend",
    )
    no.add_argument(
        "--epochs", type=_positive(int), default=200, help="epochs of --train"
    )
    no.add_argument(
        "--board-seed",
        type=_non_negative_int,
        default=0,
        help="seed of the emulated boards of --train",
    )
    no.add_argument(
        "--base",
        default=None,
        help="preset of the other figures: ideal, typical-bench or paper-tdc "
        "(default: paper-tdc for tdc_jitter_s, ideal otherwise)",
    )
    no.add_argument("--data", metavar="PATH", help="vowel data file")
    no.add_argument("--json", metavar="PATH", help="write the results here")
    no.add_argument("--plot", metavar="PNG", help="write the figure here")
    no.add_argument(
        "--out",
        metavar="DIR",
        help="write noise-EFFECT.json, .png and .txt (the table) here; with "
        "--train also noise-EFFECT-training.png, noise-EFFECT.md and the training "
        "records (training-EFFECT/)",
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
        config={
            "beta": args.beta,
            "mitigation": args.mitigation,
            **({"nudge_form": args.nudge_form} if args.nudge_form else {}),
        },
    )
    options = _backend_options(args)
    if args.backend == "emulator" and args.nudge_form == "quadratic":
        raise ValueError(
            "--nudge-form is 'quadratic', but the emulated board cannot apply a "
            "'quadratic' nudge; use balanced-injection (its default) or injection."
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
            backend_options=options,
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


def _level_text(result: dict, i: int) -> str:
    level = result["levels"][i]
    if result["unit"] == "bits":
        return "cont." if level == 0 else f"{level} bits"
    text = f"{level:g} {result['unit']}"
    if "levels_rad" in result:
        text += f" ({result['levels_rad'][i]:.4f} rad)"
    return text


def _noise_tables(result: dict) -> str:
    names = list(result["mitigations"])
    cell = {(r["level"], r["mitigation"]): r for r in result["rows"]}
    cos_rows = []
    for i, level in enumerate(result["levels"]):
        row = [_level_text(result, i)]
        for name in names:
            r = cell[(level, name)]
            row.append(f"{r['cos_mean']:+.3f} ± {r['cos_std']:.3f}")
        cos_rows.append(row)

    first = result["levels"][0]
    cost_rows = []
    for name, p in result["mitigations"].items():
        robust = result["robust_to"][name]
        cost_rows.append(
            [
                name,
                str(p["settles"]),
                str(p["readings"]),
                f"{100 * cell[(first, name)]['scale_error_median']:+.2f} %",
                "never"
                if robust is None
                else _level_text(result, result["levels"].index(robust)),
            ]
        )

    return "\n".join(
        [
            f"EP gradient quality against {result['effect']} "
            f"({result['settle']} settles, base {result['base'] or 'custom'}, "
            f"beta={result['beta']:g}, {len(result['seeds'])} seeds × "
            f"{result['n_samples']} samples): mean cosine ± sd with the exact "
            "gradient",
            _table(["level", *names], cos_rows),
            "",
            _table(
                [
                    "mitigation",
                    "settles",
                    "readings",
                    f"median scale error at {_level_text(result, 0)}",
                    f"cos > {result['threshold']:g} up to",
                ],
                cost_rows,
            ),
        ]
    )


def _run_noise(args) -> dict:
    from kurahw._io import atomic_write_text
    from kurahw.studies import noise

    # An unknown effect is refused by the study itself, with the valid names.
    spec = noise.EFFECTS.get(args.effect)
    levels = args.levels if args.levels is not None else spec.levels if spec else ()
    bar, tick = _progress(len(levels) * len(args.mitigations) * args.samples, "noise")
    bar.unit = "sample"
    with bar:
        result = noise.gradient_quality(
            args.effect,
            args.levels,
            seeds=args.seeds,
            n_samples=args.samples,
            beta=args.beta,
            mitigations=args.mitigations,
            base=args.base,
            nudge_form=args.nudge_form,
            data_path=args.data,
            progress=tick,
        )

    tables = _noise_tables(result)
    print(tables)
    for note in result["notes"]:
        print(f"note: {note}")
    stem = Path(args.out, f"noise-{args.effect}") if args.out else None
    if stem is not None:
        args.json = args.json or str(stem.with_suffix(".json"))
        args.plot = args.plot or str(stem.with_suffix(".png"))
        text = atomic_write_text(stem.with_suffix(".txt"), tables + "\n")
        print(f"\nwrote {text}")
    if args.plot:
        print(f"wrote {noise.plot_gradient_quality(result, args.plot)}")

    if args.train:
        result["training"] = _run_noise_training(args, result, stem)
    return result


def _run_noise_training(args, gradient: dict, stem: Path | None) -> dict:
    from kurahw._io import atomic_write_text
    from kurahw.studies import noise_training

    runs = 1 + len(gradient["levels"]) * len(args.mitigations)
    bar = _EpochBar(args.epochs * runs, "training")
    try:
        result = noise_training.training_robustness(
            args.effect,
            gradient["levels"],
            seeds=args.seeds,
            epochs=args.epochs,
            beta=args.beta,
            mitigations=args.mitigations,
            base=args.base,
            nudge_form=args.nudge_form,
            board_seed=args.board_seed,
            out=None if stem is None else stem.parent / f"training-{args.effect}",
            data_path=args.data,
            progress=bar,
        )
    finally:
        bar.close()

    table = noise_training.markdown(gradient, result)
    print("\n" + table)
    if stem is not None:
        md = atomic_write_text(stem.with_suffix(".md"), table)
        png = noise_training.plot_training_robustness(
            result, stem.parent / f"{stem.name}-training.png"
        )
        print(f"wrote {md}\nwrote {png}")
    return result


def _run_study(args) -> dict:
    return {"noise": _run_noise}[args.study_name](args)


_RUNNERS = {
    "identity": _run_identity,
    "finite-beta": _run_finite_beta,
    "asymmetry": _run_asymmetry,
    "train": _run_train,
    "reproduce": _run_reproduce,
    "study": _run_study,
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
