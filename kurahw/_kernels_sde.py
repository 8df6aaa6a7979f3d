"""Compiled kernels of the device emulator: noisy settling of a batch of
Kuramoto networks by weak Euler steps, and the phase readout through a
time-to-digital converter with jitter, quantisation and repeated reads.

Every random number comes from a splitmix64 stream that starts from one
64-bit key per member and call (random signs for the dynamics, normals by the
polar method for the readout), so a member's result depends only on its own
key, never on the other members of the batch, nor on how the members are
dealt over threads.
"""

import numba as nb
import numpy as np

from kurahw._kernels import _edge_trig

_jit = nb.njit(cache=True, nogil=True, error_model="numpy")

# splitmix64: Weyl increment and the two multipliers of its output mix.
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S11 = np.uint64(11)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
_INV52 = 1.0 / 4503599627370496.0  # 2**-52: 53-bit words to [0, 2)
_TWO_PI = 2.0 * np.pi


@_jit
def _mix(z):
    """The splitmix64 output function (a bijection of 64-bit words)."""
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@_jit
def _normals(state, out):
    """Fill ``out`` with standard normal numbers (Marsaglia's polar method on
    splitmix64 uniforms) and return the advanced stream state."""
    k = 0
    size = out.shape[0]
    while k < size:
        state += _GOLDEN
        a = _mix(state)
        state += _GOLDEN
        c = _mix(state)
        u = np.float64(a >> _S11) * _INV52 - 1.0
        v = np.float64(c >> _S11) * _INV52 - 1.0
        r = u * u + v * v
        if r >= 1.0 or r == 0.0:
            continue
        f = np.sqrt(-2.0 * np.log(r) / r)
        out[k] = u * f
        if k + 1 < size:
            out[k + 1] = v * f
        k += 2
    return state


@_jit
def _signs(state, out):
    """Fill ``out`` with independent random signs (+1 or -1, equally likely),
    64 per word of the stream, and return the advanced stream state.

    They are the increments of the weak Euler scheme: over the hundreds of
    steps a settle lasts, sums of such increments have the moments of
    Brownian motion to the scheme's weak order (Kloeden and Platen, section
    14.1), at a 64th of the cost of normal numbers.
    """
    size = out.shape[0]
    word = np.uint64(0)
    for i in range(size):
        bit = i & 63
        if bit == 0:
            state += _GOLDEN
            word = _mix(state)
        out[i] = np.float64((word >> np.uint64(bit)) & np.uint64(1)) * 2.0 - 1.0
    return state


@_jit
def _wrap(x):
    """``x`` mapped to [-pi, pi); values already inside are returned exactly."""
    if -np.pi <= x < np.pi:
        return x
    return x - _TWO_PI * np.floor((x + np.pi) / _TWO_PI)


@_jit
def _settle_member(
    ei,
    ej,
    k_fwd,
    k_rev,
    omega,
    out_idx,
    targets,
    beta,
    theta,
    dt,
    n_steps,
    substeps,
    sigma,
    window,
    keys,
    residual,
    reaction,
    b,
):
    """Settle member ``b`` of the batch: :func:`settle_batch` for one member."""
    n = theta.shape[1]
    m = ei.shape[0]
    p = out_idx.shape[0]
    half = window // 2
    start_first = n_steps - 2 * half
    start_second = n_steps - half
    # All the scratch in one buffer, padded by a cache line at both ends:
    # members settled side by side on other threads allocate theirs close by,
    # and sharing a line with them (false sharing) cost as much as the second
    # thread gained.
    pad = 8
    work = np.empty(6 * n + 2 * m + 2 * pad)
    force = work[pad : pad + n]
    noise = work[pad + n : pad + 2 * n]
    wc = work[pad + 2 * n : pad + 3 * n]
    th = work[pad + 3 * n : pad + 4 * n]
    sum1 = work[pad + 4 * n : pad + 5 * n]
    sum2 = work[pad + 5 * n : pad + 6 * n]
    sin_e = work[pad + 6 * n : pad + 6 * n + m]
    cos_e = work[pad + 6 * n + m : pad + 6 * n + 2 * m]

    mean = 0.0
    for i in range(n):
        mean += omega[b, i]
    mean /= n
    for i in range(n):
        wc[i] = omega[b, i] - mean
        th[i] = theta[b, i]
        sum1[i] = 0.0
        sum2[i] = 0.0
    state = _mix(keys[b])
    h = dt / substeps[b]
    amp = sigma * np.sqrt(h)
    nudged = beta[b] != 0.0

    for step in range(n_steps):
        for _ in range(substeps[b]):
            for i in range(n):
                force[i] = wc[i]
            _edge_trig(ei, ej, th, sin_e, cos_e)
            for e in range(m):
                force[ei[e]] += k_fwd[b, e] * sin_e[e]
                force[ej[e]] -= k_rev[b, e] * sin_e[e]
            if nudged:
                for q in range(p):
                    o = out_idx[q]
                    pull = beta[b] * np.sin(th[o] - th[0] - targets[b, q])
                    force[o] -= pull
                    force[0] += reaction * pull
            if amp > 0.0:
                state = _signs(state, noise)
                for i in range(n):
                    th[i] += h * force[i] + amp * noise[i]
            else:
                for i in range(n):
                    th[i] += h * force[i]

        # Mean phases over the two halves of the final window, relative to
        # node 0 and unwrapped within the call, give the mean frequencies.
        if step >= start_first:
            acc = sum1 if step < start_second else sum2
            for i in range(n):
                acc[i] += th[i] - th[0]

    worst = 0.0
    span = half * dt
    finite = True
    for i in range(n):
        if not np.isfinite(th[i]):
            finite = False
    if finite:
        for i in range(1, n):
            f = abs(sum2[i] - sum1[i]) / half / span
            if f > worst:
                worst = f
        for i in range(n):
            theta[b, i] = _wrap(th[i] - th[0])
        residual[b] = worst
    else:
        for i in range(n):
            theta[b, i] = 0.0
        residual[b] = np.inf


@nb.njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def settle_batch(
    ei,
    ej,
    k_fwd,
    k_rev,
    omega,
    out_idx,
    targets,
    beta,
    theta,
    dt,
    n_steps,
    substeps,
    sigma,
    window,
    keys,
    residual,
    reaction,
):
    """Integrate every member for ``n_steps`` steps of ``dt`` and measure lock.

    Dynamics, in the frame rotating at the mean natural frequency::

        dtheta_i = (omega_i - mean(omega) + sum_j K_ij sin(theta_j - theta_i)
                    - [i output] beta sin(theta_i - theta_0 - target_i)
                    + [i = 0] reaction beta sum_o sin(theta_o - theta_0 - target_o))
                   dt + sigma dW_i

    Parameters
    ----------
    ei, ej : ndarray of int64, shape (m,)
        Edge end points.
    k_fwd, k_rev : ndarray, shape (batch, m)
        Pull of ``ej`` on ``ei`` and of ``ei`` on ``ej``.
    omega : ndarray, shape (batch, n)
        True natural frequencies.
    out_idx : ndarray of int64, shape (p,)
    targets : ndarray, shape (batch, p)
        Injection phase of each output relative to node 0.
    beta : ndarray, shape (batch,)
        Injection strength (0 when the nudge is off).
    theta : ndarray, shape (batch, n)
        Start on entry; on exit the final phases relative to node 0, wrapped
        to [-pi, pi) (zeros for a member whose phases became non-finite).
    dt : float
        Step; member ``b`` takes ``substeps[b]`` Euler steps of ``dt /
        substeps[b]`` per step so that its stiffest mode stays resolved.
    n_steps, window : int
        Steps in all, and steps at the end over which lock is measured.
    substeps : ndarray of int64, shape (batch,)
    sigma : float
        Phase noise, rad per sqrt(time unit).
    keys : ndarray of uint64, shape (batch,)
        Seed of each member's noise stream.
    residual : ndarray, shape (batch,)
        Filled on exit with the lock indicator: the largest mean frequency
        difference to node 0 over the window (rad per unit time), estimated
        from the mean phases of its two halves; inf if non-finite.
    reaction : float
        1.0 to drive node 0 with the opposite of the summed injection (no net
        torque: the nudged state of the paper's model), 0.0 for none.
    """
    # Members are independent (each has its own noise stream), so they are
    # dealt over the threads; any split gives the same bits. A lone member
    # stays on the calling thread, which saves waking the pool.
    batch = theta.shape[0]
    if batch > 1:
        for b in nb.prange(batch):
            _settle_member(
                ei, ej, k_fwd, k_rev, omega, out_idx, targets, beta, theta, dt,
                n_steps, substeps, sigma, window, keys, residual, reaction, b,
            )  # fmt: skip
    elif batch == 1:
        _settle_member(
            ei, ej, k_fwd, k_rev, omega, out_idx, targets, beta, theta, dt,
            n_steps, substeps, sigma, window, keys, residual, reaction, 0,
        )  # fmt: skip


@_jit
def tdc_read(psi, lsb, jitter, reads, keys, out):
    """Read phases through a time-to-digital converter, in radians.

    Each read of node ``i >= 1`` is ``psi[b, i]`` plus Gaussian jitter of
    standard deviation ``jitter``, rounded to a multiple of ``lsb`` (no
    rounding when ``lsb`` is 0); ``reads`` reads are averaged. Node 0 is the
    reference and reads exactly 0.

    Parameters
    ----------
    psi : ndarray, shape (batch, n)
        True phases relative to node 0.
    lsb, jitter : float
        Quantisation step and jitter, radians.
    reads : int
    keys : ndarray of uint64, shape (batch,)
    out : ndarray, shape (batch, n)
        Filled with the readings.
    """
    batch, n = psi.shape
    noise = np.zeros(max(n - 1, 1) * reads)
    for b in range(batch):
        if jitter > 0.0:
            _normals(_mix(keys[b]), noise)
        out[b, 0] = 0.0
        for i in range(1, n):
            acc = 0.0
            for r in range(reads):
                x = psi[b, i] + jitter * noise[(i - 1) * reads + r]
                if lsb > 0.0:
                    x = lsb * np.floor(x / lsb + 0.5)
                acc += x
            out[b, i] = acc / reads
