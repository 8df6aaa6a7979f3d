import numba as nb
import numpy as np
import pytest

from kurahw import (
    Network,
    NetworkBatch,
    NetworkError,
    Nudge,
    Solver,
    Status,
    _kernels,
    solve,
)
from kurahw.network import erdos_renyi_network, layered_network
from kurahw.physics import jacobian, velocity


def test_free_equilibrium_is_a_stable_root(layered):
    eq = solve(layered, tol=1e-12)
    assert eq.status == Status.CONVERGED and eq.ok
    assert eq.theta[0] == 0.0
    f = velocity(layered.edges, layered.coupling, layered.omega_centered, eq.theta)
    assert np.max(np.abs(f[1:])) <= 1e-12 and eq.residual <= 1e-12
    eig = np.linalg.eigvalsh(
        jacobian(layered.edges, layered.coupling, eq.theta)[1:, 1:]
    )
    assert eig.max() < 0


@pytest.mark.parametrize("form", ["quadratic", "injection"])
def test_nudged_equilibrium_balances_the_nudge(layered, form):
    free = solve(layered)
    targets = np.array([-0.2, 0.2])
    eq = solve(layered, free.theta, nudge=Nudge(targets, 0.5, form), tol=1e-12)
    assert eq.ok
    f = velocity(
        layered.edges,
        layered.coupling,
        layered.omega_centered,
        eq.theta,
        outputs=np.array(layered.outputs),
        targets=targets,
        beta=0.5,
        form=form,
    )
    assert np.max(np.abs(f[1:])) <= 1e-12
    # The nudge pulls the outputs toward their targets.
    before = np.abs(free.theta[7:] - targets)
    after = np.abs(eq.theta[7:] - targets)
    assert np.all(after < before)


def test_engines_agree(layered):
    ref = solve(layered, method="dense", tol=1e-13)
    for method in ("sparse", "general"):
        other = solve(layered, method=method, tol=1e-13)
        assert other.ok
        np.testing.assert_allclose(other.theta, ref.theta, atol=1e-12)


def test_batch_equals_members_solved_alone():
    nets = [layered_network(seed=s).with_inputs([0.3 * s - 0.5, 0.2]) for s in range(6)]
    batch = NetworkBatch.stack(nets)
    out = solve(batch, tol=1e-12)
    assert out.theta.shape == (6, 9) and out.ok.all()
    for b, net in enumerate(nets):
        alone = solve(net, tol=1e-12)
        np.testing.assert_allclose(out.theta[b], alone.theta, atol=1e-13)


def test_large_batches_use_the_lane_kernel_with_the_same_results():
    nets = [
        layered_network(seed=s).with_inputs([0.1 * (s % 7) - 0.3, 0.2])
        for s in range(40)
    ]
    batch = NetworkBatch.stack(nets)
    solver = Solver(batch, tol=1e-12)
    targets = np.tile([-0.2, 0.2], (40, 1))
    start = np.random.default_rng(0).uniform(-0.5, 0.5, (40, 9)) + 3.0
    for nudge in (None, Nudge(targets, 0.1)):
        out = solver.solve(start, nudge=nudge)
        assert out.ok.all()
        for b in (0, 17, 39):
            alone = solve(
                nets[b],
                start[b],
                tol=1e-12,
                nudge=None if nudge is None else Nudge(targets[b], 0.1),
            )
            assert out.iterations[b] == alone.iterations
            np.testing.assert_allclose(out.theta[b], alone.theta, atol=1e-12)
    bad = batch.omega.copy()
    bad[5, 3] = np.nan
    with pytest.raises(ValueError, match="`omega` contains NaN"):
        solver.solve(omega=bad)


def test_parallel_kernel_gives_identical_results():
    batch = NetworkBatch.stack([layered_network(seed=s) for s in range(40)])
    t = batch.template
    results = []
    for chunks in (None, 1, 2):
        theta = np.zeros_like(batch.omega)
        out = [np.empty(40), np.zeros(40, dtype=np.int64), np.empty(40, dtype=np.int64)]
        args = (
            t.edges[:, 0].copy(),
            t.edges[:, 1].copy(),
            batch.coupling,
            batch.omega,
            True,
            np.array(t.outputs),
            np.zeros((40, 2)),
            np.zeros(40),
            0,
            theta,
            1e-12,
            100,
            *out,
        )
        if chunks is None:
            _kernels.solve_batch(*args)
        else:
            _kernels.solve_batch_parallel(*args, chunks)
        results.append(theta)
    assert np.array_equal(results[0], results[1])
    assert np.array_equal(results[0], results[2])


def test_sparse_engine_on_a_large_sparse_network():
    net = erdos_renyi_network(600, p=10 / 599, seed=1)
    eq = solve(net, tol=1e-12)
    assert eq.ok and eq.residual <= 1e-12
    np.testing.assert_allclose(
        eq.theta, solve(net, method="dense", tol=1e-12).theta, atol=1e-11
    )


def test_unstable_root_is_never_reported_as_equilibrium():
    # Two identical oscillators in anti-phase: an exact root, but a maximum of E.
    net = Network(edges=[[0, 1]], coupling=[1.0], omega=[0.0, 0.0], outputs=[1])
    eq = solve(net, theta0=[0.0, np.pi], tol=1e-10)
    assert eq.status == Status.UNSTABLE and not eq.ok
    # From a generic start the same network relaxes to the in-phase state.
    eq = solve(net, theta0=[0.0, 2.0])
    assert eq.ok and abs(np.sin(eq.theta[1])) < 1e-10 and np.cos(eq.theta[1]) > 0


def test_cold_starts_far_away_still_find_a_stable_equilibrium(rng):
    net = erdos_renyi_network(30, seed=5)
    for _ in range(5):
        eq = solve(net, theta0=rng.uniform(-3, 3, 30))
        assert eq.ok
        eig = np.linalg.eigvalsh(jacobian(net.edges, net.coupling, eq.theta)[1:, 1:])
        assert eig.max() < 0


def test_non_convergence_is_a_status_not_a_crash():
    # Coupling far below the frequency spread: no phase-locked state exists.
    net = Network(
        edges=[[0, 1], [1, 2]],
        coupling=[0.01, 0.01],
        omega=[0.0, 1.0, -1.0],
        outputs=[2],
    )
    eq = solve(net, max_iter=30)
    assert eq.status in (Status.MAX_ITER, Status.STALLED)
    assert not eq.ok and eq.residual > 0.1
    with pytest.raises(RuntimeError, match="failed"):
        eq.raise_for_status()


def test_warm_start_saves_iterations(layered):
    eq = solve(layered)
    again = solve(layered, eq.theta)
    assert again.iterations == 0 and again.ok
    nearby = layered.with_inputs([0.42, -0.69])
    assert solve(nearby, eq.theta).iterations < solve(nearby).iterations


def test_centered_frequencies_are_used_as_given(layered):
    oc = layered.omega_centered.copy()
    oc[3] += 1e-3
    eq = solve(layered, omega=oc, centered=True, tol=1e-13)
    f = velocity(layered.edges, layered.coupling, oc, eq.theta)
    assert np.max(np.abs(f[1:])) < 1e-13


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"theta0": np.zeros(4)}, "theta0"),
        ({"theta0": np.full(9, np.nan)}, "`theta0` contains NaN"),
        ({"omega": np.full(9, np.inf)}, "`omega` contains NaN"),
        ({"omega": np.zeros(3)}, "omega"),
        ({"tol": -1.0}, "tol"),
        ({"method": "magic"}, "method"),
        ({"nudge": Nudge([0.1, 0.2, 0.3], 0.1)}, "one target per output"),
    ],
)
def test_bad_solver_arguments(layered, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        solve(layered, **kwargs)


def test_nudge_validation():
    with pytest.raises(ValueError, match="form"):
        Nudge([0.0], 0.1, "sideways")
    with pytest.raises(ValueError, match="beta"):
        Nudge([0.0], np.inf)


def test_kernel_trigonometry_matches_libm(rng):
    @nb.njit
    def run(x):
        s = np.empty_like(x)
        c = np.empty_like(x)
        ei = np.zeros(x.size, dtype=np.int64)
        ej = np.arange(1, x.size + 1)
        theta = np.zeros(x.size + 1)
        theta[1:] = x
        _kernels._edge_trig(ei, ej, theta, s, c)
        return s, c

    for scale in (1.0, 50.0, 1e4, 1e7):
        x = rng.uniform(-scale, scale, 5000)
        s, c = run(x)
        np.testing.assert_allclose(s, np.sin(x), rtol=0, atol=4e-16)
        np.testing.assert_allclose(c, np.cos(x), rtol=0, atol=4e-16)


def test_set_parameters_matches_a_fresh_solver(layered):
    solver = Solver(layered, tol=1e-12)
    k = layered.coupling * 1.3
    om = layered.omega + 0.05
    solver.set_parameters(coupling=k, omega=om)
    fresh = solve(layered.replace(coupling=k, omega=om), tol=1e-12)
    np.testing.assert_array_equal(solver.solve().theta, fresh.theta)
    with pytest.raises(NetworkError, match=">= 0"):
        solver.set_parameters(coupling=-k)
    cut = k.copy()
    cut[[e for e, (i, j) in enumerate(layered.edges) if 0 in (i, j)]] = 0.0
    with pytest.raises(NetworkError, match="disconnected"):
        solver.set_parameters(coupling=cut)
    with pytest.raises(ValueError, match="shape"):
        solver.set_parameters(omega=np.zeros(3))
