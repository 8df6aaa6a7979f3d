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
busy while stragglers iterate; live lanes are kept packed at the front, which
keeps every vector loop dense.  For each member the floating-point operations
are the ones of the per-member kernel in the same order, so results agree with
it to a few ulp (with the same iteration counts and statuses).
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
    CONVERGED,
    MAX_ITER,
    NONFINITE,
    NUDGE_INJECTION,
    NUDGE_NONE,
    NUDGE_QUADRATIC,
    STALLED,
    UNSTABLE,
)

__all__ = ["LANES", "solve_batch_lanes"]

# Members kept side by side.  The whole working set of a 9-node network is about
# 3 kB per lane, so 32 lanes stay within L1/L2 while giving vector loops long
# enough to amortise their set-up.
LANES = 32

_jit = nb.njit(
    cache=True, nogil=True, error_model="numpy", fastmath={"contract", "arcp"}
)

# Horner coefficients spelled out as scalars: inside the lane loop a tuple
# lookup per coefficient would only obscure the straight-line polynomial.
_S0, _S1, _S2, _S3, _S4, _S5, _S6 = _SIN_C
_C0, _C1, _C2, _C3, _C4, _C5, _C6, _C7 = _COS_C


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
        Scratch; non-zero afterwards for the lanes that took the libm path.
    lo, hi : int
        Lane range.
    """
    # A non-negative lower bound lets LLVM drop the negative-index wraparound
    # select from the addresses, which would otherwise turn loads into gathers.
    lo = max(lo, 0)
    m = ei.shape[0]
    for lane in range(lo, hi):
        big[lane] = 0.0
    for e in range(m):
        a = ei[e]
        b = ej[e]
        for lane in range(lo, hi):
            x = th[b, lane] - th[a, lane]
            # "not <" so that NaN also selects the libm path.
            big[lane] = big[lane] if abs(x) < _REDUCTION_LIMIT else 1.0
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
    any_big = False
    for lane in range(lo, hi):
        any_big |= big[lane] != 0.0
    if any_big:
        for lane in range(lo, hi):
            if big[lane] != 0.0:
                for e in range(m):
                    x = th[ej[e], lane] - th[ei[e], lane]
                    s[e, lane] = np.sin(x)
                    c[e, lane] = np.cos(x)


@_jit
def _force(ei, ej, w, om, s, th, out_idx, tg, be, form, f, res, lo, hi):
    """Rotating-frame velocity F into ``f`` and max |F| over nodes 1..n-1 into
    ``res``, for lanes ``lo:hi`` (see :func:`kurahw._kernels._force`)."""
    lo = max(lo, 0)
    n = th.shape[0]
    for i in range(n):
        for lane in range(lo, hi):
            f[i, lane] = om[i, lane]
    for e in range(ei.shape[0]):
        a = ei[e]
        b = ej[e]
        for lane in range(lo, hi):
            v = w[e, lane] * s[e, lane]
            f[a, lane] += v
            f[b, lane] -= v
    if form == NUDGE_QUADRATIC:
        for k in range(out_idx.shape[0]):
            o = out_idx[k]
            for lane in range(lo, hi):
                f[o, lane] -= be[lane] * (th[o, lane] - tg[k, lane])
    elif form == NUDGE_INJECTION:
        for k in range(out_idx.shape[0]):
            o = out_idx[k]
            for lane in range(lo, hi):
                f[o, lane] -= be[lane] * np.sin(th[o, lane] - tg[k, lane])
    for lane in range(lo, hi):
        res[lane] = 0.0
    for i in range(1, n):
        for lane in range(lo, hi):
            a = abs(f[i, lane])
            r = res[lane]
            # "not <=" propagates NaN, as in the per-member kernel.
            res[lane] = a if not a <= r else r


@_jit
def _energy(w, om, c, th, out_idx, tg, be, form, en, lo, hi):
    """Energy (F = -grad E) into ``en`` for lanes ``lo:hi``; the accumulation
    order per lane is that of :func:`kurahw._kernels._energy`."""
    lo = max(lo, 0)
    for lane in range(lo, hi):
        en[lane] = 0.0
    for i in range(1, th.shape[0]):
        for lane in range(lo, hi):
            en[lane] -= om[i, lane] * th[i, lane]
    for e in range(w.shape[0]):
        for lane in range(lo, hi):
            en[lane] -= w[e, lane] * c[e, lane]
    if form == NUDGE_QUADRATIC:
        for k in range(out_idx.shape[0]):
            o = out_idx[k]
            for lane in range(lo, hi):
                d = th[o, lane] - tg[k, lane]
                en[lane] += 0.5 * be[lane] * d * d
    elif form == NUDGE_INJECTION:
        for k in range(out_idx.shape[0]):
            o = out_idx[k]
            for lane in range(lo, hi):
                en[lane] += be[lane] * (1.0 - np.cos(th[o, lane] - tg[k, lane]))


@_jit
def _hessian(ei, ej, w, c, th, out_idx, tg, be, form, modified, shift, h, lo, hi):
    """Lower triangle of the reduced Hessian for lanes ``lo:hi``.

    As :func:`kurahw._kernels._hessian`, except that only the lower triangle
    is built (the Cholesky factorisation never reads the upper one) and that
    the diagonal shift is per lane.  Without ``modified`` the shift is ignored.
    """
    lo = max(lo, 0)
    m1 = h.shape[0]
    for a in range(m1):
        for b in range(a):
            for lane in range(lo, hi):
                h[a, b, lane] = 0.0
        if modified:
            for lane in range(lo, hi):
                h[a, a, lane] = shift[lane]
        else:
            for lane in range(lo, hi):
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
                for lane in range(lo, hi):
                    g = abs(w[e, lane] * c[e, lane])
                    h[j, j, lane] += g
                    h[i, i, lane] += g
                    h[i, j, lane] -= g
            else:
                for lane in range(lo, hi):
                    g = w[e, lane] * c[e, lane]
                    h[j, j, lane] += g
                    h[i, i, lane] += g
                    h[i, j, lane] -= g
        elif i >= 0:
            if modified:
                for lane in range(lo, hi):
                    h[i, i, lane] += abs(w[e, lane] * c[e, lane])
            else:
                for lane in range(lo, hi):
                    h[i, i, lane] += w[e, lane] * c[e, lane]
    if form != NUDGE_NONE:
        for k in range(out_idx.shape[0]):
            o = out_idx[k] - 1
            if o < 0:
                continue
            for lane in range(lo, hi):
                if form == NUDGE_QUADRATIC:
                    g = be[lane]
                else:
                    g = be[lane] * np.cos(th[o + 1, lane] - tg[k, lane])
                if modified:
                    g = abs(g)
                h[o, o, lane] += g


@_jit
def _cholesky(h, inv_diag, ok, lo, hi):
    """In-place lower Cholesky factor of every lane's matrix in ``h``.

    Same column-by-column recurrence as :func:`kurahw._kernels._cholesky`, with
    the lane loop innermost.  A lane whose pivot fails is not stopped (that
    would break the vector loop); it just carries NaN or inf onwards, and
    ``ok[lane]`` records the failure as 0.0 (1.0 when positive definite).
    """
    lo = max(lo, 0)
    m1 = h.shape[0]
    for lane in range(lo, hi):
        ok[lane] = 1.0
    for j in range(m1):
        for k in range(j):
            for lane in range(lo, hi):
                h[j, j, lane] -= h[j, k, lane] * h[j, k, lane]
        for lane in range(lo, hi):
            d = h[j, j, lane]
            ok[lane] = ok[lane] if d > 0.0 else 0.0
            d = np.sqrt(d)
            h[j, j, lane] = d
            inv_diag[j, lane] = 1.0 / d
        for i in range(j + 1, m1):
            for k in range(j):
                for lane in range(lo, hi):
                    h[i, j, lane] -= h[i, k, lane] * h[j, k, lane]
            for lane in range(lo, hi):
                h[i, j, lane] *= inv_diag[j, lane]


@_jit
def _cho_solve(lf, inv_diag, f, x, slope, lo, hi):
    """Solve ``L L^T x = f[1:]`` per lane and set ``slope = -f[1:] . x``."""
    lo = max(lo, 0)
    m1 = lf.shape[0]
    for i in range(m1):
        for lane in range(lo, hi):
            x[i, lane] = f[i + 1, lane]
        for k in range(i):
            for lane in range(lo, hi):
                x[i, lane] -= lf[i, k, lane] * x[k, lane]
        for lane in range(lo, hi):
            x[i, lane] *= inv_diag[i, lane]
    for i in range(m1 - 1, -1, -1):
        for k in range(i + 1, m1):
            for lane in range(lo, hi):
                x[i, lane] -= lf[k, i, lane] * x[k, lane]
        for lane in range(lo, hi):
            x[i, lane] *= inv_diag[i, lane]
    for lane in range(lo, hi):
        slope[lane] = 0.0
    for i in range(m1):
        for lane in range(lo, hi):
            slope[lane] -= f[i + 1, lane] * x[i, lane]


@_jit
def _copy_lane(src, dst, rows):
    """Copy column ``src`` of the 2-D lane arrays in ``rows`` to ``dst``."""
    for arr in rows:
        for i in range(arr.shape[0]):
            arr[i, dst] = arr[i, src]


@_jit
def _solve_range(
    ei, ej, w, omega_c, out_idx, tgt, beta, form, theta, tol, max_iter,
    residual, iterations, status, first, last,
):  # fmt: skip
    """Solve members ``first:last`` of the batch with up to :data:`LANES` lanes.

    The loop keeps the lanes ``0:live`` packed with unfinished members.  One
    pass is one Newton iteration for all of them: a (possibly saddle-free)
    direction, a line search in which each lane halves its own step until it is
    accepted, then the convergence test at the new point.  The test needs the
    true Hessian and its Cholesky factor (for the stability verdict), and that
    factor is exactly what the next Newton direction needs, so it is computed
    once per pass.  Finished lanes are written out, the survivors are packed
    to the front, and the freed lanes are refilled from the queue.
    """
    n = theta.shape[1]
    m = ei.shape[0]
    p = out_idx.shape[0]
    m1 = n - 1
    nl = min(LANES, max(last - first, 1))

    # Member data, state at the current point and the Cholesky factor there.
    ww = np.empty((m, nl))
    om = np.empty((n, nl))
    tg = np.empty((p, nl))
    be = np.empty(nl)
    th = np.empty((n, nl))
    s = np.empty((m, nl))
    c = np.empty((m, nl))
    f = np.empty((n, nl))
    res = np.empty(nl)
    en = np.empty(nl)
    its = np.zeros(nl, dtype=np.int64)
    member = np.zeros(nl, dtype=np.int64)
    alive = np.zeros(nl, dtype=np.bool_)
    exact = np.zeros(nl, dtype=np.bool_)
    h = np.zeros((m1, m1, nl))
    inv_diag = np.empty((m1, nl))
    pos_def = np.empty(nl)
    # Saddle-free fallback.
    hm = np.zeros((m1, m1, nl))
    inv_m = np.empty((m1, nl))
    ok_m = np.empty(nl)
    shift = np.zeros(nl)
    need = np.zeros(nl, dtype=np.bool_)
    # Newton direction and line search.
    d = np.empty((m1, nl))
    slope = np.empty(nl)
    step = np.empty(nl)
    searching = np.zeros(nl, dtype=np.bool_)
    accept = np.zeros(nl, dtype=np.bool_)
    th_t = np.empty((n, nl))
    s_t = np.empty((m, nl))
    c_t = np.empty((m, nl))
    f_t = np.empty((n, nl))
    res_t = np.empty(nl)
    en_t = np.empty(nl)
    big = np.empty(nl)

    queued = first
    live = 0
    while True:
        # -- Refill free lanes; new members may already be converged (warm
        # starts), so test them at once and repeat while lanes remain free.
        while live < nl and queued < last:
            lo = live
            while live < nl and queued < last:
                b = queued
                queued += 1
                th[0, live] = 0.0
                for i in range(1, n):
                    th[i, live] = theta[b, i]
                for i in range(n):
                    om[i, live] = omega_c[b, i]
                for e in range(m):
                    ww[e, live] = w[b, e]
                for k in range(p):
                    tg[k, live] = tgt[b, k]
                be[live] = beta[b]
                its[live] = 0
                member[live] = b
                alive[live] = True
                live += 1
            _edge_trig(ei, ej, th, s, c, big, lo, live)
            _force(ei, ej, ww, om, s, th, out_idx, tg, be, form, f, res, lo, live)
            _energy(ww, om, c, th, out_idx, tg, be, form, en, lo, live)
            live = _check_and_pack(
                ei, ej, ww, om, out_idx, tg, be, form, tol, max_iter, theta,
                residual, iterations, status, th, s, c, f, res, en, its, member,
                alive, exact, h, inv_diag, pos_def, lo, live,
            )  # fmt: skip
        if live == 0:
            break

        # -- Direction.  Lanes whose true Hessian is not positive definite use
        # the absolute-weight Laplacian, shifted by 1e-8, 1e-7, ... per lane
        # until it factorises; their factor then replaces theirs in h.
        n_need = 0
        for lane in range(live):
            need[lane] = not exact[lane]
            shift[lane] = 0.0
            n_need += need[lane]
        while n_need > 0:
            lo = live
            hi = 0
            for lane in range(live):
                if need[lane]:
                    lo = min(lo, lane)
                    hi = lane + 1
            _hessian(ei, ej, ww, c, th, out_idx, tg, be, form, True, shift, hm, lo, hi)
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
        _cho_solve(h, inv_diag, f, d, slope, 0, live)

        # -- Backtracking line search, each lane with its own step.  Only the
        # span of lanes still searching is re-evaluated after the first trial.
        for lane in range(live):
            step[lane] = 1.0
            searching[lane] = True
        lo = 0
        hi = live
        while lo < hi:
            for lane in range(lo, hi):
                th_t[0, lane] = 0.0
            for i in range(m1):
                for lane in range(lo, hi):
                    th_t[i + 1, lane] = th[i + 1, lane] + step[lane] * d[i, lane]
            _edge_trig(ei, ej, th_t, s_t, c_t, big, lo, hi)
            _energy(ww, om, c_t, th_t, out_idx, tg, be, form, en_t, lo, hi)
            _force(ei, ej, ww, om, s_t, th_t, out_idx, tg, be, form, f_t, res_t, lo, hi)
            n_acc = 0
            new_lo = hi
            new_hi = lo
            for lane in range(lo, hi):
                accept[lane] = False
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
                                member, alive, lane, STALLED)  # fmt: skip
            if n_acc == live:
                # Common case: every lane took its trial point, so exchange the
                # buffers instead of copying.
                th, th_t = th_t, th
                s, s_t = s_t, s
                c, c_t = c_t, c
                f, f_t = f_t, f
            elif n_acc > 0:
                _take_accepted(accept, th_t, s_t, c_t, f_t, th, s, c, f, lo, hi)
            lo = new_lo
            hi = new_hi

        # -- Convergence and stability test at the new points.
        live = _check_and_pack(
            ei, ej, ww, om, out_idx, tg, be, form, tol, max_iter, theta,
            residual, iterations, status, th, s, c, f, res, en, its, member,
            alive, exact, h, inv_diag, pos_def, 0, live,
        )  # fmt: skip


@_jit
def _take_accepted(accept, th_t, s_t, c_t, f_t, th, s, c, f, lo, hi):
    """Copy the trial state of the lanes flagged in ``accept`` into the current
    state (a select per element, so the loops stay vectorised)."""
    lo = max(lo, 0)
    for i in range(th.shape[0]):
        for lane in range(lo, hi):
            th[i, lane] = th_t[i, lane] if accept[lane] else th[i, lane]
            f[i, lane] = f_t[i, lane] if accept[lane] else f[i, lane]
    for e in range(s.shape[0]):
        for lane in range(lo, hi):
            s[e, lane] = s_t[e, lane] if accept[lane] else s[e, lane]
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
def _check_and_pack(
    ei, ej, ww, om, out_idx, tg, be, form, tol, max_iter, theta, residual,
    iterations, status, th, s, c, f, res, en, its, member, alive, exact, h,
    inv_diag, pos_def, lo, hi,
):  # fmt: skip
    """Convergence test of lanes ``lo:hi``, then pack the survivors.

    Mirrors the top of the per-member Newton loop: non-finite state, then
    ``res <= tol`` with the stability verdict from the Cholesky factor of the
    true Hessian, then the iteration cap.  Lanes that go on get their iteration
    count raised and keep the factor for their Newton direction.  Survivors are
    moved down to close the gaps left by finished (or earlier stalled) lanes;
    the new end of the live range is returned.
    """
    _hessian(ei, ej, ww, c, th, out_idx, tg, be, form, False, res, h, lo, hi)
    _cholesky(h, inv_diag, pos_def, lo, hi)
    for lane in range(lo, hi):
        if not alive[lane]:
            continue
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
        _finish(theta, residual, iterations, status, th, res, its, member, alive,
                lane, st)  # fmt: skip

    dst = lo
    for lane in range(lo, hi):
        if not alive[lane]:
            continue
        if lane != dst:
            _copy_lane(lane, dst, (ww, om, tg, th, s, c, f, inv_diag))
            for a in range(h.shape[0]):
                for b in range(a + 1):
                    h[a, b, dst] = h[a, b, lane]
            be[dst] = be[lane]
            res[dst] = res[lane]
            en[dst] = en[lane]
            its[dst] = its[lane]
            member[dst] = member[lane]
            exact[dst] = exact[lane]
            alive[dst] = True
            alive[lane] = False
        dst += 1
    return dst


@nb.njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def _solve_chunks(
    ei, ej, w, omega_c, out_idx, tgt, beta, form, theta, tol, max_iter,
    residual, iterations, status, n_chunks,
):  # fmt: skip
    """Split the member axis into ``n_chunks`` contiguous parts, one per thread."""
    batch = theta.shape[0]
    for chunk in nb.prange(n_chunks):
        _solve_range(
            ei, ej, w, omega_c, out_idx, tgt, beta, form, theta, tol, max_iter,
            residual, iterations, status, chunk * batch // n_chunks,
            (chunk + 1) * batch // n_chunks,
        )  # fmt: skip


@nb.njit(cache=True, nogil=True, error_model="numpy")
def solve_batch_lanes(
    ei, ej, w, omega_c, out_idx, tgt, beta, form, theta, tol, max_iter,
    residual, iterations, status, n_chunks=1,
):  # fmt: skip
    """Solve every member of a batch in place, vectorised across members.

    Same arguments, outputs and per-member results as
    :func:`kurahw._kernels.solve_batch`; only the evaluation order across
    members differs.

    Parameters
    ----------
    ei, ej : ndarray of int64, shape (m,)
        Edge end points, ``ei < ej``.
    w : ndarray, shape (batch, m)
        Coupling strength of each edge, per member.
    omega_c : ndarray, shape (batch, n)
        Mean-centred natural frequencies.
    out_idx : ndarray of int64, shape (p,)
        Output nodes that feel the nudge.
    tgt : ndarray, shape (batch, p)
        Target phases of the outputs.
    beta : ndarray, shape (batch,)
        Nudge strength per member.
    form : int
        ``NUDGE_NONE``, ``NUDGE_QUADRATIC`` or ``NUDGE_INJECTION``.
    theta : ndarray, shape (batch, n)
        Start on entry, solution on exit (``theta[:, 0]`` is set to 0).
    tol : float
        Convergence threshold on max |F| over nodes 1..n-1.
    max_iter : int
        Newton iteration cap.
    residual, iterations, status : ndarray, shape (batch,)
        Filled on exit.
    n_chunks : int, optional
        Number of contiguous parts of the batch solved in parallel threads.
        The default 1 runs in the calling thread without touching the thread
        pool, whose start-up cost is noticeable for small batches.
    """
    batch = theta.shape[0]
    if n_chunks <= 1 or batch < 2:
        _solve_range(
            ei, ej, w, omega_c, out_idx, tgt, beta, form, theta, tol, max_iter,
            residual, iterations, status, 0, batch,
        )  # fmt: skip
    else:
        _solve_chunks(
            ei, ej, w, omega_c, out_idx, tgt, beta, form, theta, tol, max_iter,
            residual, iterations, status, min(n_chunks, batch),
        )  # fmt: skip
