"""`codesign train` / `codesign infer`: the JSON contract and bad arguments (exit 2)."""
import json

import pytest

from codesign.cli import main

SMALL = ["--net", "64-8-10", "--dataset", "digits", "--epochs", "2", "--limit", "120",
         "--lr", "0.05"]


def _json(capsys, argv):
    assert main(argv) == 0
    out = capsys.readouterr().out
    return json.loads(out)          # exactly one object, nothing else on stdout


def test_train_json_contract(capsys, tmp_path):
    png, npz = tmp_path / "curves.png", tmp_path / "w.npz"
    obj = _json(capsys, ["train", *SMALL, "--cell", "2pcm3t1c", "--json", "--png", str(png),
                         "--save", str(npz)])
    assert 0.0 <= obj["test_accuracy"] <= 1.0
    assert obj["test_accuracy"] == obj["test_accuracy_per_epoch"][-1]
    assert len(obj["train_accuracy_per_epoch"]) == 2 and obj["cell"] == "2pcm3t1c"
    assert obj["events"]["update_pulses"] > 0 and obj["energy_j"] > 0
    assert png.stat().st_size > 0 and npz.stat().st_size > 0
    inf = _json(capsys, ["infer", "--net", "64-8-10", "--dataset", "digits", "--weights",
                         str(npz), "--times", "1,86400", "--json"])
    assert inf["times"] == [1.0, 86400.0] and len(inf["accuracy_compensated"]) == 2
    assert all(0.0 <= a <= 1.0 for a in inf["accuracy"])


def test_train_software_table(capsys):
    assert main(["train", *SMALL, "--cell", "software", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and "epoch" in out


@pytest.mark.parametrize("argv, needle", [
    (["train", "--epochs", "0"], "--epochs"),
    (["train", "--cell", "magic"], "--cell"),
    (["train", "--lr", "-1"], "--lr"),
    (["train", "--dataset", "/nonexistent/data.npz"], "no such dataset"),
    (["train", "--net", "nonet"], "--net"),
    (["train", "--png", "out.jpg"], "--png"),
    (["train", "--set", "adc.bits=99"], "adc.bits"),
    (["train", "--range", "8,0"], "--range"),
    (["infer", "--times", "1,x"], "--times"),
    (["infer", "--weights", "/nonexistent/w.npz"], "no such file"),
])
def test_bad_arguments_exit_2_with_one_line(capsys, argv, needle):
    assert main(argv + ["--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert needle in err[-1]
    assert err[-1].startswith(("codesign: error:", "codesign train: error:",
                               "codesign infer: error:", "usage:")) or "error:" in err[-1]
