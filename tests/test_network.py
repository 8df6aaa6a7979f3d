import json

import numpy as np
import pytest

from kurahw import Network, NetworkBatch, NetworkError
from kurahw.network import erdos_renyi_network, layered_network


def test_layered_structure_matches_paper_layout():
    net = layered_network(seed=0)
    assert (net.n, net.n_edges) == (9, 24)  # 5 n_h - 1 edges
    assert net.inputs == (0, 1) and net.hidden == (2, 3, 4, 5, 6)
    assert net.outputs == (7, 8)
    k = net.coupling_matrix()
    assert np.all(k[:2][:, 7:] == 0) and k[0, 1] == 0 and k[7, 8] == 0
    assert k[2, 4] == 0 and k[2, 3] > 0  # chain only between neighbours
    chain = [k[h, h + 1] for h in range(2, 6)]
    assert all(1.0 <= c <= 2.0 for c in chain)
    assert np.all(net.omega[:2] == 0) and np.all(np.abs(net.omega[2:]) <= 0.3)


def test_layered_uses_paper_draw_order():
    # Frequencies come first from the seed's stream, then inputs-to-hidden weights.
    rng = np.random.default_rng(7)
    omega = [rng.uniform(-0.3, 0.3) for _ in range(7)]
    first_weight = 2.0 * rng.uniform(0.5, 1.5)
    net = layered_network(seed=7)
    assert np.array_equal(net.omega[2:], omega)
    assert net.coupling_matrix()[0, 2] == first_weight


def test_erdos_renyi_draw_order_and_outputs():
    net = erdos_renyi_network(10, seed=3)
    rng = np.random.default_rng(3)
    omega = 0.3 * rng.standard_normal(10)
    assert np.allclose(net.omega, omega - omega.mean(), rtol=0, atol=1e-15)
    assert net.outputs == (8, 9) and net.inputs == ()


def test_json_round_trip_is_exact(tmp_path):
    net = layered_network(seed=11)
    path = net.save(tmp_path / "net.json")
    back = Network.load(path)
    assert np.array_equal(back.coupling, net.coupling)
    assert np.array_equal(back.omega, net.omega)
    assert np.array_equal(back.edges, net.edges)
    assert (back.inputs, back.hidden, back.outputs) == (
        net.inputs,
        net.hidden,
        net.outputs,
    )
    assert json.loads(path.read_text())["format"] == "kurahw.network/1"


def test_from_matrix_round_trip(layered):
    k = layered.coupling_matrix()
    back = Network.from_matrix(
        k, layered.omega, inputs=layered.inputs, outputs=layered.outputs
    )
    assert np.array_equal(back.coupling_matrix(), k)


def _matrix(n=4):
    k = np.ones((n, n)) - np.eye(n)
    return k


@pytest.mark.parametrize(
    ("mutate", "pattern"),
    [
        (lambda k, w: (k + np.triu(k, 1) * 0.5, w), "asymmetric"),
        (
            lambda k, w: (
                np.where(
                    np.eye(4, k=1, dtype=bool) | np.eye(4, k=-1, dtype=bool), -1.0, k
                ),
                w,
            ),
            "negative",
        ),
        (lambda k, w: (k, np.array([0.0, np.nan, 0, 0])), "non-finite"),
        (lambda k, w: (np.where(k > 0, np.inf, 0), w), "non-finite"),
        (lambda k, w: (np.kron(np.eye(2), [[0, 1], [1, 0]]), w), "disconnected"),
        (lambda k, w: (k[:3], w), "square"),
        (lambda k, w: (k, w[:3]), "one natural frequency per node"),
    ],
)
def test_bad_networks_are_refused_with_a_clear_message(mutate, pattern):
    k, w = mutate(_matrix(), np.zeros(4))
    with pytest.raises(NetworkError, match=pattern):
        Network.from_matrix(k, w, outputs=[3])


def test_asymmetry_is_accepted_when_asked_for():
    k = _matrix()
    k[0, 1] = 2.0
    net = Network.from_matrix(k, np.zeros(4), outputs=[3], allow_asymmetric=True)
    assert not net.is_symmetric
    assert net.coupling_matrix()[0, 1] == 2.0 and net.coupling_matrix()[1, 0] == 1.0


@pytest.mark.parametrize(
    ("roles", "pattern"),
    [
        ({"inputs": [1], "outputs": [1, 2]}, "both `inputs` and `outputs`"),
        ({"inputs": [1], "outputs": [3], "hidden": [2]}, "no role"),
        ({"outputs": [0]}, "Node 0 is an output"),
        ({"outputs": [7]}, "outside 0..3"),
        ({"outputs": [2, 2]}, "twice"),
    ],
)
def test_bad_roles(roles, pattern):
    with pytest.raises(NetworkError, match=pattern):
        Network.from_matrix(_matrix(), np.zeros(4), **roles)


def test_errors_name_the_argument_and_value():
    with pytest.raises(NetworkError) as info:
        Network(edges=[[0, 1], [1, 2]], coupling=[1.0, -0.5], omega=np.zeros(3))
    msg = str(info.value)
    assert "`coupling`" in msg and "-0.5" in msg and "[1, 2]" in msg


def test_edges_are_canonicalised():
    net = Network(edges=[[2, 1], [0, 1]], coupling=[3.0, 1.0], omega=np.zeros(3))
    assert net.edges.tolist() == [[0, 1], [1, 2]]
    assert net.coupling.tolist() == [1.0, 3.0]
    with pytest.raises(NetworkError, match="twice"):
        Network(edges=[[0, 1], [1, 0]], coupling=[1.0, 1.0], omega=np.zeros(3))


def test_batch_stack_and_member():
    nets = [layered_network(seed=s) for s in range(3)]
    batch = NetworkBatch.stack(nets)
    assert batch.batch_size == 3 and batch.coupling.shape == (3, 24)
    assert np.array_equal(batch.member(2).coupling, nets[2].coupling)
    with pytest.raises(NetworkError, match="differs"):
        NetworkBatch.stack([nets[0], layered_network(n_hidden=4)])


def test_with_inputs_checks_shape(layered):
    with pytest.raises(NetworkError, match="one feature per input"):
        layered.with_inputs([1.0, 2.0, 3.0])
    assert layered.with_inputs([1.0, -1.0]).omega[:2].tolist() == [1.5, -1.5]
