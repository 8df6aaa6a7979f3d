"""The batch-vectorised kernel against the per-member kernel, member by member.

:func:`kurahw._kernels_batch.solve_batch_lanes` runs the algorithm of
:func:`kurahw._kernels.solve_batch` with the members side by side in SIMD lanes.
For every member it must give the same status and iteration count and the same
phases to 1e-12, whatever the other members of the batch do.
"""

import numpy as np
import pytest

from kurahw import _kernels
from kurahw._kernels import (
    CONVERGED,
    MAX_ITER,
    NUDGE_INJECTION,
    NUDGE_NONE,
    NUDGE_QUADRATIC,
    STALLED,
    UNSTABLE,
)
from kurahw._kernels_batch import (
    LANES,
    solve_batch_lanes,
    solve_batch_lanes_parallel,
)

TOL = 1e-10
MAX_ITER_DEFAULT = 100
OUT = np.array([7, 8], dtype=np.int64)
FORMS = (NUDGE_NONE, NUDGE_QUADRATIC, NUDGE_INJECTION)


def _reference(
    ei, ej, w, omega_c, out_idx, tgt, beta, form, theta, tol, max_iter, center=False
):
    """The per-member kernel, single-threaded."""
    batch = theta.shape[0]
    residual = np.empty(batch)
    iterations = np.empty(batch, dtype=np.int64)
    status = np.empty(batch, dtype=np.int64)
    _kernels.solve_batch(
        ei, ej, w, omega_c, center, out_idx, tgt, beta, form, theta, tol, max_iter,
        residual, iterations, status,
    )  # fmt: skip
    return theta, residual, iterations, status


def _lanes(
    ei, ej, w, omega_c, out_idx, tgt, beta, form, theta, tol, max_iter, n_chunks=0,
    center=False,
):  # fmt: skip
    """The lanes kernel; ``n_chunks`` > 0 selects the threaded variant."""
    batch = theta.shape[0]
    residual = np.empty(batch)
    iterations = np.empty(batch, dtype=np.int64)
    status = np.empty(batch, dtype=np.int64)
    args = (
        ei, ej, w, omega_c, center, out_idx, tgt, beta, form, theta, tol, max_iter,
        residual, iterations, status,
    )  # fmt: skip
    if n_chunks:
        solve_batch_lanes_parallel(*args, n_chunks)
    else:
        solve_batch_lanes(*args)
    return theta, residual, iterations, status


def compare(ei, ej, w, omega_c, out_idx, tgt, beta, form, theta0, *, max_iter=None):
    """Solve with both kernels from copies of ``theta0``; assert that every
    member agrees and return the lanes kernel's results."""
    max_iter = MAX_ITER_DEFAULT if max_iter is None else max_iter
    common = (ei, ej, w, omega_c, out_idx, tgt, beta, form)
    th_r, res_r, it_r, st_r = _reference(*common, theta0.copy(), TOL, max_iter)
    th_l, res_l, it_l, st_l = _lanes(*common, theta0.copy(), TOL, max_iter)
    np.testing.assert_array_equal(st_l, st_r)
    np.testing.assert_array_equal(it_l, it_r)
    np.testing.assert_allclose(th_l, th_r, rtol=0.0, atol=1e-12)
    np.testing.assert_allclose(res_l, res_r, rtol=1e-9, atol=1e-12)
    return th_l, res_l, it_l, st_l


def layered_edges():
    """The 2+5+2 network: inputs 0, 1; hidden 2..6 (chained); outputs 7, 8."""
    pairs = [(i, h) for i in (0, 1) for h in range(2, 7)]
    pairs += [(h, o) for h in range(2, 7) for o in (7, 8)]
    pairs += [(h, h + 1) for h in range(2, 6)]
    pairs.sort()
    ei = np.array([a for a, _ in pairs], dtype=np.int64)
    ej = np.array([b for _, b in pairs], dtype=np.int64)
    return ei, ej


def centred(omega):
    """Frequencies minus their mean per member (the kernels' ``omega_c``)."""
    return omega - omega.mean(axis=1, keepdims=True)


def layered_batch(batch, rng):
    """Random per-member weights and frequencies for the layered network."""
    ei, ej = layered_edges()
    w = 2.0 * rng.uniform(0.5, 1.5, (batch, ei.size))
    omega = np.empty((batch, 9))
    omega[:, 2:] = rng.uniform(-0.3, 0.3, (batch, 7))
    omega[:, :2] = 1.5 * rng.uniform(-1.0, 1.0, (batch, 2))
    return ei, ej, w, omega


def nudge(form, batch, p=2):
    """Targets +-0.2 on the outputs and beta 0.1 (zero for the free phase)."""
    tgt = np.tile(np.array([0.2, -0.2])[:p], (batch, 1))
    beta = np.full(batch, 0.0 if form == NUDGE_NONE else 0.1)
    return tgt, beta


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("batch", [1, 7, 100])
def test_layered_zero_and_warm_start(batch, form):
    rng = np.random.default_rng(100 * batch + form)
    ei, ej, w, omega = layered_batch(batch, rng)
    tgt, beta = nudge(form, batch)
    theta0 = np.zeros((batch, 9))
    theta, _, _, status = compare(
        ei, ej, w, centred(omega), OUT, tgt, beta, form, theta0
    )
    assert np.all(status == CONVERGED)
    # Warm start: the next sample's inputs, from this sample's equilibrium.
    omega[:, :2] = 1.5 * rng.uniform(-1.0, 1.0, (batch, 2))
    _, _, iterations, status = compare(
        ei, ej, w, centred(omega), OUT, tgt, beta, form, theta
    )
    assert np.all(status == CONVERGED)
    assert iterations.max() > 0


def test_warm_start_sequence_and_converged_members_stay_put():
    """A run of samples with theta carried over, as in training; a member that
    starts at its equilibrium takes no step while its neighbours iterate."""
    rng = np.random.default_rng(7)
    batch = 100
    ei, ej, w, omega = layered_batch(batch, rng)
    tgt, beta = nudge(NUDGE_NONE, batch)
    theta = np.zeros((batch, 9))
    for _ in range(5):
        omega[:, :2] = 1.5 * rng.uniform(-1.0, 1.0, (batch, 2))
        theta, _, _, _ = compare(
            ei, ej, w, centred(omega), OUT, tgt, beta, NUDGE_NONE, theta
        )
    still = theta.copy()
    moved = rng.random(batch) < 0.5
    omega[moved, :2] = 1.5 * rng.uniform(-1.0, 1.0, (int(moved.sum()), 2))
    theta, _, iterations, status = compare(
        ei, ej, w, centred(omega), OUT, tgt, beta, NUDGE_NONE, still.copy()
    )
    assert np.all(iterations[~moved] == 0)
    np.testing.assert_array_equal(theta[~moved], still[~moved])
    assert np.all(iterations[moved] > 0)
    assert np.all(status == CONVERGED)


@pytest.mark.parametrize("form", FORMS)
def test_cold_starts_far_from_equilibrium(form):
    """Phases uniform in [-3, 3]: the Hessian at the start is indefinite for
    many members (saddle-free direction) and full Newton steps get cut back
    (line search), so members finish after very different numbers of steps."""
    rng = np.random.default_rng(11 + form)
    batch = 100
    ei, ej, w, omega = layered_batch(batch, rng)
    tgt, beta = nudge(form, batch)
    theta0 = rng.uniform(-3.0, 3.0, (batch, 9))
    theta0[:, 0] = 0.0
    # The reduced Hessian at the start; an indefinite one takes the
    # saddle-free branch on the first iteration.
    cosd = np.cos(theta0[:, ej] - theta0[:, ei])
    lap = np.zeros((batch, 9, 9))
    rows = np.arange(batch)
    for e in range(ei.size):
        g = w[:, e] * cosd[:, e]
        lap[rows, ei[e], ei[e]] += g
        lap[rows, ej[e], ej[e]] += g
        lap[rows, ei[e], ej[e]] -= g
        lap[rows, ej[e], ei[e]] -= g
    indefinite = np.linalg.eigvalsh(lap[:, 1:, 1:])[:, 0] < 0.0
    assert indefinite.sum() > batch // 4
    _, _, iterations, status = compare(
        ei, ej, w, centred(omega), OUT, tgt, beta, form, theta0
    )
    assert iterations.max() >= iterations.min() + 3
    assert np.all(np.isin(status, [CONVERGED, UNSTABLE]))


def test_member_too_weak_to_lock():
    """Members whose couplings cannot hold the frequency spread never converge;
    their neighbours in the batch must be unaffected."""
    rng = np.random.default_rng(5)
    batch = 7
    ei, ej, w, omega = layered_batch(batch, rng)
    weak = np.array([1, 4])
    w[weak] *= 0.02
    omega[weak, :2] = [1.5, -1.5]
    tgt, beta = nudge(NUDGE_NONE, batch)
    theta0 = np.zeros((batch, 9))
    _, _, iterations, status = compare(
        ei, ej, w, centred(omega), OUT, tgt, beta, NUDGE_NONE, theta0, max_iter=60
    )
    assert np.all(np.isin(status[weak], [MAX_ITER, STALLED]))
    strong = np.setdiff1d(np.arange(batch), weak)
    assert np.all(status[strong] == CONVERGED)
    assert np.all(iterations[strong] < iterations[weak].min())


def erdos_renyi(n, p, rng):
    """Connected G(n, p): random edges plus a random spanning path."""
    adj = np.triu(rng.random((n, n)) < p, 1)
    order = rng.permutation(n)
    for a, b in zip(order[:-1], order[1:], strict=True):
        adj[min(a, b), max(a, b)] = True
    ei, ej = np.nonzero(adj)
    return ei.astype(np.int64), ej.astype(np.int64)


@pytest.mark.parametrize("form", FORMS)
def test_erdos_renyi_30(form):
    rng = np.random.default_rng(30 + form)
    n, batch = 30, 24
    ei, ej = erdos_renyi(n, 0.15, rng)
    w = 2.0 * rng.uniform(0.5, 1.5, (batch, ei.size))
    omega = rng.uniform(-0.5, 0.5, (batch, n))
    out_idx = np.array([n - 2, n - 1], dtype=np.int64)
    tgt, beta = nudge(form, batch)
    zero = np.zeros((batch, n))
    theta, _, _, status = compare(
        ei, ej, w, centred(omega), out_idx, tgt, beta, form, zero
    )
    assert np.all(status == CONVERGED)
    cold = rng.uniform(-3.0, 3.0, (batch, n))
    cold[:, 0] = 0.0
    compare(ei, ej, w, centred(omega), out_idx, tgt, beta, form, cold)


def test_more_members_than_lanes():
    """Batches larger than :data:`LANES` refill lanes as members finish."""
    rng = np.random.default_rng(3)
    batch = 2 * LANES + 37
    ei, ej, w, omega = layered_batch(batch, rng)
    tgt, beta = nudge(NUDGE_QUADRATIC, batch)
    theta0 = np.zeros((batch, 9))
    # Some members start at phases that need many steps, so lanes free up at
    # different times.
    far = rng.random(batch) < 0.3
    theta0[far, 1:] = rng.uniform(-3.0, 3.0, (int(far.sum()), 8))
    compare(ei, ej, w, centred(omega), OUT, tgt, beta, NUDGE_QUADRATIC, theta0)


@pytest.mark.slow  # compiling the threaded variant takes some 15 s on a cold cache
@pytest.mark.parametrize("n_chunks", [1, 2, 3])
def test_threaded_variant_matches_serial(n_chunks):
    """Cutting the batch into parts solved by threads changes nothing."""
    rng = np.random.default_rng(9)
    batch = 57
    ei, ej, w, omega = layered_batch(batch, rng)
    tgt, beta = nudge(NUDGE_INJECTION, batch)
    theta0 = rng.uniform(-3.0, 3.0, (batch, 9))
    theta0[:, 0] = 0.0
    common = (ei, ej, w, centred(omega), OUT, tgt, beta, NUDGE_INJECTION)
    serial = _lanes(*common, theta0.copy(), TOL, MAX_ITER_DEFAULT)
    threaded = _lanes(*common, theta0.copy(), TOL, MAX_ITER_DEFAULT, n_chunks)
    for a, b in zip(serial, threaded, strict=True):
        np.testing.assert_array_equal(a, b)


def test_empty_batch():
    """A batch without members is a no-op."""
    ei, ej = layered_edges()
    _, res, it, st = _lanes(
        ei, ej, np.empty((0, ei.size)), np.empty((0, 9)), OUT, np.empty((0, 2)),
        np.empty(0), NUDGE_NONE, np.empty((0, 9)), TOL, MAX_ITER_DEFAULT,
    )  # fmt: skip
    assert res.shape == it.shape == st.shape == (0,)


def test_round_off_floor():
    """With tol 0 the iteration runs on at round-off level, where the step
    acceptance tests compare numbers that differ in their last bits; the
    kernels must still agree on the outcome (MAX_ITER) and the phases."""
    rng = np.random.default_rng(13)
    batch = 16
    ei, ej, w, omega = layered_batch(batch, rng)
    tgt, beta = nudge(NUDGE_QUADRATIC, batch)
    common = (ei, ej, w, centred(omega), OUT, tgt, beta, NUDGE_QUADRATIC)
    theta0 = np.zeros((batch, 9))
    th_r, res_r, it_r, st_r = _reference(*common, theta0.copy(), 0.0, 40)
    th_l, res_l, it_l, st_l = _lanes(*common, theta0.copy(), 0.0, 40)
    assert np.all(st_r == MAX_ITER)
    np.testing.assert_array_equal(st_l, st_r)
    np.testing.assert_array_equal(it_l, it_r)
    np.testing.assert_allclose(th_l, th_r, rtol=0.0, atol=1e-12)
    assert res_l.max() < 1e-13


def test_isolated_node_needs_shift_and_libm():
    """A node cut off from the network makes even the absolute-weight Laplacian
    singular (the diagonal shift kicks in); its phase then runs off past the
    range of the polynomial sine (libm fallback)."""
    rng = np.random.default_rng(17)
    batch = 5
    ei, ej, w, omega = layered_batch(batch, rng)
    w[2, ej == 8] = 0.0
    tgt, beta = nudge(NUDGE_NONE, batch)
    theta0 = np.zeros((batch, 9))
    theta, _, _, status = compare(
        ei, ej, w, centred(omega), OUT, tgt, beta, NUDGE_NONE, theta0, max_iter=30
    )
    assert status[2] != CONVERGED
    assert np.abs(theta[2]).max() > 1e5
    assert np.all(np.delete(status, 2) == CONVERGED)


def test_raw_frequencies_shifted_starts_and_bad_inputs_match_the_reference():
    """Centring inside the kernel, re-referencing of the start to node 0 and
    input checks behave as in the per-member kernel."""
    from kurahw._kernels import BAD_OMEGA, BAD_THETA

    rng = np.random.default_rng(11)
    batch = 40
    ei, ej, w, omega = layered_batch(batch, rng)
    omega[3, 4] = np.nan
    theta0 = rng.uniform(-0.2, 0.2, (batch, 9)) + 5.0
    theta0[9, 2] = np.inf
    tgt, beta = nudge(NUDGE_NONE, batch)
    args = (ei, ej, w, omega, OUT, tgt, beta, NUDGE_NONE)
    ref = _reference(*args, theta0.copy(), TOL, 100, center=True)
    got = _lanes(*args, theta0.copy(), TOL, 100, center=True)
    assert np.array_equal(got[3], ref[3])
    assert got[3][3] == BAD_OMEGA and got[3][9] == BAD_THETA
    ok = ref[3] == CONVERGED
    assert ok.sum() == batch - 2
    np.testing.assert_allclose(got[0][ok], ref[0][ok], rtol=0, atol=1e-12)
