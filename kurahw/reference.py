"""A plain, slow re-statement of the paper's per-sample training loop.

It shares nothing with kurahw's solver or trainer: equilibria come from
``scipy.optimize.fsolve`` on a dense coupling matrix, and the loop is written
sample by sample. It serves as a test oracle and as the baseline that faster
trainers are timed against.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.optimize import fsolve

from kurahw.data import VowelSplit
from kurahw.errors import NetworkError
from kurahw.network import Network

__all__ = ["reference_train"]

logger = logging.getLogger(__name__)

#: A training sample whose free residual exceeds this is skipped altogether.
FREE_RESIDUAL_LIMIT = 0.01
#: A training sample whose nudged residual reaches this gets no update.
NUDGED_RESIDUAL_LIMIT = 0.01
#: A test sample whose residual exceeds this leaves the accuracy's denominator.
EVAL_RESIDUAL_LIMIT = 0.1


def _velocity(theta: np.ndarray, omega_c: np.ndarray, k: np.ndarray) -> np.ndarray:
    """dtheta_i/dt = omega_c_i + sum_j K_ij sin(theta_j - theta_i), shape (n,)."""
    diff = theta[None, :] - theta[:, None]
    return omega_c + np.sum(k * np.sin(diff), axis=1)


def _equilibrium(
    omega_c: np.ndarray,
    k: np.ndarray,
    start: np.ndarray,
    beta: float = 0.0,
    target: np.ndarray | None = None,
    outputs: list[int] | None = None,
) -> tuple[np.ndarray, float]:
    """Root of the reduced system (node 0 pinned at 0) found by fsolve from ``start``.

    With ``beta`` nonzero, the output nodes also feel ``-beta (theta - target)``.
    Returns the phases, shape (n,), and the largest ``|F|`` of the free nodes.
    """

    def reduced(free: np.ndarray) -> np.ndarray:
        theta = np.concatenate(([0.0], free))
        f = _velocity(theta, omega_c, k)
        if beta != 0.0:
            f[outputs] -= beta * (theta[outputs] - target[outputs])
        return f[1:]

    free, info, _, _ = fsolve(reduced, start[1:], full_output=True)
    theta = np.concatenate(([0.0], free))
    return theta, float(np.max(np.abs(info["fvec"])))


def _predict(theta: np.ndarray, outputs: list[int]) -> int:
    """Class whose output oscillator's phase is nearest 0 (largest cosine)."""
    return int(np.argmax(np.cos(theta[outputs])))


def _targets(n: int, outputs: list[int], label: int, margin: float) -> np.ndarray:
    """Target phases, shape (n,): ``-margin`` at the label's output, ``+margin`` at
    the others, 0 elsewhere (unused)."""
    target = np.zeros(n)
    for c, o in enumerate(outputs):
        target[o] = -margin if c == label else margin
    return target


def _evaluate(
    omega: np.ndarray,
    k: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    inputs: list[int],
    outputs: list[int],
    gain: float,
) -> float:
    """Accuracy over the samples in order, each solve warm-started from the last
    kept one; samples whose residual exceeds the limit are not counted."""
    omega = omega.copy()
    warm = np.zeros(omega.size)
    correct = counted = 0

    for features, label in zip(x, y, strict=True):
        omega[inputs] = gain * features
        theta, residual = _equilibrium(omega - omega.mean(), k, warm)
        if residual > EVAL_RESIDUAL_LIMIT:
            continue
        correct += _predict(theta, outputs) == label
        counted += 1
        warm = theta
    return float(correct / max(counted, 1))


def _mask(name: str, mask, size: int, default: np.ndarray) -> np.ndarray:
    if mask is None:
        return default
    arr = np.asarray(mask)
    if arr.shape != (size,) or arr.dtype != bool:
        raise ValueError(
            f"`{name}` must be a boolean array of shape ({size},), got "
            f"{arr.dtype} of shape {arr.shape}."
        )
    return arr & default


def _check_arguments(network, split, epochs, beta, lr_omega, lr_coupling, clip):
    if not network.is_symmetric:
        raise NetworkError(
            "The reference loop updates both directions of an edge together and "
            "needs symmetric couplings; this network is asymmetric."
        )
    if int(epochs) != epochs or epochs < 1:
        raise ValueError(f"`epochs` must be a whole number >= 1, got {epochs!r}.")
    if not (np.isfinite(beta) and beta > 0):
        raise ValueError(f"`beta` must be a positive number, got {beta!r}.")
    for name, value in (("lr_omega", lr_omega), ("lr_coupling", lr_coupling)):
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(f"`{name}` must be a finite number >= 0, got {value!r}.")
    if not clip > 0:
        raise ValueError(f"`clip` must be positive, got {clip!r}.")

    if len(split.y_train) == 0:
        raise ValueError("`split` has no training samples.")
    k = len(network.inputs)
    for part in ("train", "test"):
        x = np.asarray(getattr(split, f"x_{part}"))
        y = np.asarray(getattr(split, f"y_{part}"))
        if x.ndim != 2 or x.shape != (len(y), k):
            raise ValueError(
                f"`split.x_{part}` has shape {x.shape}; this network has {k} "
                f"inputs, so give shape ({len(y)}, {k}) to match `split.y_{part}`."
            )
        bad = [int(c) for c in y if not 0 <= c < len(network.outputs)]
        if bad:
            raise ValueError(
                f"`split.y_{part}` holds class {bad[0]}, but this network has "
                f"{len(network.outputs)} outputs; labels must be 0.."
                f"{len(network.outputs) - 1}."
            )


def reference_train(
    network: Network,
    split: VowelSplit,
    *,
    epochs: int,
    lr_omega: float = 1e-3,
    lr_coupling: float = 0.0,
    beta: float = 0.1,
    margin: float = 0.2,
    clip: float = 2.0,
    omega_bounds: tuple[float, float] = (-3.0, 3.0),
    coupling_bounds: tuple[float, float] = (0.01, 8.0),
    omega_mask: np.ndarray | None = None,
    edge_mask: np.ndarray | None = None,
    seed: int = 0,
    eval_every: int | None = None,
    paper_eval_draws_every: int | None = None,
    paper_fill_absent: bool = False,
) -> dict:
    """Train one network with two-phase Equilibrium Propagation, one sample at a time.

    Each epoch visits the training samples in the order of
    ``numpy.random.default_rng(seed).permutation``, one permutation per epoch.
    For each sample:

    1. Input oscillators run at ``input_gain * features``; all frequencies are
       mean-centred (inputs included) and node 0 is pinned at phase 0.
    2. The free equilibrium is solved by ``fsolve`` from the previous sample's
       free equilibrium (from zeros at the start of an epoch). If its residual
       exceeds 0.01 the sample is skipped: no update, not counted.
    3. The nudged equilibrium adds ``-beta (theta - target)`` on the outputs
       (target ``-margin`` at the correct class's output, ``+margin`` at the
       others) and is solved from the free one. If its residual is 0.01 or more
       the sample is skipped as well.
    4. Otherwise the sample counts toward the epoch's running accuracy (readout
       ``argmax cos(theta_out)`` of the free state, before the update) and loss,
       and each learnable frequency and coupling takes one clipped step::

           omega_i -= lr_omega * clip(-(nudged_i - free_i) / beta)
           K_e     -= lr_coupling * clip((cos dfree_e - cos dnudged_e) / beta)

       after which they are clipped to ``omega_bounds`` and ``coupling_bounds``.

    The test set is evaluated in its own order, with its own warm-start chain
    from zeros; samples whose residual exceeds 0.1 are left out of the accuracy.
    Evaluation draws no random numbers unless ``paper_eval_draws_every`` asks
    for the paper's extra draws.

    Parameters
    ----------
    network : Network
        Symmetric couplings; training starts from its ``omega`` and ``coupling``.
    split : VowelSplit
        ``x_train`` of shape (samples, n_inputs), ``y_train`` class indices into
        ``network.outputs``; likewise ``x_test``, ``y_test``.
    epochs : int
    lr_omega, lr_coupling : float
        Step sizes for natural frequencies and couplings (0 freezes them).
    beta : float
        Nudge strength.
    margin : float
        Target phase magnitude at the outputs, in radians.
    clip : float
        Each gradient component is clipped to ``[-clip, clip]``.
    omega_bounds, coupling_bounds : tuple of float
        Ranges that learnable frequencies and couplings are clipped to.
    omega_mask : ndarray of bool, shape (n,), optional
        Nodes whose frequency learns; default every non-input node. Input nodes
        never learn, whatever the mask says.
    edge_mask : ndarray of bool, shape (m,), optional
        Edges (in ``network.edges`` order) whose coupling learns; default all.
        An edge of strength 0 is absent and never learns.
    seed : int
        Seeds the epoch permutations.
    eval_every : int, optional
        Also evaluate the test set every this many epochs (the last epoch is
        always evaluated).
    paper_eval_draws_every : int, optional
        Reproduce the paper's random-number stream: evaluate after epoch 1, every
        this many epochs and the last epoch, and after each such evaluation draw
        ``rng.integers(len(y_train))`` once (the paper picks a sample for a
        gradient check there), which shifts every later permutation.
    paper_fill_absent : bool
        Reproduce the loop that wrote the paper's released result files: after
        the first update the whole coupling matrix is clipped to
        ``coupling_bounds``, so every uncoupled pair of nodes becomes a coupling
        of strength ``coupling_bounds[0]`` and from then on learns like an edge
        (with ``lr_coupling``). The network is then fully connected. Cannot be
        combined with ``edge_mask``.

    Returns
    -------
    dict
        ``train_acc``, ``train_loss`` : list of float, one per epoch (running
        values over the counted samples); ``skipped`` : list of int, samples per
        epoch without an update; ``test_acc`` : dict mapping each evaluated epoch
        to the test accuracy; ``omega`` : ndarray, shape (n,), the trained
        frequencies (input entries as in ``network``); ``coupling`` : ndarray,
        shape (m,), the trained couplings in ``network.edges`` order;
        ``coupling_matrix`` : ndarray, shape (n, n), all trained couplings,
        including pairs that ``paper_fill_absent`` coupled.
    """
    _check_arguments(network, split, epochs, beta, lr_omega, lr_coupling, clip)
    for name, value in (
        ("eval_every", eval_every),
        ("paper_eval_draws_every", paper_eval_draws_every),
    ):
        if value is not None and (int(value) != value or value < 1):
            raise ValueError(f"`{name}` must be a whole number >= 1, got {value!r}.")
    if paper_fill_absent and edge_mask is not None:
        raise ValueError(
            "`edge_mask` and `paper_fill_absent=True` do not combine: filling "
            "couples every pair, which the mask does not describe. Drop one."
        )

    n = network.n
    inputs = list(network.inputs)
    outputs = list(network.outputs)
    gain = network.input_gain
    edges = [(int(i), int(j)) for i, j in network.edges]
    learn_node = np.ones(n, dtype=bool)
    learn_node[inputs] = False
    learn_node = _mask("omega_mask", omega_mask, n, learn_node)
    learn_edge = _mask(
        "edge_mask", edge_mask, len(edges), np.asarray(network.coupling) > 0
    )

    # The couplings live in the dense matrix ``k``; ``pairs`` lists the coupled
    # pairs (i < j) and whether each learns.
    pairs = [
        (i, j, bool(learn)) for (i, j), learn in zip(edges, learn_edge, strict=True)
    ]
    filled = False
    omega = np.array(network.omega, dtype=float)
    k = network.coupling_matrix()
    x_train, y_train = np.asarray(split.x_train), np.asarray(split.y_train)
    x_test, y_test = np.asarray(split.x_test), np.asarray(split.y_test)
    n_train = len(y_train)

    rng = np.random.default_rng(seed)
    history = {"train_acc": [], "train_loss": [], "skipped": [], "test_acc": {}}

    for epoch in range(1, epochs + 1):
        order = rng.permutation(n_train)
        warm = np.zeros(n)
        correct = counted = skipped = 0
        loss_sum = 0.0

        for idx in order:
            omega[inputs] = gain * x_train[idx]
            omega_c = omega - omega.mean()
            target = _targets(n, outputs, int(y_train[idx]), margin)

            free, residual = _equilibrium(omega_c, k, warm)
            if residual > FREE_RESIDUAL_LIMIT:
                skipped += 1
                continue
            warm = free

            nudged, residual = _equilibrium(omega_c, k, free, beta, target, outputs)
            if residual >= NUDGED_RESIDUAL_LIMIT:
                skipped += 1
                continue

            correct += _predict(free, outputs) == y_train[idx]
            loss_sum += 0.5 * float(np.sum((free[outputs] - target[outputs]) ** 2))
            counted += 1

            for i in range(n):
                if learn_node[i]:
                    g = -(nudged[i] - free[i]) / beta
                    omega[i] -= lr_omega * np.clip(g, -clip, clip)
                    omega[i] = np.clip(omega[i], *omega_bounds)
            for i, j, learn in pairs:
                if learn:
                    cos_free = np.cos(free[j] - free[i])
                    cos_nudged = np.cos(nudged[j] - nudged[i])
                    g = (cos_free - cos_nudged) / beta
                    k[i, j] -= lr_coupling * np.clip(g, -clip, clip)
                    k[i, j] = k[j, i] = np.clip(k[i, j], *coupling_bounds)
            if paper_fill_absent and not filled:
                off = ~np.eye(n, dtype=bool)
                k[off] = np.clip(k[off], *coupling_bounds)
                pairs = [
                    (i, j, True)
                    for i in range(n)
                    for j in range(i + 1, n)
                    if k[i, j] > 0
                ]
                filled = True

        history["train_acc"].append(float(correct / max(counted, 1)))
        history["train_loss"].append(float(loss_sum / max(counted, 1)))
        history["skipped"].append(int(skipped))

        draw = paper_eval_draws_every is not None and (
            epoch == 1 or epoch % paper_eval_draws_every == 0 or epoch == epochs
        )
        scheduled = eval_every is not None and epoch % eval_every == 0
        if draw or scheduled or epoch == epochs:
            acc = _evaluate(omega, k, x_test, y_test, inputs, outputs, gain)
            history["test_acc"][epoch] = acc
            logger.info(
                "epoch %d: train accuracy %.3f, test accuracy %.3f, %d skipped",
                epoch,
                history["train_acc"][-1],
                acc,
                skipped,
            )
        if draw:
            rng.integers(n_train)

    omega[inputs] = network.omega[inputs]
    history["omega"] = omega
    history["coupling"] = k[network.edges[:, 0], network.edges[:, 1]]
    history["coupling_matrix"] = k
    return history
