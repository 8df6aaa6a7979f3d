import numpy as np

from kurahw.physics import energy, jacobian, laplacian, velocity


def _numgrad(fun, x, h=1e-6):
    g = np.zeros_like(x)
    for k in range(x.size):
        e = np.zeros_like(x)
        e[k] = h
        g[k] = (fun(x + e) - fun(x - e)) / (2 * h)
    return g


def test_velocity_is_minus_energy_gradient(er15, rng):
    theta = rng.uniform(-1, 1, er15.n)
    oc = er15.omega_centered
    kw = {
        "outputs": np.array(er15.outputs),
        "targets": np.array([0.1, -0.2]),
        "beta": 0.7,
    }
    for form in ("quadratic", "injection"):
        f = velocity(er15.edges, er15.coupling, oc, theta, form=form, **kw)
        g = _numgrad(
            lambda t, form=form: energy(
                er15.edges, er15.coupling, oc, t, form=form, **kw
            ),
            theta,
        )
        np.testing.assert_allclose(f, -g, atol=1e-7)


def test_jacobian_matches_finite_differences(er15, rng):
    theta = rng.uniform(-1, 1, er15.n)
    oc = er15.omega_centered
    kw = {
        "outputs": np.array(er15.outputs),
        "targets": np.zeros(2),
        "beta": 0.3,
        "form": "injection",
    }
    jac = jacobian(er15.edges, er15.coupling, theta, **kw)
    num = np.stack(
        [
            _numgrad(
                lambda t, i=i: velocity(er15.edges, er15.coupling, oc, t, **kw)[i],
                theta,
            )
            for i in range(er15.n)
        ]
    )
    np.testing.assert_allclose(jac, num, atol=1e-7)


def test_jacobian_is_minus_weighted_laplacian(er15, rng):
    theta = rng.uniform(-1, 1, er15.n)
    i, j = er15.edges.T
    w = er15.coupling * np.cos(theta[j] - theta[i])
    np.testing.assert_allclose(
        jacobian(er15.edges, er15.coupling, theta),
        -laplacian(er15.edges, w, er15.n),
        atol=1e-14,
    )


def test_velocity_matches_dense_formula(er15, rng):
    theta = rng.uniform(-3, 3, er15.n)
    k = er15.coupling_matrix()
    dense = er15.omega_centered + np.sum(
        k * np.sin(theta[None, :] - theta[:, None]), axis=1
    )
    np.testing.assert_allclose(
        velocity(er15.edges, er15.coupling, er15.omega_centered, theta),
        dense,
        atol=1e-13,
    )
