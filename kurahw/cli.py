"""Command-line interface: ``kurahw verify ...``.

The CLI owns the console: tables and progress bars go to the terminal, results to
``--json`` files (written atomically).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence

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
    return parser


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


_RUNNERS = {
    "identity": _run_identity,
    "finite-beta": _run_finite_beta,
    "asymmetry": _run_asymmetry,
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
        result = _RUNNERS[args.study](args)
        result["elapsed_s"] = time.perf_counter() - start
        if args.json:
            path = atomic_write_json(args.json, result)
            print(f"\nwrote {path}")
    except KurahwError as exc:
        print(f"kurahw: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
