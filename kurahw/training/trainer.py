"""The EP trainer: per-sample online SGD from measured phase displacements.

Written once against :class:`kurahw.backends.Backend`, so the same loop trains
the ideal simulator, the emulator or a board. Every member of the backend's
batch is an independent run with its own seed, data split, learning rates and
masks; they advance in lockstep, one training sample per step.

For each sample the trainer programs the inputs, settles the free network,
switches the output nudge on, settles again, and turns the two measured
states into gradients: ``-(theta_beta - theta_free) / beta`` for the
frequencies and ``(cos dtheta_free - cos dtheta_beta) / beta`` per edge for the
couplings. Nothing is differentiated. On a noisy device a mitigation
(:mod:`kurahw.training.mitigation`) measures each gradient from more nudges
and readings instead.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kurahw._io import atomic_write_bytes
from kurahw.backends.base import Backend
from kurahw.training.config import READOUTS, RunSpec, TaskData, TrainConfig
from kurahw.training.mitigation import slope_gradient
from kurahw.training.readout import loss, predict, target_table

__all__ = ["TrainResult", "Trainer", "train"]

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "kurahw.checkpoint/1"


@dataclass
class TrainResult:
    """Histories and final parameters of every member of a batch.

    Attributes
    ----------
    specs : list of RunSpec
    config : TrainConfig
    history : dict of str to ndarray
        Per-epoch arrays of shape (epochs, batch): ``train_correct_paper``,
        ``train_correct_target`` (correct predictions of each readout),
        ``train_counted`` (samples counted), ``train_loss`` (mean loss of the
        counted samples), ``skipped_free``, ``skipped_nudge``, ``unstable``
        (settles that ended on a non-stable state). Per-evaluation arrays of
        shape (evaluations, batch): ``test_acc_paper``, ``test_acc_target``,
        ``test_loss``, ``test_counted``, and ``cond`` when diagnosing; the
        evaluated epochs are in ``eval_epochs`` (0 is before training).
    test_phases : ndarray, shape (batch, n_test, outputs)
        Output phases on the test set at the last evaluation (NaN where a
        sample was left out).
    omega, coupling : ndarray, shapes (batch, n) and (batch, m)
        Parameters after training (inputs of ``omega`` hold the last sample).
    omega_initial, coupling_initial : ndarray
    seconds : float
        Wall time of the run (excluding any earlier, resumed part).
    """

    specs: list[RunSpec]
    config: TrainConfig
    history: dict[str, np.ndarray]
    test_phases: np.ndarray
    omega: np.ndarray
    coupling: np.ndarray
    omega_initial: np.ndarray
    coupling_initial: np.ndarray
    seconds: float = 0.0

    def train_acc(self, readout: str | None = None) -> np.ndarray:
        """Training accuracy per epoch and member, shape (epochs, batch): the
        running accuracy over each epoch, each prediction taken before that
        sample's update."""
        readout = readout or self.config.readout
        counted = self.history["train_counted"]
        with np.errstate(invalid="ignore", divide="ignore"):
            acc = self.history[f"train_correct_{readout}"] / counted
        return np.where(counted > 0, acc, 0.0)

    def test_acc(self, readout: str | None = None) -> np.ndarray:
        """Test accuracy per evaluation and member, shape (evaluations, batch)."""
        return self.history[f"test_acc_{readout or self.config.readout}"]

    def final_test_acc(self, readout: str | None = None) -> np.ndarray:
        """Test accuracy after the last epoch, shape (batch,)."""
        return self.test_acc(readout)[-1]

    def final_train_acc(self, readout: str | None = None) -> np.ndarray:
        """Running training accuracy over the last epoch, shape (batch,)."""
        return self.train_acc(readout)[-1]

    @property
    def eval_epochs(self) -> np.ndarray:
        """Epochs after which the test set was evaluated (0: before training)."""
        return self.history["eval_epochs"]

    def member_record(self, b: int) -> dict[str, Any]:
        """Everything about member ``b`` as JSON-serialisable data."""
        h = self.history
        per_epoch = {
            k: h[k][:, b].tolist()
            for k in (
                "train_correct_paper",
                "train_correct_target",
                "train_counted",
                "train_loss",
                "skipped_free",
                "skipped_nudge",
                "unstable",
            )
        }

        per_eval = {
            k: h[k][:, b].tolist()
            for k in ("test_acc_paper", "test_acc_target", "test_loss", "test_counted")
        }
        if "cond" in h:
            per_eval["cond"] = h["cond"][:, b].tolist()

        return {
            "spec": self.specs[b].to_dict(),
            "final_test_acc": {r: float(self.final_test_acc(r)[b]) for r in READOUTS},
            "final_train_acc": {r: float(self.final_train_acc(r)[b]) for r in READOUTS},
            "eval_epochs": h["eval_epochs"].tolist(),
            "epochs": per_epoch,
            "evaluations": per_eval,
            "omega_initial": self.omega_initial[b].tolist(),
            "coupling_initial": self.coupling_initial[b].tolist(),
            "omega": self.omega[b].tolist(),
            "coupling": self.coupling[b].tolist(),
        }


class Trainer:
    """Train every member of a backend's batch with Equilibrium Propagation.

    Parameters
    ----------
    backend : Backend
        The physical networks, already programmed with each member's starting
        frequencies and couplings.
    data : TaskData
        Each member's split; features have one column per input oscillator,
        labels index the output oscillators.
    specs : sequence of RunSpec
        One per member.
    config : TrainConfig
    progress : callable, optional
        Called with the number of finished epochs after every epoch.
    """

    def __init__(
        self,
        backend: Backend,
        data: TaskData,
        specs: Sequence[RunSpec],
        config: TrainConfig | None = None,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.backend = backend
        self.data = data
        self.specs = list(specs)
        self.config = config or TrainConfig()
        self.progress = progress

        info = backend.info
        self._check(info)

        batch, n = info.batch, info.n
        self._out = np.asarray(info.outputs, dtype=np.int64)
        self._inputs = np.asarray(info.inputs, dtype=np.int64)
        self._ei = np.asarray(info.edges)[:, 0]
        self._ej = np.asarray(info.edges)[:, 1]
        self._table = target_table(len(info.outputs), self.config.margin)
        self._lr_omega = np.array([s.lr_omega for s in self.specs])[:, None]
        self._lr_coupling = np.array([s.lr_coupling for s in self.specs])[:, None]
        self._omega_mask = np.stack([self._node_mask(s, n) for s in self.specs])
        self._edge_mask = np.stack(
            [self._edges_mask(s, info.n_edges) for s in self.specs]
        )

        # Bounds per node: inputs are set by the data and never clipped.
        free_nodes = np.ones(n, dtype=bool)
        free_nodes[self._inputs] = False
        lo, hi = self.config.omega_bounds
        self._omega_lo = np.where(free_nodes, lo, -np.inf)
        self._omega_hi = np.where(free_nodes, hi, np.inf)
        self._learn_coupling = bool(np.any(self._lr_coupling > 0))
        self._rows = np.arange(batch)
        self._plan = self.config.plan
        self._reads = self._plan.reads if self._plan.reads > 1 else None

    # -- validation -------------------------------------------------------------

    def _check(self, info) -> None:
        cfg, data = self.config, self.data
        if len(self.specs) != info.batch:
            raise ValueError(
                f"Got {len(self.specs)} run specs for a backend batch of "
                f"{info.batch}; give one RunSpec per member."
            )
        if data.batch != info.batch:
            raise ValueError(
                f"The data holds {data.batch} splits for a backend batch of "
                f"{info.batch}; give one split per member."
            )
        if data.x_train.shape[2] != len(info.inputs):
            raise ValueError(
                f"Samples have {data.x_train.shape[2]} features but the network has "
                f"{len(info.inputs)} input oscillators; they must match."
            )

        p = len(info.outputs)
        for name, y in (("y_train", data.y_train), ("y_test", data.y_test)):
            if y.min() < 0 or y.max() >= p:
                raise ValueError(
                    f"`{name}` holds classes {sorted(set(np.unique(y).tolist()))} but "
                    f"the network has {p} outputs (classes 0..{p - 1})."
                )

        if cfg.warm_start == "chain" and not info.can_preset_phases:
            raise ValueError(
                f"warm_start='chain' needs a backend that can preset phases; the "
                f"{info.name!r} backend cannot. Use warm_start='physical'."
            )
        if cfg.gradient == "finite-difference":
            if any(s.lr_coupling > 0 for s in self.specs):
                raise ValueError(
                    "Finite-difference training covers frequencies only; set "
                    "`lr_coupling` to 0 or use gradient='ep'."
                )
            if not info.can_preset_phases:
                raise ValueError(
                    "Finite-difference training needs a backend that can preset phases."
                )

    def _node_mask(self, spec: RunSpec, n: int) -> np.ndarray:
        inputs = set(self.backend.info.inputs)
        if spec.omega_mask is None:
            mask = np.array([i not in inputs for i in range(n)])
        else:
            mask = np.asarray(spec.omega_mask, dtype=bool)
            if mask.shape != (n,):
                raise ValueError(
                    f"`omega_mask` of seed {spec.seed} has shape {mask.shape}; "
                    f"expected ({n},), one flag per node."
                )
            if any(mask[i] for i in inputs):
                raise ValueError(
                    f"`omega_mask` of seed {spec.seed} marks input node(s) "
                    f"{[i for i in inputs if mask[i]]} learnable; input frequencies "
                    "are set by the data. Clear those flags."
                )

        if spec.lr_omega > 0 and not mask.any():
            raise ValueError(
                f"`omega_mask` of seed {spec.seed} selects no node but lr_omega is "
                f"{spec.lr_omega}; select at least one node or set lr_omega=0."
            )
        return mask

    def _edges_mask(self, spec: RunSpec, m: int) -> np.ndarray:
        if spec.edge_mask is None:
            return np.ones(m, dtype=bool)

        mask = np.asarray(spec.edge_mask, dtype=bool)
        if mask.shape != (m,):
            raise ValueError(
                f"`edge_mask` of seed {spec.seed} has shape {mask.shape}; expected "
                f"({m},), one flag per edge."
            )
        if spec.lr_coupling > 0 and not mask.any():
            raise ValueError(
                f"`edge_mask` of seed {spec.seed} selects no edge but lr_coupling is "
                f"{spec.lr_coupling}; select at least one edge or set lr_coupling=0."
            )
        return mask

    # -- the run ----------------------------------------------------------------

    def run(self, checkpoint: str | Path | None = None) -> TrainResult:
        """Train for ``config.epochs`` epochs and return the histories.

        Parameters
        ----------
        checkpoint : path, optional
            File to save the complete state to after every epoch (atomically).
            If it exists and was written by the same configuration, training
            resumes after its last epoch and ends exactly as an uninterrupted
            run would.
        """
        cfg, be = self.config, self.backend
        started = time.perf_counter()

        state = self._load(checkpoint) if checkpoint else None
        if state is None:
            self._rngs = [np.random.default_rng(s.seed) for s in self.specs]
            self._omega0 = be.omega.copy()
            self._coupling0 = be.coupling.copy()
            self._omega_req = self._omega0.copy()
            self._coupling_req = self._coupling0.copy()
            self._hist = self._empty_history()
            first = 1
            self._evaluate(0)
        else:
            first = state + 1
            log.info("Resuming after epoch %d from %s", state, checkpoint)

        for epoch in range(first, cfg.epochs + 1):
            self._epoch(epoch)
            self._after_epoch(epoch)

            if cfg.paper_eval_draws_every and (
                epoch == 1
                or epoch % cfg.paper_eval_draws_every == 0
                or epoch == cfg.epochs
            ):
                n_train = self.data.x_train.shape[1]
                for rng in self._rngs:
                    rng.integers(n_train)
            if epoch == cfg.epochs or (cfg.eval_every and epoch % cfg.eval_every == 0):
                self._evaluate(epoch)
            if checkpoint:
                self._save(checkpoint, epoch)
            if self.progress is not None:
                self.progress(epoch)

        hist = {k: np.asarray(v) for k, v in self._hist.items() if k != "phases"}
        skipped = hist["skipped_free"].sum() + hist["skipped_nudge"].sum()
        if skipped:
            log.warning(
                "%d of %d training samples were skipped because a settle did not "
                "converge or lock (free: %d, nudged: %d); they were counted, not "
                "used (per epoch in the history: skipped_free, skipped_nudge)",
                skipped,
                hist["train_counted"].sum() + skipped,
                hist["skipped_free"].sum(),
                hist["skipped_nudge"].sum(),
            )
        return TrainResult(
            specs=self.specs,
            config=cfg,
            history=hist,
            test_phases=self._hist["phases"],
            omega=be.omega.copy(),
            coupling=be.coupling.copy(),
            omega_initial=self._omega0,
            coupling_initial=self._coupling0,
            seconds=time.perf_counter() - started,
        )

    def evaluate(self) -> dict[str, np.ndarray]:
        """Test accuracy of every member as the backend stands now, without
        training: per readout, shape (batch,). Samples whose settle the
        protocol rejects are left out, as in training's evaluations."""
        kept = getattr(self, "_hist", None)
        self._hist = self._empty_history()
        try:
            self._evaluate(0)
            return {r: np.asarray(self._hist[f"test_acc_{r}"][-1]) for r in READOUTS}
        finally:
            if kept is not None:
                self._hist = kept

    def _empty_history(self) -> dict[str, Any]:
        e, b = self.config.epochs, self.backend.info.batch
        hist: dict[str, Any] = {
            k: np.zeros((e, b), dtype=np.int64)
            for k in (
                "train_correct_paper",
                "train_correct_target",
                "train_counted",
                "skipped_free",
                "skipped_nudge",
                "unstable",
            )
        }

        hist["train_loss"] = np.zeros((e, b))
        for k in ("eval_epochs", "test_acc_paper", "test_acc_target", "test_loss"):
            hist[k] = []
        hist["test_counted"] = []
        if self.config.diagnose:
            hist["cond"] = []
        return hist

    # -- one epoch --------------------------------------------------------------

    def _epoch(self, epoch: int) -> None:
        cfg, be, data = self.config, self.backend, self.data
        out = self._out
        chain = cfg.warm_start == "chain"
        batch, n_train = data.y_train.shape
        orders = np.stack([rng.permutation(n_train) for rng in self._rngs])
        e = epoch - 1
        h = self._hist

        # The epoch's samples in each member's order, gathered once; the
        # predictions are scored after the epoch from the recorded phases.
        picked = (self._rows[:, None], orders)
        xs, ys = data.x_train[picked], data.y_train[picked]
        targets_all = self._table[ys]
        phases = np.empty((batch, n_train, len(out)))
        stepped = np.zeros((batch, n_train), dtype=bool)

        be.release()
        be.reset()
        warm = np.zeros((batch, be.info.n))
        for t in range(n_train):
            be.set_inputs(xs[:, t])
            free = be.settle(warm if chain else None, reads=self._reads)
            ok = free.residual <= cfg.skip_free
            unstable = ~free.stable & ok
            if cfg.require_stable:
                ok &= free.stable

            # The mitigation's nudges, each settled from the free state.
            targets = targets_all[:, t]
            step = ok.copy()
            nudged, betas = [], []
            for beta in self._plan.betas:
                be.nudge(targets, beta, cfg.nudge_form)
                m = be.settle(free.theta if chain else None, reads=self._reads)
                step &= m.residual < cfg.skip_nudge
                unstable |= ~m.stable & step
                if cfg.require_stable:
                    step &= m.stable
                nudged.append(m.theta)
                betas.append(be.realised_beta)
            be.release()

            h["skipped_free"][e] += ~ok
            h["skipped_nudge"][e] += ok & ~step
            h["unstable"][e] += unstable
            phases[:, t] = free.theta[:, out]
            stepped[:, t] = step

            if step.any():
                self._update(free.theta, nudged, betas, targets, step)
            if chain:
                warm = np.where(ok[:, None], free.theta, warm)

        skipped = h["skipped_free"][e].sum() + h["skipped_nudge"][e].sum()
        if skipped:
            log.info(
                "epoch %d: %d of %d samples skipped (free settle not converged or "
                "locked: %d; a nudged one: %d); they are counted, not used",
                epoch,
                skipped,
                batch * n_train,
                h["skipped_free"][e].sum(),
                h["skipped_nudge"][e].sum(),
            )

        # A sample counts in the training accuracy only if its update was
        # applied, so that every counted prediction precedes a step.
        counted = stepped.sum(axis=1)
        h["train_counted"][e] = counted
        for readout in READOUTS:
            hit = predict(phases, readout, self._table) == ys
            h[f"train_correct_{readout}"][e] = (hit & stepped).sum(axis=1)
        sample_loss = np.where(stepped, loss(phases, targets_all), 0.0)
        h["train_loss"][e] = sample_loss.sum(axis=1) / np.maximum(counted, 1)

    def _update(self, free, nudged, betas, targets, step) -> None:
        """Step every member in ``step`` from its free phases and the phases
        under each nudge of the plan, ``nudged[k]`` at realised ``betas[k]``."""
        cfg, be = self.config, self.backend
        apply = step[:, None]
        c = cfg.clip
        if cfg.gradient == "finite-difference":
            g = self._fd_gradient(free, targets)
        else:
            g = _estimate(free, nudged, betas, wrap=True)
        g = np.minimum(np.maximum(g, -c), c)

        # np.where, not a product with the mask, so that a skipped member's
        # possibly non-finite phases never reach its parameters.
        # Steps accumulate on the requested values, not on what the actuators
        # realised: a step smaller than an actuator's resolution is kept until
        # the sum of steps moves the code, as mixed-precision training does.
        delta = np.where(apply & self._omega_mask, self._lr_omega * g, 0.0)
        self._omega_req = np.minimum(
            np.maximum(self._omega_req - delta, self._omega_lo), self._omega_hi
        )
        new_omega = self._with_inputs(self._omega_req)

        new_coupling = None
        if self._learn_coupling:
            ei, ej = self._ei, self._ej
            cos_free = np.cos(free[:, ej] - free[:, ei])
            cos_nudged = [np.cos(x[:, ej] - x[:, ei]) for x in nudged]
            gk = _estimate(cos_free, cos_nudged, betas, wrap=False)
            gk = np.minimum(np.maximum(gk, -c), c)
            delta = np.where(apply & self._edge_mask, self._lr_coupling * gk, 0.0)
            lo, hi = cfg.coupling_bounds
            new_coupling = np.minimum(np.maximum(self._coupling_req - delta, lo), hi)
            self._coupling_req = new_coupling
        be.program(omega=new_omega, coupling=new_coupling)

    def _fd_gradient(self, free: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Central differences of the loss with respect to the centred
        frequencies, each settle starting from the free equilibrium.

        Raising node i's frequency by eps and node 0's by -eps leaves the mean
        unchanged and, since node 0 is the pinned reference, moves exactly the
        i-th centred frequency.
        """
        cfg, be = self.config, self.backend
        omega = be.omega.copy()
        grad = np.zeros_like(omega)
        eps = cfg.fd_eps

        for i in np.flatnonzero(self._omega_mask.any(axis=0)):
            if i == 0:
                continue
            delta = np.zeros(be.info.n)
            delta[i], delta[0] = eps, -eps
            values = []
            for sign in (1.0, -1.0):
                be.program(omega=omega + sign * delta)
                m = be.settle(free)
                values.append(loss(m.theta[:, self._out], targets))
            grad[:, i] = (values[0] - values[1]) / (2 * eps)

        be.program(omega=omega)
        return grad

    def _after_epoch(self, epoch: int) -> None:
        cfg, be = self.config, self.backend
        if cfg.coupling_floor is not None:
            self._coupling_req = np.maximum(self._coupling_req, cfg.coupling_floor)
            be.program(coupling=self._coupling_req)

        if cfg.recenter_every and epoch % cfg.recenter_every == 0:
            omega = self._omega_req
            mask = self._omega_mask
            mean = np.where(mask, omega, 0).sum(1) / np.maximum(mask.sum(1), 1)
            omega = omega - np.where(mask, cfg.recenter_fraction * mean[:, None], 0.0)
            self._omega_req = omega
            be.program(omega=self._with_inputs(omega))

    def _with_inputs(self, omega: np.ndarray) -> np.ndarray:
        """``omega`` with the input oscillators at their current sample's values."""
        full = omega.copy()
        full[:, self._inputs] = self.backend.omega[:, self._inputs]
        return full

    # -- evaluation -------------------------------------------------------------

    def _evaluate(self, epoch: int) -> None:
        cfg, be, data = self.config, self.backend, self.data
        chain = cfg.warm_start == "chain"
        batch, n_test = be.info.batch, data.x_test.shape[1]
        saved_omega = be.omega.copy()
        phases = np.full((batch, n_test, len(self._out)), np.nan)

        be.release()
        be.reset()
        warm = np.zeros((batch, be.info.n))
        for t in range(n_test):
            be.set_inputs(data.x_test[:, t])
            m = be.settle(warm if chain else None, reads=self._reads)
            ok = m.residual <= cfg.skip_eval
            if cfg.require_stable:
                ok &= m.stable
            phases[:, t] = np.where(ok[:, None], m.theta[:, self._out], np.nan)
            if chain:
                warm = np.where(ok[:, None], m.theta, warm)

        h = self._hist
        valid = ~np.isnan(phases[..., 0])
        counted = valid.sum(axis=1)
        h["eval_epochs"].append(epoch)
        h["test_counted"].append(counted)
        for readout in READOUTS:
            pred = predict(np.nan_to_num(phases), readout, self._table)
            correct = ((pred == data.y_test) & valid).sum(axis=1)
            h[f"test_acc_{readout}"].append(
                np.where(counted > 0, correct / np.maximum(counted, 1), 0.0)
            )
        sample_loss = loss(np.nan_to_num(phases), self._table[data.y_test])
        h["test_loss"].append(
            np.where(valid, sample_loss, 0).sum(1) / np.maximum(counted, 1)
        )
        h["phases"] = phases

        log.info(
            "epoch %d: mean test accuracy %.3f (paper readout), %.3f (target "
            "readout) over %d members",
            epoch,
            h["test_acc_paper"][-1].mean(),
            h["test_acc_target"][-1].mean(),
            batch,
        )
        if cfg.diagnose:
            h["cond"].append(self._condition())
        be.program(omega=saved_omega)

    def _condition(self) -> np.ndarray:
        """Condition number of the reduced Jacobian at the free equilibrium of
        each member's first training sample, settled from rest."""
        be = self.backend
        be.reset()
        be.set_inputs(self.data.x_train[:, 0])
        theta = be.settle().theta

        weight = be.coupling * np.cos(theta[:, self._ej] - theta[:, self._ei])
        batch, n = theta.shape
        lap = np.zeros((batch, n, n))
        rows = np.arange(batch)[:, None]
        np.add.at(lap, (rows, self._ei, self._ej), -weight)
        np.add.at(lap, (rows, self._ej, self._ei), -weight)
        np.add.at(lap, (rows, self._ei, self._ei), weight)
        np.add.at(lap, (rows, self._ej, self._ej), weight)
        return np.linalg.cond(lap[:, 1:, 1:])

    # -- checkpoints ------------------------------------------------------------

    @functools.cached_property
    def _fingerprint(self) -> str:
        """What a checkpoint must have been written by; computed once, since it
        goes into the checkpoint after every epoch."""
        d = self.data
        digest = hashlib.sha256()
        for arr in (d.x_train, d.y_train, d.x_test, d.y_test):
            digest.update(np.ascontiguousarray(arr).tobytes())

        payload = {
            "config": self.config.to_dict(),
            "specs": [s.to_dict() for s in self.specs],
            "backend": self.backend.info.to_dict(),
            "data": digest.hexdigest(),
        }
        return json.dumps(payload, sort_keys=True)

    def _save(self, path: str | Path, epoch: int) -> None:
        h = self._hist
        arrays = {f"hist_{k}": np.asarray(v) for k, v in h.items()}
        meta = {
            "format": CHECKPOINT_FORMAT,
            "epoch": epoch,
            "fingerprint": self._fingerprint,
            "rngs": [rng.bit_generator.state for rng in self._rngs],
        }

        buf = io.BytesIO()
        np.savez(
            buf,
            meta=np.array(json.dumps(meta)),
            omega=self.backend.omega,
            coupling=self.backend.coupling,
            omega0=self._omega0,
            coupling0=self._coupling0,
            omega_req=self._omega_req,
            coupling_req=self._coupling_req,
            **arrays,
        )
        atomic_write_bytes(path, buf.getvalue())

    def _load(self, path: str | Path) -> int | None:
        path = Path(path)
        if not path.exists():
            return None
        try:
            with np.load(path) as f:
                meta = json.loads(str(f["meta"]))
                stored = {k: f[k] for k in f.files}
        except Exception as exc:
            raise ValueError(
                f"Checkpoint {path} cannot be read ({exc}); delete it to start over."
            ) from exc

        if meta.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{path} is not a kurahw training checkpoint.")
        if meta["fingerprint"] != self._fingerprint:
            raise ValueError(
                f"Checkpoint {path} was written by a different configuration, data "
                "or backend; use another output folder or delete it to start over."
            )

        self._rngs = []
        for state in meta["rngs"]:
            rng = np.random.default_rng()
            rng.bit_generator.state = state
            self._rngs.append(rng)
        self._omega0, self._coupling0 = stored["omega0"], stored["coupling0"]
        self.backend.program(omega=stored["omega"], coupling=stored["coupling"])
        self._omega_req = stored["omega_req"]
        self._coupling_req = stored["coupling_req"]

        hist = self._empty_history()
        for key in hist:
            value = stored[f"hist_{key}"]
            hist[key] = list(value) if isinstance(hist[key], list) else value.copy()
        hist["phases"] = stored["hist_phases"]
        self._hist = hist
        return int(meta["epoch"])


def _estimate(free, nudged, betas, *, wrap: bool) -> np.ndarray:
    """Minus the slope of a measured quantity against the realised nudge, from
    its free value and its values under the plan's nudges, shape (batch, k).

    With one nudge this is the paper's ``(free - nudged) / beta``, computed
    exactly so; a phase displacement beyond +-pi (``wrap``) is a readout
    wrapped at +-pi, not a 2 pi step, and is mapped back.
    """
    if len(nudged) > 1:
        values = np.array([free, *nudged])
        strengths = np.array([np.zeros_like(betas[0]), *betas])
        return slope_gradient(values, strengths, wrap=wrap)

    d = free - nudged[0]
    if wrap and (np.abs(d) > np.pi).any():
        d = np.where(np.abs(d) > np.pi, np.angle(np.exp(1j * d)), d)
    return d / betas[0][:, None]


def train(
    backend: Backend,
    data: TaskData,
    specs: Sequence[RunSpec],
    config: TrainConfig | None = None,
    **options,
) -> TrainResult:
    """Build a :class:`Trainer` and run it; ``options`` go to :meth:`Trainer.run`
    (``checkpoint``) or the constructor (``progress``)."""
    checkpoint = options.pop("checkpoint", None)
    return Trainer(backend, data, specs, config, **options).run(checkpoint)
