"""The ideal backend: exact equilibria of B independent networks in lockstep.

Every settle is a Newton solve to machine precision with a stability verdict
(:class:`kurahw.solver.Solver`); there is no noise, no quantisation and no
limit on the actuators. It is the reference the other backends are judged
against, and it runs a many-seed study as one vectorised computation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kurahw.backends.base import Backend, BackendInfo, Measurement
from kurahw.network import Network, NetworkBatch
from kurahw.solver import Nudge, Solver, Status

__all__ = ["IdealBackend"]


class IdealBackend(Backend):
    """Simulated networks with exact, noise-free equilibria.

    Parameters
    ----------
    networks : Network or NetworkBatch
        The starting parameters of each member; members share one structure.
    tol : float
        Residual tolerance of each solve (rad per unit time).
    max_iter : int
        Newton iterations per solve.
    """

    def __init__(
        self, networks: Network | NetworkBatch, *, tol: float = 1e-10, max_iter=100
    ) -> None:
        batch = (
            networks
            if isinstance(networks, NetworkBatch)
            else NetworkBatch.stack([networks])
        )
        super().__init__(BackendInfo.of_batch("ideal", batch, can_preset_phases=True))

        # The solver's own batch kernel choice depends on the batch size only,
        # so a member's results do not depend on what the other members do.
        self._solver = Solver(batch, tol=tol, max_iter=max_iter)
        self._omega = np.array(batch.omega)
        self._coupling = np.array(batch.coupling)
        self._theta = np.zeros((batch.batch_size, batch.template.n))
        self.tol = tol

    def _program(self, omega, coupling):
        if coupling is not None:
            self._solver.set_parameters(coupling=coupling)
            coupling = np.array(coupling)
        else:
            coupling = self._coupling
        omega = self._omega if omega is None else np.array(omega)
        return omega, coupling

    def _settle(self, theta0, reads):
        # The simulator reads its phases exactly: ``reads`` changes nothing.
        state = self.nudge_state
        nudge = None
        if state is not None:
            # Node 0 is the model's fixed reference: a counter-drive on it
            # changes nothing, so the balanced injection is the injection.
            form = "injection" if state.form == "balanced-injection" else state.form
            nudge = Nudge(state.targets, state.beta, form)

        start = self._theta if theta0 is None else theta0
        eq = self._solver.solve(start, omega=self._omega, nudge=nudge)
        self._theta = eq.theta

        status = np.asarray(eq.status)
        return Measurement(
            theta=eq.theta,
            residual=eq.residual,
            stable=status == Status.CONVERGED,
            status=status,
        )

    def _reset(self) -> None:
        self._theta = np.zeros_like(self._theta)

    def _snapshot(self) -> dict[str, Any]:
        return {"tol": self.tol, "solver_method": self._solver.method}
