import numpy as np
import pytest

from kurahw.backends import (
    Backend,
    BackendInfo,
    IdealBackend,
    UnsupportedOperation,
    open_backend,
)
from kurahw.network import NetworkBatch, layered_network
from kurahw.solver import Nudge, solve


@pytest.fixture
def batch():
    return NetworkBatch.stack([layered_network(seed=s) for s in range(3)])


def test_settle_matches_the_solver(batch):
    be = IdealBackend(batch)
    x = np.array([[0.2, -0.5], [0.9, 0.1], [-0.3, -0.8]])
    be.set_inputs(x)
    m = be.settle()

    for b in range(3):
        net = batch.member(b).with_inputs(x[b])
        ref = solve(net)
        np.testing.assert_allclose(m.theta[b], ref.theta, atol=1e-12)
    assert m.stable.all()
    assert (m.residual < 1e-10).all()


def test_nudge_moves_outputs_toward_targets_and_release_undoes_it(batch):
    be = IdealBackend(batch)
    be.set_inputs([0.4, -0.2])
    free = be.settle()
    targets = free.theta[:, list(be.info.outputs)] + 0.3
    be.nudge(targets, 0.5)
    nudged = be.settle()
    moved = nudged.theta - free.theta
    assert (moved[:, list(be.info.outputs)] > 0).all()

    net = batch.member(1).with_inputs([0.4, -0.2])
    ref = solve(net, free.theta[1], nudge=Nudge(targets[1], 0.5))
    np.testing.assert_allclose(nudged.theta[1], ref.theta, atol=1e-12)

    be.release()
    np.testing.assert_allclose(be.settle().theta, free.theta, atol=1e-10)


def test_phases_persist_between_settles(batch):
    be = IdealBackend(batch)
    be.set_inputs([0.4, -0.2])
    first = be.settle()
    again = be.settle()
    assert (again.status == 0).all()
    np.testing.assert_array_equal(first.theta, again.theta)
    be.reset()
    assert be.settles == 2


def test_program_returns_realised_values_and_set_inputs_applies_gain(batch):
    be = IdealBackend(batch)
    omega, coupling = be.program(coupling=batch.coupling * 1.1)
    np.testing.assert_allclose(coupling, batch.coupling * 1.1)
    omega = be.set_inputs([[1.0, -1.0]] * 3)
    np.testing.assert_allclose(omega[:, :2], [[1.5, -1.5]] * 3)
    np.testing.assert_allclose(omega[:, 2:], batch.omega[:, 2:])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda be: be.program(omega=np.zeros(4)), "`omega` has shape"),
        (lambda be: be.program(coupling=-np.ones(24)), "couplings must be >= 0"),
        (lambda be: be.set_inputs([np.nan, 0.0]), "`features` contains NaN"),
        (lambda be: be.nudge([0.1, 0.2], 0.1, form="square"), "`form` is 'square'"),
        (lambda be: be.nudge([0.1, 0.2], [0.1, 0.2]), "`beta` must be"),
        (lambda be: be.nudge([0.1], 0.1), "`targets` has shape"),
    ],
)
def test_bad_arguments_are_named(batch, call, match):
    with pytest.raises(ValueError, match=match):
        call(IdealBackend(batch))


class _Board(Backend):
    """A backend that, like hardware, cannot start from given phases."""

    def __init__(self):
        net = layered_network(seed=0)
        super().__init__(
            BackendInfo(
                "fake", net.n, net.edges, net.inputs, net.hidden, net.outputs, 1.5, 1
            )
        )


def test_capabilities_a_backend_lacks_are_refused_clearly():
    board = _Board()
    with pytest.raises(UnsupportedOperation, match="cannot start a settle"):
        board.settle(np.zeros((1, 9)))
    with pytest.raises(UnsupportedOperation, match="no actuator codes"):
        board.set_codes([1, 2])
    with pytest.raises(NotImplementedError):
        board.measure_free_frequencies()


def test_open_backend_by_name(batch):
    assert isinstance(open_backend("ideal", batch), IdealBackend)
    with pytest.raises(ValueError, match="available backends: ideal"):
        open_backend("quantum", batch)


def test_snapshot_is_json_serialisable(batch):
    import json

    be = IdealBackend(batch)
    be.set_inputs([0.1, 0.2])
    be.settle()
    snap = json.loads(json.dumps(be.snapshot()))
    assert snap["info"]["batch"] == 3 and snap["settles"] == 1
