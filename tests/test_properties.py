"""Invariants of the model, checked on random networks and states."""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kurahw import (
    NetworkError,
    Nudge,
    Status,
    cosine,
    ep_gradient,
    exact_gradient,
    solve,
)
from kurahw.dynamics import relax
from kurahw.network import erdos_renyi_network, layered_network
from kurahw.physics import energy, jacobian, velocity

seeds = st.integers(0, 10_000)
shifts = st.floats(-10.0, 10.0, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, shift=shifts, n=st.integers(4, 25))
def test_energy_is_invariant_under_a_global_phase_shift(seed, shift, n):
    try:
        net = erdos_renyi_network(n, p=0.7, seed=seed)
    except NetworkError:
        assume(False)
    theta = np.random.default_rng(seed).uniform(-np.pi, np.pi, n)
    e0 = energy(net.edges, net.coupling, net.omega_centered, theta)
    e1 = energy(net.edges, net.coupling, net.omega_centered, theta + shift)
    assert abs(e1 - e0) <= 1e-11 * (1 + abs(e0))


@settings(max_examples=30, deadline=None)
@given(seed=seeds, shift=shifts)
def test_equilibrium_is_invariant_under_a_global_phase_shift(seed, shift):
    net = layered_network(seed=seed).with_inputs(
        np.random.default_rng(seed).uniform(-1, 1, 2)
    )
    start = np.random.default_rng(seed + 1).uniform(-0.3, 0.3, net.n)
    a = solve(net, start, tol=1e-12)
    b = solve(net, start + shift, tol=1e-12)
    # The solver works relative to node 0, so a shifted start is the same start.
    assert a.status == b.status
    if a.ok:
        np.testing.assert_allclose(a.theta, b.theta, atol=1e-10)


@settings(max_examples=15, deadline=None)
@given(seed=seeds, n=st.integers(4, 15))
def test_energy_never_increases_along_a_free_relaxation(seed, n):
    try:
        net = erdos_renyi_network(n, p=0.6, k_mean=2.0, omega_std=0.5, seed=seed)
    except NetworkError:  # a disconnected draw is not a network to relax
        assume(False)
    theta0 = np.random.default_rng(seed).uniform(-np.pi, np.pi, n)
    _, path = relax(net, theta0, duration=3.0, dt=0.005)
    e = energy(net.edges, net.coupling, net.omega_centered, path)
    assert np.all(np.diff(e) <= 1e-10 * (1 + np.abs(e[1:])))


@settings(max_examples=10, deadline=None)
@given(seed=seeds)
def test_relaxation_ends_at_the_solved_equilibrium(seed):
    net = layered_network(seed=seed, k_scale=3.0)
    eq = solve(net, tol=1e-12)
    _, path = relax(net, eq.theta + 0.05, duration=40.0, dt=0.02)
    if eq.ok:
        np.testing.assert_allclose(path[-1], eq.theta, atol=1e-6)


@settings(max_examples=15, deadline=None)
@given(seed=seeds)
def test_ep_tends_to_the_exact_gradient_as_beta_vanishes(seed):
    try:
        net = erdos_renyi_network(10, seed=seed)
    except NetworkError:  # a disconnected draw has no pinned equilibrium
        assume(False)
    free = solve(net, tol=1e-13)
    if not free.ok:
        return
    rng = np.random.default_rng(seed)
    targets = free.theta[list(net.outputs)] + rng.uniform(-0.3, 0.3, 2)
    exact = exact_gradient(net, free.theta, targets).omega[1:]
    errors = []
    for beta in (1e-1, 1e-2, 1e-3):
        g, _, _ = ep_gradient(net, targets, beta, free=free)
        errors.append(np.linalg.norm(g.omega[1:] - exact))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] <= 2e-2 * errors[0] + 1e-12
    assert cosine(g.omega[1:], exact) > 1 - 1e-6


@settings(max_examples=40, deadline=None)
@given(
    seed=seeds,
    k_scale=st.floats(0.3, 4.0),
    spread=st.floats(0.0, 3.0),
    beta=st.floats(-0.5, 0.5),
    form=st.sampled_from(["quadratic", "injection"]),
)
def test_a_converged_verdict_is_always_a_stable_root(seed, k_scale, spread, beta, form):
    """Whatever the network and start, CONVERGED means: residual within tolerance
    and a negative-definite Jacobian, both checked here independently."""
    rng = np.random.default_rng(seed)
    net = layered_network(seed=seed, k_scale=k_scale).with_inputs(
        rng.uniform(-spread, spread, 2)
    )
    targets = rng.uniform(-1, 1, 2)
    nudge = Nudge(targets, beta, form) if beta else None
    eq = solve(net, rng.uniform(-np.pi, np.pi, net.n), nudge=nudge, tol=1e-10)
    assert eq.status != Status.NONFINITE
    if eq.ok:
        kw = {
            "outputs": np.array(net.outputs),
            "targets": targets,
            "beta": beta,
            "form": form,
        }
        f = velocity(net.edges, net.coupling, net.omega_centered, eq.theta, **kw)
        assert np.max(np.abs(f[1:])) <= 1e-10
        jac = jacobian(net.edges, net.coupling, eq.theta, **kw)[1:, 1:]
        assert np.linalg.eigvalsh(jac).max() < 0
