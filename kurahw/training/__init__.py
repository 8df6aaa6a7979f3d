"""Equilibrium Propagation training on any backend.

:class:`Trainer` runs per-sample online SGD from measured phase displacements
for every member of a backend's batch in lockstep; :class:`TrainConfig` is the
shared protocol, :class:`RunSpec` each member's seed, learning rates and masks,
:class:`TaskData` each member's data split.
"""

from kurahw.training.config import READOUTS, RunSpec, TaskData, TrainConfig
from kurahw.training.readout import loss, predict, target_table
from kurahw.training.trainer import Trainer, TrainResult, train

__all__ = [
    "READOUTS",
    "RunSpec",
    "TaskData",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "loss",
    "predict",
    "target_table",
    "train",
]
