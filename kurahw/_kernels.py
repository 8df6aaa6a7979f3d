"""Compiled Newton kernel for batches of small and medium Kuramoto networks.

The kernel works on an edge list shared by the whole batch (a member with no
coupling on an edge simply has weight 0 there) and on reduced coordinates:
node 0 is pinned at phase 0 and the unknowns are the phases of nodes 1..n-1.
"""

import numba as nb
import numpy as np

# Status codes shared with :mod:`kurahw.solver`.
CONVERGED = 0
UNSTABLE = 1
MAX_ITER = 2
STALLED = 3
NONFINITE = 4
# Input problems the caller turns into exceptions (never reported as a status).
BAD_OMEGA = 5
BAD_THETA = 6

NUDGE_NONE = 0
NUDGE_QUADRATIC = 1
NUDGE_INJECTION = 2

# Armijo constant and the smallest step tried by the backtracking search.
_ARMIJO_C1 = 1e-4
_MIN_STEP = 2.0**-40

_jit = nb.njit(
    cache=True, nogil=True, error_model="numpy", fastmath={"contract", "arcp"}
)


# Cody-Waite split of pi/2 and the Taylor coefficients of sin and cos on
# [-pi/4, pi/4]; truncation error there is below 5e-17.
_PIO2_HI = 1.5707963267341256e00
_PIO2_MID = 6.077100506506192e-11
_TWO_OVER_PI = 0.6366197723675814
_SIN_C = (
    -1.0 / 6.0,
    1.0 / 120.0,
    -1.0 / 5040.0,
    1.0 / 362880.0,
    -1.0 / 39916800.0,
    1.0 / 6227020800.0,
    -1.0 / 1307674368000.0,
)
_COS_C = (
    -1.0 / 2.0,
    1.0 / 24.0,
    -1.0 / 720.0,
    1.0 / 40320.0,
    -1.0 / 3628800.0,
    1.0 / 479001600.0,
    -1.0 / 87178291200.0,
    1.0 / 20922789888000.0,
)
# Beyond this the three-part reduction loses accuracy; libm takes over.
_REDUCTION_LIMIT = 1e5


@_jit
def _edge_trig(ei, ej, theta, s, c):
    """sin and cos of every edge's phase difference theta_j - theta_i.

    The edge loop spends most of a Newton iteration in trigonometry.  A
    branch-free polynomial form (Cody-Waite reduction to [-pi/4, pi/4], then
    Taylor series) lets the compiler vectorise it; it agrees with libm to a
    few ulp (checked in the tests) and falls back to libm for huge angles."""
    m = ei.shape[0]
    big = False
    for e in range(m):
        d = theta[ej[e]] - theta[ei[e]]
        s[e] = d
        big |= not abs(d) < _REDUCTION_LIMIT
    if big:
        for e in range(m):
            d = s[e]
            s[e] = np.sin(d)
            c[e] = np.cos(d)
        return
    for e in range(m):
        x = s[e]
        k = np.floor(x * _TWO_OVER_PI + 0.5)
        r = (x - k * _PIO2_HI) - k * _PIO2_MID
        r2 = r * r
        ps = _SIN_C[6]
        for q in range(5, -1, -1):
            ps = ps * r2 + _SIN_C[q]
        sr = r + r * r2 * ps
        pc = _COS_C[7]
        for q in range(6, -1, -1):
            pc = pc * r2 + _COS_C[q]
        cr = 1.0 + r2 * pc
        quadrant = np.int64(k) & 3
        swap = (quadrant & 1) == 1
        sign_s = 1.0 - (quadrant & 2)
        sign_c = 1.0 - ((quadrant + 1) & 2)
        s[e] = sign_s * (cr if swap else sr)
        c[e] = sign_c * (sr if swap else cr)


@_jit
def _force(ei, ej, w, omega_c, s, theta, out_idx, tgt, beta, form, f):
    """Write the rotating-frame velocity F(theta) into ``f``; return max |F| over
    the free nodes 1..n-1."""
    n = theta.shape[0]
    for i in range(n):
        f[i] = omega_c[i]
    for e in range(ei.shape[0]):
        v = w[e] * s[e]
        f[ei[e]] += v
        f[ej[e]] -= v
    if form == NUDGE_QUADRATIC:
        for k in range(out_idx.shape[0]):
            o = out_idx[k]
            f[o] -= beta * (theta[o] - tgt[k])
    elif form == NUDGE_INJECTION:
        for k in range(out_idx.shape[0]):
            o = out_idx[k]
            f[o] -= beta * np.sin(theta[o] - tgt[k])
    r = 0.0
    for i in range(1, n):
        a = abs(f[i])
        if not a <= r:  # also propagates NaN
            r = a
    return r


@_jit
def _energy(w, omega_c, c, theta, out_idx, tgt, beta, form):
    """Energy whose negative gradient is F (node 0 contributes nothing)."""
    e_val = 0.0
    for i in range(1, theta.shape[0]):
        e_val -= omega_c[i] * theta[i]
    for e in range(w.shape[0]):
        e_val -= w[e] * c[e]
    if form == NUDGE_QUADRATIC:
        for k in range(out_idx.shape[0]):
            d = theta[out_idx[k]] - tgt[k]
            e_val += 0.5 * beta * d * d
    elif form == NUDGE_INJECTION:
        for k in range(out_idx.shape[0]):
            e_val += beta * (1.0 - np.cos(theta[out_idx[k]] - tgt[k]))
    return e_val


@_jit
def _hessian(ei, ej, w, c, theta, out_idx, tgt, beta, form, modified, shift, h):
    """Reduced Hessian of the energy (the weighted Laplacian with node 0
    removed, plus the nudge curvature).  With ``modified`` every weight is
    replaced by its absolute value, which makes the matrix positive definite on
    a connected graph and turns the Newton step into a descent direction."""
    m1 = h.shape[0]
    for a in range(m1):
        for b in range(m1):
            h[a, b] = 0.0
        h[a, a] = shift
    for e in range(ei.shape[0]):
        g = w[e] * c[e]
        if modified:
            g = abs(g)
        i = ei[e] - 1
        j = ej[e] - 1
        if i >= 0:
            h[i, i] += g
        if j >= 0:
            h[j, j] += g
        if i >= 0 and j >= 0:
            h[i, j] -= g
            h[j, i] -= g
    if form != NUDGE_NONE:
        for k in range(out_idx.shape[0]):
            o = out_idx[k] - 1
            if o < 0:
                continue
            if form == NUDGE_QUADRATIC:
                g = beta
            else:
                g = beta * np.cos(theta[o + 1] - tgt[k])
            if modified:
                g = abs(g)
            h[o, o] += g


@_jit
def _cholesky(h, inv_diag):
    """In-place lower Cholesky factor, with the reciprocal pivots in
    ``inv_diag``; False when ``h`` is not positive definite."""
    m1 = h.shape[0]
    for j in range(m1):
        d = h[j, j]
        for k in range(j):
            d -= h[j, k] * h[j, k]
        if not d > 0.0:
            return False
        d = np.sqrt(d)
        h[j, j] = d
        inv = 1.0 / d
        inv_diag[j] = inv
        for i in range(j + 1, m1):
            v = h[i, j]
            for k in range(j):
                v -= h[i, k] * h[j, k]
            h[i, j] = v * inv
    return True


@_jit
def _cho_solve(lf, inv_diag, rhs, x):
    m1 = lf.shape[0]
    for i in range(m1):
        v = rhs[i]
        for k in range(i):
            v -= lf[i, k] * x[k]
        x[i] = v * inv_diag[i]
    for i in range(m1 - 1, -1, -1):
        v = x[i]
        for k in range(i + 1, m1):
            v -= lf[k, i] * x[k]
        x[i] = v * inv_diag[i]


@_jit
def _is_stable(ei, ej, w, c, theta, out_idx, tgt, beta, form, h, inv_diag):
    _hessian(ei, ej, w, c, theta, out_idx, tgt, beta, form, False, 0.0, h)
    return _cholesky(h, inv_diag)


@_jit
def _solve_member(
    ei,
    ej,
    w,
    omega_c,
    out_idx,
    tgt,
    beta,
    form,
    theta,
    tol,
    max_iter,
    s,
    c,
    s_t,
    c_t,
    f,
    f_t,
    th_t,
    h,
    inv_diag,
    d,
    rhs,
):
    n = theta.shape[0]
    m1 = n - 1
    theta[0] = 0.0
    _edge_trig(ei, ej, theta, s, c)
    res = _force(ei, ej, w, omega_c, s, theta, out_idx, tgt, beta, form, f)
    energy = _energy(w, omega_c, c, theta, out_idx, tgt, beta, form)
    it = 0
    while True:
        if not np.isfinite(res) or not np.isfinite(energy):
            return res, it, NONFINITE
        if res <= tol:
            if _is_stable(ei, ej, w, c, theta, out_idx, tgt, beta, form, h, inv_diag):
                return res, it, CONVERGED
            return res, it, UNSTABLE
        if it >= max_iter:
            return res, it, MAX_ITER
        it += 1

        # Newton direction on the true Hessian when it is positive definite;
        # otherwise a saddle-free direction from the absolute-weight Laplacian,
        # regularised further only if the graph has lost its positive edges.
        _hessian(ei, ej, w, c, theta, out_idx, tgt, beta, form, False, 0.0, h)
        exact = _cholesky(h, inv_diag)
        if not exact:
            shift = 0.0
            while True:
                _hessian(ei, ej, w, c, theta, out_idx, tgt, beta, form, True, shift, h)
                if _cholesky(h, inv_diag):
                    break
                shift = 1e-8 if shift == 0.0 else shift * 10.0
        for i in range(m1):
            rhs[i] = f[i + 1]
        _cho_solve(h, inv_diag, rhs, d)
        slope = 0.0
        for i in range(m1):
            slope -= rhs[i] * d[i]

        # Backtracking: sufficient energy decrease, or, for an exact Newton
        # step, a smaller residual (the energy test is blind below round-off).
        step = 1.0
        accepted = False
        res_t = res
        e_t = energy
        while step >= _MIN_STEP:
            th_t[0] = 0.0
            for i in range(m1):
                th_t[i + 1] = theta[i + 1] + step * d[i]
            _edge_trig(ei, ej, th_t, s_t, c_t)
            e_t = _energy(w, omega_c, c_t, th_t, out_idx, tgt, beta, form)
            res_t = _force(ei, ej, w, omega_c, s_t, th_t, out_idx, tgt, beta, form, f_t)
            if e_t <= energy + _ARMIJO_C1 * step * slope or (exact and res_t < res):
                accepted = True
                break
            step *= 0.5
        if not accepted:
            return res, it, STALLED
        for i in range(n):
            theta[i] = th_t[i]
            f[i] = f_t[i]
        for e in range(ei.shape[0]):
            s[e] = s_t[e]
            c[e] = c_t[e]
        res = res_t
        energy = e_t


@_jit
def _worst_status(status):
    """Largest status code in a batch, so that callers need not scan it again."""
    worst = 0
    for b in range(status.shape[0]):
        worst = max(worst, status[b])
    return worst


@_jit
def _solve_members(
    ei,
    ej,
    w,
    omega,
    center,
    out_idx,
    tgt,
    beta,
    form,
    theta,
    tol,
    max_iter,
    residual,
    iterations,
    status,
    first,
    stride,
):
    """Solve members ``first, first + stride, ...`` with one set of work buffers."""
    batch, n = theta.shape
    m = ei.shape[0]
    s = np.empty(m)
    c = np.empty(m)
    s_t = np.empty(m)
    c_t = np.empty(m)
    f = np.empty(n)
    f_t = np.empty(n)
    th_t = np.empty(n)
    h = np.empty((n - 1, n - 1))
    inv_diag = np.empty(n - 1)
    d = np.empty(n - 1)
    rhs = np.empty(n - 1)
    omega_c = np.empty(n)
    for b in range(first, batch, stride):
        # Validate here rather than in Python: cheaper, and a bad member must
        # not stop the others from being solved.
        bad = 0
        ref = theta[b, 0]
        for i in range(n):
            if not np.isfinite(omega[b, i]):
                bad = BAD_OMEGA
            if not np.isfinite(theta[b, i]):
                bad = BAD_THETA
        if bad:
            residual[b] = np.nan
            iterations[b] = 0
            status[b] = bad
            continue
        # Only phase differences are physical: re-reference to node 0.
        for i in range(n):
            theta[b, i] -= ref
        shift = 0.0
        if center:
            for i in range(n):
                shift += omega[b, i]
            shift /= n
        for i in range(n):
            omega_c[i] = omega[b, i] - shift
        r, it, st = _solve_member(
            ei,
            ej,
            w[b],
            omega_c,
            out_idx,
            tgt[b],
            beta[b],
            form,
            theta[b],
            tol,
            max_iter,
            s,
            c,
            s_t,
            c_t,
            f,
            f_t,
            th_t,
            h,
            inv_diag,
            d,
            rhs,
        )
        residual[b] = r
        iterations[b] = it
        status[b] = st


@_jit
def solve_batch(
    ei,
    ej,
    w,
    omega,
    center,
    out_idx,
    tgt,
    beta,
    form,
    theta,
    tol,
    max_iter,
    residual,
    iterations,
    status,
):
    """Solve every member of a batch in place.

    Parameters
    ----------
    ei, ej : ndarray of int64, shape (m,)
        Edge end points, ``ei < ej``.
    w : ndarray, shape (batch, m)
        Coupling strength of each edge, per member.
    omega : ndarray, shape (batch, n)
        Natural frequencies; mean-centred here when ``center`` is true, else
        used as given.
    center : bool
    out_idx : ndarray of int64, shape (p,)
        Output nodes that feel the nudge.
    tgt : ndarray, shape (batch, p)
        Target phases of the outputs.
    beta : ndarray, shape (batch,)
        Nudge strength per member.
    form : int
        ``NUDGE_NONE``, ``NUDGE_QUADRATIC`` or ``NUDGE_INJECTION``.
    theta : ndarray, shape (batch, n)
        Start on entry (taken relative to node 0), solution on exit.
    residual, iterations, status : ndarray, shape (batch,)
        Filled on exit; ``BAD_OMEGA`` or ``BAD_THETA`` marks a member whose
        input was not finite (it is left unsolved).

    Returns
    -------
    int
        The largest status code in the batch (so a caller need not scan it).
    """
    _solve_members(
        ei, ej, w, omega, center, out_idx, tgt, beta, form, theta, tol, max_iter,
        residual, iterations, status, 0, 1,
    )  # fmt: skip
    return _worst_status(status)


@nb.njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def solve_batch_parallel(
    ei,
    ej,
    w,
    omega,
    center,
    out_idx,
    tgt,
    beta,
    form,
    theta,
    tol,
    max_iter,
    residual,
    iterations,
    status,
    n_chunks,
):
    """:func:`solve_batch` with the members dealt over ``n_chunks`` threads.

    Results are identical to the serial kernel: each member is solved by the
    same code, whichever thread takes it.
    """
    for chunk in nb.prange(n_chunks):
        _solve_members(
            ei, ej, w, omega, center, out_idx, tgt, beta, form, theta, tol,
            max_iter, residual, iterations, status, chunk, n_chunks,
        )  # fmt: skip
    return _worst_status(status)


def default_chunks(batch: int, n_edges: int) -> int:
    """How many threads a batch is worth: threads cost a few microseconds to
    start, so small batches of small networks stay on one."""
    if batch * max(n_edges, 1) < 2000:
        return 1
    return max(1, min(batch, nb.get_num_threads()))
