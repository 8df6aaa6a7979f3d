import json
import subprocess
import sys

import pytest

from kurahw.cli import main


def test_verify_identity_writes_the_documented_json(tmp_path, capsys):
    out = tmp_path / "sub" / "out.json"
    code = main(
        [
            "verify",
            "identity",
            "--sizes",
            "6,10,15",
            "--robustness-seeds",
            "2",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    data = json.loads(out.read_text())
    assert [r["n"] for r in data["rows"]] == [6, 10, 15]
    for row in data["rows"]:
        assert row["cos_ep_fd"] >= 0.9999999
        assert row["cos_ep_exact"] >= 0.9999999
        assert row["residual"] <= 1e-12
    assert len(data["robustness"]["cos_ep_fd"]) == 2
    table = capsys.readouterr().out
    assert "cos(EP,FD)" in table and "wrote" in table


def test_identity_figure_is_a_png(tmp_path):
    png = tmp_path / "fig.png"
    argv = ["verify", "identity", "--sizes", "6,15", "--robustness-seeds", "0"]
    assert main([*argv, "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_verify_finite_beta_matches_the_paper(tmp_path):
    out = tmp_path / "fb.json"
    assert main(["verify", "finite-beta", "--networks", "20", "--json", str(out)]) == 0
    s = json.loads(out.read_text())["summary"]
    assert s["two_phase"]["cos_min"] > 0.999
    assert 0.002 <= s["two_phase"]["scale_error_mean"] <= 0.004
    assert s["centered"]["scale_error_mean"] < 0.1 * s["two_phase"]["scale_error_mean"]


def test_verify_asymmetry_degrades_with_asymmetry(tmp_path):
    out = tmp_path / "asy.json"
    assert (
        main(
            [
                "verify",
                "asymmetry",
                "--levels",
                "0,10,50",
                "--seeds",
                "3",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    rows = json.loads(out.read_text())["rows"]
    assert rows[0]["cos_min"] > 0.9999999
    assert rows[0]["cos_mean"] > rows[1]["cos_mean"] > rows[2]["cos_mean"]
    assert all(r["cos_exact_fd_min"] > 0.9999999 for r in rows)


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["verify", "identity", "--sizes", "6,x"], "comma-separated whole numbers"),
        (["verify", "identity", "--sizes", "2"], "sizes must be >= 3"),
        (["verify", "finite-beta", "--beta", "-1"], "must be > 0"),
        (["verify", "bogus"], "invalid choice"),
    ],
)
def test_bad_arguments_are_explained(argv, pattern, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert pattern in capsys.readouterr().err


def test_console_script_entry_point():
    done = subprocess.run(
        [sys.executable, "-m", "kurahw", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.startswith("kurahw ")
