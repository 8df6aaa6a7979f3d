"""The plain reference training loop: determinism, random stream, one exact update."""

from __future__ import annotations

import numpy as np
import pytest

from kurahw.data import VowelSplit, load_vowels, vowel_split
from kurahw.errors import NetworkError
from kurahw.gradients import ep_gradient
from kurahw.network import layered_network
from kurahw.reference import reference_train

# Every test here trains on the vowel data.
pytestmark = pytest.mark.vowels


@pytest.fixture(scope="module")
def split():
    features, labels = load_vowels()
    return vowel_split(features, labels, seed=0)


def head(split: VowelSplit, n_train: int, n_test: int = 5) -> VowelSplit:
    return VowelSplit(
        split.x_train[:n_train],
        split.y_train[:n_train],
        split.x_test[:n_test],
        split.y_test[:n_test],
    )


def test_two_epochs_run_and_repeat_exactly(split):
    net = layered_network(seed=0)
    a = reference_train(net, split, epochs=2, seed=0, eval_every=1)
    b = reference_train(net, split, epochs=2, seed=0, eval_every=1)

    for key in ("train_acc", "train_loss", "skipped", "test_acc"):
        assert a[key] == b[key]
    np.testing.assert_array_equal(a["omega"], b["omega"])
    assert len(a["train_acc"]) == len(a["skipped"]) == 2
    assert sorted(a["test_acc"]) == [1, 2]
    # All 55 test samples lock here, so accuracy moves in steps of 1/55.
    assert a["test_acc"][2] * 55 == pytest.approx(round(a["test_acc"][2] * 55))
    assert a["skipped"] == [0, 0]
    # Frequency-only by default: couplings and inputs untouched, others moved.
    np.testing.assert_array_equal(a["coupling"], net.coupling)
    np.testing.assert_array_equal(a["omega"][:2], net.omega[:2])
    assert np.all(a["omega"][2:] != net.omega[2:])


def test_paper_draws_shift_later_permutations(split):
    net = layered_network(seed=0)
    small = head(split, 30)
    plain = reference_train(net, small, epochs=3, seed=0)
    every5 = reference_train(net, small, epochs=3, seed=0, paper_eval_draws_every=5)
    every2 = reference_train(net, small, epochs=3, seed=0, paper_eval_draws_every=2)

    # One draw after epoch 1 in both paper runs; another after epoch 2 only with
    # every 2. Epoch 1 never depends on draws.
    assert plain["train_loss"][0] == every5["train_loss"][0] == every2["train_loss"][0]
    assert plain["train_loss"][1] != every5["train_loss"][1]
    assert every5["train_loss"][1] == every2["train_loss"][1]
    assert every5["train_loss"][2] != every2["train_loss"][2]
    assert not np.array_equal(plain["omega"], every5["omega"])
    assert sorted(plain["test_acc"]) == [3]
    assert sorted(every5["test_acc"]) == [1, 3]
    assert sorted(every2["test_acc"]) == [1, 2, 3]


@pytest.mark.parametrize("clip", [1e6, 0.01])
def test_one_update_is_the_clipped_ep_gradient(split, clip):
    net = layered_network(seed=0)
    one = head(split, 1, 1)
    x, label = one.x_train[0], int(one.y_train[0])
    lr = 1e-3
    out = reference_train(
        net, one, epochs=1, lr_omega=lr, lr_coupling=lr, clip=clip, seed=0
    )

    targets = np.where(np.arange(2) == label, -0.2, 0.2)
    grad, free, _ = ep_gradient(net.with_inputs(x), targets, 0.1)
    step_omega = (net.omega - out["omega"]) / lr
    step_coupling = (net.coupling - out["coupling"]) / lr
    np.testing.assert_allclose(
        step_omega[2:], np.clip(grad.omega[2:], -clip, clip), rtol=1e-5, atol=1e-7
    )
    assert np.all(step_omega[:2] == 0.0)
    np.testing.assert_allclose(
        step_coupling, np.clip(grad.coupling, -clip, clip), rtol=1e-5, atol=1e-7
    )
    if clip < 1:
        assert np.any(np.abs(grad.omega[2:]) > clip)

    theta_out = free.theta[[7, 8]]
    expected_loss = 0.5 * np.sum((theta_out - targets) ** 2)
    assert out["train_loss"] == [pytest.approx(expected_loss, rel=1e-7)]
    assert out["train_acc"] == [float(np.argmax(np.cos(theta_out)) == label)]


def test_masks_freeze_everything_else(split):
    net = layered_network(seed=0)
    omega_mask = np.zeros(net.n, dtype=bool)
    omega_mask[[0, 7]] = True  # node 0 is an input: it must stay put regardless
    edge_mask = np.zeros(net.n_edges, dtype=bool)
    edge_mask[[0, 10]] = True
    out = reference_train(
        net,
        head(split, 10),
        epochs=1,
        lr_omega=1e-2,
        lr_coupling=1e-2,
        omega_mask=omega_mask,
        edge_mask=edge_mask,
    )
    moved = np.flatnonzero(out["omega"] != net.omega)
    assert moved.tolist() == [7]
    assert np.flatnonzero(out["coupling"] != net.coupling).tolist() == [0, 10]


def test_bounds_hold_after_every_update(split):
    net = layered_network(seed=0)
    out = reference_train(
        net,
        head(split, 3),
        epochs=1,
        lr_coupling=1e-3,
        omega_bounds=(-0.1, 0.1),
        coupling_bounds=(2.0, 2.5),
    )
    assert np.all(np.abs(out["omega"][2:]) <= 0.1)
    assert np.all((out["coupling"] >= 2.0) & (out["coupling"] <= 2.5))


def test_unlocked_samples_are_skipped_and_not_counted(split):
    # Inputs detuned far beyond what the couplings can hold: no equilibrium.
    net = layered_network(seed=0, input_gain=60.0)
    out = reference_train(net, head(split, 4, 3), epochs=1)
    assert out["skipped"] == [4]
    assert out["train_acc"] == [0.0]
    assert out["test_acc"] == {1: 0.0}
    np.testing.assert_array_equal(out["omega"], net.omega)


def test_bad_arguments_name_themselves(split):
    net = layered_network(seed=0)
    with pytest.raises(ValueError, match="`omega_mask` must be a boolean array"):
        reference_train(net, split, epochs=1, omega_mask=np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="`epochs`"):
        reference_train(net, split, epochs=0)
    bad = VowelSplit(split.x_train, split.y_train + 2, split.x_test, split.y_test)
    with pytest.raises(ValueError, match="holds class 2"):
        reference_train(net, bad, epochs=1)
    three = layered_network(seed=0, n_input=3)
    with pytest.raises(ValueError, match=r"give shape \(220, 3\)"):
        reference_train(three, split, epochs=1)
    asym = net.replace(coupling_reverse=net.coupling * 1.1, allow_asymmetric=True)
    with pytest.raises(NetworkError, match="symmetric"):
        reference_train(asym, split, epochs=1)


def test_fill_switch_reproduces_the_published_training_curve(split):
    # The author's released training curves (joint frequency and coupling
    # training, seed 0, evaluation every 5 epochs) give this running loss and
    # accuracy for epoch 1; they come from a loop that clipped the whole coupling
    # matrix, so absent pairs became couplings of 0.01 after the first update.
    net = layered_network(seed=0)
    common = dict(epochs=1, lr_coupling=1e-3, seed=0, paper_eval_draws_every=5)
    filled = reference_train(net, split, paper_fill_absent=True, **common)
    assert filled["train_loss"][0] == pytest.approx(0.05038187886863732, rel=1e-10)
    assert filled["train_acc"][0] == pytest.approx(0.7090909090909091, rel=1e-12)

    off = ~np.eye(net.n, dtype=bool)
    assert np.all(filled["coupling_matrix"][off] > 0)
    i, j = net.edges[:, 0], net.edges[:, 1]
    np.testing.assert_array_equal(filled["coupling"], filled["coupling_matrix"][i, j])

    sparse = reference_train(net, split, **common)
    assert abs(sparse["train_loss"][0] - 0.05038187886863732) > 5e-5
    assert np.count_nonzero(sparse["coupling_matrix"][off]) == 2 * net.n_edges


def test_fill_switch_refuses_an_edge_mask(split):
    net = layered_network(seed=0)
    with pytest.raises(ValueError, match="do not combine"):
        reference_train(
            net,
            split,
            epochs=1,
            paper_fill_absent=True,
            edge_mask=np.ones(net.n_edges, dtype=bool),
        )
