"""kurahw: train physical Kuramoto oscillator networks with Equilibrium Propagation.

The phase displacement of a weakly nudged, phase-locked network is the gradient of
the output loss with respect to the natural frequencies; this package solves,
measures and checks that, on simulated networks and (later) on real boards.
"""

from kurahw.errors import DataError, KurahwError, NetworkError, NotConvergedError
from kurahw.gradients import (
    Gradient,
    cosine,
    ep_gradient,
    exact_gradient,
    finite_difference_gradient,
    gradient_from_equilibria,
)
from kurahw.network import Network, NetworkBatch, erdos_renyi_network, layered_network
from kurahw.solver import Equilibrium, Nudge, Solver, Status, solve

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "Equilibrium",
    "Gradient",
    "KurahwError",
    "Network",
    "NetworkBatch",
    "NetworkError",
    "NotConvergedError",
    "Nudge",
    "Solver",
    "Status",
    "cosine",
    "ep_gradient",
    "erdos_renyi_network",
    "exact_gradient",
    "finite_difference_gradient",
    "gradient_from_equilibria",
    "layered_network",
    "solve",
]
