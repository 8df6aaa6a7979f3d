import numpy as np
import pytest

from kurahw.backends import IdealBackend
from kurahw.data import load_vowels, vowel_split
from kurahw.gradients import ep_gradient
from kurahw.network import NetworkBatch, layered_network
from kurahw.training import (
    RunSpec,
    TaskData,
    TrainConfig,
    Trainer,
    predict,
    target_table,
    train,
)

# Every test here trains on the vowel data.
pytestmark = pytest.mark.vowels


@pytest.fixture(scope="module")
def vowels():
    return load_vowels()


def _setup(vowels, seeds, **spec):
    features, labels = vowels
    nets = NetworkBatch.stack([layered_network(seed=s) for s in seeds])
    data = TaskData.stack([vowel_split(features, labels, s) for s in seeds])
    specs = [RunSpec(seed=s, **spec) for s in seeds]
    return IdealBackend(nets), data, specs


def _run(vowels, seeds, config, **spec):
    return train(*_setup(vowels, seeds, **spec), config)


def test_first_update_is_the_clipped_ep_gradient(vowels):
    """One training sample by hand: the step equals -lr * clip(EP gradient)."""
    be, data, specs = _setup(vowels, [0], lr_omega=0.01, lr_coupling=0.02)
    cfg = TrainConfig(epochs=1)
    trainer = Trainer(be, data, specs, cfg)
    trainer._rngs = [np.random.default_rng(0)]
    trainer._hist = trainer._empty_history()
    first = np.random.default_rng(0).permutation(220)[0]
    x, y = data.x_train[0, first], data.y_train[0, first]
    net = layered_network(seed=0).with_inputs(x)
    targets = target_table(2, 0.2)[y]
    grad, _, _ = ep_gradient(net, targets, beta=0.1)

    # Train on that one sample only.
    one = TaskData(
        data.x_train[:, [first]], data.y_train[:, [first]], data.x_test, data.y_test
    )
    be2, _, _ = _setup(vowels, [0])
    result = train(be2, one, specs, cfg)

    expect_omega = net.omega - 0.01 * np.clip(grad.omega, -2, 2)
    expect_omega[:2] = result.omega[0, :2]  # inputs hold the sample
    np.testing.assert_allclose(result.omega[0], expect_omega, atol=1e-12)
    expect_k = np.clip(net.coupling - 0.02 * np.clip(grad.coupling, -2, 2), 0.01, 8)
    np.testing.assert_allclose(result.coupling[0], expect_k, atol=1e-12)


def test_same_seed_gives_bit_identical_histories(vowels):
    cfg = TrainConfig(epochs=2)
    a = _run(vowels, [3, 4], cfg)
    b = _run(vowels, [3, 4], cfg)
    for key in a.history:
        np.testing.assert_array_equal(a.history[key], b.history[key])
    np.testing.assert_array_equal(a.omega, b.omega)


def test_a_member_does_not_depend_on_its_batch(vowels):
    """Seed 3 alone, in a small batch and in a batch large enough for the
    vectorised kernel: the same bits."""
    cfg = TrainConfig(epochs=1)
    alone = _run(vowels, [3], cfg)
    big = _run(vowels, [3, *range(30, 50)], cfg)
    np.testing.assert_array_equal(alone.omega[0], big.omega[0])
    np.testing.assert_array_equal(
        alone.history["train_correct_paper"][:, 0],
        big.history["train_correct_paper"][:, 0],
    )


def test_evaluation_frequency_does_not_change_training(vowels):
    rare = _run(vowels, [1], TrainConfig(epochs=3))
    often = _run(vowels, [1], TrainConfig(epochs=3, eval_every=1))
    np.testing.assert_array_equal(rare.omega, often.omega)
    np.testing.assert_array_equal(rare.final_test_acc(), often.final_test_acc())
    assert list(often.eval_epochs) == [0, 1, 2, 3]
    assert list(rare.eval_epochs) == [0, 3]


def test_paper_rng_draws_shift_the_sample_order(vowels):
    plain = _run(vowels, [1], TrainConfig(epochs=3))
    drawn = _run(vowels, [1], TrainConfig(epochs=3, paper_eval_draws_every=1))
    # numpy's stream makes a lone draw invisible to the next permutation of 220
    # items; the second draw (after epoch 2) changes epoch 3's order.
    assert not np.array_equal(plain.omega, drawn.omega)
    np.testing.assert_array_equal(
        plain.history["train_correct_paper"][:2],
        drawn.history["train_correct_paper"][:2],
    )


def test_resume_after_interruption_ends_like_an_uninterrupted_run(vowels, tmp_path):
    cfg = TrainConfig(epochs=4, eval_every=2)
    whole = _run(vowels, [2, 5], cfg)

    ckpt = tmp_path / "state.npz"

    def stop_after_two(epoch):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Trainer(*_setup(vowels, [2, 5]), cfg, progress=stop_after_two).run(ckpt)
    assert ckpt.exists()
    resumed = Trainer(*_setup(vowels, [2, 5]), cfg).run(ckpt)

    for key in whole.history:
        np.testing.assert_array_equal(whole.history[key], resumed.history[key])
    np.testing.assert_array_equal(whole.omega, resumed.omega)
    np.testing.assert_array_equal(whole.test_phases, resumed.test_phases)


def test_checkpoint_of_another_configuration_is_refused(vowels, tmp_path):
    ckpt = tmp_path / "state.npz"
    Trainer(*_setup(vowels, [2]), TrainConfig(epochs=1)).run(ckpt)
    with pytest.raises(ValueError, match="different configuration"):
        Trainer(*_setup(vowels, [2]), TrainConfig(epochs=2)).run(ckpt)


def test_masks_freeze_what_they_exclude(vowels):
    omega_mask = np.zeros(9, dtype=bool)
    omega_mask[[3, 7]] = True
    edge_mask = np.zeros(24, dtype=bool)
    edge_mask[[0, 5, 11]] = True
    be, data, _ = _setup(vowels, [0])
    spec = RunSpec(
        seed=0,
        lr_omega=0.01,
        lr_coupling=0.01,
        omega_mask=omega_mask,
        edge_mask=edge_mask,
    )
    start_omega, start_k = be.omega.copy(), be.coupling.copy()
    result = train(be, data, [spec], TrainConfig(epochs=1))

    changed_omega = result.omega[0, 2:] != start_omega[0, 2:]
    np.testing.assert_array_equal(changed_omega, omega_mask[2:])
    np.testing.assert_array_equal(result.coupling[0] != start_k[0], edge_mask)


def test_finite_difference_training_follows_ep_training(vowels):
    """With a small nudge the two gradient estimates drive the same trajectory."""
    cfg = dict(epochs=1, beta=1e-3)
    ep = _run(vowels, [0], TrainConfig(**cfg), lr_omega=0.01)
    fd = _run(
        vowels, [0], TrainConfig(gradient="finite-difference", **cfg), lr_omega=0.01
    )
    start = layered_network(seed=0).omega
    step_ep, step_fd = ep.omega[0, 2:] - start[2:], fd.omega[0, 2:] - start[2:]
    np.testing.assert_allclose(step_fd, step_ep, rtol=2e-3, atol=1e-7)


def test_published_per_seed_accuracies_are_reproduced(vowels):
    """The paper's released results for seeds 0-3 (frequency learning, random
    start, 200 epochs, its evaluation schedule): 94.5, 5.5, 98.2, 100 %."""
    cfg = TrainConfig(epochs=200, paper_eval_draws_every=200)
    result = _run(vowels, [0, 1, 2, 3], cfg)
    np.testing.assert_allclose(
        result.final_test_acc("paper"), [52 / 55, 3 / 55, 54 / 55, 1.0], atol=1.01 / 55
    )


def test_readouts():
    table = target_table(2, 0.2)
    phases = np.array([[-0.19, 0.21], [0.05, 0.1], [-0.3, -0.1]])
    # Paper: nearest to zero.  Target: nearest target pattern (lowest phase).
    np.testing.assert_array_equal(predict(phases, "paper", table), [0, 0, 1])
    np.testing.assert_array_equal(predict(phases, "target", table), [0, 0, 0])
    with pytest.raises(ValueError, match="`readout` is 'max'"):
        predict(phases, "max", table)


@pytest.mark.parametrize(
    "spec, match",
    [
        (dict(omega_mask=np.zeros(9, bool)), "selects no node"),
        (
            dict(lr_coupling=0.1, edge_mask=np.zeros(24, bool)),
            "selects no edge",
        ),
        (dict(omega_mask=np.ones(9, bool)), "marks input node"),
        (dict(edge_mask=np.ones(5, bool)), "`edge_mask` of seed 0 has shape"),
        (dict(lr_omega=-1.0), "`lr_omega` must be a number >= 0"),
    ],
)
def test_bad_specs_are_refused(vowels, spec, match):
    with pytest.raises(ValueError, match=match):
        be, data, _ = _setup(vowels, [0])
        Trainer(be, data, [RunSpec(seed=0, **spec)])


def test_bad_config_and_data_are_refused(vowels):
    with pytest.raises(ValueError, match="`epochs` must be a whole number"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="`readout` is 'cos'"):
        TrainConfig(readout="cos")
    with pytest.raises(ValueError, match="both must be non-empty"):
        TaskData(np.zeros((1, 0, 2)), np.zeros((1, 0), int), np.zeros((1, 3, 2)),
                 np.zeros((1, 3), int))  # fmt: skip
    be, data, specs = _setup(vowels, [0])
    with pytest.raises(ValueError, match="one RunSpec per member"):
        Trainer(be, data, specs * 2)


def test_trainer_follows_the_plain_fsolve_loop(vowels):
    """Three epochs of seeds 0 and 5, frequencies and couplings learning, against
    the independent per-sample fsolve implementation of the paper's loop."""
    from kurahw.reference import reference_train

    features, labels = vowels
    cfg = TrainConfig(epochs=3, eval_every=1)
    ours = _run(vowels, [0, 5], cfg, lr_omega=0.005, lr_coupling=0.005)
    for b, seed in enumerate([0, 5]):
        ref = reference_train(
            layered_network(seed=seed),
            vowel_split(features, labels, seed),
            epochs=3,
            lr_omega=0.005,
            lr_coupling=0.005,
            seed=seed,
            eval_every=1,
        )
        np.testing.assert_allclose(ours.omega[b, 2:], ref["omega"][2:], atol=1e-6)
        np.testing.assert_allclose(ours.coupling[b], ref["coupling"], atol=1e-6)
        np.testing.assert_allclose(ours.train_acc()[:, b], ref["train_acc"])
        np.testing.assert_allclose(
            ours.test_acc()[1:, b], [ref["test_acc"][e] for e in (1, 2, 3)]
        )


def test_physical_warm_starts_train_like_the_paper_chain(vowels):
    """Starting every settle from the network's current state, as a board
    must, reaches the same equilibria here: same predictions, same steps."""
    chain = _run(vowels, [0], TrainConfig(epochs=2))
    physical = _run(vowels, [0], TrainConfig(epochs=2, warm_start="physical"))
    np.testing.assert_array_equal(chain.train_acc(), physical.train_acc())
    np.testing.assert_allclose(chain.omega, physical.omega, atol=1e-9)


def test_chain_warm_starts_need_a_backend_that_can_preset_phases(vowels):
    be, data, specs = _setup(vowels, [0])
    object.__setattr__(be.info, "can_preset_phases", False)
    with pytest.raises(ValueError, match="warm_start='physical'"):
        Trainer(be, data, specs, TrainConfig())


def test_steps_below_an_actuator_step_accumulate(vowels):
    """On a board with coarse frequency codes (6 bits: steps of 0.127), every
    single update (at most 0.01 * 2) is below half a code step; the trainer
    keeps the requested values, so the codes still move once the steps add up,
    close to where continuous actuators would have taken them."""
    from kurahw.backends import DeviceModel, EmulatorBackend

    features, labels = vowels
    nets = NetworkBatch.stack([layered_network(seed=s) for s in (0, 1)])
    data = TaskData.stack([vowel_split(features, labels, s) for s in (0, 1)])
    specs = [RunSpec(seed=s, lr_omega=0.01) for s in (0, 1)]
    cfg = TrainConfig(epochs=3, warm_start="physical", nudge_form="injection")
    moved = {}
    for bits in (None, 6):
        model = DeviceModel.from_preset("ideal").replace(omega_bits=bits)
        board = EmulatorBackend(nets, model)
        start = board.omega.copy()
        moved[bits] = train(board, data, specs, cfg).omega[:, 2:] - start[:, 2:]

    step = 8.0 / 63
    assert 0.01 * 2 < step / 2
    assert (np.abs(moved[6]) > step / 2).any()
    np.testing.assert_allclose(moved[6] / step, np.round(moved[6] / step), atol=1e-9)
    np.testing.assert_allclose(moved[6], moved[None], atol=step / 2 + 0.01)


def _lockin_reference(net, targets):
    """Minus the least-squares slope of exact equilibria against the nudge
    strengths of the lock-in schedule, the free state included."""
    from kurahw.solver import Nudge, solve
    from kurahw.training.mitigation import LOCKIN_AMPLITUDES

    free = solve(net, tol=1e-13)
    betas = [0.0] + [s * a for a in LOCKIN_AMPLITUDES for s in (1, -1)]
    states = [free.theta]
    for b in betas[1:]:
        states.append(solve(net, free.theta, nudge=Nudge(targets, b), tol=1e-13).theta)
    states = np.array(states)
    cos = np.cos(states[:, net.edges[:, 1]] - states[:, net.edges[:, 0]])
    slope = np.polyfit(betas, states, 1)[0]
    slope_k = np.polyfit(betas, cos, 1)[0]
    return -slope, -slope_k


@pytest.mark.parametrize(
    "mitigation", ["average", "large-beta", "centered", "centered+large-beta", "lockin"]
)
def test_first_update_follows_each_mitigation(vowels, mitigation):
    """One sample by hand on the ideal backend: the step is the estimate the
    mitigation names, computed independently (``ep_gradient`` for two-phase
    and centred EP, a polynomial fit over exact equilibria for the lock-in)."""
    be, data, specs = _setup(vowels, [0], lr_omega=0.01, lr_coupling=0.02)
    first = np.random.default_rng(0).permutation(220)[0]
    x, y = data.x_train[0, first], data.y_train[0, first]
    net = layered_network(seed=0).with_inputs(x)
    targets = target_table(2, 0.2)[y]
    if mitigation == "lockin":
        g_omega, g_k = _lockin_reference(net, targets)
    else:
        beta = 0.5 if "large-beta" in mitigation else 0.1
        grad, _, _ = ep_gradient(
            net, targets, beta=beta, centered=mitigation.startswith("centered")
        )
        g_omega, g_k = grad.omega, grad.coupling

    one = TaskData(
        data.x_train[:, [first]], data.y_train[:, [first]], data.x_test, data.y_test
    )
    result = train(be, one, specs, TrainConfig(epochs=1, mitigation=mitigation))

    expect_omega = net.omega - 0.01 * np.clip(g_omega, -2, 2)
    expect_omega[:2] = result.omega[0, :2]
    np.testing.assert_allclose(result.omega[0], expect_omega, atol=1e-10)
    expect_k = np.clip(net.coupling - 0.02 * np.clip(g_k, -2, 2), 0.01, 8)
    np.testing.assert_allclose(result.coupling[0], expect_k, atol=1e-10)


def test_averaged_reads_reach_the_device():
    """``average`` asks the device for 16 readings per settle: on a board whose
    readout jitters, the free phases scatter four times less."""
    from kurahw.backends import DeviceModel, EmulatorBackend

    model = DeviceModel.from_preset("paper-tdc").replace(tdc_jitter_s=1e-11)
    nets = NetworkBatch.stack([layered_network(seed=0)] * 200)
    spread = {}
    for reads in (1, 16):
        board = EmulatorBackend(nets, model, seed=3)
        spread[reads] = board.settle(reads=reads).theta[:, 1:].std(axis=0).mean()
    assert 3.2 < spread[1] / spread[16] < 4.8


@pytest.mark.parametrize(
    "config, match",
    [
        ({"mitigation": "avg"}, r"`mitigation` is 'avg'; use one of none"),
        ({"mitigation": "lockin+centered"}, r"does not combine"),
        (
            {"mitigation": "centered", "gradient": "finite-difference"},
            r"measures no nudge; use mitigation='none'",
        ),
    ],
)
def test_bad_mitigations_are_refused(config, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**config)


def test_unlocked_settles_are_skipped_and_counted(vowels, caplog):
    """A board whose settles are far too short never locks: every sample is
    skipped, counted as such, logged, and no parameter moves."""
    from kurahw.backends import DeviceModel, EmulatorBackend

    features, labels = vowels
    nets = NetworkBatch.stack([layered_network(seed=s) for s in (0, 1)])
    data = TaskData.stack([vowel_split(features, labels, s) for s in (0, 1)])
    specs = [RunSpec(seed=s) for s in (0, 1)]
    model = DeviceModel().replace(settle_time=0.1, lock_tolerance=1e-6)
    board = EmulatorBackend(nets, model)
    start = board.omega.copy()
    cfg = TrainConfig(
        epochs=1,
        warm_start="physical",
        nudge_form="injection",
        require_stable=True,
        skip_free=np.inf,
        skip_nudge=np.inf,
        skip_eval=np.inf,
    )
    with caplog.at_level("WARNING"):
        result = train(board, data, specs, cfg)

    n_train = data.x_train.shape[1]
    np.testing.assert_array_equal(result.history["skipped_free"][0], [n_train] * 2)
    np.testing.assert_array_equal(result.history["train_counted"][0], [0, 0])
    np.testing.assert_array_equal(result.history["test_counted"][-1], [0, 0])
    np.testing.assert_array_equal(result.omega[:, 2:], start[:, 2:])
    assert f"{2 * n_train} of {2 * n_train} training samples were skipped" in (
        caplog.text
    )
