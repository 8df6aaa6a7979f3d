import json

import numpy as np
import pytest

from kurahw.cli import main
from kurahw.studies.experiments import EXPERIMENTS, Condition, get_experiment
from kurahw.studies.reproduce import reproduce
from kurahw.studies.runner import build_runs, run_conditions

# Most tests here train on the vowel data.
pytestmark = pytest.mark.vowels

PAPER_EXPERIMENTS = [
    "gradient-training", "ablation", "matched", "arch-sweep", "lr-sweep", "fm",
    "diagnosis", "stabilization", "spectral", "generalization", "baselines",
    "readout",
]  # fmt: skip


def test_every_experiment_of_the_paper_is_registered_and_one_of_ours():
    assert list(EXPERIMENTS) == PAPER_EXPERIMENTS
    spectral = get_experiment("spectral")
    assert [c.name for c in spectral.conditions] == ["random", "spectral"]
    matched = get_experiment("matched")
    assert [c.name for c in matched.conditions] == ["omega", "K-matched", "K-full"]


def test_unknown_experiment_names_the_choices():
    with pytest.raises(ValueError, match="Unknown experiment 'spectra'.*spectral"):
        get_experiment("spectra")


def test_matched_edges_are_the_papers_draw():
    nets, _, specs = build_runs(Condition("K7", matched_edges=7), [4])
    chosen = np.random.default_rng(10004).choice(24, 7, replace=False)
    assert sorted(np.flatnonzero(specs[0].edge_mask)) == sorted(chosen)


def test_bad_index_lists_are_refused():
    with pytest.raises(ValueError, match="`edges` is \\[30\\]"):
        build_runs(Condition("x", edges=(30,)), [0])


def test_finished_batches_are_reused(tmp_path):
    cond = Condition("omega")
    first = run_conditions([cond], [0, 1], epochs=2, out=tmp_path)
    assert not any((tmp_path / "checkpoints").glob("*.npz"))
    calls = []
    again = run_conditions(
        [cond], [0, 1], epochs=2, out=tmp_path, progress=lambda *a: calls.append(a)
    )
    assert calls == [("omega", 2, 2)]
    assert first["omega"].records == again["omega"].records


def test_reproduce_writes_the_summary_schema_report_and_figures(tmp_path):
    summary = reproduce("spectral", seeds=3, epochs=2, out=tmp_path)
    doc = json.loads((tmp_path / "summary.json").read_text())
    assert doc["experiment"] == "spectral"
    assert set(doc["conditions"]) == {"random", "spectral"}
    for entry in doc["conditions"].values():
        for key in ("n_seeds", "n_success", "success_acc_mean", "all_acc_mean"):
            assert key in entry
        assert len(entry["accuracies"]) == 3
    assert doc["conditions"]["spectral"]["paper"]["n_success"] == 100
    assert "readout_question" in summary["analysis"]
    report = (tmp_path / "report.md").read_text()
    assert "| random | " in report and "46/100" in report
    for name in doc["figures"]:
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_baselines_reproduce_the_published_numbers(tmp_path):
    summary = reproduce("baselines", out=tmp_path)
    assert summary["conditions"]["a/i"]["all_acc_mean"] == pytest.approx(1.0)
    assert summary["conditions"]["o/u"]["all_acc_mean"] == pytest.approx(0.83)


def test_cli_train_and_its_records(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        ["train", "--backend", "ideal", "--seeding", "spectral", "--seeds", "3",
         "--epochs", "2", "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "paper readout: 3/3" in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["readouts"]["paper"]["n_seeds"] == 3
    run = json.loads(next((out / "runs").glob("*.json")).read_text())
    assert run["config"]["epochs"] == 2 and run["backend"]["info"]["name"] == "ideal"


def test_cli_reports_bad_input_without_a_traceback(tmp_path, capsys):
    assert main(["reproduce", "nonsense", "--out", str(tmp_path)]) == 2
    assert "Unknown experiment 'nonsense'" in capsys.readouterr().err
    code = main(["train", "--vowels", "a,x", "--seeds", "1", "--epochs", "1",
                 "--out", str(tmp_path / "t")])  # fmt: skip
    assert code == 2
    assert "'x'" in capsys.readouterr().err


def test_cli_names_a_missing_data_file(tmp_path, capsys):
    missing = tmp_path / "nowhere.csv"
    code = main(["train", "--data", str(missing), "--seeds", "1", "--epochs", "1",
                 "--out", str(tmp_path / "t")])  # fmt: skip
    assert code == 2
    assert str(missing) in capsys.readouterr().err


def test_filled_networks_couple_every_pair():
    nets, _, _ = build_runs(Condition("f", fill_absent=0.01), [0])
    assert nets[0].n_edges == 36
    assert (nets[0].coupling >= 0.01).all()


def test_cli_trains_a_saved_network(tmp_path, capsys):
    from kurahw.network import layered_network

    path = layered_network(n_hidden=3, seed=7).save(tmp_path / "net.json")
    code = main(["train", "--network", str(path), "--seeds", "2", "--epochs", "1",
                 "--out", str(tmp_path / "run")])  # fmt: skip
    assert code == 0
    run = json.loads(next((tmp_path / "run" / "runs").glob("*.json")).read_text())
    assert run["backend"]["info"]["n"] == 7

    wrong = layered_network(n_input=3, seed=7).save(tmp_path / "wrong.json")
    code = main(["train", "--network", str(wrong), "--seeds", "1", "--epochs", "1",
                 "--out", str(tmp_path / "w")])  # fmt: skip
    assert code == 2
    assert "has 3 inputs and 2 outputs" in capsys.readouterr().err


def test_training_on_the_emulator_adapts_the_protocol(tmp_path):
    """A board cannot preset phases or nudge quadratically: the runner switches
    to physical warm starts and injection, and records that it did."""
    code = main(["train", "--seeds", "2", "--epochs", "1", "--mitigation", "centered",
                 "--device-set", "settle_time=5", "--device-set",
                 "tdc_jitter_s=1e-12", "--out", str(tmp_path)])  # fmt: skip
    assert code == 0
    run = json.loads(next((tmp_path / "runs").glob("*.json")).read_text())
    assert run["config"]["warm_start"] == "physical"
    assert run["config"]["nudge_form"] == "balanced-injection"
    assert run["config"]["mitigation"] == "centered"
    assert run["config"]["require_stable"] is True
    assert run["backend"]["info"]["name"] == "emulator"
    model = run["backend"]["model"]
    assert model["settle_time"] == 5 and model["tdc_jitter_s"] == 1e-12
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["device"]["tdc_jitter_s"] == 1e-12
    assert summary["settles"]["samples"] == 2 * 220


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--device-set", "jitter=1"], "Unknown figure(s) ['jitter']"),
        (["--device-set", "tdc_jitter_s"], "write NAME=VALUE"),
        (["--device-set", "reads=many"], "'many' is not a number"),
        (["--device-set", "reads=0"], "`reads` is 0"),
        (["--backend", "ideal", "--device", "paper-tdc"], "describe the emulator"),
        (["--mitigation", "lockin+large-beta"], "does not combine"),
        (["--nudge-form", "quadratic"], "cannot apply a 'quadratic' nudge"),
    ],
)
def test_cli_refuses_bad_device_settings(tmp_path, capsys, argv, message):
    code = main(["train", "--seeds", "1", "--epochs", "1", *argv,
                 "--out", str(tmp_path)])  # fmt: skip
    assert code == 2
    assert message in capsys.readouterr().err
