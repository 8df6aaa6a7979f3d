"""Batch-vectorised variant of the compiled Newton kernel.

:func:`kurahw._kernels.solve_batch` solves the members of a batch one after the
other.  Every loop in it runs over nodes or edges of a single small network, so
the trip counts are short and the compiler has nothing to put into SIMD lanes.
:func:`solve_batch_lanes` runs exactly the same algorithm but keeps a block of
members side by side in a *member-minor* layout (``theta`` as ``(n, lanes)``,
edge quantities as ``(m, lanes)``, the Hessian as ``(n - 1, n - 1, lanes)``), so
the innermost loop of every piece of arithmetic walks over members that sit
next to each other in memory and LLVM can vectorise it.

Members advance independently: each lane carries its own iteration count,
step length and status.  A lane whose member has finished writes its result
out and is refilled from the queue of members still waiting, so the lanes stay
busy while stragglers iterate; once the queue is empty the survivors are packed
to the front, which keeps the vector loops dense.

For each member the floating-point operations are those of the per-member
kernel, in the same order, so the results agree with it (in the tests to the
last bit; where the compiler contracts a product and a sum differently they
could differ by an ulp), with the same iteration counts and statuses.
"""

import numba as nb
import numpy as np

from kurahw._kernels import (
    _ARMIJO_C1,
    _COS_C,
    _MIN_STEP,
    _PIO2_HI,
    _PIO2_MID,
    _REDUCTION_LIMIT,
    _SIN_C,
    _TWO_OVER_PI,
    BAD_OMEGA,
    BAD_THETA,
    CONVERGED,
    MAX_ITER,
    NONFINITE,
    NUDGE_INJECTION,
    NUDGE_QUADRATIC,
    STALLED,
    UNSTABLE,
    _worst_status,
)

__all__ = ["LANES", "solve_batch_lanes", "solve_batch_lanes_parallel"]

# Most members held side by side.  Every vector loop has a set-up cost of a few
# dozen cycles, so long loops pay: on the 9-node benchmark (batch 100, warm
# starts) 32 and 64 lanes were about 35 % and 20 % slower than 128.  The work
# arrays of a 9-node, 24-edge network take 2.4 kB per lane, so 128 lanes still
# fit in L2; 256 gained little even on large batches.
LANES = 128

_jit = nb.njit(
    cache=True, nogil=True, error_model="numpy", fastmath={"contract", "arcp"}
)

# Horner coefficients spelled out as scalars: inside the lane loop a tuple
# lookup per coefficient would only obscure the straight-line polynomial.
_S0, _S1, _S2, _S3, _S4, _S5, _S6 = _SIN_C
_C0, _C1, _C2, _C3, _C4, _C5, _C6, _C7 = _COS_C


@_jit
def _lane_range(lo, hi):
    """``lo:hi`` as unsigned bounds for the vectorised lane loops: with a signed
    index numba guards every access with a negative-index wraparound select,
    and LLVM then refuses to vectorise."""
    return np.uint64(max(lo, 0)), np.uint64(max(hi, 0))


@_jit
def _edge_trig(ei, ej, th, s, c, big, lo, hi):
    """sin and cos of ``th[ej] - th[ei]`` for every edge and lanes ``lo:hi``.

    Same branch-free reduction and polynomials as
    :func:`kurahw._kernels._edge_trig`.  The quadrant is taken apart with
    ``floor`` instead of an integer ``& 3``: AVX2 has no packed double-to-int64
    conversion, and the integer form would scalarise the loop.  A lane that
    has any angle at or beyond ``_REDUCTION_LIMIT`` (or a NaN) is redone with
    libm for all its edges, as the per-member kernel does.

    Parameters
    ----------
    ei, ej : ndarray of int64, shape (m,)
        Edge end points.
    th : ndarray, shape (n, lanes)
        Phases.
    s, c : ndarray, shape (m, lanes)
        Output sines and cosines.
    big : ndarray, shape (lanes,)
        Scratch (sum of |th| per lane).
    lo, hi : int
        Lane range.
    """
    l0, l1 = _lane_range(lo, hi)
    m = ei.shape[0]
    # |th_j - th_i| <= sum_k |th_k|, so only a lane whose sum reaches half the
    # limit (the other half is margin for rounding), or is NaN, can have an
    # angle beyond it.  This per-node test keeps the per-edge one out of the
    # polynomial loop.
    for lane in range(l0, l1):
        big[lane] = 0.0
    for i in range(th.shape[0]):
        for lane in range(l0, l1):
            big[lane] += abs(th[i, lane])
    suspect = False
    for lane in range(l0, l1):
        suspect |= not big[lane] < 0.5 * _REDUCTION_LIMIT
    for e in range(m):
        a = ei[e]
        b = ej[e]
        for lane in range(l0, l1):
            x = th[b, lane] - th[a, lane]
            k = np.floor(x * _TWO_OVER_PI + 0.5)
            r = (x - k * _PIO2_HI) - k * _PIO2_MID
            r2 = r * r
            ps = _S6
            ps = ps * r2 + _S5
            ps = ps * r2 + _S4
            ps = ps * r2 + _S3
            ps = ps * r2 + _S2
            ps = ps * r2 + _S1
            ps = ps * r2 + _S0
            sr = r + r * r2 * ps
            pc = _C7
            pc = pc * r2 + _C6
            pc = pc * r2 + _C5
            pc = pc * r2 + _C4
            pc = pc * r2 + _C3
            pc = pc * r2 + _C2
            pc = pc * r2 + _C1
            pc = pc * r2 + _C0
            cr = 1.0 + r2 * pc
            # quadrant = k & 3 = 2 * q1 + q0 (two's complement bits, so also
            # right for negative k); all of these are exact in floating point.
            half = np.floor(k * 0.5)
            q0 = k - 2.0 * half
            q1 = half - 2.0 * np.floor(half * 0.5)
            sign_s = 1.0 - 2.0 * q1
            sign_c = sign_s * (1.0 - 2.0 * q0)
            swap = q0 > 0.5
            s[e, lane] = sign_s * (cr if swap else sr)
            c[e, lane] = sign_c * (sr if swap else cr)
    if not suspect:
        return
    # The exact test of the per-member kernel, for the suspect lanes only.
    for lane in range(l0, l1):
        if big[lane] < 0.5 * _REDUCTION_LIMIT:
            continue
        libm = False
        for e in range(m):
            libm |= not abs(th[ej[e], lane] - th[ei[e], lane]) < _REDUCTION_LIMIT
        if libm:
            for e in range(m):
                x = th[ej[e], lane] - th[ei[e], lane]
                s[e, lane] = np.sin(x)
                c[e, lane] = np.cos(x)


@_jit
def _force(ei, ej, w, om, s, th, out_idx, tg, be, form, f, res, lo, hi):
    """Rotating-frame velocity F into ``f`` and max |F| over nodes 1..n-1 into
    ``res``, for lanes ``lo:hi`` (see :func:`kurahw._kernels._force`)."""
    l0, l1 = _lane_range(lo, hi)
    n = th.shape[0]
    for i in range(n):
        for lane in range(l0, l1):
            f[i, lane] = om[i, lane]
    for e in range(ei.shape[0]):
        a = ei[e]
        b = ej[e]
        for lane in range(l0, l1):
            v = w[e, lane] * s[e, lane]
            f[a, lane] += v
            f[b, lane] -= v
    if form == NUDGE_QUADRATIC:
        for k in range(out_idx.shape[0]):
            o = out_idx[k]
            for lane in range(l0, l1):
                f[o, lane] -= be[lane] * (th[o, lane] - tg[k, lane])
    elif form == NUDGE_INJECTION:
        for k in range(out_idx.shape[0]):
            o = out_idx[k]
            for lane in range(l0, l1):
                f[o, lane] -= be[lane] * np.sin(th[o, lane] - tg[k, lane])
    # max |F| over the free nodes, in node order; "not <=" propagates NaN as
    # in the per-member kernel.  Four nodes per pass over the lanes.
    for lane in range(l0, l1):
        res[lane] = 0.0
    i = 1
    while i + 4 <= n:
        for lane in range(l0, l1):
            r = res[lane]
            a = abs(f[i, lane])
            r = a if not a <= r else r
            a = abs(f[i + 1, lane])
            r = a if not a <= r else r
            a = abs(f[i + 2, lane])
            r = a if not a <= r else r
            a = abs(f[i + 3, lane])
            r = a if not a <= r else r
            res[lane] = r
        i += 4
    while i < n:
        for lane in range(l0, l1):
            a = abs(f[i, lane])
            r = res[lane]
            res[lane] = a if not a <= r else r
        i += 1


@_jit
def _energy(w, om, c, th, out_idx, tg, be, form, en, lo, hi):
    """Energy (F = -grad E) into ``en`` for lanes ``lo:hi``.

    The accumulation order per lane is that of
    :func:`kurahw._kernels._energy`; the sums take four terms per pass over
    the lanes, which keeps the running value in a register.
    """
    l0, l1 = _lane_range(lo, hi)
    n = th.shape[0]
    m = w.shape[0]
    for lane in range(l0, l1):
        en[lane] = 0.0
    i = 1
    while i + 4 <= n:
        for lane in range(l0, l1):
            v = en[lane]
            v -= om[i, lane] * th[i, lane]
            v -= om[i + 1, lane] * th[i + 1, lane]
            v -= om[i + 2, lane] * th[i + 2, lane]
            v -= om[i + 3, lane] * th[i + 3, lane]
            en[lane] = v
        i += 4
    while i < n:
        for lane in range(l0, l1):
            en[lane] -= om[i, lane] * th[i, lane]
        i += 1
    e = 0
    while e + 4 <= m:
        for lane in range(l0, l1):
            v = en[lane]
            v -= w[e, lane] * c[e, lane]
            v -= w[e + 1, lane] * c[e + 1, lane]
            v -= w[e + 2, lane] * c[e + 2, lane]
            v -= w[e + 3, lane] * c[e + 3, lane]
            en[lane] = v
        e += 4
    while e < m:
        for lane in range(l0, l1):
            en[lane] -= w[e, lane] * c[e, lane]
        e += 1
    if form == NUDGE_QUADRATIC:
        for k in range(out_idx.shape[0]):
            o = out_idx[k]
            for lane in range(l0, l1):
                d = th[o, lane] - tg[k, lane]
                en[lane] += 0.5 * be[lane] * d * d
    elif form == NUDGE_INJECTION:
        for k in range(out_idx.shape[0]):
            o = out_idx[k]
            for lane in range(l0, l1):
                en[lane] += be[lane] * (1.0 - np.cos(th[o, lane] - tg[k, lane]))


@_jit
def _hessian(ei, ej, w, c, th, out_idx, tg, be, form, modified, shift, h, lo, hi):
    """Lower triangle of the reduced Hessian for lanes ``lo:hi``.

    As :func:`kurahw._kernels._hessian`, except that only the lower triangle
    is built (the Cholesky factorisation never reads the upper one) and that
    the diagonal shift is per lane.  Without ``modified`` the shift is ignored.
    """
    l0, l1 = _lane_range(lo, hi)
    m1 = h.shape[0]
    for a in range(m1):
        for b in range(a):
            for lane in range(l0, l1):
                h[a, b, lane] = 0.0
        if modified:
            for lane in range(l0, l1):
                h[a, a, lane] = shift[lane]
        else:
            for lane in range(l0, l1):
                h[a, a, lane] = 0.0
    for e in range(ei.shape[0]):
        i = ei[e] - 1
        j = ej[e] - 1
        if i < j:
            i, j = j, i
        # Now i > j: i is the row of the lower-triangle entry, j may be -1
        # (an edge to the pinned node 0 only touches the diagonal).
        if j >= 0:
            if modified:
                for lane in range(l0, l1):
                    g = abs(w[e, lane] * c[e, lane])
                    h[j, j, lane] += g
                    h[i, i, lane] += g
                    h[i, j, lane] -= g
            else:
                for lane in range(l0, l1):
                    g = w[e, lane] * c[e, lane]
                    h[j, j, lane] += g
                    h[i, i, lane] += g
                    h[i, j, lane] -= g
        elif i >= 0:
            if modified:
                for lane in range(l0, l1):
                    h[i, i, lane] += abs(w[e, lane] * c[e, lane])
            else:
                for lane in range(l0, l1):
                    h[i, i, lane] += w[e, lane] * c[e, lane]
    for k in range(out_idx.shape[0]):
        o = out_idx[k] - 1
        if o < 0:
            continue  # the pinned node has no row
        if form == NUDGE_QUADRATIC:
            for lane in range(l0, l1):
                g = be[lane]
                h[o, o, lane] += abs(g) if modified else g
        elif form == NUDGE_INJECTION:
            for lane in range(l0, l1):
                g = be[lane] * np.cos(th[o + 1, lane] - tg[k, lane])
                h[o, o, lane] += abs(g) if modified else g


@_jit
def _cholesky(h, inv_diag, ok, lo, hi):
    """In-place lower Cholesky factor of every lane's matrix in ``h``.

    Same column-by-column recurrence as :func:`kurahw._kernels._cholesky`, with
    the lane loop innermost.  A lane whose pivot fails is not stopped (that
    would break the vector loop); it just carries NaN or inf onwards, and
    ``ok[lane]`` records the failure as 0.0 (1.0 when positive definite).
    """
    l0, l1 = _lane_range(lo, hi)
    m1 = h.shape[0]
    for lane in range(l0, l1):
        ok[lane] = 1.0
    for j in range(m1):
        for i in range(j, m1):
            _sub_products(h, i, j, l0, l1)
            if i == j:
                for lane in range(l0, l1):
                    d = h[j, j, lane]
                    ok[lane] = ok[lane] if d > 0.0 else 0.0
                    d = np.sqrt(d)
                    h[j, j, lane] = d
                    inv_diag[j, lane] = 1.0 / d
            else:
                for lane in range(l0, l1):
                    h[i, j, lane] *= inv_diag[j, lane]


@_jit
def _sub_products(h, i, j, l0, l1):
    """``h[i, j] -= h[i, k] * h[j, k]`` for k = 0, ..., j - 1 in turn, per lane.

    Four products per pass over the lanes: the running value then stays in a
    register for four fused multiply-adds instead of making a round trip to
    memory for each, and there are a quarter as many short loops to set up.
    The subtraction order is the sequential one of the per-member kernel.
    """
    k = 0
    while k + 4 <= j:
        for lane in range(l0, l1):
            v = h[i, j, lane]
            v -= h[i, k, lane] * h[j, k, lane]
            v -= h[i, k + 1, lane] * h[j, k + 1, lane]
            v -= h[i, k + 2, lane] * h[j, k + 2, lane]
            v -= h[i, k + 3, lane] * h[j, k + 3, lane]
            h[i, j, lane] = v
        k += 4
    while k < j:
        for lane in range(l0, l1):
            h[i, j, lane] -= h[i, k, lane] * h[j, k, lane]
        k += 1


@_jit
def _cho_solve(lf, inv_diag, f, x, slope, lo, hi):
    """Solve ``L L^T x = f[1:]`` per lane and set ``slope = -f[1:] . x``.

    Same recurrences and order as :func:`kurahw._kernels._cho_solve`; the
    sums are taken four terms per pass over the lanes.
    """
    l0, l1 = _lane_range(lo, hi)
    m1 = lf.shape[0]
    # Forward: x[i] = (f[i + 1] - sum_k<i L[i, k] x[k]) / L[i, i].
    for i in range(m1):
        for lane in range(l0, l1):
            x[i, lane] = f[i + 1, lane]
        k = 0
        while k + 4 <= i:
            for lane in range(l0, l1):
                v = x[i, lane]
                v -= lf[i, k, lane] * x[k, lane]
                v -= lf[i, k + 1, lane] * x[k + 1, lane]
                v -= lf[i, k + 2, lane] * x[k + 2, lane]
                v -= lf[i, k + 3, lane] * x[k + 3, lane]
                x[i, lane] = v
            k += 4
        while k < i:
            for lane in range(l0, l1):
                x[i, lane] -= lf[i, k, lane] * x[k, lane]
            k += 1
        for lane in range(l0, l1):
            x[i, lane] *= inv_diag[i, lane]
    # Backward: x[i] = (x[i] - sum_k>i L[k, i] x[k]) / L[i, i].
    for i in range(m1 - 1, -1, -1):
        k = i + 1
        while k + 4 <= m1:
            for lane in range(l0, l1):
                v = x[i, lane]
                v -= lf[k, i, lane] * x[k, lane]
                v -= lf[k + 1, i, lane] * x[k + 1, lane]
                v -= lf[k + 2, i, lane] * x[k + 2, lane]
                v -= lf[k + 3, i, lane] * x[k + 3, lane]
                x[i, lane] = v
            k += 4
        while k < m1:
            for lane in range(l0, l1):
                x[i, lane] -= lf[k, i, lane] * x[k, lane]
            k += 1
        for lane in range(l0, l1):
            x[i, lane] *= inv_diag[i, lane]
    for lane in range(l0, l1):
        slope[lane] = 0.0
    i = 0
    while i + 4 <= m1:
        for lane in range(l0, l1):
            v = slope[lane]
            v -= f[i + 1, lane] * x[i, lane]
            v -= f[i + 2, lane] * x[i + 1, lane]
            v -= f[i + 3, lane] * x[i + 2, lane]
            v -= f[i + 4, lane] * x[i + 3, lane]
            slope[lane] = v
        i += 4
    while i < m1:
        for lane in range(l0, l1):
            slope[lane] -= f[i + 1, lane] * x[i, lane]
        i += 1


@_jit
def _take_accepted(accept, th_t, c_t, f_t, th, c, f, lo, hi):
    """Copy the trial state of the lanes flagged in ``accept`` into the current
    state (a select per element, so the loops stay vectorised)."""
    l0, l1 = _lane_range(lo, hi)
    for i in range(th.shape[0]):
        for lane in range(l0, l1):
            th[i, lane] = th_t[i, lane] if accept[lane] else th[i, lane]
            f[i, lane] = f_t[i, lane] if accept[lane] else f[i, lane]
    for e in range(c.shape[0]):
        for lane in range(l0, l1):
            c[e, lane] = c_t[e, lane] if accept[lane] else c[e, lane]


@_jit
def _finish(theta, residual, iterations, status, th, res, its, member, alive, lane, st):
    """Write lane ``lane``'s member out with status ``st`` and retire the lane."""
    b = member[lane]
    for i in range(th.shape[0]):
        theta[b, i] = th[i, lane]
    residual[b] = res[lane]
    iterations[b] = its[lane]
    status[b] = st
    alive[lane] = False


@_jit
def _rows(buf, first, count, nl):
    """Rows ``first:first + count`` of ``buf`` seen as a ``(rows, nl)`` array."""
    return buf[first * nl : (first + count) * nl].reshape((count, nl))


@_jit
def _square(buf, first, size, nl):
    """``size * size`` rows of ``buf`` from ``first`` as a ``(size, size, nl)``
    array."""
    return buf[first * nl : (first + size * size) * nl].reshape((size, size, nl))


@_jit
def solve_batch_lanes(
    ei, ej, w, omega, center, out_idx, tgt, beta, form, theta, tol, max_iter,
    residual, iterations, status,
):  # fmt: skip
    """Solve every member of a batch in place, vectorised across members.

    Same arguments, outputs and per-member results as the per-member kernel
    :func:`kurahw._kernels.solve_batch` (taking frequencies that are already
    mean-centred); only the order in which the members' arithmetic is
    interleaved differs.

    Parameters
    ----------
    ei, ej : ndarray of int64, shape (m,)
        Edge end points, ``ei < ej``.
    w : ndarray, shape (batch, m)
        Coupling strength of each edge, per member.
    omega : ndarray, shape (batch, n)
        Natural frequencies; mean-centred here when ``center`` is true.
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
    tol : float
        Convergence threshold on max |F| over nodes 1..n-1.
    max_iter : int
        Newton iteration cap.
    residual, iterations, status : ndarray, shape (batch,)
        Filled on exit: max |F| over nodes 1..n-1, Newton iterations taken, and
        one of the status codes of :mod:`kurahw._kernels`.

    Notes
    -----
    Up to :data:`LANES` members are held side by side in lanes ``0:live``.
    Each pass of the main loop

    1. computes the Newton direction of every member that holds a point
       (saddle-free where the Hessian is indefinite) and takes the full step as
       its first trial point;
    2. loads queued members into empty lanes, their start as the trial point;
    3. runs a backtracking line search in which each lane halves its own step
       until the step is accepted or the lane stalls (a new member's start is
       evaluated with the first trial points and taken as it is);
    4. tests every member at its new point: non-finite state, then
       ``res <= tol`` with the stability verdict, then the iteration cap, in
       the order of the per-member kernel, and writes finished members out;
    5. once no member is queued any more, packs the survivors to the front so
       that the vector loops stay dense.

    A finished member is written out once and never touched again.

    Returns
    -------
    int
        The largest status code in the batch (so a caller need not scan it).
    """
    n = theta.shape[1]
    m = ei.shape[0]
    p = out_idx.shape[0]
    m1 = n - 1
    batch = theta.shape[0]
    nl = min(LANES, max(batch, 1))

    # All work arrays are carved out of three allocations (forty separate ones
    # cost some 3 us per call, 5 % of a warm-started batch of 100).
    n_lane_rows = np.int64(11)  # typed: a literal would specialise _rows again
    buf = np.empty((4 * m + 5 * n + p + 3 * m1 + 2 * m1 * m1 + n_lane_rows) * nl)
    flags = np.zeros((6, nl), dtype=np.bool_)
    counts = np.zeros((2, nl), dtype=np.int64)
    # Member data, state at the current point and the Cholesky factor there.
    row = np.int64(0)
    ww = _rows(buf, row, m, nl)
    om = _rows(buf, row + m, n, nl)
    tg = _rows(buf, row + m + n, p, nl)
    th = _rows(buf, row + m + n + p, n, nl)
    c = _rows(buf, row + m + 2 * n + p, m, nl)
    f = _rows(buf, row + 2 * m + 2 * n + p, n, nl)
    row += 2 * m + 3 * n + p
    # Trial point and scratch.  Edge sines are only needed on the way to F, so
    # one scratch array serves the current point and the trial points.
    th_t = _rows(buf, row, n, nl)
    c_t = _rows(buf, row + n, m, nl)
    f_t = _rows(buf, row + n + m, n, nl)
    s = _rows(buf, row + 2 * n + m, m, nl)
    row += 2 * n + 2 * m
    # Cholesky factor (current point), saddle-free fallback, Newton direction.
    h = _square(buf, row, m1, nl)
    hm = _square(buf, row + m1 * m1, m1, nl)
    row += 2 * m1 * m1
    inv_diag = _rows(buf, row, m1, nl)
    inv_m = _rows(buf, row + m1, m1, nl)
    d = _rows(buf, row + 2 * m1, m1, nl)
    row += 3 * m1
    # One row per lane quantity.
    lane_rows = _rows(buf, row, n_lane_rows, nl)
    be = lane_rows[0]
    res = lane_rows[1]
    en = lane_rows[2]
    pos_def = lane_rows[3]
    ok_m = lane_rows[4]
    shift = lane_rows[5]
    slope = lane_rows[6]
    step = lane_rows[7]
    res_t = lane_rows[8]
    en_t = lane_rows[9]
    big = lane_rows[10]
    its = counts[0]
    member = counts[1]
    alive = flags[0]
    exact = flags[1]
    need = flags[2]
    searching = flags[3]
    accept = flags[4]
    fresh = flags[5]

    # Arguments passed to the helpers are typed int64 / bool explicitly: a bare
    # literal would make numba compile a second, literal-specialised copy.
    zero = np.int64(0)
    stalled = np.int64(STALLED)
    true_hessian = np.bool_(False)
    saddle_free = np.bool_(True)
    queued = 0
    live = zero
    while True:
        # -- 1. Direction for every member that holds a point.  Lanes whose
        # true Hessian is not positive definite use the absolute-weight
        # Laplacian, shifted by 0, 1e-8, 1e-7, ... per lane until it
        # factorises; that factor then replaces theirs in h.  (The vector loops
        # also run over empty lanes in 0:live; what they compute there is never
        # used.)
        n_need = 0
        for lane in range(live):
            need[lane] = alive[lane] and not exact[lane]
            shift[lane] = 0.0
            n_need += need[lane]
        while n_need > 0:
            lo = live
            hi = zero
            for lane in range(live):
                if need[lane]:
                    lo = min(lo, lane)
                    hi = lane + 1
            _hessian(ei, ej, ww, c, th, out_idx, tg, be, form, saddle_free, shift,
                     hm, lo, hi)  # fmt: skip
            _cholesky(hm, inv_m, ok_m, lo, hi)
            for lane in range(lo, hi):
                if not need[lane]:
                    continue
                if ok_m[lane] != 0.0:
                    for a in range(m1):
                        for bb in range(a + 1):
                            h[a, bb, lane] = hm[a, bb, lane]
                        inv_diag[a, lane] = inv_m[a, lane]
                    need[lane] = False
                    n_need -= 1
                else:
                    shift[lane] = 1e-8 if shift[lane] == 0.0 else shift[lane] * 10.0
        _cho_solve(h, inv_diag, f, d, slope, zero, live)

        # -- 2. Full Newton step as the first trial point.
        l0, l1 = _lane_range(zero, live)
        for lane in range(l0, l1):
            th_t[0, lane] = 0.0
        for i in range(m1):
            for lane in range(l0, l1):
                th_t[i + 1, lane] = th[i + 1, lane] + d[i, lane]
        for lane in range(live):
            step[lane] = 1.0
            searching[lane] = alive[lane]

        # -- 3. Refill empty lanes from the queue.  A new member's start goes
        # in as its trial point, which the line search takes as it stands:
        # it is evaluated with the other trial points and tested with the
        # others in step 5, so no pass runs over just a few lanes.
        hole = zero
        while queued < batch:
            while hole < live and alive[hole]:
                hole += 1
            if hole == nl:
                break
            b = queued
            queued += 1
            # Input checks, centring and re-referencing to node 0, as in the
            # per-member kernel; a bad member is reported and takes no lane.
            bad = 0
            mean_omega = 0.0
            for i in range(n):
                if not np.isfinite(omega[b, i]):
                    bad = BAD_OMEGA
                if not np.isfinite(theta[b, i]):
                    bad = BAD_THETA
                mean_omega += omega[b, i]
            if bad:
                residual[b] = np.nan
                iterations[b] = 0
                status[b] = bad
                continue
            mean_omega = mean_omega / n if center else 0.0
            th_t[0, hole] = 0.0
            for i in range(1, n):
                th_t[i, hole] = theta[b, i] - theta[b, 0]
            for i in range(n):
                om[i, hole] = omega[b, i] - mean_omega
            for e in range(m):
                ww[e, hole] = w[b, e]
            for k in range(p):
                tg[k, hole] = tgt[b, k]
            be[hole] = beta[b]
            its[hole] = 0
            member[hole] = b
            alive[hole] = True
            fresh[hole] = True
            searching[hole] = False
            live = max(live, hole + 1)
        if live == 0:
            break
        n_alive = 0
        for lane in range(live):
            n_alive += alive[lane]

        # -- 4. Backtracking line search, each lane with its own step: the
        # energy must drop (Armijo) or, for an exact Newton step, the residual.
        # After the first trial only the span of lanes still searching is
        # evaluated again.
        lo = zero
        hi = live
        first_trial = True
        while lo < hi:
            if not first_trial:
                l0, l1 = _lane_range(lo, hi)
                for i in range(m1):
                    for lane in range(l0, l1):
                        th_t[i + 1, lane] = th[i + 1, lane] + step[lane] * d[i, lane]
            first_trial = False
            _edge_trig(ei, ej, th_t, s, c_t, big, lo, hi)
            _force(ei, ej, ww, om, s, th_t, out_idx, tg, be, form, f_t, res_t, lo, hi)
            _energy(ww, om, c_t, th_t, out_idx, tg, be, form, en_t, lo, hi)
            n_acc = 0
            new_lo = hi
            new_hi = lo
            for lane in range(lo, hi):
                accept[lane] = False
                if fresh[lane]:  # a new member: take its start as it is
                    accept[lane] = True
                    res[lane] = res_t[lane]
                    en[lane] = en_t[lane]
                    n_acc += 1
                    continue
                if not searching[lane]:
                    continue
                e_new = en_t[lane]
                armijo = en[lane] + _ARMIJO_C1 * step[lane] * slope[lane]
                if e_new <= armijo or (exact[lane] and res_t[lane] < res[lane]):
                    accept[lane] = True
                    searching[lane] = False
                    res[lane] = res_t[lane]
                    en[lane] = e_new
                    n_acc += 1
                else:
                    step[lane] *= 0.5
                    if step[lane] >= _MIN_STEP:
                        new_lo = min(new_lo, lane)
                        new_hi = lane + 1
                    else:
                        # Stalled: the member keeps its current point.
                        searching[lane] = False
                        _finish(theta, residual, iterations, status, th, res, its,
                                member, alive, lane, stalled)  # fmt: skip
            if n_acc == n_alive:
                # Common case: every member took its first trial point, so swap
                # the buffers instead of copying (empty lanes do not care).
                th, th_t = th_t, th
                c, c_t = c_t, c
                f, f_t = f_t, f
            elif n_acc > 0:
                _take_accepted(accept, th_t, c_t, f_t, th, c, f, lo, hi)
            for lane in range(lo, hi):
                fresh[lane] = False
            lo = new_lo
            hi = new_hi

        # -- 5. Test every lane at its new point, as the top of the per-member
        # Newton loop does: non-finite state, then res <= tol with the stability
        # verdict, then the iteration cap.  The verdict needs the Cholesky
        # factor of the true Hessian, which is also what the next direction
        # needs, so it is computed once here.
        _hessian(ei, ej, ww, c, th, out_idx, tg, be, form, true_hessian, shift, h,
                 zero, live)  # fmt: skip
        _cholesky(h, inv_diag, pos_def, zero, live)
        for lane in range(live):
            if not alive[lane]:
                continue  # empty, or stalled in the line search
            r = res[lane]
            if not np.isfinite(r) or not np.isfinite(en[lane]):
                st = NONFINITE
            elif r <= tol:
                st = CONVERGED if pos_def[lane] != 0.0 else UNSTABLE
            elif its[lane] >= max_iter:
                st = MAX_ITER
            else:
                its[lane] += 1
                exact[lane] = pos_def[lane] != 0.0
                continue
            _finish(theta, residual, iterations, status, th, res, its, member,
                    alive, lane, st)  # fmt: skip

        # -- 6. While members are queued, empty lanes are refilled where they
        # are.  Once the queue is empty, pack the survivors to the front so that
        # the vector loops stay dense: each hole below the new end is filled
        # from the back (one move per hole).
        if queued < batch:
            while live > 0 and not alive[live - 1]:
                live -= 1
            continue
        dst = zero
        src = live - 1
        while True:
            while dst <= src and alive[dst]:
                dst += 1
            while src > dst and not alive[src]:
                src -= 1
            if dst >= src:
                break
            for i in range(n):
                th[i, dst] = th[i, src]
                f[i, dst] = f[i, src]
                om[i, dst] = om[i, src]
            for e in range(m):
                c[e, dst] = c[e, src]
                ww[e, dst] = ww[e, src]
            for k in range(p):
                tg[k, dst] = tg[k, src]
            for a in range(m1):
                for bb in range(a + 1):
                    h[a, bb, dst] = h[a, bb, src]
                inv_diag[a, dst] = inv_diag[a, src]
            be[dst] = be[src]
            res[dst] = res[src]
            en[dst] = en[src]
            its[dst] = its[src]
            member[dst] = member[src]
            exact[dst] = exact[src]
            alive[dst] = True
            alive[src] = False
            dst += 1
            src -= 1
        live = dst if dst > src or not alive[dst] else dst + 1

    return _worst_status(status)


@nb.njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def solve_batch_lanes_parallel(
    ei, ej, w, omega, center, out_idx, tgt, beta, form, theta, tol, max_iter,
    residual, iterations, status, n_chunks,
):  # fmt: skip
    """:func:`solve_batch_lanes` with the batch cut into ``n_chunks`` contiguous
    parts solved by parallel threads.

    Results are identical to the serial kernel: each member is solved by the
    same code, whichever lane or thread takes it.  Slicing along the member
    axis keeps the arrays C-contiguous, so every part runs the serial kernel's
    compiled code.
    """
    batch = theta.shape[0]
    n_chunks = max(1, min(n_chunks, batch))
    for chunk in nb.prange(n_chunks):
        lo = chunk * batch // n_chunks
        hi = (chunk + 1) * batch // n_chunks
        solve_batch_lanes(
            ei, ej, w[lo:hi], omega[lo:hi], center, out_idx, tgt[lo:hi], beta[lo:hi],
            form, theta[lo:hi], tol, max_iter, residual[lo:hi],
            iterations[lo:hi], status[lo:hi],
        )  # fmt: skip
    return _worst_status(status)
