"""Figures of the verification studies, written as PNG files."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_identity"]


def plot_identity(result: dict, path: str | os.PathLike, scatter_n: int = 15) -> Path:
    """Two panels: per-node EP against finite-difference gradients at one size, and
    the distance from the identity (1 - cosine) and the residual against N."""
    rows = result["rows"]
    pick = min(rows, key=lambda r: abs(r["n"] - scatter_n))
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(10, 4.2), constrained_layout=True)

    ref = np.asarray(pick.get("grad_fd", pick["grad_exact"]))
    ep = np.asarray(pick["grad_ep"])
    lo = min(ref.min(), ep.min())
    hi = max(ref.max(), ep.max())
    pad = 0.08 * (hi - lo) if hi > lo else 1e-3
    lim = (lo - pad, hi + pad)
    ax_a.plot(lim, lim, color="0.7", lw=1, zorder=0, label="y = x")
    ax_a.scatter(ref, ep, s=28, color="C0", label=f"free nodes, N = {pick['n']}")
    ax_a.set(
        xlim=lim,
        ylim=lim,
        aspect="equal",
        xlabel="finite-difference dL/dω (re-solved)",
        ylabel=f"EP  −Δθ/β  (β = {result['beta']:g})",
        title=f"(a) the phase is the gradient: cos = {pick.get('cos_ep_fd', 1.0):.10f}",
    )
    ax_a.legend(loc="upper left", frameon=False)

    n = [r["n"] for r in rows]
    floor = 1e-17
    for key, label, style in (
        ("cos_ep_fd", "1 − cos(EP, FD)", "o-"),
        ("cos_ep_exact", "1 − cos(EP, exact)", "s--"),
        ("cos_centered_exact", "1 − cos(centred EP, exact)", "^:"),
    ):
        ax_b.semilogy(n, [max(1 - r[key], floor) for r in rows], style, label=label)
    ax_b.semilogy(n, [max(r["residual"], floor) for r in rows], "kx-", label="residual")
    ax_b.set_xscale("log")
    ax_b.set(xlabel="oscillators N", title="(b) agreement and residual against size")
    ax_b.axhline(1e-7, color="C3", lw=0.8, ls="--")
    ax_b.text(n[0], 1.5e-7, "1e-7", color="C3", fontsize=8)
    ax_b.set_ylim(top=1e-3)
    ax_b.legend(frameon=False, fontsize=8, loc="upper right", ncols=2)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=130)
    plt.close(fig)
    os.replace(tmp, path)
    return path
