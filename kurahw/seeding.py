"""Initial natural frequencies for a network whose couplings are already drawn.

A seeding strategy picks the starting natural frequencies of the hidden and output
oscillators; the couplings and the graph stay as the network's own seed drew them,
and input oscillators start at 0 (each training sample overwrites them).
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Callable

import numpy as np
import scipy.linalg

from kurahw.data import load_vowels, vowel_split
from kurahw.errors import NetworkError
from kurahw.network import Network, NetworkBatch
from kurahw.physics import laplacian
from kurahw.solver import Solver

__all__ = [
    "SEED_OFFSET",
    "STRATEGIES",
    "multi_start_omega",
    "output_split_omega",
    "output_split_reversed_omega",
    "paper_probe_features",
    "random_omega",
    "seed_omega",
    "spectral_omega",
]

logger = logging.getLogger(__name__)

#: Added to a run's seed to seed the random numbers of a seeding strategy, so that
#: they never overlap the streams that draw the network and split the data.
SEED_OFFSET = 10_000

#: A probe equilibrium whose residual (max |dtheta/dt|) reaches this is ignored.
PROBE_RESIDUAL_LIMIT = 0.01

Strategy = Callable[..., np.ndarray]


def _learnable_nodes(network: Network) -> list[int]:
    """Every node that is not an input, in node order."""
    inputs = set(network.inputs)
    return [i for i in range(network.n) if i not in inputs]


def _two_outputs(network: Network, strategy: str) -> tuple[int, int]:
    if len(network.outputs) != 2:
        raise NetworkError(
            f"The {strategy!r} seeding separates two output oscillators, but this "
            f"network has {len(network.outputs)} outputs {list(network.outputs)}; "
            "use it on a two-class network (exactly 2 outputs), or choose the "
            "'random' strategy."
        )
    return network.outputs[0], network.outputs[1]


def _positive(name: str, value: float) -> float:
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"`{name}` must be a positive finite number, got {value!r}.")
    return float(value)


# -- strategies -------------------------------------------------------------------


def random_omega(network: Network, rng: np.random.Generator) -> np.ndarray:
    """The network's own frequencies, unchanged.

    For :func:`~kurahw.network.layered_network` these are the ``U(-0.3, 0.3)``
    draws made with the couplings, in the paper's draw order. ``rng`` is unused.

    Returns
    -------
    omega : ndarray, shape (n,)
    """
    return np.array(network.omega, dtype=float)


def spectral_omega(
    network: Network, rng: np.random.Generator | None = None, *, scale: float = 0.3
) -> np.ndarray:
    """Frequencies along the Green's function of the two outputs' difference.

    Let ``L = diag(K 1) - K`` be the Laplacian of the raw coupling strengths and
    ``L~`` the same matrix with node 0's row and column removed. The frequencies of
    nodes ``1..n-1`` are ``alpha * L~^-1 (e_out1 - e_out2)``: written in the
    eigenpairs ``(lambda_i, v_i)`` of ``L~``, this is
    ``alpha * sum_i s_i / lambda_i v_i`` with ``s_i = v_i[out1] - v_i[out2]``,
    every mode weighted by how much it separates the outputs and by how strongly
    the locked network amplifies it. Because ``L~^-1`` is positive definite, the
    first output always starts faster than the second. Input frequencies are set
    to 0 and ``alpha`` makes the largest ``|omega|`` equal ``scale``.

    The result depends on the couplings only, so ``rng`` is unused. The cost is
    one Cholesky factorisation of an ``(n-1, n-1)`` matrix.

    Parameters
    ----------
    network : Network
        Symmetric couplings and exactly two outputs.
    rng : numpy.random.Generator, optional
    scale : float
        Largest absolute frequency after scaling, in rad per unit time.

    Returns
    -------
    omega : ndarray, shape (n,)
    """
    out1, out2 = _two_outputs(network, "spectral")
    scale = _positive("scale", scale)
    if not network.is_symmetric:
        raise NetworkError(
            "Spectral seeding needs the Laplacian of symmetric couplings, but this "
            "network is asymmetric; symmetrise the couplings first."
        )

    n = network.n
    reduced = laplacian(network.edges, network.coupling, n)[1:, 1:]
    dipole = np.zeros(n - 1)
    dipole[out1 - 1] = 1.0
    dipole[out2 - 1] = -1.0

    try:
        factor = scipy.linalg.cho_factor(reduced)
    except np.linalg.LinAlgError:
        # A Network is connected, but its couplings may be too weak to matter.
        raise NetworkError(
            "The reduced coupling Laplacian is not positive definite, so the "
            "coupling graph is numerically disconnected; strengthen the weakest "
            "couplings before spectral seeding."
        ) from None

    omega = np.zeros(n)
    omega[1:] = scipy.linalg.cho_solve(factor, dipole)
    omega[list(network.inputs)] = 0.0
    return omega * (scale / np.max(np.abs(omega)))


def output_split_omega(
    network: Network,
    rng: np.random.Generator,
    *,
    delta: float = 0.3,
    hidden_spread: float = 0.05,
) -> np.ndarray:
    """Outputs at ``-delta`` (first) and ``+delta`` (second), hidden nodes near 0.

    Each hidden frequency is ``U(-hidden_spread, hidden_spread)``, drawn from
    ``rng`` in node order; inputs are 0. The signs are those of the paper's
    experiment, which start the first output slower than the second: the
    opposite of what :func:`spectral_omega` chooses.

    Returns
    -------
    omega : ndarray, shape (n,)
    """
    return _output_split(network, rng, delta, hidden_spread, first_sign=-1.0)


def output_split_reversed_omega(
    network: Network,
    rng: np.random.Generator,
    *,
    delta: float = 0.3,
    hidden_spread: float = 0.05,
) -> np.ndarray:
    """As :func:`output_split_omega` with the output signs swapped.

    The first output starts at ``+delta`` and the second at ``-delta``, the sign
    pattern of :func:`spectral_omega`; the hidden draws are the same.

    Returns
    -------
    omega : ndarray, shape (n,)
    """
    return _output_split(network, rng, delta, hidden_spread, first_sign=+1.0)


def _output_split(network, rng, delta, hidden_spread, first_sign) -> np.ndarray:
    out1, out2 = _two_outputs(network, "output-split")
    delta = _positive("delta", delta)
    hidden_spread = _positive("hidden_spread", hidden_spread)

    omega = np.zeros(network.n)
    hidden = set(network.hidden)
    for i in _learnable_nodes(network):
        if i in hidden:
            omega[i] = rng.uniform(-hidden_spread, hidden_spread)

    omega[out1] = first_sign * delta
    omega[out2] = -first_sign * delta
    return omega


def multi_start_omega(
    network: Network,
    rng: np.random.Generator,
    *,
    probe: np.ndarray | None = None,
    n_starts: int = 10,
    spread: float = 0.3,
) -> np.ndarray:
    """The best of several random draws, judged by how far apart the outputs sit.

    Each of ``n_starts`` candidates draws the frequency of every non-input node
    from ``U(-spread, spread)``, in node order, from ``rng``. For every row of
    ``probe`` the inputs are set to ``input_gain * row`` and the free equilibrium
    is solved from zero phases; the candidate's score is the mean of
    ``|theta_out1 - theta_out2|`` over the probes that reached a stable
    equilibrium with residual below 0.01 (0 if none did). The candidate with the
    highest score wins; on a tie, the earlier one. Inputs are 0 in the result.

    Parameters
    ----------
    network : Network
        Exactly two outputs.
    rng : numpy.random.Generator
    probe : ndarray, shape (p, n_inputs), optional
        Input features to screen with; by default the paper's fixed probes from
        :func:`paper_probe_features` (which needs the vowel data file).
    n_starts : int
        Number of candidates.
    spread : float
        Half-width of the uniform draw, in rad per unit time.

    Returns
    -------
    omega : ndarray, shape (n,)
    """
    out1, out2 = _two_outputs(network, "multi-start")
    if int(n_starts) != n_starts or n_starts < 1:
        raise ValueError(f"`n_starts` must be a whole number >= 1, got {n_starts!r}.")
    spread = _positive("spread", spread)
    probe = paper_probe_features() if probe is None else probe
    probe = _check_probe(network, probe)

    learnable = _learnable_nodes(network)
    candidates = np.zeros((int(n_starts), network.n))
    for c in range(int(n_starts)):
        for i in learnable:
            candidates[c, i] = rng.uniform(-spread, spread)

    # One member per (candidate, probe) pair, candidate-major.
    omegas = np.repeat(candidates, probe.shape[0], axis=0)
    omegas[:, list(network.inputs)] = network.input_gain * np.tile(
        probe, (int(n_starts), 1)
    )
    theta, usable = _free_equilibria(network, omegas)

    gap = np.abs(theta[:, out1] - theta[:, out2]).reshape(int(n_starts), -1)
    usable = usable.reshape(gap.shape)
    counts = usable.sum(axis=1)
    # Failed solves may hold non-finite phases; leave them out before summing.
    total = np.where(usable, gap, 0.0).sum(axis=1)
    scores = np.where(counts > 0, total / np.maximum(counts, 1), 0.0)
    best = int(np.argmax(scores))
    logger.debug(
        "multi-start scores %s; chose candidate %d", np.round(scores, 5).tolist(), best
    )
    return candidates[best]


def _check_probe(network: Network, probe) -> np.ndarray:
    arr = np.asarray(probe, dtype=float)
    k = len(network.inputs)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] != k:
        raise ValueError(
            f"`probe` has shape {arr.shape}; give at least one row of features, "
            f"shape (p, {k}), one column per input oscillator."
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError("`probe` contains NaN or infinite values.")
    return arr


def _free_equilibria(network: Network, omegas: np.ndarray):
    """Free equilibria from zero phases for each row of raw ``omegas``.

    Returns the phases, shape (rows, n), and whether each is a stable equilibrium
    with a residual under the probe limit, shape (rows,).
    """
    if network.is_symmetric:
        batch = NetworkBatch(
            template=network,
            coupling=np.tile(network.coupling, (omegas.shape[0], 1)),
            omega=omegas,
        )
        eq = Solver(batch).solve()
        theta, ok, residual = eq.theta, eq.ok, eq.residual
    else:
        # A batch shares symmetric couplings only; solve one member at a time.
        solver = Solver(network)
        results = [solver.solve(omega=row) for row in omegas]
        theta = np.stack([r.theta for r in results])
        ok = np.array([r.ok for r in results])
        residual = np.array([r.residual for r in results])

    return theta, ok & (residual < PROBE_RESIDUAL_LIMIT)


def paper_probe_features(path: str | os.PathLike | None = None) -> np.ndarray:
    """The paper's multi-start probes: the first 10 training rows of the seed-42 split.

    The /a/ vs /i/ vowels, split and scaled as :func:`kurahw.data.vowel_split`
    does with seed 42, whatever seed the run itself uses.

    Parameters
    ----------
    path : str or path-like, optional
        The vowel data file; located as :func:`kurahw.data.find_vowel_file`
        describes when omitted.

    Returns
    -------
    features : ndarray, shape (10, 2)
        Scaled formants F1, F2.
    """
    features, labels = load_vowels(path, ("a", "i"))
    split = vowel_split(features, labels, seed=42)
    return np.array(split.x_train[:10])


#: Seeding strategies by name. Each takes ``(network, rng)`` (and keyword options)
#: and returns the new natural frequencies, shape (n,).
STRATEGIES: dict[str, Strategy] = {
    "multi-start": multi_start_omega,
    "output-split": output_split_omega,
    "output-split-reversed": output_split_reversed_omega,
    "random": random_omega,
    "spectral": spectral_omega,
}


def seed_omega(
    network: Network, strategy: str, seed: int, **options: object
) -> Network:
    """A copy of ``network`` with natural frequencies chosen by a named strategy.

    Parameters
    ----------
    network : Network
        Supplies the couplings, roles and (for 'random') the frequencies.
    strategy : str
        A key of :data:`STRATEGIES`: 'random', 'spectral', 'output-split',
        'output-split-reversed' or 'multi-start' (underscores work as hyphens).
    seed : int
        The run's seed. Random draws come from
        ``numpy.random.default_rng(seed + SEED_OFFSET)``, a stream apart from the
        ones that draw the network and split the data.
    **options
        Keyword options of the strategy, e.g. ``scale`` for 'spectral' or
        ``probe`` and ``n_starts`` for 'multi-start'.

    Returns
    -------
    Network
        Same couplings and roles, new ``omega``.
    """
    name = str(strategy).replace("_", "-")
    if name not in STRATEGIES:
        raise ValueError(
            f"`strategy` is {strategy!r}, which is not a seeding strategy; use one "
            f"of {sorted(STRATEGIES)}."
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError(f"`seed` must be an integer, got {seed!r}.")

    func = STRATEGIES[name]
    accepted = [
        p.name
        for p in list(inspect.signature(func).parameters.values())[2:]
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(
            f"The {name!r} strategy takes no option(s) {unknown}; its options are "
            f"{accepted or 'none'}."
        )

    rng = np.random.default_rng(int(seed) + SEED_OFFSET)
    omega = func(network, rng, **options)
    return network.replace(omega=omega)
