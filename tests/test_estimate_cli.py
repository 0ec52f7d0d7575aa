"""`codesign estimate` and the validation table of docs/validation.md."""
from __future__ import annotations

import json

import pytest

from codesign.cli import main
from codesign.estimate.validation import BAND, validation_rows


def test_validation_table_holds():
    rows = validation_rows()
    designs = {r.design for r in rows}
    assert designs == {"ambrogio2018", "isaac"}
    amb = {r.quantity: r for r in rows if r.design == "ambrogio2018"}
    assert amb["training energy efficiency"].published == 28065.0
    assert amb["training area efficiency"].published == 3.6
    for r in rows:
        assert BAND[0] <= r.ratio <= BAND[1], (r.design, r.quantity, r.ratio)


def test_estimate_json_is_one_object_with_the_contract_keys(capsys):
    assert main(["estimate", "--spec", "ambrogio2018", "--json"]) == 0
    out = capsys.readouterr().out
    d = json.loads(out)
    for key in ("tops_per_w", "tops_per_mm2", "area_mm2", "area_breakdown",
                "energy_breakdown", "energy_per_inference_j", "latency_s", "training", "gpu"):
        assert key in d
    assert d["area_mm2"] == pytest.approx(sum(d["area_breakdown"].values()))


def test_estimate_text_png_and_network(tmp_path, capsys):
    png = tmp_path / "b.png"
    assert main(["estimate", "--spec", "hermes", "--net", "mlp-2018", "--png", str(png)]) == 0
    out = capsys.readouterr().out
    assert "TOPS/W" in out and "Area" in out and "GPU" in out
    assert png.stat().st_size > 1000 and not list(tmp_path.glob("*.tmp.png"))


def test_estimate_workload_file(tmp_path, capsys):
    f = tmp_path / "w.yaml"
    f.write_text("name: tiny\nlayers:\n  - {name: a, rows: 100, cols: 20, mvms: 4}\n")
    assert main(["estimate", "--spec", "isaac", "--workload", str(f), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["workload"] == "tiny" and d["ops_per_inference"] == 2 * 100 * 20 * 4


def test_bad_components_file_exits_2_with_one_line(tmp_path, capsys):
    f = tmp_path / "bad.yaml"
    f.write_text("adc: {bitz: 3}\n")
    assert main(["estimate", "--spec", "ambrogio2018", "--components", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("codesign: error:") and "adc.bitz" in err and "\n" not in err


def test_bad_synth_json_exits_2(tmp_path, capsys):
    f = tmp_path / "s.json"
    f.write_text("{not json")
    assert main(["estimate", "--spec", "ambrogio2018", "--synth", str(f)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_validate_prints_the_table(capsys):
    assert main(["estimate", "--validate", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["all_within_band"] and len(d["rows"]) >= 10 and d["sensitivity"]
