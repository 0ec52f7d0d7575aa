"""`codesign device ...`: the JSON contract, tables, PNG output and bad-argument errors."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from codesign.cli import main

PCM = ["device", "pcm", "--g-target", "10", "--time", "3600", "--n", "20000", "--seed", "1"]


def _json(capsys, argv):
    assert main(argv) == 0
    out = capsys.readouterr().out
    return json.loads(out)   # the whole of stdout is one JSON object


def test_pcm_json_contract(capsys):
    data = _json(capsys, PCM + ["--json"])
    for key in ("programmed", "drifted"):
        assert set(data[key]) == {"mean_uS", "std_uS"}
        assert all(isinstance(v, float) and math.isfinite(v) for v in data[key].values())
    # programmed: target +- sigma_prog (Nandakumar polynomial at x = 0.4)
    sigma = 0.26348 + 1.9650 * 0.4 - 1.1731 * 0.16
    assert data["programmed"]["mean_uS"] == pytest.approx(10.0, abs=5 * sigma / math.sqrt(2e4))
    assert data["programmed"]["std_uS"] == pytest.approx(sigma, rel=0.03)
    assert data["model"]["prog_std_uS"] == pytest.approx(sigma, rel=1e-12)
    # drifted: nu is clipped to 0.049 mean at 10 uS; drift factor (3620/20)^-nu ~ 0.775
    assert data["drifted"]["mean_uS"] == pytest.approx(10.0 * (3620 / 20) ** -0.049, rel=0.01)
    assert data["nu"]["mean"] == pytest.approx(0.049, rel=0.01)
    assert data["compensated"]["mean_uS"] == pytest.approx(10.0, rel=0.01)


def test_pcm_json_is_deterministic_and_seeded(capsys):
    a = _json(capsys, PCM + ["--json"])
    b = _json(capsys, PCM + ["--json"])
    c = _json(capsys, PCM[:-1] + ["2", "--json"])
    assert a == b and a["drifted"] != c["drifted"]


def test_pcm_table_and_hermes_spec(capsys):
    assert main(["device", "pcm", "--spec", "hermes", "--n", "1000"]) == 0
    out = capsys.readouterr().out
    assert "hermes" in out and "programmed" in out and "drifted" in out


def test_pcm_png(tmp_path, capsys):
    png = tmp_path / "pcm.png"
    data = _json(capsys, PCM + ["--json", "--png", str(png)])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert data["png"] == str(png)
    assert list(tmp_path.iterdir()) == [png]     # no temporary files left behind


def test_pcm_train_and_capacitor_curves(capsys, tmp_path):
    tr = _json(capsys, ["device", "pcm-train", "--pulses", "200", "--devices", "500",
                        "--points", "5", "--json"])
    assert tr["pulses"] == [0, 50, 100, 150, 200]
    assert all(b > a for a, b in zip(tr["mean_uS"], tr["mean_uS"][1:]))
    steps = [b - a for a, b in zip(tr["ideal_uS"], tr["ideal_uS"][1:])]
    assert all(b < a for a, b in zip(steps, steps[1:]))          # saturating
    cap = _json(capsys, ["device", "capacitor", "--up", "100", "--down", "100", "--devices",
                         "500", "--points", "3", "--json", "--png", str(tmp_path / "c.png")])
    assert cap["pulses"] == [0, 100, 200]
    assert cap["mean_uS"][0] == 0.0 and cap["mean_uS"][1] > 2.0 and abs(cap["mean_uS"][2]) < 1
    assert (tmp_path / "c.png").is_file()


@pytest.mark.parametrize("argv, option", [
    (["device", "pcm", "--g-target", "-1"], "--g-target"),
    (["device", "pcm", "--g-target", "26"], "--g-target"),
    (["device", "pcm", "--n", "0"], "--n"),
    (["device", "pcm", "--time", "-3"], "--time"),
    (["device", "pcm", "--seed", "-3"], "--seed"),
    (["device", "pcm-train", "--pulses", "0"], "--pulses"),
    (["device", "pcm-train", "--step", "2"], "--step"),
    (["device", "capacitor", "--up", "0", "--down", "0"], "--up"),
    (["device", "capacitor", "--devices", "0"], "--devices"),
])
def test_bad_arguments_one_line_error(capsys, argv, option):
    assert main(argv + ["--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and option in lines[0] and "allowed" in lines[0]


def test_bad_png_directory_writes_nothing(tmp_path, capsys):
    target = tmp_path / "missing" / "x.png"
    assert main(PCM + ["--png", str(target)]) == 2
    assert "--png" in capsys.readouterr().err and not target.exists()


def test_exit_code_from_a_real_process():
    bad = subprocess.run([sys.executable, "-m", "codesign", "device", "pcm", "--g-target",
                          "-1"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "--g-target: value -1.0" in bad.stderr
    good = subprocess.run([sys.executable, "-m", "codesign"] + PCM + ["--json"],
                          capture_output=True, text=True)
    assert good.returncode == 0
    assert set(json.loads(good.stdout)) >= {"programmed", "drifted"}
