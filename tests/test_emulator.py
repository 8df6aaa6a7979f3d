import json
import math

import numpy as np
import pytest

from kurahw.backends import IdealBackend, UnsupportedOperation
from kurahw.backends.emulator import (
    PRESETS,
    DeviceModel,
    EmulatorBackend,
    SetpointClippedWarning,
)
from kurahw.network import Network, NetworkBatch, layered_network
from kurahw.physics import velocity
from kurahw.solver import Status
from kurahw.training import RunSpec, TaskData, TrainConfig, train

IDEAL = DeviceModel.from_preset("ideal")
# Integrated dynamics with every other effect off.
DYNAMIC = IDEAL.replace(settle_time=10.0)
INPUTS = np.array([[0.2, 0.5], [0.9, 0.1], [0.3, 0.8]])


@pytest.fixture
def batch():
    return NetworkBatch.stack([layered_network(seed=s) for s in range(3)])


def _pair(coupling=1.0, size=1, omega=(0.0, 0.0)):
    """Two oscillators, node 1 an output, ``size`` copies."""
    net = Network(
        edges=np.array([[0, 1]]),
        coupling=np.array([coupling]),
        omega=np.array(omega, dtype=float),
        outputs=[1],
    )
    return NetworkBatch.stack([net] * size)


# -- agreement with the ideal backend ------------------------------------------


def test_ideal_preset_agrees_with_the_ideal_backend(batch):
    em = EmulatorBackend(batch, "ideal")
    ref = IdealBackend(batch)
    targets = np.array([-0.2, 0.2])
    for x in (INPUTS, INPUTS[::-1], 0.5 * INPUTS):
        em.set_inputs(x)
        ref.set_inputs(x)
        free, free_ref = em.settle(), ref.settle()
        em.nudge(targets, 0.1)
        ref.nudge(targets, 0.1, "injection")
        nudged, nudged_ref = em.settle(), ref.settle()
        em.release()
        ref.release()

        for got, want in ((free, free_ref), (nudged, nudged_ref)):
            np.testing.assert_allclose(got.theta, want.theta, rtol=0, atol=1e-9)
            np.testing.assert_array_equal(got.stable, want.stable)
            assert (got.residual < 1e-10).all()
    np.testing.assert_array_equal(em.omega, ref.omega)
    np.testing.assert_array_equal(em.true_omega(), ref.omega)


def test_noise_free_integration_reaches_the_exact_free_equilibrium(batch):
    exact = EmulatorBackend(batch, "ideal")
    dyn = EmulatorBackend(batch, DYNAMIC)
    for be in (exact, dyn):
        be.set_inputs(INPUTS)
    want, got = exact.settle(), dyn.settle()

    np.testing.assert_allclose(got.theta, want.theta, atol=1e-9)
    assert got.stable.all()
    assert (got.status == Status.CONVERGED).all()
    assert (got.residual < 1e-9).all()


def test_integrated_nudge_is_locked_to_node_0(batch):
    """With the plain injection referenced to node 0, which feels no reaction,
    the nudged state is a lock of every oscillator to one common frequency; it
    is not the pinned-reference state of the paper's model, from which it
    differs in proportion to beta."""
    dyn = EmulatorBackend(batch, DYNAMIC)
    exact = EmulatorBackend(batch, "ideal")
    targets = np.array([-0.2, 0.2])
    gaps = []
    for beta in (0.1, 0.01):
        for be in (dyn, exact):
            be.release()
            be.set_inputs(INPUTS)
            be.settle()
            be.nudge(targets, beta, "injection")
        got, pinned = dyn.settle(), exact.settle()
        gaps.append(np.abs(got.theta - pinned.theta).max())

        omega_c = dyn.omega - dyn.omega.mean(axis=1, keepdims=True)
        speeds = velocity(
            batch.template.edges,
            batch.coupling,
            omega_c,
            got.theta,
            outputs=np.array(batch.template.outputs),
            targets=targets,
            beta=np.full(3, beta),
            form="injection",
        )
        assert np.ptp(speeds, axis=1).max() < 1e-9
    assert gaps[0] > 1e-4
    assert gaps[0] / gaps[1] == pytest.approx(10, rel=0.05)


def test_a_network_that_cannot_lock_reports_it():
    net = layered_network(seed=0, k_scale=0.05)
    omega = np.array(net.omega)
    omega[2:] = np.linspace(-3.0, 3.0, net.n - 2)
    net = net.replace(omega=omega)
    for model in (DYNAMIC, DeviceModel.from_preset("typical-bench")):
        be = EmulatorBackend(net, model)
        be.set_inputs([1.0, -1.0])
        m = be.settle()
        assert not m.stable.any()
        assert (m.residual > 1.0).all()
        assert (m.status == Status.MAX_ITER).all()


def test_a_typical_bench_locks_the_paper_network(batch):
    be = EmulatorBackend(batch, "typical-bench")
    be.set_inputs(INPUTS)
    free = be.settle()
    assert free.stable.all()
    assert (free.residual < be.model.lock_tolerance).all()

    exact = EmulatorBackend(batch, "ideal")
    exact.set_inputs(INPUTS)
    assert np.abs(free.theta - exact.settle().theta).max() < 0.2


# -- frequency and coupling actuators --------------------------------------------


def test_program_quantises_to_the_nearest_nominal_code(batch):
    be = EmulatorBackend(batch, "typical-bench")
    m = be.model
    step = (m.omega_range[1] - m.omega_range[0]) / (2**m.omega_bits - 1)
    assert be.info.omega_resolution == pytest.approx(step)
    request = np.random.default_rng(5).uniform(-3.9, 3.9, size=(3, 9))
    omega, coupling = be.program(omega=request)

    assert np.abs(omega - request).max() <= step / 2 + 1e-12
    codes = be.codes.omega
    assert codes.dtype == np.int64
    np.testing.assert_allclose(omega, m.omega_range[0] + codes * step)
    np.testing.assert_array_equal(be.program(omega=omega)[0], omega)

    # The host sees nominal values; the dynamics run on the true ones.
    assert np.abs(be.true_omega() - omega).max() > 10 * step
    kstep = be.info.coupling_resolution
    assert np.abs(coupling - batch.coupling).max() <= kstep / 2 + 1e-12


def test_true_frequencies_follow_gain_offset_and_a_monotone_nonlinearity(batch):
    model = IDEAL.replace(
        omega_bits=10, omega_gain_mismatch=0.03, omega_nonlinearity=0.2
    )
    be = EmulatorBackend(batch, model, seed=3)
    codes = np.arange(0, 1024, 31)
    assert codes[-1] == 1023
    sweep = []
    for c in codes:
        be.set_codes(omega_codes=np.full(9, c))
        sweep.append(be.measure_free_frequencies())
    sweep = np.array(sweep)

    assert (np.diff(sweep, axis=0) > 0).all()
    nominal = -4.0 + codes * 8.0 / 1023
    # Both ends keep only the gain error; the middle bows with the cubic term.
    gain = sweep[-1] / nominal[-1]
    assert np.abs(gain - 1).max() < 0.15 and np.abs(gain - 1).max() > 1e-3
    np.testing.assert_allclose(sweep[0] / nominal[0], gain, rtol=1e-12)
    bow = sweep / gain - nominal[:, None, None]
    assert np.abs(bow).max() > 0.01


def test_offset_and_measured_free_frequencies(batch):
    model = IDEAL.replace(omega_offset_mismatch=0.05)
    be = EmulatorBackend(batch, model, seed=1)
    measured = be.measure_free_frequencies()
    np.testing.assert_array_equal(measured, be.true_omega())
    offset = measured - be.omega
    assert 0.01 < offset.std() < 0.1


def test_measured_free_frequencies_carry_gate_noise(batch):
    model = IDEAL.replace(
        settle_time=10.0, phase_noise=0.05, tdc_jitter_s=2e-12, freq_gate_time=50.0
    )
    be = EmulatorBackend(NetworkBatch.stack([layered_network(seed=0)] * 40), model)
    err = np.concatenate(
        [be.measure_free_frequencies() - be.true_omega() for _ in range(5)]
    )
    jitter = model.phase_jitter_rad
    want = math.sqrt(0.05**2 * 50 + 2 * jitter**2) / 50
    assert err.std() == pytest.approx(want, rel=0.1)


def test_coupling_mismatch_and_asymmetry(batch):
    model = IDEAL.replace(coupling_gain_mismatch=0.05, coupling_asymmetry=0.02)
    be = EmulatorBackend(batch, model, seed=2)
    fwd, rev = be.true_coupling()
    k = be.coupling
    gain = 0.5 * (fwd + rev) / k
    asym = (fwd - rev) / (0.5 * (fwd + rev))
    assert 0.02 < np.std(gain) < 0.1
    assert 0.01 < np.std(asym) < 0.04
    assert (fwd != rev).all()


def test_asymmetric_exact_solve_uses_the_general_solver(batch):
    model = IDEAL.replace(coupling_asymmetry=0.02)
    be = EmulatorBackend(batch, model)
    sym = EmulatorBackend(batch, "ideal")
    for b in (be, sym):
        b.set_inputs(INPUTS)
    m, ref = be.settle(), sym.settle()
    assert m.stable.all() and (m.residual < 1e-10).all()
    assert 1e-6 < np.abs(m.theta - ref.theta).max() < 0.05
    be.nudge([-0.2, 0.2], 0.1)
    nudged = be.settle()
    assert nudged.stable.all() and (nudged.residual < 1e-10).all()
    assert 1e-4 < np.abs(nudged.theta - m.theta).max() < 0.05


def test_out_of_range_requests_raise_or_clip_with_a_warning(batch):
    be = EmulatorBackend(batch, "typical-bench")
    bad = np.array(be.omega)
    bad[1, 4] = 5.5
    with pytest.raises(ValueError, match=r"`omega\[1, 4\]` .* is 5\.5.*clip=True"):
        be.program(omega=bad)
    with pytest.raises(ValueError, match=r"`coupling\[0, 2\]`.* is 9\.0"):
        k = np.array(be.coupling)
        k[0, 2] = 9.0
        be.program(coupling=k)

    # A refused request changes nothing, not even the part that was valid.
    before, codes = be.omega.copy(), be.codes.omega
    with pytest.raises(ValueError, match="coupling"):
        be.program(omega=np.zeros((3, 9)), coupling=np.full((3, 24), 8.5))
    np.testing.assert_array_equal(be.omega, before)
    np.testing.assert_array_equal(be.codes.omega, codes)

    clipping = EmulatorBackend(batch, "typical-bench", clip=True)
    with pytest.warns(SetpointClippedWarning, match=r"5\.5 -> 4\.0") as record:
        omega, _ = clipping.program(omega=bad)
    assert issubclass(record[0].category, UserWarning)
    assert record[0].filename == __file__
    assert omega[1, 4] == 4.0
    with pytest.warns(SetpointClippedWarning) as record:
        clipping.set_inputs([3.0, 0.0])
    assert record[0].filename == __file__


def test_set_codes_validates_and_programs_nominal_values(batch):
    be = EmulatorBackend(batch, "typical-bench")
    be.set_codes(omega_codes=np.arange(9) * 400, coupling_codes=np.full(24, 63))
    np.testing.assert_allclose(be.omega[2], -4.0 + np.arange(9) * 400 * 8 / 4095)
    np.testing.assert_allclose(be.coupling, 8.0)
    assert (be.codes.coupling == 63).all()
    be.set_codes(omega_codes=np.full(9, 2047.0))
    assert be.codes.omega.dtype == np.int64

    with pytest.raises(ValueError, match=r"`omega_codes\[0, 0\]` is 4096.*0 to 4095"):
        be.set_codes(omega_codes=np.full(9, 4096))
    with pytest.raises(ValueError, match=r"`coupling_codes\[0, 3\]` is 1\.5"):
        codes = np.zeros(24)
        codes[3] = 1.5
        be.set_codes(coupling_codes=codes)
    with pytest.raises(ValueError, match=r"`omega_codes` has shape \(4,\)"):
        be.set_codes(omega_codes=np.zeros(4, dtype=int))
    with pytest.raises(UnsupportedOperation, match="continuous"):
        EmulatorBackend(batch, "ideal").set_codes(omega_codes=np.zeros(9, int))


# -- nudging ------------------------------------------------------------------


def test_nudge_is_injection_only_and_quantised(batch):
    be = EmulatorBackend(batch, "typical-bench")
    with pytest.raises(UnsupportedOperation, match="form='balanced-injection'"):
        be.nudge([0.1, 0.2], 0.1, "quadratic")
    assert be.nudge_state is None

    be.nudge([0.1, 0.2], 0.1003)
    np.testing.assert_allclose(be.realised_beta, 51 * 0.5 / 255)
    be.nudge([0.1, 0.2], [-0.1, 0.0, 0.3])
    np.testing.assert_allclose(be.realised_beta, [-0.1, 0.0, 153 * 0.5 / 255])

    with pytest.raises(ValueError, match=r"`beta` of member 0 is 0\.7.*nudge_max"):
        be.nudge([0.1, 0.2], 0.7)
    assert be.nudge_state.beta[2] == 0.3
    be.release()
    np.testing.assert_array_equal(be.realised_beta, 0.0)

    clipping = EmulatorBackend(batch, "typical-bench", clip=True)
    with pytest.warns(SetpointClippedWarning, match="largest injection") as record:
        clipping.nudge([0.1, 0.2], 0.7)
    assert record[0].filename == __file__
    np.testing.assert_allclose(clipping.realised_beta, 0.5)


def test_a_board_cannot_preset_phases(batch):
    be = EmulatorBackend(batch, "typical-bench")
    assert not be.info.can_preset_phases
    with pytest.raises(UnsupportedOperation, match="reset"):
        be.settle(np.zeros((3, 9)))


# -- phase noise and readout -----------------------------------------------------


def test_phase_noise_has_the_stationary_spread_of_its_linear_model():
    # psi = theta_1 - theta_0 relaxes at rate 2K and receives noise 2 sigma^2,
    # so its stationary variance is sigma^2 / (2K), corrected for the Euler
    # step h as sigma^2 / (K (2 - 2 K h)).
    k, sigma, h = 2.0, 0.05, 0.02
    model = IDEAL.replace(settle_time=5.0, dt=h, phase_noise=sigma)
    be = EmulatorBackend(_pair(k, size=400), model, seed=9)
    psi = np.concatenate([be.settle().theta[:, 1] for _ in range(5)])
    want = sigma / math.sqrt(k * (2 - 2 * k * h))
    assert psi.mean() == pytest.approx(0.0, abs=4 * want / math.sqrt(psi.size))
    assert psi.std() == pytest.approx(want, rel=0.05)


def test_tdc_jitter_has_its_figure_and_averages_down_with_reads(batch):
    size = NetworkBatch.stack([layered_network(seed=s) for s in range(40)])
    exact = EmulatorBackend(size, "ideal")
    exact.set_inputs([0.3, 0.6])
    truth = exact.settle().theta

    model = DeviceModel.from_preset("paper-tdc")
    assert model.phase_jitter_rad == pytest.approx(2 * math.pi * 3e9 * 1e-12)
    for reads in (1, 16):
        be = EmulatorBackend(size, model.replace(reads=reads))
        be.set_inputs([0.3, 0.6])
        err = np.stack([be.settle().theta - truth for _ in range(25)])[..., 1:]
        want = model.phase_jitter_rad / math.sqrt(reads)
        assert err.std() == pytest.approx(want, rel=0.05)
        assert abs(err.mean()) < 4 * want / math.sqrt(err.size)


def test_tdc_quantises_to_its_step(batch):
    model = IDEAL.replace(tdc_lsb_s=5e-12, carrier_hz=1e9)
    be = EmulatorBackend(batch, model)
    exact = EmulatorBackend(batch, "ideal")
    for b in (be, exact):
        b.set_inputs(INPUTS)
    got, truth = be.settle().theta, exact.settle().theta
    lsb = 2 * math.pi * 1e9 * 5e-12
    assert be.info.phase_resolution == pytest.approx(lsb)
    np.testing.assert_allclose(got / lsb, np.round(got / lsb), atol=1e-9)
    assert np.abs(got - truth).max() <= lsb / 2 + 1e-12


# -- drift -------------------------------------------------------------------


def test_temperature_walks_and_shifts_the_true_frequencies():
    model = IDEAL.replace(temperature_step_k=0.1, tempco=0.01)
    be = EmulatorBackend(NetworkBatch.stack([layered_network(seed=0)] * 200), model)
    np.testing.assert_array_equal(be.temperature(), 298.15)
    be.set_inputs([0.5, 0.5])
    before = be.true_omega()
    for _ in range(25):
        be.settle()

    change = be.temperature() - 298.15
    assert change.std() == pytest.approx(0.1 * 5, rel=0.15)
    coeff = (be.true_omega() - before) / change[:, None]
    assert coeff.std() == pytest.approx(0.01, rel=0.15)
    # The host's view does not move.
    np.testing.assert_array_equal(be.omega, be.program()[0])


# -- seeds, switches and records ------------------------------------------------


def test_runs_are_reproducible_and_members_independent():
    nets = [layered_network(seed=s) for s in range(4)]

    def run(indices, seeds):
        be = EmulatorBackend(
            NetworkBatch.stack([nets[i] for i in indices]), "typical-bench", seed=seeds
        )
        out = []
        for x in ([0.2, 0.4], [0.7, 0.1]):
            be.set_inputs(x)
            out.append(be.settle().theta)
            be.nudge([-0.2, 0.2], 0.1)
            out.append(be.settle().theta)
            be.release()
        return np.stack(out, axis=1), be

    full, be = run([0, 1, 2, 3], [10, 11, 12, 13])
    again, _ = run([0, 1, 2, 3], [10, 11, 12, 13])
    alone, _ = run([2], [12])
    np.testing.assert_array_equal(full, again)
    np.testing.assert_array_equal(full[2], alone[0])

    other, _ = run([0, 1, 2, 3], [10, 11, 99, 13])
    assert not np.array_equal(full[2], other[2])
    assert np.array_equal(full[1], other[1])
    assert json.loads(json.dumps(be.snapshot()))["seed"] == [10, 11, 12, 13]


def test_switching_an_effect_off_leaves_the_others_unchanged(batch):
    bench = DeviceModel.from_preset("typical-bench")
    with_jitter = EmulatorBackend(batch, bench, seed=4)
    without = EmulatorBackend(
        batch, bench.replace(tdc_jitter_s=0.0, tdc_lsb_s=None), seed=4
    )
    for be in (with_jitter, without):
        be.set_inputs(INPUTS)
    a, b = with_jitter.settle(), without.settle()
    np.testing.assert_array_equal(with_jitter.true_omega(), without.true_omega())
    np.testing.assert_array_equal(a.residual, b.residual)
    diff = a.theta - b.theta
    assert 0 < np.abs(diff).max() < 6 * bench.phase_jitter_rad + bench.phase_lsb_rad


def test_ideal_preset_has_every_effect_off(batch):
    be = EmulatorBackend(batch, "ideal", seed=7)
    np.testing.assert_array_equal(be.omega, batch.omega)
    np.testing.assert_array_equal(be.true_omega(), batch.omega)
    fwd, rev = be.true_coupling()
    np.testing.assert_array_equal(fwd, batch.coupling)
    np.testing.assert_array_equal(rev, batch.coupling)
    assert be.codes == (None, None)
    info = be.info
    assert info.omega_resolution is None and info.phase_resolution is None


def test_snapshot_records_figures_preset_and_seed(batch):
    be = EmulatorBackend(batch, "paper-tdc", seed=5)
    be.set_inputs(INPUTS)
    be.settle()
    snap = json.loads(json.dumps(be.snapshot()))
    assert snap["preset"] == "paper-tdc"
    assert snap["seed"] == 5
    assert snap["model"]["tdc_jitter_s"] == 1e-12
    assert snap["model"]["carrier_hz"] == 3e9
    assert snap["settles"] == 1
    assert snap["info"]["name"] == "emulator"


def test_presets_and_model_validation():
    assert PRESETS == ("ideal", "typical-bench", "paper-tdc")
    bench = DeviceModel.from_preset("typical-bench")
    assert bench.replace(reads=4).preset is None
    assert bench.replace(reads=1).preset == "typical-bench"
    assert DeviceModel.from_preset("paper-tdc").settle_time is None

    with pytest.raises(ValueError, match="`preset` is 'lab'"):
        DeviceModel.from_preset("lab")
    with pytest.raises(ValueError, match="`omega_bits` is 0"):
        DeviceModel(omega_bits=0)
    with pytest.raises(ValueError, match="`phase_noise` is 0.1 but `settle_time`"):
        DeviceModel(settle_time=None, phase_noise=0.1)
    with pytest.raises(ValueError, match="`coupling_range` starts at -1.0"):
        DeviceModel(coupling_range=(-1.0, 8.0))
    with pytest.raises(ValueError, match="`tempco` is -1"):
        DeviceModel(tempco=-1)
    with pytest.raises(ValueError, match="Unknown figure"):
        bench.replace(noise=1)
    with pytest.raises(ValueError, match="`seed` is -1"):
        EmulatorBackend(layered_network(), seed=-1)
    with pytest.raises(ValueError, match="one per member"):
        EmulatorBackend(layered_network(), seed=[1, 2])


def test_the_trainer_runs_on_the_emulator():
    rng = np.random.default_rng(0)
    batch = NetworkBatch.stack([layered_network(seed=s) for s in range(2)])
    data = TaskData(
        rng.uniform(0, 1, (2, 6, 2)),
        rng.integers(0, 2, (2, 6)),
        rng.uniform(0, 1, (2, 4, 2)),
        rng.integers(0, 2, (2, 4)),
    )
    be = EmulatorBackend(batch, "typical-bench")
    config = TrainConfig(
        epochs=1, nudge_form="injection", warm_start="physical", skip_free=0.05
    )
    result = train(be, data, [RunSpec(seed=s) for s in range(2)], config)
    # Test set before and after the epoch, two settles per training sample.
    assert be.settles == 4 + 2 * 6 + 4
    assert np.isfinite(result.final_test_acc("paper")).all()


def test_balanced_injection_gives_the_papers_nudged_state(batch):
    """Driving node 0 with the opposite of the summed injection leaves no net
    torque, so the integrated nudged state is the pinned-reference state of
    the paper's model (the exact solve), unlike the plain injection above."""
    dyn = EmulatorBackend(batch, DYNAMIC)
    exact = EmulatorBackend(batch, "ideal")
    ideal = IdealBackend(batch)
    targets = np.array([-0.2, 0.2])
    for be in (dyn, exact, ideal):
        be.set_inputs(INPUTS)
        be.settle()
        be.nudge(targets, 0.1, "balanced-injection")
    got, pinned, paper = dyn.settle(), exact.settle(), ideal.settle()
    np.testing.assert_allclose(got.theta, pinned.theta, atol=1e-9)
    np.testing.assert_allclose(paper.theta, pinned.theta, atol=1e-9)
    assert got.stable.all()
