import numpy as np
import pytest

from kurahw import (
    Network,
    NetworkError,
    cosine,
    ep_gradient,
    exact_gradient,
    finite_difference_gradient,
    gradient_from_equilibria,
    solve,
)
from kurahw.studies.verify import asymmetric_perturbation


@pytest.fixture
def problem(layered):
    free = solve(layered, tol=1e-13)
    return layered, free, np.array([-0.2, 0.2])


def test_exact_gradient_matches_finite_differences(problem):
    net, free, targets = problem
    exact = exact_gradient(net, free.theta, targets)
    fd = finite_difference_gradient(net, targets, theta=free.theta)
    np.testing.assert_allclose(exact.omega, fd.omega, atol=1e-8, rtol=1e-6)
    np.testing.assert_allclose(exact.coupling, fd.coupling, atol=1e-8, rtol=1e-6)
    assert exact.omega[0] == 0.0


def test_two_phase_ep_is_the_gradient(problem):
    net, free, targets = problem
    exact = exact_gradient(net, free.theta, targets)
    ep, first, second = ep_gradient(net, targets, 1e-5, free=free)
    assert first is free and second.ok
    np.testing.assert_allclose(ep.omega, exact.omega, rtol=1e-4, atol=1e-9)
    np.testing.assert_allclose(ep.coupling, exact.coupling, rtol=1e-4, atol=1e-8)


def test_ep_bias_is_first_order_and_centring_removes_it(problem):
    net, free, targets = problem
    exact = exact_gradient(net, free.theta, targets).omega

    def err(beta, centered):
        g, _, _ = ep_gradient(net, targets, beta, free=free, centered=centered)
        return np.linalg.norm(g.omega - exact)

    # Halving beta halves the two-phase error and quarters the centred one.
    assert err(0.02, False) / err(0.01, False) == pytest.approx(2.0, rel=0.05)
    assert err(0.02, True) / err(0.01, True) == pytest.approx(4.0, rel=0.05)
    assert err(0.1, True) < 0.05 * err(0.1, False)


def test_gradient_from_equilibria_signs(layered):
    free = solve(layered).theta
    nudged = free.copy()
    nudged[3] += 0.01
    g = gradient_from_equilibria(layered, free, nudged, 0.1)
    assert g.omega[3] == pytest.approx(-0.1)
    with pytest.raises(ValueError, match="beta"):
        gradient_from_equilibria(layered, free, nudged, 0.0)


def test_exact_gradient_for_asymmetric_coupling(er15):
    net = asymmetric_perturbation(er15, 0.3, np.random.default_rng(0))
    assert not net.is_symmetric
    free = solve(net, tol=1e-13)
    assert free.ok
    targets = free.theta[list(net.outputs)] + 0.1
    exact = exact_gradient(net, free.theta, targets)
    fd = finite_difference_gradient(net, targets, theta=free.theta)
    assert cosine(exact.omega, fd.omega) > 1 - 1e-9
    assert cosine(exact.coupling, fd.coupling) > 1 - 1e-9
    # Without symmetry the nudge response is no longer the gradient.
    ep, _, _ = ep_gradient(net, targets, 1e-5, free=free)
    assert cosine(ep.omega[1:], exact.omega[1:]) < 1 - 1e-6


def test_target_shape_is_checked(problem):
    net, free, _ = problem
    with pytest.raises(NetworkError, match="one target phase per output"):
        exact_gradient(net, free.theta, [0.1])


def test_gradient_across_sizes_and_sparse_path():
    from kurahw.network import erdos_renyi_network

    net = erdos_renyi_network(500, p=8 / 499, seed=2)  # uses the sparse engines
    free = solve(net, tol=1e-13)
    targets = free.theta[list(net.outputs)] + 0.2
    ep, _, _ = ep_gradient(net, targets, 1e-4, free=free)
    exact = exact_gradient(net, free.theta, targets)
    assert cosine(ep.omega[1:], exact.omega[1:]) > 0.9999999


def test_zero_vectors_have_zero_cosine():
    assert cosine(np.zeros(3), np.ones(3)) == 0.0
    assert Network  # re-exported


def test_finite_differences_on_a_subset_of_nodes(problem):
    net, free, targets = problem
    full = finite_difference_gradient(
        net, targets, theta=free.theta, wrt_coupling=False
    )
    part = finite_difference_gradient(
        net, targets, theta=free.theta, wrt_coupling=False, nodes=[2, 7]
    )
    np.testing.assert_array_equal(part.omega[[2, 7]], full.omega[[2, 7]])
    assert np.count_nonzero(part.omega) == 2
    with pytest.raises(ValueError, match="node 0 is pinned"):
        finite_difference_gradient(net, targets, theta=free.theta, nodes=[0])
