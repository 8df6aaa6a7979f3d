"""Significance tests and summaries for comparing training runs across seeds.

Each function takes plain arrays of per-seed results and returns a small named
tuple, so results unpack (``t, p, df = welch(a, b)``) and print readably. An
outcome that makes a test undefined, such as an empty group of converged seeds,
gives NaN rather than an exception.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import stats as sps

from kurahw.errors import DataError

__all__ = [
    "CochranResult",
    "FisherResult",
    "MeanStd",
    "WelchResult",
    "WilcoxonResult",
    "cochran_q",
    "fisher",
    "mean_std",
    "welch",
    "wilcoxon_paired",
]


class WelchResult(NamedTuple):
    """Welch's unequal-variance t-test.

    Attributes
    ----------
    t : float
        Test statistic, positive when group ``a`` has the larger mean.
    p : float
        Two-sided p-value.
    df : float
        Welch-Satterthwaite degrees of freedom (not an integer in general).
    """

    t: float
    p: float
    df: float


class FisherResult(NamedTuple):
    """Fisher's exact test on a 2x2 table of successes and failures.

    Attributes
    ----------
    odds_ratio : float
        Sample odds ratio ``(s_a f_b) / (f_a s_b)``; ``inf`` or ``nan`` when a
        cell of the table is empty.
    p : float
        Two-sided p-value.
    """

    odds_ratio: float
    p: float


class WilcoxonResult(NamedTuple):
    """Paired head-to-head comparison with a signed-rank test.

    Attributes
    ----------
    wins_a, wins_b, ties : int
        Pairs where ``a`` is larger, where ``b`` is larger, and where they are
        equal.
    p : float
        Two-sided Wilcoxon signed-rank p-value over the pairs that differ; NaN
        when every pair is tied.
    """

    wins_a: int
    wins_b: int
    ties: int
    p: float


class CochranResult(NamedTuple):
    """Cochran's Q test for k related binary outcomes.

    Attributes
    ----------
    q : float
        Test statistic, chi-square distributed with ``df`` degrees of freedom
        under the null hypothesis that every condition has the same success rate.
    df : int
        ``k - 1``.
    p : float
        Upper-tail p-value.
    degenerate : bool
        True when every subject has the same outcome under every condition; the
        statistic is then 0/0 and is reported as ``q = 0.0``, ``p = 1.0``.
    """

    q: float
    df: int
    p: float
    degenerate: bool


class MeanStd(NamedTuple):
    """Mean and population standard deviation (``ddof=0``)."""

    mean: float
    std: float


def _as_1d(values, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise DataError(
            f"`{name}` must be a 1-D sequence of numbers, got shape {arr.shape}; "
            "flatten it or pass one group at a time."
        )
    return arr


def welch(a, b) -> WelchResult:
    """Welch's t-test for a difference in means with unequal variances.

    Parameters
    ----------
    a, b : array_like, shape (n_a,) and (n_b,)
        The two independent groups, e.g. final test accuracies of the converged
        seeds of two training modes.

    Returns
    -------
    WelchResult
        ``t``, ``p`` and ``df``; all NaN when either group has fewer than two
        values, because a variance cannot be estimated.
    """
    a = _as_1d(a, "a")
    b = _as_1d(b, "b")
    if a.size < 2 or b.size < 2:
        return WelchResult(np.nan, np.nan, np.nan)

    # Identical values in both groups make t = 0/0; scipy warns, we return NaN.
    with np.errstate(divide="ignore", invalid="ignore"):
        res = sps.ttest_ind(a, b, equal_var=False)
        va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
        df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    return WelchResult(float(res.statistic), float(res.pvalue), float(df))


def _check_count(value, name: str) -> int:
    is_int = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not is_int or value < 0:
        raise DataError(f"`{name}` must be a non-negative integer, got {value!r}.")
    return int(value)


def fisher(success_a: int, n_a: int, success_b: int, n_b: int) -> FisherResult:
    """Fisher's exact test: do two groups succeed at the same rate?

    Parameters
    ----------
    success_a, n_a : int
        Successes (e.g. converged seeds) and trials in group ``a``.
    success_b, n_b : int
        The same for group ``b``.

    Returns
    -------
    FisherResult
        Sample odds ratio and two-sided p-value of the table
        ``[[success_a, n_a - success_a], [success_b, n_b - success_b]]``.
    """
    counts = {
        "success_a": success_a,
        "n_a": n_a,
        "success_b": success_b,
        "n_b": n_b,
    }
    sa, na, sb, nb = (_check_count(v, k) for k, v in counts.items())
    for s, n, label in ((sa, na, "a"), (sb, nb, "b")):
        if s > n:
            raise DataError(
                f"`success_{label}`={s} exceeds `n_{label}`={n}; a group cannot "
                "have more successes than trials."
            )

    table = [[sa, na - sa], [sb, nb - sb]]
    with np.errstate(divide="ignore", invalid="ignore"):
        res = sps.fisher_exact(table, alternative="two-sided")
    return FisherResult(float(res.statistic), float(res.pvalue))


def wilcoxon_paired(a, b) -> WilcoxonResult:
    """Per-pair wins and a Wilcoxon signed-rank test on the pairs that differ.

    Tied pairs (zero difference) are counted and then dropped before ranking, so
    ``p`` describes only the pairs where one side actually won.

    Parameters
    ----------
    a, b : array_like, shape (n,)
        Paired results, e.g. the test accuracy of two training modes on the same
        seeds.

    Returns
    -------
    WilcoxonResult
    """
    a = _as_1d(a, "a")
    b = _as_1d(b, "b")
    if a.shape != b.shape:
        raise DataError(
            f"`a` and `b` must be paired, got {a.size} and {b.size} values; pass "
            "one result per seed in both."
        )

    diff = a - b
    nonzero = diff[diff != 0]
    wins_a, wins_b = int(np.sum(diff > 0)), int(np.sum(diff < 0))
    ties = int(diff.size - wins_a - wins_b)
    p = float(sps.wilcoxon(nonzero).pvalue) if nonzero.size else np.nan
    return WilcoxonResult(wins_a, wins_b, ties, p)


def _binary_matrix(outcomes) -> np.ndarray:
    x = np.asarray(outcomes)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 2:
        raise DataError(
            f"`outcomes` must have shape (n_subjects >= 1, k_conditions >= 2), got "
            f"{x.shape}; put one row per seed and one column per condition."
        )
    if not np.isin(x, (0, 1)).all():
        bad = x[~np.isin(x, (0, 1))].ravel()[0]
        raise DataError(
            f"`outcomes` must hold only 0 and 1, found {bad!r}; threshold the "
            "results first (e.g. accuracy > 0.6)."
        )

    return x.astype(np.int64)


def cochran_q(outcomes) -> CochranResult:
    """Cochran's Q: do k conditions give the same success rate on the same subjects?

    ``Q = (k - 1) (k sum_j C_j^2 - N^2) / (k N - sum_i R_i^2)``, with ``C_j`` the
    successes under condition j, ``R_i`` the successes of subject i and ``N``
    the total. Subjects that succeed under all or none of the conditions add
    nothing to the denominator; if every subject is like that the test has no
    information and the result is flagged ``degenerate``.

    Parameters
    ----------
    outcomes : array_like of {0, 1}, shape (n_subjects, k_conditions)
        E.g. one row per seed, one column per training variant, 1 = converged.

    Returns
    -------
    CochranResult
    """
    x = _binary_matrix(outcomes)
    k = x.shape[1]
    col, row = x.sum(axis=0), x.sum(axis=1)
    total = int(x.sum())

    denominator = k * total - int(np.sum(row**2))
    if denominator == 0:
        return CochranResult(0.0, k - 1, 1.0, True)
    q = (k - 1) * (k * int(np.sum(col**2)) - total**2) / denominator
    return CochranResult(float(q), k - 1, float(sps.chi2.sf(q, k - 1)), False)


def mean_std(values) -> MeanStd:
    """Mean and population standard deviation (``ddof=0``, numpy's default).

    Parameters
    ----------
    values : array_like, shape (n,)

    Returns
    -------
    MeanStd
        Both NaN for an empty input.
    """
    x = _as_1d(values, "values")
    if x.size == 0:
        return MeanStd(np.nan, np.nan)
    return MeanStd(float(x.mean()), float(x.std()))
