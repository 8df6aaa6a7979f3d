import json

import numpy as np
import pytest

from kurahw.cli import main
from kurahw.data import load_vowels, vowel_split
from kurahw.gradients import cosine, ep_gradient, exact_gradient
from kurahw.network import layered_network
from kurahw.seeding import seed_omega
from kurahw.studies import noise
from kurahw.training.mitigation import slope_gradient
from kurahw.training.readout import target_table


def _row(result, level, mitigation):
    (row,) = [
        r
        for r in result["rows"]
        if r["level"] == level and r["mitigation"] == mitigation
    ]
    return row


# -- plans and the estimator ------------------------------------------------------


def test_plans_state_their_nudges_reads_and_cost():
    assert noise.plan("none") == noise.Plan("none", (0.1,), 1)
    assert noise.plan("average", 0.05) == noise.Plan("average", (0.05,), 16)
    assert noise.plan("large-beta").betas == (0.5,)
    assert noise.plan("centered").betas == (0.1, -0.1)
    assert noise.plan("centered+large-beta").betas == (0.5, -0.5)
    assert noise.plan("centered+average").reads == 16

    lockin = noise.plan("lockin")
    assert lockin.settles == 9 and lockin.reads == 1
    assert sorted(lockin.betas) == sorted(
        s * a for a in noise.LOCKIN_AMPLITUDES for s in (1, -1)
    )
    assert noise.plan("lockin+average").to_dict() == {
        "betas": list(lockin.betas),
        "reads": 16,
        "settles": 9,
        "readings": 144,
    }


def test_the_slope_is_two_phase_and_centred_ep_and_cancels_even_orders():
    # theta(beta) = theta0 + a beta + c beta^2 + e beta^4 per node: a symmetric
    # schedule recovers -a exactly, one nudge carries the bias c beta.
    rng = np.random.default_rng(0)
    theta0, a, c, e = rng.normal(size=(4, 1, 5))

    def gradient(betas):
        b = np.array([0.0, *betas])[:, None]
        phases = theta0 + a * b[..., None] + c * b[..., None] ** 2
        phases = phases + e * b[..., None] ** 4
        return slope_gradient(phases, np.broadcast_to(b, (len(b), 1)))

    np.testing.assert_allclose(gradient([0.1]), -(a + 0.1 * c + 1e-3 * e))
    np.testing.assert_allclose(gradient([0.1, -0.1]), -a, rtol=1e-12)
    np.testing.assert_allclose(gradient(noise.plan("lockin").betas), -a, rtol=1e-12)


def test_displacements_are_wrapped():
    phases = np.array([[[3.1]], [[3.1 + 0.05 - 2 * np.pi]]])
    betas = np.array([[0.0], [0.1]])
    np.testing.assert_allclose(slope_gradient(phases, betas), [[-0.5]])


# -- the study --------------------------------------------------------------------


@pytest.mark.vowels
def test_noise_free_board_measures_the_exact_gradient():
    result = noise.gradient_quality(
        "tdc_jitter_s",
        [0],
        seeds=4,
        n_samples=3,
        mitigations=["none", "centered", "lockin", "large-beta"],
    )
    none, centered = _row(result, 0, "none"), _row(result, 0, "centered")
    lockin, large = _row(result, 0, "lockin"), _row(result, 0, "large-beta")
    assert none["used"] == 12 and none["unstable"] == none["no_reference"] == 0

    # Two-phase EP at beta = 0.1 carries the finite-beta bias: visible, small.
    assert 0.999 < none["cos_min"] < none["cos_mean"] < 1 - 1e-7
    assert -0.05 < none["scale_error_median"] < -0.01
    # Centring cancels it to second order; the lock-in schedule to third.
    assert centered["cos_min"] > 0.99999
    assert abs(centered["scale_error_median"]) < 0.002
    assert lockin["cos_min"] > 0.9999
    # A five times larger nudge has a five times larger bias.
    assert large["cos_mean"] < none["cos_mean"]
    assert large["scale_error_median"] < 3 * none["scale_error_median"]
    # Against the paper's quadratic loss the injection nudge is off by sin(e)/e.
    assert centered["cos_paper_mean"] < centered["cos_mean"]


@pytest.mark.vowels
def test_the_reference_agrees_with_the_ideal_solver():
    # Independent of the emulator: EP with the injection nudge on the paper's
    # model, against the exact gradient of the injection cost.
    result = noise.gradient_quality(
        "tdc_jitter_s", [0], seeds=[3], n_samples=1, mitigations=["none"]
    )
    features, labels = load_vowels()
    split = vowel_split(features, labels, 3)
    net = seed_omega(layered_network(seed=3), "spectral", 3)
    net = net.with_inputs(split.x_train[0])
    targets = target_table(2, 0.2)[split.y_train[0]]

    g, free, _ = ep_gradient(net, targets, 0.1, form="injection")
    out = list(net.outputs)
    sin_targets = free.theta[out] - np.sin(free.theta[out] - targets)
    exact = exact_gradient(net, free.theta, sin_targets).omega
    nodes = sorted(net.hidden + net.outputs)
    expected = cosine(g.omega[nodes], exact[nodes])
    assert _row(result, 0, "none")["cos"][0][0] == pytest.approx(expected, abs=1e-8)


@pytest.mark.vowels
def test_jitter_collapses_the_naive_gradient_and_mitigations_recover_it():
    mitigations = ["none", "centered+average", "lockin+average"]
    result = noise.gradient_quality(
        "tdc_jitter_s", [1e-12], seeds=6, n_samples=4, mitigations=mitigations
    )
    assert result["base"] == "paper-tdc" and result["settle"] == "exact"
    assert result["levels_rad"][0] == pytest.approx(0.01885, rel=1e-3)

    none = _row(result, 1e-12, "none")
    combined = _row(result, 1e-12, "centered+average")
    lockin = _row(result, 1e-12, "lockin+average")
    assert abs(none["cos_mean"]) < 0.35
    assert none["scale_error_median"] > 3  # the noise dominates the displacement
    assert combined["cos_mean"] > none["cos_mean"] + 0.25
    assert lockin["cos_mean"] > 0.9
    assert result["robust_to"] == {
        "none": None,
        "centered+average": None,
        "lockin+average": 1e-12,
    }


@pytest.mark.vowels
def test_bits_run_from_continuous_to_coarse():
    result = noise.gradient_quality(
        "omega_bits", [6, 0], seeds=2, n_samples=1, mitigations=["centered"]
    )
    assert result["levels"] == [6, 0] and result["unit"] == "bits"
    # The reference is the realised network, so quantised frequencies leave
    # the measured gradient exact; the sweep runs 0 (continuous) first.
    assert _row(result, 6, "centered")["cos_min"] > 0.99999
    assert result["robust_to"] == {"centered": 6}


@pytest.mark.vowels
def test_phase_noise_runs_on_the_integrated_settle():
    """Without noise the integrated settle under the balanced injection gives
    the paper's gradient; the plain injection bends it (its common frequency
    shifts by O(beta))."""
    cos = {}
    for form in ("balanced-injection", "injection"):
        result = noise.gradient_quality(
            "phase_noise",
            [0.0],
            seeds=3,
            n_samples=2,
            mitigations=["centered"],
            nudge_form=form,
        )
        assert result["settle"] == "integrated" and result["nudge_form"] == form
        cos[form] = result["rows"][0]["cos_mean"]
    assert result["model"]["settle_time"] == 10.0
    assert "integrated settle" in result["notes"][0]
    assert cos["balanced-injection"] > 0.999
    assert cos["injection"] < 0.98


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"effect": "jitter"}, r"`effect` is 'jitter'.*tdc_jitter_s"),
        ({"levels": [0, -1e-12]}, r"`levels` holds -1e-12 .* >= 0"),
        ({"levels": [1e-12, 1e-12]}, r"`levels` holds 1e-12 twice"),
        ({"levels": []}, r"`levels` is empty"),
        ({"effect": "omega_bits", "levels": [8.5]}, r"whole numbers of bits"),
        ({"mitigations": ["avg"]}, r"`mitigation` is .avg.; use one of none"),
        ({"mitigations": ["none+average"]}, r"does not combine"),
        ({"mitigations": ["lockin+large-beta"]}, r"already nudges up to 0.5"),
        ({"mitigations": "none"}, r"give a list of names"),
        ({"beta": 0.6, "mitigations": ["none"]}, r"at most 0.5 \(`nudge_max`\)"),
        ({"beta": -0.1}, r"`beta` is -0.1"),
        ({"seeds": 0}, r"`seeds` is 0"),
        ({"n_samples": 0}, r"`n_samples` is 0"),
        ({"base": "bench"}, r"`base` is 'bench'; use a preset"),
        ({"nudge_form": "quadratic"}, r"`nudge_form` is 'quadratic'"),
    ],
)
def test_bad_arguments_name_the_argument_and_the_fix(kwargs, pattern):
    kwargs = {"effect": "tdc_jitter_s", "levels": [0], **kwargs}
    with pytest.raises(ValueError, match=pattern):
        noise.gradient_quality(kwargs.pop("effect"), kwargs.pop("levels"), **kwargs)


# -- command line -----------------------------------------------------------------


@pytest.mark.vowels
def test_cli_writes_table_json_and_figure(tmp_path, capsys):
    argv = [
        "study",
        "noise",
        "--levels",
        "0,1e-13,1e-12",
        "--seeds",
        "2",
        "--samples",
        "2",
        "--mitigations",
        "none,centered+average",
        "--out",
        str(tmp_path / "out"),
    ]
    assert main(argv) == 0
    table = capsys.readouterr().out
    assert "centered+average" in table and "1e-12 s (0.0188 rad)" in table

    stem = tmp_path / "out" / "noise-tdc_jitter_s"
    data = json.loads(stem.with_suffix(".json").read_text())
    assert stem.with_suffix(".txt").read_text().strip() in table
    png = stem.with_suffix(".png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000

    assert data["study"] == "noise" and data["effect"] == "tdc_jitter_s"
    assert data["levels"] == [0.0, 1e-13, 1e-12] and data["seeds"] == [0, 1]
    assert set(data["mitigations"]) == {"none", "centered+average"}
    assert data["mitigations"]["centered+average"]["readings"] == 48
    assert len(data["rows"]) == 6 and data["elapsed_s"] > 0
    for row in data["rows"]:
        assert set(noise._STAT_KEYS) <= set(row)
        assert np.shape(row["cos"]) == np.shape(row["scale_error"]) == (2, 2)
        assert row["used"] + row["unstable"] + row["no_reference"] == 4
    assert set(data["robust_to"]) == {"none", "centered+average"}


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["--effect", "jitter"], "`effect` is 'jitter', which this study cannot sweep"),
        (["--levels", "0,-1e-12"], "`levels` holds -1e-12"),
        (["--mitigations", "none,avg"], "`mitigation` is 'avg'"),
    ],
)
def test_cli_refuses_bad_input_with_exit_code_2(argv, pattern, capsys):
    assert main(["study", "noise", "--seeds", "1", "--samples", "1", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kurahw: error: ") and pattern in err


def test_training_study_compares_every_level_with_the_ideal_backend(tmp_path):
    """A tiny sweep through the command line: both halves, the markdown table,
    the figures, and the records a rerun reuses."""
    from kurahw.studies import noise_training

    argv = ["study", "noise", "--levels", "0,1e-11", "--seeds", "2", "--samples",
            "1", "--mitigations", "none,lockin+average", "--train", "--epochs",
            "2", "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    result = json.loads((tmp_path / "noise-tdc_jitter_s.json").read_text())
    training = result["training"]
    rows = {(r["level"], r["mitigation"]): r for r in training["rows"]}
    assert set(rows) == {
        (lv, m) for lv in (0, 1e-11) for m in ("none", "lockin+average")
    }
    # Without jitter the exact-settle board trains as the ideal backend does.
    ideal = training["ideal"]["accuracies"]
    np.testing.assert_allclose(rows[0, "none"]["accuracies"], ideal, atol=1e-12)
    assert rows[0, "none"]["restored"] and training["restores_to"]["none"] == 0
    # 10 ps at 3 GHz is 0.19 rad per reading: the naive gradient is noise.
    assert rows[1e-11, "none"]["gap_points"] > rows[0, "none"]["gap_points"]
    # Read without the jitter, the same trained boards do better: part of the
    # loss is the readout at test time, not training.
    assert rows[0, "none"]["acc_quiet_readout"] == rows[0, "none"]["accuracies"]
    noisy = rows[1e-11, "none"]
    assert noisy["acc_quiet_readout_mean"] > noisy["acc_mean"] + 0.05
    table = (tmp_path / "noise-tdc_jitter_s.md").read_text()
    assert "| 1e-11 | lockin+average |" in table
    assert (tmp_path / "noise-tdc_jitter_s-training.png").stat().st_size > 10_000

    # A rerun reads the finished batches instead of training again.
    done = sorted((tmp_path / "training-tdc_jitter_s").rglob("runs/*.json"))
    assert len(done) == 5
    stamps = [p.stat().st_mtime_ns for p in done]
    again = noise_training.training_robustness(
        "tdc_jitter_s", [0, 1e-11], seeds=2, epochs=2,
        mitigations=["none", "lockin+average"],
        out=tmp_path / "training-tdc_jitter_s",
    )  # fmt: skip
    assert again["rows"] == training["rows"]
    assert [p.stat().st_mtime_ns for p in done] == stamps
