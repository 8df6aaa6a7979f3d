"""Targets for the outputs and the two ways of reading a class from them.

The paper trains output ``c`` toward ``-margin`` when the sample is of class
``c`` and every other output toward ``+margin``, then reads the class as the
output whose phase is closest to zero, ``argmax_c cos(theta_c)``. That readout
cannot tell ``-margin`` from ``+margin``: a network that reaches its targets
exactly produces a tie, and which output wins is decided by the leftover error.

The ``target`` readout asks instead which class's target pattern the outputs
are nearest to, ``argmin_c sum_o (theta_o - target_{c,o})**2``; with the
paper's targets it picks the output with the lowest phase. It is the readout
the training loss itself rewards.
"""

from __future__ import annotations

import numpy as np

__all__ = ["loss", "predict", "target_table"]


def target_table(n_outputs: int, margin: float) -> np.ndarray:
    """Target phases per class, shape (classes, outputs): ``-margin`` on the
    diagonal, ``+margin`` elsewhere."""
    table = np.full((n_outputs, n_outputs), margin)
    np.fill_diagonal(table, -margin)
    return table


def predict(phases: np.ndarray, readout: str, table: np.ndarray) -> np.ndarray:
    """Predicted class per row.

    Parameters
    ----------
    phases : ndarray, shape (..., outputs)
        Output phases relative to node 0.
    readout : {"paper", "target"}
    table : ndarray, shape (classes, outputs)
        From :func:`target_table`.
    """
    if readout == "paper":
        return np.argmax(np.cos(phases), axis=-1)
    if readout == "target":
        dist = ((phases[..., None, :] - table) ** 2).sum(axis=-1)
        return np.argmin(dist, axis=-1)
    raise ValueError(f"`readout` is {readout!r}; use 'paper' or 'target'.")


def loss(phases: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The paper's output loss ``0.5 sum_o (theta_o - target_o)**2`` per row."""
    return 0.5 * ((phases - targets) ** 2).sum(axis=-1)
