import math

import numpy as np
import pytest
from scipy import stats as sps

from kurahw import DataError
from kurahw.stats import cochran_q, fisher, mean_std, welch, wilcoxon_paired

# Two groups of unequal size and spread.
A = [19.1, 21.4, 22.0, 23.8, 25.2, 26.6, 30.1]
B = [15.2, 16.8, 17.0, 18.1, 18.4]


def test_welch_matches_scipy_and_the_satterthwaite_formula():
    t, p, df = welch(A, B)
    ref = sps.ttest_ind(A, B, equal_var=False)
    assert t == pytest.approx(ref.statistic, rel=1e-12)
    assert p == pytest.approx(ref.pvalue, rel=1e-12)

    # Welch-Satterthwaite written out from sample variances (ddof = 1).
    va = np.var(A, ddof=1) / len(A)
    vb = np.var(B, ddof=1) / len(B)
    df_hand = (va + vb) ** 2 / (va**2 / (len(A) - 1) + vb**2 / (len(B) - 1))
    assert df == pytest.approx(df_hand, rel=1e-12)
    assert df == pytest.approx(ref.df, rel=1e-12)
    # The p-value is the two-sided t tail at that non-integer df.
    assert p == pytest.approx(2 * sps.t.sf(abs(t), df), rel=1e-10)
    assert t > 0  # A has the larger mean


@pytest.mark.parametrize(("a", "b"), [([], B), ([0.9], B), (A, [0.5]), ([], [])])
def test_welch_gives_nan_for_groups_too_small_for_a_variance(a, b):
    res = welch(a, b)
    assert all(math.isnan(v) for v in res)


def test_fisher_lady_tasting_tea():
    # Fisher's classic table [[3, 1], [1, 3]]: two-sided p = 34/70, odds ratio 9.
    odds, p = fisher(3, 4, 1, 4)
    assert p == pytest.approx(34 / 70, rel=1e-12)
    assert odds == pytest.approx(9.0)


def test_fisher_equal_rates_give_p_one():
    # Convergence counts from the parameter-matched ablation (47/100 vs 46/100).
    assert fisher(47, 100, 46, 100).p == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("args", "pattern"),
    [((5, 4, 1, 4), "success_a"), ((1, 4, 1, -4), "n_b"), ((1.5, 4, 1, 4), "integer")],
)
def test_fisher_rejects_impossible_counts(args, pattern):
    with pytest.raises(DataError, match=pattern):
        fisher(*args)


def test_wilcoxon_drops_ties_before_ranking():
    # Five positive differences and two ties: the exact two-sided p of five
    # same-signed differences is 2 / 2^5, whatever the ties.
    a = [1, 2, 3, 4, 5, 7, 8]
    b = [0, 0, 0, 0, 0, 7, 8]
    res = wilcoxon_paired(a, b)
    assert (res.wins_a, res.wins_b, res.ties) == (5, 0, 2)
    assert res.p == pytest.approx(2 / 32)


def test_wilcoxon_large_sample_matches_the_normal_approximation():
    rng = np.random.default_rng(7)
    d = rng.permutation(np.arange(1, 61) * rng.choice([-1, 1], 60))
    d = d + np.where(np.arange(60) < 40, 0.3, 0.0)  # shift some, keep |d| distinct
    a, b = d, np.zeros(60)
    res = wilcoxon_paired(a, b)

    # Textbook normal approximation, no continuity correction.
    ranks = sps.rankdata(np.abs(d))
    w_plus = ranks[d > 0].sum()
    n = len(d)
    z = (w_plus - n * (n + 1) / 4) / math.sqrt(n * (n + 1) * (2 * n + 1) / 24)
    assert res.p == pytest.approx(2 * sps.norm.sf(abs(z)), rel=1e-9)
    assert res.wins_a + res.wins_b == 60


def test_wilcoxon_all_tied_has_no_p_value():
    res = wilcoxon_paired([0.5, 0.7], [0.5, 0.7])
    assert (res.wins_a, res.wins_b, res.ties) == (0, 0, 2)
    assert math.isnan(res.p)


def test_wilcoxon_needs_pairs():
    with pytest.raises(DataError, match="paired"):
        wilcoxon_paired([1, 2, 3], [1, 2])


def test_cochran_q_hand_computed():
    # C = (3, 2, 1), N = 6, R = (2, 1, 3, 0), sum R^2 = 14, sum C^2 = 14:
    # Q = 2 (3 * 14 - 36) / (3 * 6 - 14) = 3; with 2 df, p = exp(-Q / 2).
    outcomes = [[1, 1, 0], [1, 0, 0], [1, 1, 1], [0, 0, 0]]
    res = cochran_q(outcomes)
    assert res.q == pytest.approx(3.0)
    assert res.df == 2
    assert res.p == pytest.approx(math.exp(-1.5))
    assert not res.degenerate


def test_cochran_q_with_two_conditions_is_mcnemar():
    # For k = 2, Q equals McNemar's chi-square (b - c)^2 / (b + c) without
    # continuity correction, b and c being the two kinds of discordant pairs.
    rows = [[1, 0]] * 9 + [[0, 1]] * 3 + [[1, 1]] * 20 + [[0, 0]] * 8
    res = cochran_q(rows)
    assert res.q == pytest.approx((9 - 3) ** 2 / (9 + 3))
    assert res.p == pytest.approx(sps.chi2.sf(3.0, 1))


def test_cochran_q_identical_outcomes_are_degenerate():
    # Each seed converges under every variant or under none (the paper's case).
    outcomes = np.repeat([[1], [0], [1], [1], [0]], 5, axis=1)
    res = cochran_q(outcomes)
    assert res == (0.0, 4, 1.0, True)


@pytest.mark.parametrize(
    ("outcomes", "pattern"),
    [([1, 0, 1], "shape"), ([[1], [0]], "shape"), ([[1, 2], [0, 1]], "only 0 and 1")],
)
def test_cochran_q_rejects_bad_tables(outcomes, pattern):
    with pytest.raises(DataError, match=pattern):
        cochran_q(outcomes)


def test_mean_std_is_the_population_std():
    # Textbook example: mean 5, population standard deviation 2.
    assert mean_std([2, 4, 4, 4, 5, 5, 7, 9]) == (5.0, 2.0)
    assert all(math.isnan(v) for v in mean_std([]))
