"""Newton engines for the cases the compiled kernel does not cover.

``solve_sparse``: one large symmetric network, sparse LU in symmetric mode
(whose pivots give the inertia, hence the stability verdict).
``solve_general``: asymmetric couplings, dense LU with the squared residual as
merit function, since no energy exists without symmetry.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from kurahw import _kernels as k
from kurahw.physics import energy, jacobian, velocity

_FORM_NAMES = {k.NUDGE_QUADRATIC: "quadratic", k.NUDGE_INJECTION: "injection"}


def _nudge_kwargs(out_idx, targets, beta, form):
    if form == k.NUDGE_NONE:
        return {}
    return {
        "outputs": out_idx,
        "targets": targets,
        "beta": beta,
        "form": _FORM_NAMES[form],
    }


def _reduced_hessian(
    edges, coupling, theta, out_idx, targets, beta, form, modified, shift
):
    n = theta.size
    i, j = edges[:, 0], edges[:, 1]
    g = coupling * np.cos(theta[j] - theta[i])
    diag_extra = np.zeros(n)
    if form != k.NUDGE_NONE:
        curv = (
            beta
            if form == k.NUDGE_QUADRATIC
            else beta * np.cos(theta[out_idx] - targets)
        )
        diag_extra[out_idx] += np.abs(curv) if modified else curv
    if modified:
        g = np.abs(g)
    rows = np.concatenate([i, j, i, j, np.arange(n)])
    cols = np.concatenate([j, i, i, j, np.arange(n)])
    vals = np.concatenate([-g, -g, g, g, diag_extra + shift])
    h = sp.csc_matrix((vals, (rows, cols)), shape=(n, n))
    return h[1:, 1:].tocsc()


def _factor_pd(h):
    """Sparse LU with symmetric pivoting; returns (solve, is_positive_definite)."""
    try:
        lu = spla.splu(
            h,
            permc_spec="MMD_AT_PLUS_A",
            diag_pivot_thresh=0.0,
            options={"SymmetricMode": True},
        )
    except RuntimeError:  # exactly singular
        return None, False
    if np.array_equal(lu.perm_r, lu.perm_c):
        pd = bool(np.all(lu.U.diagonal() > 0))
    else:  # pivoting broke symmetry: decide on the dense matrix
        pd = _dense_pd(h.toarray())
    return lu.solve, pd


def _dense_pd(mat) -> bool:
    try:
        sla.cholesky(mat, lower=True, check_finite=False)
    except sla.LinAlgError:
        return False
    return True


def solve_sparse(
    edges,
    coupling,
    reverse,
    omega_c,
    out_idx,
    targets,
    beta,
    form,
    theta,
    tol,
    max_iter,
):
    """Sparse Newton with energy line search for one symmetric network."""
    nk = _nudge_kwargs(out_idx, targets, beta, form)
    theta = np.array(theta, dtype=float)
    theta[0] = 0.0

    def evaluate(th):
        f = velocity(edges, coupling, omega_c, th, **nk)
        return (
            f,
            float(np.max(np.abs(f[1:]))),
            float(energy(edges, coupling, omega_c, th, **nk)),
        )

    f, res, en = evaluate(theta)
    it = 0
    while True:
        if not (np.isfinite(res) and np.isfinite(en)):
            return theta, res, it, k.NONFINITE
        h = _reduced_hessian(
            edges, coupling, theta, out_idx, targets, beta, form, False, 0.0
        )
        solve, exact = _factor_pd(h)
        if res <= tol:
            return theta, res, it, k.CONVERGED if exact else k.UNSTABLE
        if it >= max_iter:
            return theta, res, it, k.MAX_ITER
        it += 1

        # Exact Newton on a positive-definite Hessian, else the saddle-free
        # absolute-weight Laplacian (the compiled kernel's rule).
        shift = 0.0
        while not exact:
            hm = _reduced_hessian(
                edges, coupling, theta, out_idx, targets, beta, form, True, shift
            )
            solve, pd = _factor_pd(hm)
            if pd:
                break
            shift = 1e-8 if shift == 0.0 else shift * 10.0

        d = solve(f[1:])
        slope = -float(f[1:] @ d)

        step = 1.0
        while step >= k._MIN_STEP:
            trial = theta.copy()
            trial[1:] += step * d
            f_t, res_t, en_t = evaluate(trial)
            if en_t <= en + k._ARMIJO_C1 * step * slope or (exact and res_t < res):
                break
            step *= 0.5
        else:
            return theta, res, it, k.STALLED
        theta, f, res, en = trial, f_t, res_t, en_t


def solve_general(
    edges,
    coupling,
    reverse,
    omega_c,
    out_idx,
    targets,
    beta,
    form,
    theta,
    tol,
    max_iter,
):
    """Dense Newton on the squared residual for possibly asymmetric couplings."""
    nk = _nudge_kwargs(out_idx, targets, beta, form)
    theta = np.array(theta, dtype=float)
    theta[0] = 0.0

    def evaluate(th):
        f = velocity(edges, coupling, omega_c, th, coupling_reverse=reverse, **nk)
        return f, float(np.max(np.abs(f[1:])))

    f, res = evaluate(theta)
    it = 0
    while True:
        if not np.isfinite(res):
            return theta, res, it, k.NONFINITE
        jac = jacobian(edges, coupling, theta, coupling_reverse=reverse, **nk)[1:, 1:]
        if res <= tol:
            stable = bool(np.all(np.linalg.eigvals(jac).real < 0))
            return theta, res, it, k.CONVERGED if stable else k.UNSTABLE
        if it >= max_iter:
            return theta, res, it, k.MAX_ITER
        it += 1

        r = f[1:]
        try:
            d = -np.linalg.solve(jac, r)
        except np.linalg.LinAlgError:
            d = -np.linalg.lstsq(jac, r, rcond=None)[0]

        merit = 0.5 * float(r @ r)
        slope = float(r @ (jac @ d))
        if not slope < 0:  # not a descent direction for the merit: gradient step
            d = -jac.T @ r
            slope = -float(d @ d)

        step = 1.0
        while step >= k._MIN_STEP:
            trial = theta.copy()
            trial[1:] += step * d
            f_t, res_t = evaluate(trial)
            if 0.5 * float(f_t[1:] @ f_t[1:]) <= merit + k._ARMIJO_C1 * step * slope:
                break
            step *= 0.5
        else:
            return theta, res, it, k.STALLED
        theta, f, res = trial, f_t, res_t
