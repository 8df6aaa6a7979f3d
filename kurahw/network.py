"""Oscillator networks: roles, a sparse symmetric coupling graph, natural frequencies.

A :class:`Network` is one physical network; a :class:`NetworkBatch` is B networks
that share the same nodes, roles and edge list but carry their own couplings and
frequencies (one per seed), so that they can be solved in lockstep.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from kurahw._io import atomic_write_json
from kurahw.errors import NetworkError

__all__ = [
    "Network",
    "NetworkBatch",
    "erdos_renyi_network",
    "layered_network",
]

_FORMAT = "kurahw.network/1"


def _as_index_tuple(name: str, values: Any, n: int) -> tuple[int, ...]:
    arr = np.asarray(values if values is not None else [], dtype=float).ravel()
    if arr.size and (not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr))):
        raise NetworkError(
            f"`{name}` must hold whole node indices, got {list(values)}."
        )

    idx = arr.astype(np.int64)
    bad = idx[(idx < 0) | (idx >= n)]
    if bad.size:
        raise NetworkError(
            f"`{name}` has node index {int(bad[0])} outside 0..{n - 1}; "
            f"indices must name nodes of this {n}-node network."
        )
    if len(set(idx.tolist())) != idx.size:
        raise NetworkError(f"`{name}` lists a node twice: {idx.tolist()}.")
    return tuple(int(i) for i in idx)


def _check_finite(name: str, arr: np.ndarray) -> None:
    if not np.all(np.isfinite(arr)):
        where = np.argwhere(~np.isfinite(arr))[0].tolist()
        raise NetworkError(
            f"`{name}` has a non-finite value {arr[tuple(where)]!r} at index {where}; "
            "replace NaN or infinite entries with finite numbers."
        )


def _components(n: int, edges: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Connected-component label of every node, counting only active edges."""
    graph = sp.coo_matrix(
        (np.ones(int(active.sum())), (edges[active, 0], edges[active, 1])), shape=(n, n)
    )
    _, labels = sp.csgraph.connected_components(graph, directed=False)
    return labels


def _check_connected(n: int, edges: np.ndarray, active: np.ndarray, what: str) -> None:
    labels = _components(n, edges, active)
    n_comp = int(labels.max()) + 1 if n else 0
    if n_comp > 1:
        sizes = np.bincount(labels)
        stray = np.flatnonzero(labels != labels[0])[:8].tolist()
        raise NetworkError(
            f"{what} is disconnected: {n_comp} components of sizes "
            f"{sorted(sizes.tolist(), reverse=True)[:8]}; nodes {stray} cannot reach "
            "node 0. Phases of separate components are not locked to each other, so "
            "no equilibrium in the pinned frame exists: add couplings that join them."
        )


@dataclass(frozen=True, eq=False)
class Network:
    """One Kuramoto oscillator network.

    Parameters
    ----------
    edges : ndarray of int, shape (m, 2)
        Coupled node pairs ``(i, j)`` with ``i < j``; each pair at most once.
    coupling : ndarray, shape (m,)
        Coupling strength ``K_ij`` of each edge (the pull of ``j`` on ``i``), >= 0.
    omega : ndarray, shape (n,)
        Natural frequencies in rad per unit time (raw, not mean-centred).
    inputs, outputs : sequence of int
        Node roles. Hidden nodes are all the others unless ``hidden`` is given.
    hidden : sequence of int, optional
    coupling_reverse : ndarray, shape (m,), optional
        ``K_ji`` for an asymmetric network (the pull of ``i`` on ``j``). Only
        accepted with ``allow_asymmetric=True``; the EP identity needs symmetry.
    input_gain : float
        Natural frequency of an input oscillator per unit of input feature.
    allow_asymmetric : bool
        Accept ``coupling_reverse`` different from ``coupling``.

    Node 0 is the phase reference (pinned at 0 by the solver); it may not be an
    output, since its phase cannot be nudged in the pinned frame.
    """

    edges: np.ndarray
    coupling: np.ndarray
    omega: np.ndarray
    inputs: tuple[int, ...] = ()
    outputs: tuple[int, ...] = ()
    hidden: tuple[int, ...] | None = None
    coupling_reverse: np.ndarray | None = None
    input_gain: float = 1.5
    allow_asymmetric: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        omega = np.array(self.omega, dtype=float)
        if omega.ndim != 1 or omega.size < 2:
            raise NetworkError(
                f"`omega` must be a 1-D array of at least 2 frequencies, got shape "
                f"{omega.shape}."
            )
        _check_finite("omega", omega)

        n = omega.size
        edges, coupling, reverse = _validate_edges(
            n, self.edges, self.coupling, self.coupling_reverse, self.allow_asymmetric
        )

        inputs = _as_index_tuple("inputs", self.inputs, n)
        outputs = _as_index_tuple("outputs", self.outputs, n)
        if self.hidden is None:
            taken = set(inputs) | set(outputs)
            hidden = tuple(i for i in range(n) if i not in taken)
        else:
            hidden = _as_index_tuple("hidden", self.hidden, n)
        _check_roles(n, inputs, hidden, outputs)
        if not np.isfinite(self.input_gain):
            raise NetworkError(f"`input_gain` must be finite, got {self.input_gain!r}.")

        active = (coupling > 0) | (reverse > 0 if reverse is not None else False)
        _check_connected(n, edges, active, "The coupling graph")

        for name, value in [
            ("omega", omega),
            ("edges", edges),
            ("coupling", coupling),
            ("coupling_reverse", reverse),
            ("inputs", inputs),
            ("outputs", outputs),
            ("hidden", hidden),
            ("input_gain", float(self.input_gain)),
        ]:
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
            object.__setattr__(self, name, value)

    # -- construction -------------------------------------------------------------

    @classmethod
    def from_matrix(
        cls,
        coupling: np.ndarray,
        omega: np.ndarray,
        *,
        inputs=(),
        outputs=(),
        hidden=None,
        input_gain: float = 1.5,
        allow_asymmetric: bool = False,
    ) -> Network:
        """Build a network from a dense ``(n, n)`` coupling matrix.

        ``coupling[i, j]`` is the pull of ``j`` on ``i``. Nonzero entries define
        the edges. The matrix must be symmetric unless ``allow_asymmetric``.
        """
        k = np.asarray(coupling, dtype=float)
        omega = np.asarray(omega, dtype=float)
        if k.ndim != 2 or k.shape[0] != k.shape[1]:
            raise NetworkError(
                f"`coupling` must be a square matrix, got shape {k.shape}."
            )
        if omega.shape != (k.shape[0],):
            raise NetworkError(
                f"`omega` has shape {omega.shape} but `coupling` is {k.shape}; give "
                "one "
                "natural frequency per node."
            )
        _check_finite("coupling", k)
        if np.any(np.diag(k) != 0):
            i = int(np.flatnonzero(np.diag(k))[0])
            raise NetworkError(
                f"`coupling[{i}, {i}]` is {k[i, i]!r}; self-coupling has no effect on "
                "phase dynamics, set the diagonal to 0."
            )

        iu, ju = np.nonzero(np.triu((k != 0) | (k.T != 0), 1))
        edges = np.stack([iu, ju], axis=1)
        forward = k[iu, ju]
        backward = k[ju, iu]
        reverse = None if np.array_equal(forward, backward) else backward

        return cls(
            edges=edges,
            coupling=forward,
            omega=omega,
            inputs=inputs,
            outputs=outputs,
            hidden=hidden,
            coupling_reverse=reverse,
            input_gain=input_gain,
            allow_asymmetric=allow_asymmetric,
        )

    def replace(self, **changes) -> Network:
        """A copy with some fields changed (validated again)."""
        fields = {
            "edges": self.edges,
            "coupling": self.coupling,
            "omega": self.omega,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "hidden": self.hidden,
            "coupling_reverse": self.coupling_reverse,
            "input_gain": self.input_gain,
            "allow_asymmetric": self.allow_asymmetric,
        }

        fields.update(changes)
        return Network(**fields)

    # -- derived views ------------------------------------------------------------

    @property
    def n(self) -> int:
        """Number of oscillators."""
        return self.omega.size

    @property
    def n_edges(self) -> int:
        """Number of coupled pairs."""
        return self.edges.shape[0]

    @property
    def is_symmetric(self) -> bool:
        """True when ``K_ij == K_ji`` on every edge."""
        return self.coupling_reverse is None

    @property
    def omega_centered(self) -> np.ndarray:
        """Natural frequencies minus their mean over all nodes, shape (n,)."""
        return self.omega - self.omega.mean()

    def coupling_matrix(self, sparse: bool = False) -> np.ndarray | sp.csr_matrix:
        """The ``(n, n)`` coupling matrix, dense or as a CSR sparse matrix."""
        i, j = self.edges[:, 0], self.edges[:, 1]
        back = self.coupling if self.coupling_reverse is None else self.coupling_reverse
        mat = sp.csr_matrix(
            (np.concatenate([self.coupling, back]), (np.r_[i, j], np.r_[j, i])),
            shape=(self.n, self.n),
        )
        return mat if sparse else mat.toarray()

    def with_inputs(self, features: np.ndarray) -> Network:
        """A copy whose input oscillators run at ``input_gain * features``."""
        omega = np.array(self.omega)
        omega[list(self.inputs)] = self.input_gain * _input_vector(features, self)
        return self.replace(omega=omega)

    # -- persistence --------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description (floats round-trip exactly)."""
        out = {
            "format": _FORMAT,
            "n": self.n,
            "inputs": list(self.inputs),
            "hidden": list(self.hidden),
            "outputs": list(self.outputs),
            "input_gain": self.input_gain,
            "omega": self.omega.tolist(),
            "edges": self.edges.tolist(),
            "coupling": self.coupling.tolist(),
        }

        if self.coupling_reverse is not None:
            out["coupling_reverse"] = self.coupling_reverse.tolist()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Network:
        """Inverse of :meth:`to_dict`."""
        if data.get("format") != _FORMAT:
            raise NetworkError(
                "Not a kurahw network description: `format` is "
                f"{data.get('format')!r}, "
                f"expected {_FORMAT!r}."
            )

        try:
            edges = np.asarray(data["edges"], dtype=np.int64).reshape(-1, 2)
            return cls(
                edges=edges,
                coupling=np.asarray(data["coupling"], dtype=float),
                omega=np.asarray(data["omega"], dtype=float),
                inputs=data["inputs"],
                outputs=data["outputs"],
                hidden=data["hidden"],
                coupling_reverse=(
                    np.asarray(data["coupling_reverse"], dtype=float)
                    if "coupling_reverse" in data
                    else None
                ),
                input_gain=float(data.get("input_gain", 1.5)),
                allow_asymmetric="coupling_reverse" in data,
            )
        except KeyError as exc:
            raise NetworkError(f"Network description lacks the field {exc}.") from None

    def save(self, path: str | os.PathLike) -> Path:
        """Write the network as JSON (atomically)."""
        return atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike) -> Network:
        """Read a network written by :meth:`save`."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NetworkError(f"No network file at {str(path)!r}.") from None
        except json.JSONDecodeError as exc:
            raise NetworkError(f"{str(path)!r} is not valid JSON: {exc}.") from None
        return cls.from_dict(data)


def _input_vector(features, network: Network) -> np.ndarray:
    x = np.asarray(features, dtype=float)
    if x.shape != (len(network.inputs),):
        raise NetworkError(
            f"`features` has shape {x.shape}; this network has {len(network.inputs)} "
            "input oscillators, give one feature per input."
        )
    _check_finite("features", x)
    return x


def _validate_edges(n, edges, coupling, reverse, allow_asymmetric):
    e = np.asarray(edges)
    if e.size == 0:
        e = e.reshape(0, 2)
    if e.ndim != 2 or e.shape[1] != 2:
        raise NetworkError(f"`edges` must have shape (m, 2), got {e.shape}.")
    if not np.issubdtype(e.dtype, np.integer):
        if not np.all(np.isfinite(e)) or np.any(e != np.round(e)):
            raise NetworkError("`edges` must hold whole node indices.")

    e = e.astype(np.int64)
    if e.size and (e.min() < 0 or e.max() >= n):
        raise NetworkError(
            f"`edges` names node {int(e.max() if e.max() >= n else e.min())}, outside "
            f"0..{n - 1}."
        )
    if np.any(e[:, 0] == e[:, 1]):
        raise NetworkError("`edges` contains a self-loop; remove pairs (i, i).")

    k = np.array(coupling, dtype=float)
    if k.shape != (e.shape[0],):
        raise NetworkError(
            f"`coupling` has shape {k.shape}; give one strength per edge, shape "
            f"({e.shape[0]},)."
        )
    _check_finite("coupling", k)

    # Canonical order: i < j, sorted lexicographically.
    swap = e[:, 0] > e[:, 1]
    if reverse is not None:
        r = np.array(reverse, dtype=float)
        if r.shape != k.shape:
            raise NetworkError(
                f"`coupling_reverse` has shape {r.shape}, `coupling` has {k.shape}."
            )
        _check_finite("coupling_reverse", r)
        k[swap], r[swap] = r[swap].copy(), k[swap].copy()
    else:
        r = None
    e = np.sort(e, axis=1)
    order = np.lexsort((e[:, 1], e[:, 0]))
    e, k = e[order], k[order]
    r = r[order] if r is not None else None

    if e.shape[0] > 1 and np.any(np.all(e[1:] == e[:-1], axis=1)):
        dup = e[1:][np.all(e[1:] == e[:-1], axis=1)][0].tolist()
        raise NetworkError(f"`edges` lists the pair {dup} twice; give each pair once.")

    for name, arr in (("coupling", k), ("coupling_reverse", r)):
        if arr is not None and np.any(arr < 0):
            at = int(np.flatnonzero(arr < 0)[0])
            raise NetworkError(
                f"`{name}` is negative ({arr[at]!r}) on edge {e[at].tolist()}; "
                "couplings "
                "must be >= 0 (an attractive Kuramoto network). Use a positive value "
                "or "
                "remove the edge."
            )

    if r is not None:
        if np.array_equal(r, k):
            r = None
        elif not allow_asymmetric:
            at = int(np.flatnonzero(r != k)[0])
            raise NetworkError(
                f"The coupling is asymmetric: K[{e[at, 0]}, {e[at, 1]}] = {k[at]!r} "
                "but "
                f"K[{e[at, 1]}, {e[at, 0]}] = {r[at]!r}. The phase-gradient identity "
                "needs K symmetric; symmetrise it, or pass `allow_asymmetric=True` to "
                "study the asymmetric case on purpose."
            )
    return e, k, r


def _check_roles(n, inputs, hidden, outputs) -> None:
    roles = {"inputs": set(inputs), "hidden": set(hidden), "outputs": set(outputs)}
    names = list(roles)
    for a in range(3):
        for b in range(a + 1, 3):
            both = roles[names[a]] & roles[names[b]]
            if both:
                raise NetworkError(
                    f"Node(s) {sorted(both)} are in both `{names[a]}` and "
                    f"`{names[b]}`; "
                    "each node has exactly one role."
                )

    covered = len(inputs) + len(hidden) + len(outputs)
    if covered != n:
        missing = sorted(set(range(n)) - set().union(*roles.values()))
        raise NetworkError(
            f"Nodes {missing} have no role; list them in `inputs`, `hidden` or "
            "`outputs` (or leave `hidden=None` to make every other node hidden)."
        )

    if 0 in outputs:
        raise NetworkError(
            "Node 0 is an output, but node 0 is the phase reference pinned at 0 and "
            "cannot be nudged; renumber the nodes so that an input or hidden node is 0."
        )


@dataclass(frozen=True, eq=False)
class NetworkBatch:
    """B networks with one shared structure and their own parameters.

    Parameters
    ----------
    template : Network
        Supplies the nodes, roles and edge list shared by every member.
    coupling : ndarray, shape (batch, m)
    omega : ndarray, shape (batch, n)
    """

    template: Network
    coupling: np.ndarray
    omega: np.ndarray

    def __post_init__(self) -> None:
        if not self.template.is_symmetric:
            raise NetworkError(
                "A NetworkBatch needs symmetric couplings; solve asymmetric networks "
                "one "
                "at a time."
            )

        k = np.array(self.coupling, dtype=float)
        om = np.array(self.omega, dtype=float)
        m, n = self.template.n_edges, self.template.n
        if k.ndim != 2 or k.shape[1] != m:
            raise NetworkError(
                f"`coupling` must have shape (batch, {m}), got {k.shape}."
            )
        if om.shape != (k.shape[0], n):
            raise NetworkError(
                f"`omega` must have shape ({k.shape[0]}, {n}) to match `coupling`, got "
                f"{om.shape}."
            )
        _check_finite("coupling", k)
        _check_finite("omega", om)
        if np.any(k < 0):
            b, e = np.argwhere(k < 0)[0]
            raise NetworkError(
                f"`coupling[{b}, {e}]` is negative ({k[b, e]!r}); couplings must be "
                ">= 0."
            )

        for b in range(k.shape[0]):
            _check_connected(n, self.template.edges, k[b] > 0, f"Batch member {b}")

        object.__setattr__(self, "coupling", k)
        object.__setattr__(self, "omega", om)

    @classmethod
    def stack(cls, networks: list[Network]) -> NetworkBatch:
        """Stack networks that share nodes, roles and edges."""
        if not networks:
            raise NetworkError("`networks` is empty; give at least one network.")

        first = networks[0]
        for b, net in enumerate(networks[1:], start=1):
            same = (
                net.n == first.n
                and np.array_equal(net.edges, first.edges)
                and (net.inputs, net.hidden, net.outputs)
                == (first.inputs, first.hidden, first.outputs)
            )
            if not same:
                raise NetworkError(
                    f"Network {b} differs from network 0 in its nodes, roles or "
                    "edges; a "
                    "batch shares one structure."
                )

        return cls(
            template=first,
            coupling=np.stack([net.coupling for net in networks]),
            omega=np.stack([net.omega for net in networks]),
        )

    @property
    def batch_size(self) -> int:
        """Number of member networks."""
        return self.coupling.shape[0]

    def member(self, b: int) -> Network:
        """Member ``b`` as a stand-alone :class:`Network`."""
        return self.template.replace(coupling=self.coupling[b], omega=self.omega[b])


# -- builders ---------------------------------------------------------------------


def layered_network(
    n_input: int = 2,
    n_hidden: int = 5,
    n_output: int = 2,
    *,
    k_scale: float = 2.0,
    input_gain: float = 1.5,
    seed: int = 0,
) -> Network:
    """The layered network of the paper's classification experiments.

    Inputs ``0..n_input-1``, hidden next, outputs last. Every input couples to
    every hidden node and every hidden node to every output, with strength
    ``k_scale * U(0.5, 1.5)``; neighbouring hidden nodes form a chain with
    ``k_scale * U(0.5, 1.0)``. Hidden and output frequencies are ``U(-0.3, 0.3)``,
    inputs start at 0. Random numbers are drawn from ``numpy.random.default_rng(seed)``
    in the order of the paper's released code, so a seed gives the same network.
    """
    for name, value, low in (
        ("n_input", n_input, 1),
        ("n_hidden", n_hidden, 1),
        ("n_output", n_output, 1),
    ):
        if int(value) != value or value < low:
            raise NetworkError(
                f"`{name}` must be a whole number >= {low}, got {value!r}."
            )
    if not (np.isfinite(k_scale) and k_scale > 0):
        raise NetworkError(f"`k_scale` must be positive and finite, got {k_scale!r}.")

    rng = np.random.default_rng(seed)
    n = n_input + n_hidden + n_output
    inputs = list(range(n_input))
    hidden = list(range(n_input, n_input + n_hidden))
    outputs = list(range(n_input + n_hidden, n))

    omega = np.zeros(n)
    for i in hidden + outputs:
        omega[i] = rng.uniform(-0.3, 0.3)

    edges, coupling = [], []
    for i in inputs:
        for h in hidden:
            edges.append((i, h))
            coupling.append(k_scale * rng.uniform(0.5, 1.5))
    for h in hidden:
        for o in outputs:
            edges.append((h, o))
            coupling.append(k_scale * rng.uniform(0.5, 1.5))
    for a, b in zip(hidden[:-1], hidden[1:], strict=True):
        edges.append((a, b))
        coupling.append(k_scale * rng.uniform(0.5, 1.0))
    return Network(
        edges=np.array(edges),
        coupling=np.array(coupling),
        omega=omega,
        inputs=inputs,
        outputs=outputs,
        input_gain=input_gain,
    )


def erdos_renyi_network(
    n: int,
    *,
    p: float = 0.6,
    k_mean: float = 5.0,
    omega_std: float = 0.3,
    n_output: int = 2,
    seed: int = 42,
) -> Network:
    """A random test network: each pair coupled with probability ``p``.

    Frequencies are ``omega_std * N(0, 1)``, mean-subtracted; each edge has
    strength ``k_mean * U(0.5, 1.5)``; the last ``n_output`` nodes are outputs and
    there are no inputs. Draw order follows the paper's released code (all
    frequencies first, then pairs ``i < j`` row by row, a strength drawn only for
    a pair that is coupled), so a seed gives the paper's network.
    """
    if int(n) != n or n < 3:
        raise NetworkError(f"`n` must be a whole number >= 3, got {n!r}.")
    if not 0 < p <= 1:
        raise NetworkError(f"`p` must be in (0, 1], got {p!r}.")
    if int(n_output) != n_output or not 1 <= n_output < n:
        raise NetworkError(f"`n_output` must be in 1..{n - 1}, got {n_output!r}.")

    rng = np.random.default_rng(seed)
    omega = omega_std * rng.standard_normal(n)
    omega -= omega.mean()

    edges, coupling = [], []
    for i in range(n):
        for j in range(i + 1, n):
            if rng.random() < p:
                edges.append((i, j))
                coupling.append(k_mean * rng.uniform(0.5, 1.5))

    return Network(
        edges=np.array(edges, dtype=np.int64).reshape(-1, 2),
        coupling=np.array(coupling),
        omega=omega,
        outputs=range(n - n_output, n),
    )
